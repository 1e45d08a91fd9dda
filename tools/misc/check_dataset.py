"""Check a COCO, VOC or ImageFolder dataset before training on it.

    python tools/misc/check_dataset.py coco data/coco/annotations/instances_val2017.json \
        data/coco/val2017
    python tools/misc/check_dataset.py voc data/VOCdevkit/VOC2007 --split trainval
    python tools/misc/check_dataset.py imagefolder data/imagenet/train --workers 8
    python tools/misc/check_dataset.py imagefolder data/imagenet/val \
        --ann-file data/imagenet/meta/val.txt --classes data/imagenet/train
    python tools/misc/check_dataset.py config configs/ssdlite/CONFIG.py [--split train val]

ImageFolder: ``<root>/<class>/<image>``, or with ``--ann-file`` a flat folder
with a label file (``<file> <label>`` lines, labels indexing ``--classes``:
the training folder, a class-list file or comma-separated names), read
through ``ImageFolderDataset`` exactly as training reads it. A config's
splits are all checked unless ``--split`` names some (test is left out when
it reads the val data).
Finds unreadable or truncated images, missing files, CMYK/greyscale/16-bit/
EXIF-rotated images, boxes with non-positive size or outside the image,
unknown categories, duplicate ids, images without objects and malformed
json/xml. Prints counts per kind with the first offenders (``--json`` writes
every issue). Exit status: 0 when there is no error (no warning either with
``--strict``), 1 otherwise, 2 for bad arguments.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List, Tuple

from mnext_det.datasets.checks.dataset_config import (DatasetLayoutError, check_config_dataset,
                                                      check_image_folder_dataset, config_splits,
                                                      parse_classes)
from mnext_det.datasets.checks.scan import (VOC_CLASSES, DatasetReport, check_coco,
                                           check_image_folder, check_voc)
from mnext_det.tool_args import require_writable


def parse_args(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='layout', required=True)
    coco = sub.add_parser('coco', help='COCO json + image folder')
    coco.add_argument('ann_file')
    coco.add_argument('img_dir')
    voc = sub.add_parser('voc', help='one VOC year folder (with Annotations/, JPEGImages/)')
    voc.add_argument('root')
    voc.add_argument('--split', default='trainval', help='ImageSets/Main/<split>.txt')
    voc.add_argument('--classes', help='comma-separated class names or a file with one per '
                     'line (default: the 20 VOC classes)')
    folder = sub.add_parser('imagefolder', help='<root>/<class>/<image> folders, or a flat '
                            'folder with --ann-file')
    folder.add_argument('root')
    folder.add_argument('--ann-file', default='', help='label file of a flat folder')
    folder.add_argument('--classes', help='with --ann-file: training folder, class-list file '
                        'or comma-separated names')
    folder.add_argument('--num-classes', type=int, help='expected number of classes')
    config = sub.add_parser('config', help='the dataset of an mmengine/mmdet config')
    config.add_argument('config')
    config.add_argument('--split', nargs='+', choices=['train', 'val', 'test'],
                        help='splits to check (default: every split the config loads)')
    for p in (coco, voc, folder, config):
        p.add_argument('--no-decode', action='store_true',
                       help='read image headers and end markers only (faster)')
        p.add_argument('--skip-images', action='store_true',
                       help='check annotations only (COCO/VOC)')
        p.add_argument('--tolerance', type=float, default=1.0,
                       help='pixels a box may reach past the image border')
        p.add_argument('--workers', type=int, default=1, help='processes for image checks')
        p.add_argument('--max-offenders', type=int, default=5, help='offenders shown per kind')
        p.add_argument('--json', help='write the full report to this file')
        p.add_argument('--strict', action='store_true', help='warnings fail too')
    return parser.parse_args(argv)


def check(args: argparse.Namespace) -> List[Tuple[str, DatasetReport]]:
    """``(split, report)`` of each dataset the arguments name (a config's
    splits; one report with no split name otherwise)."""
    common = dict(decode=not args.no_decode, workers=args.workers)
    if args.layout == 'config':
        return [(split, check_config_dataset(args.config, split,
                                             check_images=not args.skip_images,
                                             tolerance=args.tolerance, **common))
                for split in (args.split or config_splits(args.config))]
    return [('', _check_files(args, common))]


def _check_files(args: argparse.Namespace, common: dict) -> DatasetReport:
    if args.layout == 'coco':
        return check_coco(args.ann_file, args.img_dir, check_images=not args.skip_images,
                          tolerance=args.tolerance, **common)
    if args.layout == 'voc':
        classes = parse_classes(args.classes) if args.classes else VOC_CLASSES
        return check_voc(args.root, args.split, classes, check_images=not args.skip_images,
                         tolerance=args.tolerance, **common)
    if args.ann_file or args.classes or args.num_classes:
        classes = args.classes
        if classes and not osp.exists(classes):
            classes = list(parse_classes(classes))
        return check_image_folder_dataset(
            dict(data_prefix=args.root, ann_file=args.ann_file, classes=classes,
                 num_classes=args.num_classes), **common)
    return check_image_folder(args.root, **common)


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    try:
        require_writable(args, files=['json'])
        reports = check(args)
    except DatasetLayoutError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    for split, report in reports:
        if split:
            print(f'{split}_dataloader.dataset:')
        print(report.format(args.max_offenders))
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        data = ({split: report.to_dict() for split, report in reports} if reports[0][0]
                else reports[0][1].to_dict())
        with open(args.json, 'w', encoding='utf-8') as f:
            json.dump(data, f, indent=1)
    return 0 if all(report.ok(strict=args.strict) for _, report in reports) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

"""Decode every image of an ImageFolder and list the files that fail.

    python tools/datasets/check_image_folder.py data/imagenet --prefix train
    python tools/datasets/check_image_folder.py data/imagenet --prefix val \
        --ann-file meta/val.txt --classes train

Prints the class count, images per class (min/max), files skipped for
their extension, and every file that cannot be decoded; exits with status
1 when any file is bad. Run it once before a long pretraining run: during
training a bad file stops the run with an error naming it.
"""
import argparse
import sys
from collections import Counter
from multiprocessing import Pool
from typing import Optional

from mnext_det.datasets import DecodeImage, ImageDecodeError, ImageFolderDataset


def _check(path: str) -> Optional[str]:
    try:
        DecodeImage()(dict(img_path=path))
    except ImageDecodeError as e:
        return str(e)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description='Check an ImageFolder')
    parser.add_argument('data_root')
    parser.add_argument('--prefix', default='train', help='image folder under data_root')
    parser.add_argument('--ann-file', default='', help='label file (flat folder layout)')
    parser.add_argument('--classes', default=None,
                        help='class folder or class-list file (default: sub-folders)')
    parser.add_argument('--num-classes', type=int, default=None)
    parser.add_argument('--workers', type=int, default=2)
    args = parser.parse_args()
    ds = ImageFolderDataset(data_root=args.data_root, data_prefix=args.prefix,
                            ann_file=args.ann_file, classes=args.classes,
                            num_classes=args.num_classes, serialize_data=False)
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    counts = Counter(info['gt_label'] for info in infos)
    classes = ds.metainfo['classes']
    print(f'{ds.img_dir}: {len(infos)} images, {len(classes)} classes '
          f'({min(counts.values())}-{max(counts.values())} images per class), '
          f'{ds.num_skipped} non-image files skipped')
    with Pool(args.workers) as pool:
        errors = [e for e in pool.imap(_check, [i['img_path'] for i in infos], chunksize=64)
                  if e]
    for e in errors:
        print(e)
    print(f'{len(errors)} file(s) cannot be decoded')
    sys.exit(1 if errors else 0)


if __name__ == '__main__':
    main()

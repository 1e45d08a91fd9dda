"""Run a detector on an image or a folder and write pictures with boxes.

    python tools/misc/infer.py CONFIG CHECKPOINT INPUT [--out-dir work_dirs/infer]
        [--score-thr 0.3] [--device cpu]

INPUT is an image file or a folder of images (jpg, png, bmp, ...). For every
image, OUT_DIR/<name>.png gets the boxes above --score-thr drawn with class
names and scores (<name>_<ext>.png where two images share a name); the
detections are also printed. A file that is not a readable image is skipped
and named at the end (exit status 2).
"""
import argparse
import os
import os.path as osp

import numpy as np

import mnext_det  # noqa: F401  (safe checkpoint loader)
from mnext_det.checkpoint import check_checkpoint_fits, require_checkpoint_file
from mnext_det.config_file import read_config
from mnext_det.datasets import list_images, output_stems, refuse_unreadable, skipped_note
from mnext_det.tool_args import require_between, require_device, require_writable
from mnext_det.tool_errors import run_tool


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('input', help='image file or folder')
    parser.add_argument('--out-dir', default='work_dirs/infer')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--device', default='cpu')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    require_between(args, score_thr=(0, 1))
    require_writable(args, folders=['out_dir'])
    require_device(args)
    cfg = read_config(args.config)
    args.checkpoint = require_checkpoint_file(args.checkpoint)
    files, others = list_images([args.input])
    if others:
        print(skipped_note(others), flush=True)
    stems = output_stems(files)
    import mmcv
    from mmdet.apis import inference_detector, init_detector

    from mnext_det.visualization.boxes import draw_detections
    model = init_detector(cfg, args.checkpoint, device=args.device)
    check_checkpoint_fits(model, args.checkpoint)  # mmdet loads it non-strictly
    classes = model.dataset_meta['classes']
    os.makedirs(args.out_dir, exist_ok=True)
    unreadable = []
    for i, (file, stem) in enumerate(zip(files, stems)):
        # read once, as the config's LoadImageFromFile reads it (BGR, turned
        # upright by its EXIF orientation), and drawn as detected
        image = mmcv.imread(file)
        if image is None:
            unreadable.append(file)
            print(f'[{i + 1}/{len(files)}] {file}: not a readable image, skipped', flush=True)
            continue
        pred = inference_detector(model, image).pred_instances
        keep = pred.scores >= args.score_thr
        out = osp.join(args.out_dir, stem + '.png')
        draw_detections(np.ascontiguousarray(image[..., ::-1]), pred.bboxes.cpu().numpy(),
                        pred.labels.cpu().numpy(), pred.scores.cpu().numpy(), classes,
                        args.score_thr).save(out)
        found = ', '.join(f'{classes[int(l)]} {float(s):.2f}'
                          for l, s in zip(pred.labels[keep][:5], pred.scores[keep][:5]))
        if int(keep.sum()) > 5:
            found += ', ...'
        print(f'[{i + 1}/{len(files)}] {file}: {int(keep.sum())} boxes ({found}) -> {out}',
              flush=True)
    refuse_unreadable(unreadable, len(files), 'drawn')

if __name__ == '__main__':
    run_tool(main)

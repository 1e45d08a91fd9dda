"""Run an exported ONNX model on images with ONNX Runtime.

    python tools/deploy/onnx_infer.py MODEL.onnx IMAGE_OR_FOLDER [...]
        [--out-dir work_dirs/onnx_infer] [--score-thr 0.3] [--topk 5]
        [--threads N]

Detectors: prints the detections above --score-thr and writes
OUT_DIR/<image name>.png with the boxes drawn (<name>_<ext>.png where two
images share a name). Classifiers: prints the top-k classes. Preprocessing and
post-processing settings come from the model's metadata (written by
tools/deploy/export.py). A folder stands for its image files, sorted. Images
are turned upright by their EXIF orientation, as mmdet reads them. A missing
path or a folder without images stops the run with a message naming it; an
unreadable image is skipped and named at the end (exit status 2).
"""
import argparse
import os
import os.path as osp

from mnext_det.datasets import list_images, output_stems, refuse_unreadable, skipped_note
from mnext_det.deploy import OnnxRuntimeModel, read_image
from mnext_det.deploy.onnx_export import require_task
from mnext_det.tool_args import require_at_least, require_between, require_writable
from mnext_det.tool_errors import run_tool
from mnext_det.visualization.boxes import draw_detections


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('model', help='.onnx file from tools/deploy/export.py')
    parser.add_argument('images', nargs='+', help='image files or folders of images')
    parser.add_argument('--out-dir', default='work_dirs/onnx_infer')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--topk', type=int, default=5)
    parser.add_argument('--threads', type=int)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    require_between(args, score_thr=(0, 1))
    require_at_least(args, topk=1, threads=0)
    require_writable(args, folders=['out_dir'])
    model = OnnxRuntimeModel(args.model, num_threads=args.threads)
    require_task(args.model, model.meta, ('classifier', 'detector'))
    task = model.meta['task']
    paths, others = list_images(args.images)
    if others:
        print(skipped_note(others))
    stems = output_stems(paths)
    names = list(model.class_names())
    if task == 'detector':
        os.makedirs(args.out_dir, exist_ok=True)
    unreadable = []
    for path, stem in zip(paths, stems):
        try:
            image = read_image(path)
        except ValueError:
            unreadable.append(path)
            print(f'{path}: not a readable image, skipped')
            continue
        if task == 'detector':
            dets = model.detect(image)
            keep = dets['scores'] > args.score_thr
            print(f'{path}: {int(keep.sum())} detections above {args.score_thr}')
            for box, score, label in zip(dets['bboxes'][keep], dets['scores'][keep],
                                         dets['labels'][keep]):
                name = names[label] if label < len(names) else str(label)
                print(f'  {name:>16s} {score:.3f} [{", ".join(f"{v:.1f}" for v in box)}]')
            out = osp.join(args.out_dir, stem + '.png')
            draw_detections(image, dets['bboxes'][keep], dets['labels'][keep],
                            dets['scores'][keep], names, score_thr=0.).save(out)
            print(f'  wrote {out}')
        else:
            top = model.classify(image, args.topk)
            print(f'{path}: ' + ', '.join(
                f'{names[i] if i < len(names) else i}: {p:.3f}' for i, p in top))
    refuse_unreadable(unreadable, len(paths), 'run')


if __name__ == '__main__':
    run_tool(main)

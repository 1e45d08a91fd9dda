"""Evaluate an exported detector on a config's test split (mmdet's metric).

    python tools/deploy/evaluate.py CONFIG MODEL.onnx|MODEL.tflite [--threads N]
        [--cfg-options k=v ...]

MODEL is an ONNX raw or end-to-end (``export.py --nms``) export, float or INT8
(``quantize.py``), or a ``.tflite`` export (``export.py --format tflite``,
with the ``MODEL.tflite.json`` metadata it writes). Prints the metrics as
tools/test.py logs them and the model's latency per image (ONNX Runtime at
the test dataloader's batch, LiteRT image by image).
"""
import argparse
import os.path as osp

from mmengine.config import DictAction

import mnext_det  # noqa: F401  (safe checkpoint loader)
from mnext_det.deploy.evaluate import evaluate_exported
from mnext_det.tool_args import require_at_least
from mnext_det.tool_errors import run_tool


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='detection config whose test split is scored')
    parser.add_argument('model', help='exported .onnx or .tflite file')
    parser.add_argument('--threads', type=int, help='ONNX Runtime / LiteRT threads')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    require_at_least(args, threads=0)
    for path, what in ((args.config, 'config'), (args.model, 'model')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} file not found: {path}')
    result = evaluate_exported(args.config, args.model, args.cfg_options, args.threads)
    print()
    for key, value in result.metrics.items():
        print(f'{key}: {value:.4f}')
    print(f'{result.num_images} images, {result.latency_ms:.2f} ms/image (the exported model, '
          f'with the numpy NMS of a raw graph, without data loading; '
          f'{args.threads or "default"} threads)')
    return 0


if __name__ == '__main__':
    run_tool(main)

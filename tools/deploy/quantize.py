"""INT8 post-training quantization of an exported ONNX detector (ONNX Runtime, QDQ).

    python tools/deploy/quantize.py MODEL.onnx --config CONFIG [--num-calib 200]
        [--out MODEL_int8.onnx] [--float-nodes NODE ...] [--seed 0] [--cfg-options k=v ...]

Calibrates on --num-calib images of the config's train split through its test
pipeline; weights int8 per output channel, activations uint8; convolutions,
ReLU6 and residual adds are quantized, box decoding and NMS stay float.
--float-nodes keeps those nodes in float too. Evaluate the result with tools/deploy/evaluate.py.
"""
import argparse
import os.path as osp

from mmengine.config import DictAction

import mnext_det  # noqa: F401  (safe checkpoint loader)
from mnext_det.deploy.onnx_export import read_metadata
from mnext_det.deploy.quantize import quantize_detector
from mnext_det.tool_args import require_at_least, require_writable
from mnext_det.tool_errors import run_tool


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('model', help='float .onnx from tools/deploy/export.py')
    parser.add_argument('--config', required=True, help='config whose train split calibrates')
    parser.add_argument('--num-calib', type=int, default=200)
    parser.add_argument('--out', help='default: MODEL_int8.onnx')
    parser.add_argument('--float-nodes', nargs='+', default=[],
                        help='nodes (by ONNX name) kept in float')
    parser.add_argument('--seed', type=int, default=0, help='which calibration images')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, e.g. its train data')
    args = parser.parse_args()
    require_at_least(args, num_calib=1)
    require_writable(args, files=['out'])
    for path, what in ((args.model, 'model'), (args.config, 'config')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} file not found: {path}')
    out = args.out or osp.splitext(args.model)[0] + '_int8.onnx'
    nodes = quantize_detector(args.model, args.config, out, args.num_calib,
                              args.float_nodes, seed=args.seed, cfg_options=args.cfg_options)
    source = read_metadata(out)[0]['quantization']['calibration']
    print(f'wrote {out}: {len(nodes)} nodes in int8, {len(args.float_nodes)} more kept in float, '
          f'calibrated on {args.num_calib} train images of {source}')
    return 0


if __name__ == '__main__':
    run_tool(main)

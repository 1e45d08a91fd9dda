"""Export a classifier, backbone or SSDLite detector to ONNX (or TFLite).

    python tools/deploy/export.py MODEL [--checkpoint CKPT] [--out FILE]
        [--task auto|classifier|detector|backbone] [--input-size H [W]]
        [--batch N] [--opset 18] [--no-fold-bn] [--format onnx|tflite]
        [--identity-multiplier R] [--nms] [--verify]

MODEL is a ``create_model`` name (``mobilenext_100``) or a config file
(``configs/ssdlite/ssdlite_mobilenext-100-scratch_8xb24-600e_coco.py``).
The checkpoint is loaded strictly: a checkpoint of another model is refused
with the mismatched keys. BN is folded; the batch dimension is dynamic
unless ``--batch N`` fixes it. Detectors export as boxes + scores with the
anchors as constants; NMS runs in ``mnext_det.deploy.ssd_postprocess`` with
the settings stored in the file's metadata (see docs/deploy.md); with --nms
the ONNX graph ends in NonMaxSuppression instead and outputs dets (N, K, 5)
and labels (N, K), K = test_cfg.max_per_img, padded with label -1.
"""
import argparse
import os
import os.path as osp

import numpy as np
import torch

import mnext_det  # noqa: E402,F401  (safe checkpoint loader)
from mnext_det.deploy import build_model, export_onnx, prepare_export
from mnext_det.deploy.onnx_export import MIN_OPSET
from mnext_det.tool_args import require_at_least, require_writable
from mnext_det.tool_errors import run_tool


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('model', help='create_model name or config file')
    parser.add_argument('--checkpoint', help='checkpoint to load (strict)')
    parser.add_argument('--out', help='output file (default: work_dirs/deploy/<name>.<ext>)')
    parser.add_argument('--task', default='auto',
                        choices=['auto', 'classifier', 'detector', 'backbone'])
    parser.add_argument('--input-size', type=int, nargs='+', help='H [W]')
    parser.add_argument('--batch', type=int, help='fixed batch size (default: dynamic)')
    parser.add_argument('--opset', type=int, default=18)
    parser.add_argument('--no-fold-bn', action='store_true')
    parser.add_argument('--format', default='onnx', choices=['onnx', 'tflite'])
    parser.add_argument('--identity-multiplier', type=float,
                        help='identity_tensor_multiplier (model names only)')
    parser.add_argument('--nms', action='store_true',
                        help='detectors, ONNX: end-to-end graph with NonMaxSuppression')
    parser.add_argument('--verify', action='store_true',
                        help='compare the exported model with PyTorch on a random input')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    kwargs = {}
    if args.identity_multiplier is not None:
        if args.model.endswith('.py'):
            raise ValueError('--identity-multiplier applies to model names; set it in the config')
        kwargs['identity_tensor_multiplier'] = args.identity_multiplier
    if args.input_size is not None and (len(args.input_size) not in (1, 2)
                                        or min(args.input_size) < 1):
        raise ValueError(f'--input-size takes H or H W, each at least 1, got {args.input_size}')
    if args.batch is not None and args.batch < 1:
        raise ValueError(f'--batch must be at least 1 (leave it out for a dynamic batch), got '
                         f'{args.batch}')
    require_at_least(args, opset=MIN_OPSET)
    require_writable(args, files=['out'])
    if args.nms and args.format != 'onnx':
        raise ValueError('--nms needs --format onnx (TFLite takes the raw graph)')
    if args.out is not None and osp.splitext(args.out)[1].lower() != f'.{args.format}':
        raise ValueError(f'--out {args.out}: --format {args.format} writes a .{args.format} file '
                         '(name it so, or choose the format with --format)')
    module, cfg = build_model(args.model, args.checkpoint, **kwargs)
    input_size = None
    if args.input_size:
        input_size = (args.input_size[0], args.input_size[-1])
    graph, output_names, meta = prepare_export(module, cfg, args.task, input_size,
                                               name=args.model, checkpoint=args.checkpoint)
    if args.nms and meta['task'] != 'detector':
        raise ValueError(f'--nms applies to detectors; {args.model} exports a {meta["task"]}')
    name = osp.splitext(osp.basename(args.model))[0]
    out = args.out or osp.join('work_dirs', 'deploy', f'{name}.{args.format}')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    shape = (args.batch or 1, 3, *meta['input_size'])
    if args.format == 'tflite':
        from mnext_det.deploy.tflite import export_tflite
        export_tflite(graph, out, shape, fold_bn=not args.no_fold_bn, metadata=meta)
    else:
        export_onnx(graph, out, shape, output_names=output_names,
                    dynamic_batch=args.batch is None, opset=args.opset,
                    fold_bn=not args.no_fold_bn, metadata=meta)
    if args.verify:  # the graph as exported, before --nms appends its NonMaxSuppression
        verify(graph, out, shape, args.format, 'boxes and scores before NMS, ' if args.nms else '')
    if args.nms:
        from mnext_det.deploy.onnx_nms import add_nms_to_file
        add_nms_to_file(out)
        output_names = ('dets', 'labels')
    weights = args.checkpoint or ('none given (--checkpoint): the initial weights, for latency '
                                  'and graph checks, not for predictions')
    dims = ' x '.join(map(str, (shape[0] if args.batch is not None else 'N', *shape[1:])))
    print(f'wrote {out} ({meta["task"]}, input {dims}, outputs {list(output_names)}); '
          f'weights: {weights}')


def verify(graph: torch.nn.Module, file: str, shape: tuple, fmt: str, what: str = '') -> None:
    """Print the largest difference between PyTorch and the exported file
    (``what`` names the outputs compared, e.g. those before NMS)."""
    x = torch.randn(*shape)
    with torch.no_grad():
        ref = graph(x)
    ref = [r.numpy() for r in (ref if isinstance(ref, tuple) else (ref, ))]
    if fmt == 'tflite':
        from mnext_det.deploy.tflite import TFLiteModel
        outs = TFLiteModel(file)(x.numpy())
    else:
        from mnext_det.deploy import OnnxRuntimeModel
        outs = OnnxRuntimeModel(file)(x.numpy())
    for i, (a, b) in enumerate(zip(ref, outs)):
        print(f'output {i} ({what}{shape[0]} random image(s)): max |PyTorch - {fmt}| = '
              f'{np.abs(a - b).max():.3g} (max |value| {np.abs(a).max():.3g})')


if __name__ == '__main__':
    run_tool(main)

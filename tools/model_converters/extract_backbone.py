"""Write the backbone weights of a classification checkpoint as their own file.

    python tools/model_converters/extract_backbone.py work_dirs/mobilenext-100/epoch_210.pth \
        checkpoints/mobilenext-100_in1k_backbone.pth

Reads this project's (mmengine) checkpoints, the authors' timm checkpoints
and plain state dicts through the safe loader. The output holds
``state_dict`` (keys without ``backbone.``) and ``meta`` (source file, key
count, the identity tensor multiplier when the source records it), for
``init_cfg=dict(type='Pretrained', checkpoint=OUT)`` without a prefix.
Pretraining checkpoints also work as they are with ``prefix='backbone.'``;
this tool only makes smaller files. An mmengine
checkpoint written with ``EMAHook`` already stores the EMA weights in
``state_dict``.
"""
import argparse
import hashlib
import os
import os.path as osp

import torch

from mnext_det.checkpoint import extract_state_dict, load_checkpoint_file
from mnext_det.identity_meta import IDENTITY_META_KEY, recorded_identity_multiplier
from mnext_det.models import checkpoint_filter_fn
from mnext_det.tool_errors import run_tool


def main() -> None:
    parser = argparse.ArgumentParser(description='Extract backbone weights')
    parser.add_argument('checkpoint', help='classification checkpoint')
    parser.add_argument('out', help='output .pth file')
    parser.add_argument('--prefix', default='backbone.', help='key prefix to keep and strip')
    parser.add_argument('--use-ema', action='store_true',
                        help="take a timm checkpoint's state_dict_ema")
    parser.add_argument('--trusted', action='store_true',
                        help='unpickle without the allow-list (trusted files only)')
    args = parser.parse_args()
    ckpt = load_checkpoint_file(args.checkpoint, trusted=args.trusted or None)
    state = checkpoint_filter_fn(extract_state_dict(ckpt, args.checkpoint, use_ema=args.use_ema))
    backbone = {k[len(args.prefix):]: v for k, v in state.items() if k.startswith(args.prefix)}
    if not backbone:
        prefixes = sorted({k.split('.')[0] + '.' for k in state})
        raise ValueError(f'{args.checkpoint}: no key starts with {args.prefix!r} '
                       f'(prefixes found: {prefixes}); set --prefix')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    meta = dict(source=osp.basename(args.checkpoint), prefix=args.prefix,
                num_tensors=len(backbone))
    if recorded_identity_multiplier(ckpt) is not None:
        meta[IDENTITY_META_KEY] = recorded_identity_multiplier(ckpt)
    torch.save(dict(state_dict=backbone, meta=meta), args.out)
    with open(args.out, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    print(f'{len(backbone)} of {len(state)} tensors ({args.prefix}*) -> {args.out} '
          f'(sha256 {sha[:8]})')


if __name__ == '__main__':
    run_tool(main)

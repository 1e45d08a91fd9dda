"""Convert an official MobileNeXt checkpoint into a clean mnext-det one.

    python tools/model_converters/convert_official_ckpt.py SRC DST [--arch mobilenext_100]
        [--use-ema]

SRC may be the authors' timm ``CheckpointSaver`` dict (``state_dict``,
optional ``state_dict_ema``, pickled ``args``) or a plain state dict. It is
read without running code (allow-listed ``weights_only`` load), checked
strictly against ``--arch``, and DST holds only tensors and metadata: keys
``backbone.features.*`` and ``classifier.1.*``, usable by ``create_model``
and by detection configs with ``init_cfg=dict(type='Pretrained',
checkpoint=DST, prefix='backbone.')``.
"""
import argparse
import hashlib
import os

import torch

from mnext_det import create_model, list_models
from mnext_det.checkpoint import (CheckpointMismatchError, extract_state_dict,
                                  load_checkpoint_file)
from mnext_det.identity_meta import IdentityMultiplierMismatchError
from mnext_det.tool_errors import run_tool


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description='Convert an official MobileNeXt checkpoint.')
    parser.add_argument('src', help='official checkpoint (.pth.tar / .pth)')
    parser.add_argument('dst', help='output .pth')
    parser.add_argument('--arch', default='mobilenext_100', choices=list_models())
    parser.add_argument('--identity-tensor-multiplier', type=float, default=1.0)
    parser.add_argument('--use-ema', action='store_true', help='take state_dict_ema')
    args = parser.parse_args()

    state = extract_state_dict(load_checkpoint_file(args.src), args.src, use_ema=args.use_ema)
    if 'classifier.1.weight' not in state:
        raise ValueError(f'{args.src}: no classifier.1.weight, so not a MobileNeXt classifier '
                         f'checkpoint (first keys: {", ".join(sorted(state)[:4])}); a '
                         "detector's backbone: tools/model_converters/extract_backbone.py")
    num_classes = state['classifier.1.weight'].shape[0]
    try:
        model = create_model(args.arch, num_classes=num_classes, checkpoint=args.src,
                             use_ema=args.use_ema,
                             identity_tensor_multiplier=args.identity_tensor_multiplier)
    except IdentityMultiplierMismatchError as e:
        raise ValueError(f'{e} (--identity-tensor-multiplier)') from None
    except CheckpointMismatchError as e:
        raise ValueError(f'{e}; is it another width? --arch {args.arch} now, one of '
                         f'{", ".join(list_models())}') from None
    meta = dict(arch=args.arch, num_classes=num_classes,
                identity_tensor_multiplier=args.identity_tensor_multiplier,
                source=os.path.basename(args.src), source_sha256=_sha256(args.src),
                ema=args.use_ema)
    os.makedirs(os.path.dirname(os.path.abspath(args.dst)), exist_ok=True)
    torch.save(dict(state_dict=model.state_dict(), meta=meta), args.dst)
    print(f'wrote {args.dst}: {len(model.state_dict())} tensors, {meta}')


if __name__ == '__main__':
    run_tool(main)

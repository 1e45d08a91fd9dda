"""Evaluate a checkpoint with a detector or classifier config (mmdet's CLI).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl]
        [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import os.path as osp

import torch
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mnext_det  # noqa: F401  (safe checkpoint loader, registrations)
from mnext_det.checkpoint import extract_state_dict, load_checkpoint_file
from mnext_det.datasets.checks.preflight import check_detection_data
from mnext_det.engine import (configure_cpu_distributed, exit_on_peer_failure,
                             init_cpu_process_group)
from mnext_det.engine.launch import add_launch_args, load_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump raw predictions to this pickle file')
    add_launch_args(parser)
    return parser.parse_args()


def check_checkpoint_keys(model: torch.nn.Module, checkpoint: str) -> None:
    """Refuse a checkpoint that leaves model weights uninitialised.

    mmengine loads ``load_from`` non-strictly and only warns, so a foreign or
    wrong checkpoint would silently evaluate random weights.
    """
    state = extract_state_dict(load_checkpoint_file(checkpoint), checkpoint)
    own = {k: v for k, v in model.state_dict().items() if not k.startswith('ema_')}
    missing = sorted(k for k in own if k not in state)
    shape = sorted(k for k in own if k in state and state[k].shape != own[k].shape)
    if missing or shape:
        raise KeyError(
            f'{checkpoint} does not fit the config\'s model: {len(missing)} missing keys '
            f'({", ".join(missing[:8])}{" ..." if len(missing) > 8 else ""}), '
            f'{len(shape)} shape mismatches ({", ".join(shape[:8])}). For the authors\' '
            'checkpoints run tools/model_converters/convert_official_ckpt.py first.')


def main() -> None:
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint file not found: {args.checkpoint}')
    cfg = load_config(args.config, args.work_dir, args.cfg_options, args.launcher,
                      args.local_rank)
    if 'bbox_head' in cfg.get('model', {}):
        check_detection_data(cfg, splits=('test', ))
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must end with .pkl or .pickle, got {args.out}')
        cfg.test_evaluator = [cfg.test_evaluator] if isinstance(cfg.test_evaluator, dict) \
            else list(cfg.test_evaluator)
        cfg.test_evaluator.append(dict(type='DumpResults', out_file_path=args.out))
    configure_cpu_distributed(cfg)
    init_cpu_process_group(cfg)
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    check_checkpoint_keys(runner.model, args.checkpoint)
    with exit_on_peer_failure(runner):
        runner.test()


if __name__ == '__main__':
    main()

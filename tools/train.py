"""Train a detector or a classifier from an mmengine config (mmdet's CLI).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--compile]
        [--auto-scale-lr] [--cfg-options k=v ...] [--launcher pytorch]

Works for the SSDLite configs (``default_scope='mmdet'``) and for the
pretraining configs, which need no mmdet.
"""
import argparse

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mnext_det  # noqa: F401  (safe checkpoint loader, registrations)
from mnext_det.datasets.checks.preflight import check_detection_data
from mnext_det.engine import (apply_fault_tolerance, exit_on_peer_failure,
                             init_cpu_process_group)
from mnext_det.engine.allocator import loaded_allocator, reexec_under_tcmalloc
from mnext_det.engine.cpus import cap_torch_threads, cpu_summary
from mnext_det.engine.empty_epoch import check_train_batches
from mnext_det.engine.launch import (add_launch_args, batch_and_lr, load_config,
                                    schedulers_past_training, with_amp, with_compile_options)
from mnext_det.engine.parent_death import exit_with_parent
from mnext_det.engine.pretrained_check import check_checkpoint_paths
from mnext_det.engine.resume_check import auto_resume, check_resume
from mnext_det.tool_errors import run_tool


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--amp', action='store_true',
                        help="automatic mixed precision (mmengine's AmpOptimWrapper; needs a GPU)")
    parser.add_argument('--compile', action='store_true',
                        help="torch.compile the train step (mmengine's cfg.compile, with "
                        'channels-last forced in every graph: engine.launch.compile_options)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by total batch / auto_scale_lr.base_batch_size')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CKPT, or from the latest checkpoint in the '
                        'work dir when no path is given')
    add_launch_args(parser)
    return parser.parse_args()


def build_cfg(args: argparse.Namespace) -> Config:
    """Load the config and apply the command-line overrides."""
    cfg = load_config(args.config, args.work_dir, args.cfg_options, args.launcher,
                      args.local_rank)
    if args.compile:
        cfg.compile = True
    if cfg.get('compile'):
        cfg.compile = with_compile_options(cfg.compile)
    if args.amp:
        from mmengine.device import get_device
        if get_device() == 'cpu':
            raise ValueError("--amp needs a GPU (mmengine's AmpOptimWrapper): "
                             'none is visible here')
        cfg.optim_wrapper = with_amp(cfg.optim_wrapper)
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise ValueError(f'{args.config}: --auto-scale-lr needs auto_scale_lr.base_batch_size '
                           'in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume is not None and args.resume != 'auto':
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def main() -> None:
    args = parse_args()
    exit_with_parent()  # started by the demo or a study: end with it
    reexec_under_tcmalloc()
    print(f'allocator: {loaded_allocator()}', flush=True)
    print(f'torch threads: {cap_torch_threads()} ({cpu_summary()})', flush=True)
    cfg = build_cfg(args)
    print(f'batch and lr: {batch_and_lr(cfg)}', flush=True)
    for line in schedulers_past_training(cfg):
        print(f'schedule: {line}', flush=True)
    check_checkpoint_paths(cfg)
    if 'bbox_head' in cfg.get('model', {}):
        for note in check_detection_data(cfg):  # bad data named before anything is built
            print(f'data: {note}', flush=True)
    for change in apply_fault_tolerance(cfg):
        print(f'fault tolerance: {change}', flush=True)
    if args.resume == 'auto':
        print(f'resume: {auto_resume(cfg)}', flush=True)
    for line in check_resume(cfg):
        print(f'resume: {line}', flush=True)
    init_cpu_process_group(cfg)
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    with exit_on_peer_failure(runner):
        check_train_batches(runner.train_dataloader)  # before train() builds the schedulers
        runner.train()


if __name__ == '__main__':
    run_tool(main)

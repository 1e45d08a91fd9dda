"""Evaluate a checkpoint with a detector or classifier config (mmdet's CLI).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl]
        [--show-dir DIR] [--show [--wait-time S]] [--tta] [--cfg-options k=v ...]
        [--launcher pytorch]
"""
import argparse

from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mnext_det  # noqa: F401  (safe checkpoint loader, registrations)
from mnext_det.checkpoint import check_checkpoint_fits, require_checkpoint_file
from mnext_det.datasets.checks.preflight import check_detection_data
from mnext_det.engine import (configure_cpu_distributed, exit_on_peer_failure,
                             init_cpu_process_group)
from mnext_det.engine.allocator import loaded_allocator, reexec_under_tcmalloc
from mnext_det.engine.cpus import cap_torch_threads, cpu_summary
from mnext_det.engine.launch import (add_launch_args, load_config, with_tta,
                                     with_visualization)
from mnext_det.engine.parent_death import exit_with_parent
from mnext_det.engine.unwrap import unwrap_model
from mnext_det.tool_args import require_writable
from mnext_det.tool_errors import run_tool


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump raw predictions to this pickle file')
    parser.add_argument('--show-dir', help='detectors: draw each test image with its '
                        'predictions into WORK_DIR/<timestamp>/SHOW_DIR')
    parser.add_argument('--show', action='store_true', help='detectors: show each test image '
                        'with its predictions in a window (needs a display)')
    parser.add_argument('--wait-time', type=float, default=2,
                        help='--show: seconds each image stays on screen (default: 2)')
    parser.add_argument('--tta', action='store_true', help="detectors: test-time augmentation, "
                        "the config's tta_model/tta_pipeline or mmdet's default (flip)")
    add_launch_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    require_writable(args, files=['out'])
    exit_with_parent()  # started by a study: end with it
    reexec_under_tcmalloc()
    print(f'allocator: {loaded_allocator()}', flush=True)
    print(f'torch threads: {cap_torch_threads()} ({cpu_summary()})', flush=True)
    args.checkpoint = require_checkpoint_file(args.checkpoint)
    cfg = load_config(args.config, args.work_dir, args.cfg_options, args.launcher,
                      args.local_rank)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must end with .pkl or .pickle, got {args.out}')
        cfg.test_evaluator = [cfg.test_evaluator] if isinstance(cfg.test_evaluator, dict) \
            else list(cfg.test_evaluator)
        cfg.test_evaluator.append(dict(type='DumpResults', out_file_path=args.out))
    if args.show or args.show_dir is not None:
        with_visualization(cfg, args.show_dir, args.show, args.wait_time)
    if 'bbox_head' in cfg.get('model', {}):
        for note in check_detection_data(cfg, splits=('test', )):
            print(f'data: {note}', flush=True)
    if args.tta:
        with_tta(cfg)
    configure_cpu_distributed(cfg)
    init_cpu_process_group(cfg)
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    check_checkpoint_fits(unwrap_model(runner.model), args.checkpoint)
    with exit_on_peer_failure(runner):
        runner.test()


if __name__ == '__main__':
    run_tool(main)

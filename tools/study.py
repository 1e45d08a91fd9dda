"""Seeded comparison of detector configs (the first is the baseline).

    python tools/study.py CONFIG [LABEL=]CONFIG ... --work-dir DIR --seeds 0 1 2
        [--lr-grid [LABEL=]LR,LR ...] [--cfg-options k=v ...]
        [--test-cfg-options k=v ...] [--parallel N] [--threads N]
        [--launcher none|slurm] [--dry-run] [--partition P] [--gpus-per-task N]
        [--allow-config-diff] [--metric coco/bbox_mAP|pascal_voc/mAP] [--report-dir DIR]

Every (config, lr, seed) run gets the same data, schedule and budget. A rerun
with the same --work-dir skips finished runs and resumes the others. With
--launcher slurm the runs go to one job array; rerun with --launcher none
afterwards to evaluate and report. Writes study.md, study.json, study.png
and learning_curves.png into the work dir.
"""
import argparse
import os
import os.path as osp
import shlex
import sys
from typing import Optional

from mnext_det.study import (StudyFailed, StudyScripts, execute_local, parse_config_spec,
                             parse_lr_grid, plan_study, sbatch_script, study_metric, submit,
                             write_report, write_sbatch)
from mnext_det.engine.cpus import usable_cpus
from mnext_det.tool_args import require_at_least
from mnext_det.tool_errors import USER_ERROR_EXIT, run_tool

TOOLS = osp.dirname(osp.abspath(__file__))


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('configs', nargs='+', help='[LABEL=]CONFIG, baseline first')
    p.add_argument('--work-dir', required=True)
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument('--lr-grid', nargs='+', default=[], metavar='[LABEL=]LR,LR')
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                   help='overrides shared by every run')
    p.add_argument('--test-cfg-options', nargs='+', default=None, metavar='KEY=VALUE',
                   help='overrides that point the test dataloader/evaluator at a separate '
                   'test split; each final checkpoint is evaluated there (needed with --lr-grid)')
    p.add_argument('--metric', help='val metric that picks the lr (default: the mAP of the '
                   "baseline's val_evaluator: coco/bbox_mAP or pascal_voc/mAP)")
    p.add_argument('--parallel', type=int, default=usable_cpus())
    p.add_argument('--threads', type=int, default=1, help='torch threads per local run')
    p.add_argument('--allow-config-diff', action='store_true')
    p.add_argument('--launcher', choices=['none', 'slurm'], default='none')
    p.add_argument('--dry-run', action='store_true', help='print the plan (and sbatch script)')
    p.add_argument('--partition')
    p.add_argument('--gpus-per-task', type=int, default=1)
    p.add_argument('--title', default='Backbone study')
    p.add_argument('--report-dir', help='where study.md/json/png go (default: --work-dir); '
                   'studies sharing a work dir reuse each other\'s finished runs')
    return p.parse_args()


def main() -> Optional[int]:
    args = parse_args()
    command = ' '.join(shlex.quote(a) for a in ['python', 'tools/study.py'] + sys.argv[1:])
    specs = [parse_config_spec(c) for c in args.configs]
    labels = [s.label for s in specs]
    require_at_least(args, parallel=1, threads=1, gpus_per_task=1)
    runs = plan_study(specs, args.seeds, args.work_dir, parse_lr_grid(args.lr_grid, labels),
                      args.cfg_options, args.allow_config_diff)
    metric = study_metric(specs[0], args.cfg_options, args.metric)
    scripts = StudyScripts(train=osp.join(TOOLS, 'train.py'), test=osp.join(TOOLS, 'test.py'))
    print(f'[study] {len(runs)} runs: {len(specs)} configs x {len(args.seeds)} seeds'
          f'{" x lr grid" if args.lr_grid else ""}, {runs[0].max_epochs} epochs each')
    if args.dry_run or args.launcher == 'slurm':
        for run in runs:
            print(f'  {run.index}: {run.name} -> {run.work_dir} (config {run.config_hash})')
    if args.launcher == 'slurm':
        text = sbatch_script(runs, scripts, args.work_dir, partition=args.partition,
                             gpus_per_task=args.gpus_per_task)
        if args.dry_run:
            print(text)
            return
        path = write_sbatch(osp.join(args.work_dir, 'study.sbatch'), text)
        print(f'[study] {submit(path)}; when it ends, rerun with --launcher none to report')
        return
    if args.dry_run:
        return
    try:
        results = execute_local(runs, scripts, args.test_cfg_options, args.parallel,
                                args.threads, metric,
                                log=lambda m: print(f'[study] {m}', flush=True))
    except StudyFailed as e:  # the message lists every failed run, one per line
        print(f'error: {e}', file=sys.stderr)
        return USER_ERROR_EXIT
    report_dir = args.report_dir or args.work_dir
    os.makedirs(report_dir, exist_ok=True)
    write_report(report_dir, results, labels, metric, command, args.title)
    with open(osp.join(report_dir, 'study.md')) as f:
        print(f.read())


if __name__ == '__main__':
    run_tool(main)

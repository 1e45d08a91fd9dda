"""Deployment report: detectors in PyTorch, ONNX float (raw, end-to-end) and ONNX INT8,
scored on the same split and timed side by side in one interleaved run.

    python tools/deploy/report.py CONFIG CKPT [CONFIG CKPT ...] [--names A B ...]
        [--out-dir work_dirs/deploy_report] [--num-calib 200] [--threads 1 0]
        [--rounds 5] [--runs 20] [--cfg-options k=v ...]

The first detector is the latency baseline of each format. Writes
deploy_report.md, deploy_report.json and deploy_report.png (AP vs latency).
"""
import argparse
import os.path as osp
import sys

from mmengine.config import DictAction

import mnext_det  # noqa: F401  (safe checkpoint loader)
from mnext_det.analysis.timing import machine_summary
from mnext_det.deploy.report import (build_deploy_report, format_deploy_markdown,
                                     plot_deploy_chart, write_deploy_json)
from mnext_det.evaluation.work_dirs import resolve_detectors
from mnext_det.tool_args import require_at_least, require_writable
from mnext_det.tool_errors import run_tool


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('pairs', nargs='+', help='CONFIG CHECKPOINT pairs')
    parser.add_argument('--names', nargs='+')
    parser.add_argument('--out-dir', default='work_dirs/deploy_report')
    parser.add_argument('--num-calib', type=int, default=200)
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 0], help='0: all cores')
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--runs', type=int, default=20)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    require_at_least(args, num_calib=1, threads=0, rounds=1, runs=1)
    require_writable(args, folders=['out_dir'])
    pairs, names = resolve_detectors(args.pairs, names=args.names)
    rows = build_deploy_report([(n, c, k) for n, (c, k) in zip(names, pairs)], args.out_dir,
                               args.num_calib, args.threads, args.rounds, args.runs,
                               args.cfg_options)
    table = format_deploy_markdown(rows)
    machine = machine_summary()
    with open(osp.join(args.out_dir, 'deploy_report.md'), 'w') as f:
        f.write(f'{table}\nCommand: python {" ".join(sys.argv)}\nMachine: {machine}\n')
    write_deploy_json(rows, osp.join(args.out_dir, 'deploy_report.json'),
                      dict(command=sys.argv, machine=machine))
    plot_deploy_chart(rows, osp.join(args.out_dir, 'deploy_report.png'))
    print(table)
    print(f'wrote {args.out_dir}/deploy_report.md, .json, .png')
    return 0


if __name__ == '__main__':
    run_tool(main)

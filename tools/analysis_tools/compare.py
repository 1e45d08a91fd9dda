"""Compare detectors side by side on the same split (the first is the baseline).

    python tools/analysis_tools/compare.py CONFIG CKPT [CONFIG CKPT ...] [--work-dirs DIR ...]
        [--names A B ...] [--out-dir work_dirs/compare] [--confusion] [--cfg-options k=v ...]

Every detector is evaluated on the first detector's test dataset and metric
(each keeps its own test pipeline and input size). Prints a Markdown table
(COCO AP/AP50/AP75/APs/APm/APl, recall AR100/ARs/ARm/ARl, or VOC mAP; per-class
AP, params, MAdds at the input size, CPU latency, differences from the
baseline; the forwards timed side by side, taking turns round by round) and
writes compare.json and compare.png into --out-dir; with
--confusion also mmdet's confusion matrix of each detector, side by side in
confusion_matrices.png. Evaluation progress is logged.
"""
import argparse
import os
import os.path as osp
from contextlib import nullcontext

from mmengine.config import DictAction

from mnext_det.config_file import read_config
from mnext_det.deploy.builder import class_names
from mnext_det.evaluation.comparison_report import format_markdown, write_json
from mnext_det.evaluation.detector_eval import evaluate_detectors
from mnext_det.evaluation.mmdet_tools import plot_confusion_matrices
from mnext_det.evaluation.work_dirs import resolve_detectors
from mnext_det.tool_args import require_at_least, require_writable
from mnext_det.tool_errors import run_tool
from mnext_det.visualization.charts import plot_chart


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('pairs', nargs='*', help='CONFIG CHECKPOINT pairs')
    parser.add_argument('--work-dirs', nargs='+', default=[],
                        help='finished training work dirs (dumped config + last checkpoint)')
    parser.add_argument('--names', nargs='+', help='labels, in order (default: file names)')
    parser.add_argument('--out-dir', default='work_dirs/compare')
    parser.add_argument('--latency-rounds', type=int, default=20,
                        help='rounds in which the detectors\' timed forwards take turns (the '
                             'latency and its ratio to the baseline, side by side)')
    parser.add_argument('--confusion', action='store_true',
                        help='also plot mmdet\'s confusion matrix of each detector')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides applied to every config')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    require_at_least(args, latency_rounds=1)
    require_writable(args, folders=['out_dir'])
    models, names = resolve_detectors(args.pairs, args.work_dirs, args.names, minimum=2)
    baseline = read_config(models[0][0], args.cfg_options)

    def announce(i: int, name: str) -> nullcontext:
        print(f'[compare] {i + 1}/{len(models)}: evaluating {name}', flush=True)
        return nullcontext()

    results = evaluate_detectors([(name, config, ckpt) for (config, ckpt), name
                                  in zip(models, names)], args.out_dir, args.cfg_options,
                                 args.latency_rounds, args.confusion, context=announce)
    print(f'[compare] timed the {len(models)} forwards side by side, {args.latency_rounds} '
          'rounds', flush=True)
    os.makedirs(args.out_dir, exist_ok=True)
    table = format_markdown(results)
    write_json(results, osp.join(args.out_dir, 'compare.json'))
    plot_chart(results, osp.join(args.out_dir, 'compare.png'))
    print(table)
    if args.confusion:
        path = osp.join(args.out_dir, 'confusion_matrices.png')
        plot_confusion_matrices([r.confusion for r in results], class_names(baseline), names,
                                path)
        print(f'[compare] wrote {path}')
    print(f'[compare] wrote {args.out_dir}/compare.json and compare.png')


if __name__ == '__main__':
    run_tool(main)

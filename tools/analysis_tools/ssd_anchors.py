"""SSD anchor coverage of a config's training boxes, and sizes proposed from
them (mmdet's optimize_anchors.py handles YOLO anchors only).

    python tools/analysis_tools/ssd_anchors.py CONFIG [--iou-thr 0.5] [--out anchors.json]
"""
import argparse
import dataclasses
import json
import os
import os.path as osp

from mnext_det.analysis.anchors import analyze_ssd_anchors
from mnext_det.tool_args import require_writable
from mnext_det.tool_errors import run_tool


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='detection config with an SSDAnchorGenerator')
    parser.add_argument('--iou-thr', type=float, default=None,
                        help='IoU a box needs with its best anchor (default: the '
                        'assigner\'s pos_iou_thr)')
    parser.add_argument('--out', help='also write the report as JSON here')
    args = parser.parse_args()
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    require_writable(args, files=['out'])
    report = analyze_ssd_anchors(args.config, args.iou_thr)
    print(f'{report.num_boxes} training boxes at input (h, w) = {report.input_size}, '
          f'feature maps {report.featmap_sizes}')
    print('| anchors | min_sizes | max_sizes | boxes with an anchor of IoU >= '
          f'{report.iou_thr:g} |\n|---|---|---|---|')
    for name, sizes, coverage in (('current', report.current, report.current_coverage),
                                  ('proposed', report.proposed, report.proposed_coverage)):
        print(f'| {name} | {sizes["min_sizes"]} | {sizes["max_sizes"]} | {coverage:.1%} |')
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(dataclasses.asdict(report), f, indent=2)
    return 0


if __name__ == '__main__':
    run_tool(main)

"""Evaluating detectors side by side: metrics, params, latency, the Markdown and
JSON report and the chart."""
import dataclasses
import json

import pytest

pytest.importorskip('mmdet')
from mnext_det.datasets.synthetic import SHAPE_CLASSES  # noqa: E402


def test_comparison_report(trained, tmp_path):
    from mnext_det.evaluation.comparison_report import format_markdown, write_json
    from mnext_det.evaluation.detector_eval import evaluate_detector
    from mnext_det.visualization.charts import plot_chart
    cfg, work_dir = trained['coco']
    cfg_file = tmp_path / 'det.py'
    cfg.dump(str(cfg_file))
    ckpt = str(work_dir / 'epoch_5.pth')
    base = evaluate_detector(str(cfg_file), ckpt, name='base', work_dir=str(tmp_path),
                             dataset_from=cfg, latency_runs=2)
    better = dict(base.metrics, bbox_mAP=base.metrics['bbox_mAP'] + 0.25)
    other = dataclasses.replace(base, name='other', latency_ms=2 * base.latency_ms,
                                metrics=better)
    results = [base, other]
    assert set(results[0].per_class) == set(SHAPE_CLASSES)
    assert results[0].params_M > 0.5 and results[0].madds_G > 0.01
    table = format_markdown(results)
    assert '| base | 160x160 |' in table and '(+0.250)' in table and '(x2.00)' in table
    assert '| star |' in table
    write_json(results, str(tmp_path / 'r.json'))
    plot_chart(results, str(tmp_path / 'r.png'))
    assert json.load(open(tmp_path / 'r.json'))['summary'][1]['d_AP'] == pytest.approx(0.25)
    assert (tmp_path / 'r.png').stat().st_size > 1000


def test_coco_items_reach_every_spelling_of_coco_metric():
    """A scoped type or the class itself (as configs may hold them) gets the
    report's items like a plain name; other metrics and a config's own items
    are left alone."""
    from mmdet.evaluation import CocoMetric, VOCMetric

    from mnext_det.evaluation.detector_eval import _COCO_ITEMS, _add_coco_items
    evaluators = [dict(type='CocoMetric'), dict(type='mmdet.CocoMetric'), dict(type=CocoMetric),
                  dict(type='CocoMetric', metric_items=['mAP']), dict(type=VOCMetric)]
    _add_coco_items(evaluators)
    assert [e.get('metric_items') for e in evaluators] == [_COCO_ITEMS] * 3 + [['mAP'], None]


def test_voc_columns_name_the_eval_mode():
    """VOC2007's 11-point and VOC2010's area AP differ: every report names which."""
    from mnext_det.evaluation.comparison_report import format_markdown, metric_columns
    from mnext_det.evaluation.detector_eval import DetectorResult, voc_eval_mode
    assert voc_eval_mode([dict(type='CocoMetric'),
                          dict(type='mmdet.VOCMetric', eval_mode='area')]) == 'area'
    assert voc_eval_mode([dict(type='VOCMetric')]) == '11points'  # mmdet's default
    assert voc_eval_mode([dict(type='CocoMetric')]) is None

    def result(name, mode, value):
        return DetectorResult(name=name, config='c.py', checkpoint='c.pth',
                              metrics=dict(mAP=value, AP50=value), latency_ms=1.,
                              voc_eval_mode=mode)
    results = [result('base', '11points', 0.70), result('other', '11points', 0.72)]
    assert [c for c, _ in metric_columns(results)] == ['mAP (VOC 11points)',
                                                        'AP50 (VOC 11points)']
    table = format_markdown(results)
    assert '| model | input | mAP (VOC 11points) | AP50 (VOC 11points) |' in table
    assert '0.720 (+0.020)' in table
    with pytest.raises(ValueError, match=r"VOC eval modes \['11points', 'area'\]: their mAP "
                                         'cannot be compared'):
        metric_columns([results[0], result('other', 'area', 0.72)])

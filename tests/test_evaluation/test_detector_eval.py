"""Evaluating detectors side by side: metrics, params, latency, the Markdown and
JSON report and the chart."""
import contextlib
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


def test_detectors_scored_on_one_split_and_timed_side_by_side(trained, tmp_path):
    """evaluate_detectors times the forwards taking turns: the baseline's
    per-round ratio to itself is 1 in every round, the other's comes with its
    p10-p90, and the report prints both."""
    from mnext_det.evaluation.comparison_report import format_markdown, summary_rows
    from mnext_det.evaluation.detector_eval import evaluate_detectors
    cfg, work_dir = trained['coco']
    cfg_file = tmp_path / 'det.py'
    cfg.dump(str(cfg_file))
    ckpt = str(work_dir / 'epoch_5.pth')
    entered = []

    def context(i, name):
        entered.append((i, name))
        return contextlib.nullcontext()

    base, other = evaluate_detectors(
        [('base', str(cfg_file), ckpt), ('other', str(cfg_file), ckpt)], str(tmp_path),
        latency_rounds=4, context=context)
    assert entered == [(0, 'base'), (1, 'other')]
    assert base.metrics == other.metrics  # one split, one metric, the same weights
    assert base.latency_ratio == (1., 1., 1.)
    for res in (base, other):
        p10, p90 = res.latency_p10_p90
        assert 0 < p10 <= res.latency_ms <= p90
    median, p10, p90 = other.latency_ratio
    assert 0 < p10 <= median <= p90
    assert summary_rows([base, other])[1]['latency_ratio'] == median
    table = format_markdown([base, other])
    assert '{:.1f} ({:.1f}-{:.1f})'.format(base.latency_ms, *base.latency_p10_p90) in table
    assert f'(x{median:.2f}, {p10:.2f}-{p90:.2f})' in table
    assert 'taking turns round by round' in table


def test_detectors_with_a_missing_file_fail_before_any_evaluation(tmp_path):
    from mnext_det.evaluation.detector_eval import evaluate_detectors
    cfg_file = tmp_path / 'det.py'
    cfg_file.write_text('model = dict()\n')
    ckpt = tmp_path / 'a.pth'
    ckpt.write_bytes(b'')
    entered = []
    with pytest.raises(FileNotFoundError, match=r'checkpoint file not found: .*missing\.pth'):
        evaluate_detectors([('a', str(cfg_file), str(ckpt)),
                            ('b', str(cfg_file), str(tmp_path / 'missing.pth'))], str(tmp_path),
                           context=lambda i, name: entered.append(name))
    assert entered == []
    with pytest.raises(ValueError, match='latency_rounds must be at least 1, got 0'):
        evaluate_detectors([('a', str(cfg_file), str(ckpt))], str(tmp_path), latency_rounds=0)


def test_a_checkpoint_of_another_model_fails_before_any_evaluation(trained, tmp_path):
    """The runner loads load_from non-strictly: MobileNeXt-0.5 weights in a
    wider detector's config were scored as that detector's row."""
    from mnext_det.checkpoint import CheckpointMismatchError
    from mnext_det.evaluation.detector_eval import evaluate_detector, evaluate_detectors
    cfg, work_dir = trained['coco']
    cfg_file = tmp_path / 'det.py'
    cfg.dump(str(cfg_file))
    ckpt = str(work_dir / 'epoch_5.pth')
    wide = {'model.backbone.widen_factor': 0.75, 'model.neck.in_channels': (432, 1280),
            'model.neck.out_channels': (432, 1280, 512, 256, 256, 128),
            'model.bbox_head.in_channels': (432, 1280, 512, 256, 256, 128)}
    entered = []
    with pytest.raises(CheckpointMismatchError, match=r'epoch_5\.pth'):
        evaluate_detectors([('base', str(cfg_file), ckpt), ('wide', str(cfg_file), ckpt)],
                           str(tmp_path), cfg_options=wide,
                           context=lambda i, name: entered.append(name))
    assert entered == []
    with pytest.raises(CheckpointMismatchError, match=r'backbone\.'):
        evaluate_detector(str(cfg_file), ckpt, work_dir=str(tmp_path), cfg_options=wide)
    with pytest.raises(FileNotFoundError, match=r'is a folder; its latest checkpoint is '):
        evaluate_detector(str(cfg_file), str(work_dir), work_dir=str(tmp_path))


def test_a_detector_trained_on_other_classes_is_not_scored(trained, tmp_path):
    """A run's work dir trained on other classes was scored by label index
    against these (compare.py --work-dirs): ClassListCheckHook, in every
    detection config, refuses before the test epoch."""
    import torch
    from mnext_det.evaluation.detector_eval import evaluate_detector
    cfg, work_dir = trained['coco']
    cfg_file = tmp_path / 'det.py'
    cfg.dump(str(cfg_file))
    ckpt = torch.load(work_dir / 'epoch_5.pth', map_location='cpu', weights_only=False)
    ckpt['meta']['dataset_meta']['classes'] = ('apple', 'bowl', 'cup', 'dish', 'egg', 'fork')
    other = str(tmp_path / 'other_classes.pth')
    torch.save(ckpt, other)
    with pytest.raises(ValueError, match=r"test_dataloader.dataset has 6 classes that differ "
                       r"from the 6 of the checkpoint .*'circle' vs 'apple'"):
        evaluate_detector(str(cfg_file), other, work_dir=str(tmp_path), latency_runs=0)


def test_coco_items_reach_every_spelling_of_coco_metric():
    """A scoped type or the class itself (as configs may hold them) gets the
    report's items and per-class APs like a plain name; other metrics and a
    config's own items and classwise are left alone."""
    from mmdet.evaluation import CocoMetric, VOCMetric

    from mnext_det.evaluation.detector_eval import _COCO_ITEMS, _add_coco_items
    evaluators = [dict(type='CocoMetric'), dict(type='mmdet.CocoMetric'), dict(type=CocoMetric),
                  dict(type='CocoMetric', metric_items=['mAP']), dict(type=VOCMetric)]
    evaluators.append(dict(type='CocoMetric', classwise=False))
    _add_coco_items(evaluators)
    assert [e.get('metric_items') for e in evaluators] == [_COCO_ITEMS] * 3 + [
        ['mAP'], None, _COCO_ITEMS]
    # the report's per-class AP table needs them (a config without classwise gave none)
    assert [e.get('classwise') for e in evaluators] == [True] * 4 + [None, False]


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

"""mnext_det/evaluation/comparison_report.py on made-up results: what mmdet
could not compute is not printed as a score."""
import json
import math

import pytest

from mnext_det.evaluation.comparison_report import format_markdown, summary_rows, write_json
from mnext_det.evaluation.detector_eval import DetectorResult


def _result(name, ap, ap_l, per_class):
    metrics = dict(bbox_mAP=ap, bbox_mAP_50=0.6, bbox_mAP_75=0.3, bbox_mAP_s=0.1,
                   bbox_mAP_m=0.4, bbox_mAP_l=ap_l)
    return DetectorResult(name=name, config='c.py', checkpoint='c.pth', metrics=metrics,
                          per_class=per_class, params_M=3., madds_G=0.5, latency_ms=10.,
                          input_size=(160, 160))


def test_cocos_minus_one_is_not_a_score(tmp_path):
    """CocoMetric writes -1 for an AP it cannot compute (APl of a split
    without large objects) and nan for a class without boxes: the table said
    ``-1.000 (+0.000)`` and ``nan``."""
    base = _result('base', 0.30, -1., dict(circle=0.5, star=float('nan')))
    other = _result('other', 0.35, -1., dict(circle=0.6, star=float('nan')))
    rows = summary_rows([base, other])
    assert math.isnan(rows[1]['APl']) and math.isnan(rows[1]['d_APl'])
    assert rows[1]['d_AP'] == 0.35 - 0.30
    table = format_markdown([base, other])
    assert '-1.000' not in table and 'nan' not in table
    assert '| other | 160x160 | 0.350 (+0.050) |' in table
    assert '| 0.400 (+0.000) | n/a | n/a | n/a | n/a |' in table  # APm, APl, no ARs
    assert '| star | n/a | n/a |' in table
    assert 'n/a: a metric mmdet could not compute' in table
    write_json([base, other], str(tmp_path / 'compare.json'))
    text = (tmp_path / 'compare.json').read_text()
    assert 'NaN' not in text  # not JSON: a strict parser refused the file
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f'{c} in compare.json'))
    assert data['summary'][1]['APl'] is None and data['results'][0]['per_class']['star'] is None
    full = dict(base.metrics, bbox_mAP_l=0.2, **{f'bbox_AR{k}': 0.5 for k in (
        '@100', '_s@1000', '_m@1000', '_l@1000')})
    computed = _result('base', 0.3, 0.2, dict(circle=0.5))
    computed.metrics = full
    assert 'n/a' not in format_markdown([computed, computed])

"""The inference benchmark's per-pair statistics from known rounds of samples."""
import pytest

pytest.importorskip('onnxruntime')
from mnext_det.analysis.inference_benchmark import _row_stats  # noqa: E402
from mnext_det.analysis.inference_benchmark_models import CLS_BASELINE, FULL_SHORTCUT  # noqa: E402


def test_identity_variant_gets_its_paired_ratio_to_the_full_shortcut():
    # Round 2 is twice as slow for every pair (machine load): paired ratios stay put.
    samples = {(FULL_SHORTCUT, 'eager'): [[10., 10.], [20., 20.], [10., 10.]],
               ('MobileNeXt-1.0 (identity 1/2)', 'eager'): [[9., 9.], [18., 18.], [9.5, 9.5]],
               (CLS_BASELINE, 'eager'): [[8., 8.], [16., 16.], [8., 8.]]}
    half = dict(model='MobileNeXt-1.0 (identity 1/2)', backend='eager', input=224, madds=3e8)
    _row_stats(half, ('MobileNeXt-1.0 (identity 1/2)', 'eager'), samples)
    assert half['vs_full'] == pytest.approx(0.9)
    assert 0.9 <= half['vs_full_p10'] < half['vs_full_p90'] <= 0.95
    assert half['ratio'] == pytest.approx(9 / 8)
    assert half['median_ms'] == pytest.approx(9.5)  # the pooled samples' median
    full = dict(model=FULL_SHORTCUT, backend='eager', input=224, madds=3e8)
    _row_stats(full, (FULL_SHORTCUT, 'eager'), samples)
    assert 'vs_full' not in full and full['ratio'] == pytest.approx(10 / 8)

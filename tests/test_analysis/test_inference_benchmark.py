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


def test_the_mobilenext_detector_gets_its_paired_ratio_to_the_same_tap_baseline():
    from mnext_det.analysis.inference_benchmark_models import (DET_BASELINE, DET_MNEXT,
                                                               SAME_TAP_BASELINE)
    samples = {(DET_MNEXT, 'onnxruntime'): [[22., 22.], [44., 44.], [21., 21.]],
               (SAME_TAP_BASELINE, 'onnxruntime'): [[20., 20.], [40., 40.], [20., 20.]],
               (DET_BASELINE, 'onnxruntime'): [[18., 18.], [36., 36.], [18., 18.]]}
    row = dict(model=DET_MNEXT, backend='onnxruntime', input=320, madds=8.7e8, params=4.5e6)
    _row_stats(row, (DET_MNEXT, 'onnxruntime'), samples)
    assert row['vs_same_tap'] == pytest.approx(1.1)
    assert 1.05 <= row['vs_same_tap_p10'] < row['vs_same_tap_p90'] <= 1.1
    assert row['ratio'] == pytest.approx(22 / 18)
    base = dict(model=SAME_TAP_BASELINE, backend='onnxruntime', input=320, madds=8.5e8,
                params=4.5e6)
    _row_stats(base, (SAME_TAP_BASELINE, 'onnxruntime'), samples)
    assert 'vs_same_tap' not in base and base['ratio'] == pytest.approx(20 / 18)
    from mnext_det.analysis.inference_benchmark_report import _markdown
    meta = dict(cpu='cpu', machine='x86_64', threads=1, torch='2', date='today',
                load_avg_start=(1., 1., 1.), load_avg_end=(1., 1., 1.), matmul_peak_gflops=100.,
                rounds=3, iters=2, timer='cpu')
    text = _markdown(meta, [row, base], {})
    assert f"{DET_MNEXT}, latency / {SAME_TAP_BASELINE}'s" in text
    assert f"| onnxruntime | 1.100 ({row['vs_same_tap_p10']:.3f}-1.100) |" in text

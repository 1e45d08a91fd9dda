"""tools/analysis_tools/benchmark.py --quick from the command line."""
import os.path as osp

import pytest

from ..conftest import ROOT, run

pytest.importorskip('onnxruntime')


@pytest.mark.slow
def test_benchmark_quick_writes_table_json_and_plot(tmp_path):
    import json
    res = run(osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark.py'), '--quick',
              '--rounds', '1', '--iters', '1', '--out-dir', tmp_path, cwd=ROOT, ok=False,
              timeout=600)
    assert res.returncode == 0, res.stderr
    data = json.load(open(tmp_path / 'benchmark.json'))
    pairs = {(r['model'], r['backend']) for r in data['results']}
    assert ('torchvision MobileNetV2', 'onnxruntime') in pairs
    assert ('MobileNeXt-1.0 (identity 1/2)', 'eager+fold+cl') in pairs
    for row in data['results']:
        assert row['median_ms'] > 0 and row['ratio'] > 0 and row['madds'] > 2e8
    assert data['meta']['matmul_peak_gflops'] > 0 and data['ort_profiles']
    assert '| MobileNeXt-1.0 (identity 1) | onnxruntime |' in open(tmp_path / 'benchmark.md').read()
    assert (tmp_path / 'benchmark.png').stat().st_size > 1000


def test_benchmark_runs_the_chosen_models_and_backends_with_their_baseline(tmp_path):
    import json
    tool = osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark.py')
    res = run(tool, '--quick', '--models', 'identity 1/2', '--backends', 'eager+fold+cl',
              '--rounds', '1', '--iters', '1', '--out-dir', tmp_path, cwd=ROOT, ok=False,
              timeout=600)
    assert res.returncode == 0, res.stderr
    rows = {(r['model'], r['backend']): r
            for r in json.load(open(tmp_path / 'benchmark.json'))['results']}
    assert set(rows) == {('MobileNeXt-1.0 (identity 1/2)', 'eager+fold+cl'),
                         ('MobileNeXt-1.0 (identity 1)', 'eager+fold+cl'),
                         ('torchvision MobileNetV2', 'eager+fold+cl')}
    half = rows[('MobileNeXt-1.0 (identity 1/2)', 'eager+fold+cl')]
    assert half['vs_full_p10'] <= half['vs_full'] <= half['vs_full_p90']
    assert 'vs_full' not in rows[('MobileNeXt-1.0 (identity 1)', 'eager+fold+cl')]
    assert '| MobileNeXt-1.0 (identity 1/2) | eager+fold+cl | ' in open(
        tmp_path / 'benchmark.md').read().split('ratio to identity 1')[1]
    res = run(tool, '--quick', '--models', 'nothing-like-this', '--out-dir', tmp_path, cwd=ROOT,
              ok=False)
    assert res.returncode == 2 and res.stderr.startswith("error: --models 'nothing-like-this'")


def test_tflite_without_its_extra_names_the_extra():
    """--help lists tflite; without the extra it was refused as an unknown backend."""
    from importlib.util import find_spec

    from mnext_det.analysis.inference_benchmark import run_inference_benchmark
    if all(find_spec(m) for m in ('ai_edge_litert', 'litert_torch')):
        pytest.skip('the tflite extra is installed')
    with pytest.raises(ValueError, match=r"--backends \['tflite'\]: not among .*; tflite needs "
                       r'the tflite extra: pip install \.\[tflite\]'):
        run_inference_benchmark(1, 1, 1, models='torchvision MobileNetV2',
                                only_backends=['tflite'])

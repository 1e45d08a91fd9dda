"""`tools/demo.py --quick`: every stage of the demo on a tiny dataset (~40 s)."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

from mnext_det.engine.allocator import ALLOCATOR_ENV, find_tcmalloc

from ..conftest import ROOT


def test_demo_quick_runs_every_stage(tmp_path):
    """As a user runs it: under tcmalloc where the machine has it, every
    training too."""
    proc = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'demo.py'), '--quick',
                           '--work-dir', str(tmp_path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=1800,
                          env=dict(os.environ, **{ALLOCATOR_ENV: 'auto'}))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    allocator = 'tcmalloc' if find_tcmalloc() else 'system'
    assert f'malloc {allocator}' in proc.stdout
    logs = glob.glob(str(tmp_path / '*' / 'train_stdout.log'))
    assert len(logs) == 4 and all(f'allocator: {allocator}' in open(p).read() for p in logs)
    for stage in ('[1/5]', '[2/5]', '[3/5]', '[4/5]', '[5/5]'):
        assert stage in proc.stdout
    assert 'load backbone. in model from' in proc.stdout  # detectors start from stage 2
    report = json.loads((tmp_path / 'report.json').read_text())
    names = [r['name'] for r in report['summary']]
    assert names == ['SSDLite-MobileNetV2-0.5', 'SSDLite-MobileNeXt-0.5']
    assert all(0.0 <= r['AP'] <= 1.0 for r in report['summary'])
    for name in ('report.md', 'comparison.png', 'learning_curve.png', 'detections.png',
                 'confusion_matrices.png'):
        assert (tmp_path / name).stat().st_size > 0

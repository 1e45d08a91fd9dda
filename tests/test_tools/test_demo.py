"""`tools/demo.py --quick --pretrain`: every stage of the demo on a tiny
dataset, then `--resume` after a simulated kill (2-3 min together on a 2-core
CPU); the default run without pretraining, and its Ctrl-C."""
import glob
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time
from typing import List

import pytest

from mnext_det.engine.allocator import ALLOCATOR_ENV, find_tcmalloc

from ..conftest import ROOT
from ..tool_main import run_main

pytestmark = pytest.mark.schedule_first


def _demo(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'demo.py'), '--quick',
                           '--epochs', '2', '--work-dir', str(tmp_path), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=1800,
                          env=dict(os.environ, **{ALLOCATOR_ENV: 'auto'}))


def _train_epochs(log_text: str) -> List[str]:
    """The ``Epoch(train) [N]`` numbers a training log holds, in order."""
    return [line.split('Epoch(train)')[1].split(']')[0].strip(' [')
            for line in log_text.splitlines() if 'Epoch(train)' in line]


def test_demo_quick_runs_every_stage_and_resumes(tmp_path):
    """As a user runs it: under tcmalloc where the machine has it, every
    training too. Then killed while the MobileNeXt detector had no checkpoint
    yet: ``--resume`` with other options is refused, with the same ones it
    keeps the three finished trainings and trains that one again."""
    proc = _demo(tmp_path, '--pretrain')
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    allocator = 'tcmalloc' if find_tcmalloc() else 'system'
    assert f'malloc {allocator}' in proc.stdout
    logs = glob.glob(str(tmp_path / '*' / 'train_stdout.log'))
    assert len(logs) == 4 and all(f'allocator: {allocator}' in open(p).read() for p in logs)
    for stage in ('[1/5]', '[2/5]', '[3/5]', '[4/5]', '[5/5]'):
        assert stage in proc.stdout
    assert 'System environment' not in proc.stdout  # the evaluation runner logs warnings only
    for name in ('SSDLite-MobileNetV2-0.5', 'SSDLite-MobileNeXt-0.5'):  # pycocotools' prints
        assert 'Average Precision' in (tmp_path / 'eval' / f'{name}_stdout.log').read_text()
    assert 'Average Precision' not in proc.stdout + proc.stderr
    assert 'Loads checkpoint' in (tmp_path / 'report_stdout.log').read_text()  # the pictures'
    assert 'Loads checkpoint' not in proc.stdout + proc.stderr
    assert 'load backbone. in model from' in proc.stdout  # detectors start from stage 2
    report = json.loads((tmp_path / 'report.json').read_text())
    names = [r['name'] for r in report['summary']]
    assert names == ['SSDLite-MobileNetV2-0.5', 'SSDLite-MobileNeXt-0.5']
    assert all(0.0 <= r['AP'] <= 1.0 for r in report['summary'])
    assert report['timings']['pretrain_s'] > 0
    for name in ('report.md', 'comparison.png', 'learning_curve.png', 'detections.png',
                 'confusion_matrices.png'):
        assert (tmp_path / name).stat().st_size > 0

    next_dir = tmp_path / 'ssdlite_mobilenext-050_1xb8-8e_shapes-160'
    assert [p.name for p in next_dir.glob('*.pth')] == ['epoch_2.pth']  # the latest kept
    for path in [*next_dir.glob('*.pth'), next_dir / 'last_checkpoint']:
        path.unlink()
    logs = {osp.basename(osp.dirname(p)): open(p).read() for p in logs}

    # without the killed run's --pretrain: refused before any work, so the
    # tool's __main__ runs in this process (tests/tool_main.py)
    refused = run_main(osp.join(ROOT, 'tools', 'demo.py'), '--quick', '--epochs', '2',
                       '--work-dir', tmp_path, '--resume', cwd=ROOT)
    assert refused.returncode == 2
    assert 'demo_options.json' in refused.stderr and '--pretrain True then' in refused.stderr

    proc = _demo(tmp_path, '--pretrain', '--resume')
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'resuming every training' in proc.stdout
    for name, before in logs.items():
        after = open(tmp_path / name / 'train_stdout.log').read()
        if name != next_dir.name:  # finished: kept, no process started
            assert after == before and f'finished in {tmp_path / name}, kept' in proc.stdout
            continue
        assert after.startswith(before)  # appended to, the killed run's lines kept
        resumed = after[len(before):]
        assert '--resume' in resumed.splitlines()[0]
        assert _train_epochs(resumed) == ['1', '2']  # from scratch: it had no checkpoint
    assert (next_dir / 'epoch_2.pth').is_file()
    report = json.loads((tmp_path / 'report.json').read_text())
    assert [r['name'] for r in report['summary']] == names and report['resumed']


def test_demo_ctrl_c_names_the_resume_command(tmp_path):
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) during the
    first training, a detector's (no pretraining by default): exit 130 and the
    command that continues, no traceback."""
    log_path = tmp_path / 'out.log'
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(
            [sys.executable, osp.join(ROOT, 'tools', 'demo.py'), '--quick', '--work-dir',
             str(tmp_path / 'wd')], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.time() + 600
        while 'Epoch(train)' not in log_path.read_text() and time.time() < deadline:
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=120) == 130
    out = log_path.read_text()
    assert f'to continue from each training\'s last epoch: python tools/demo.py --quick ' \
        f'--work-dir {tmp_path / "wd"} --resume' in out
    assert 'KeyboardInterrupt' not in out
    assert '[2/5] no backbone pretraining' in out
    assert not glob.glob(str(tmp_path / 'wd' / 'pretrain_*'))


@pytest.mark.parametrize('args, work_dir, data_root', [
    (('--work-dir', 'wd', '--data-root', 'shapes'), 'CWD/wd', 'CWD/shapes'),
    ((), 'work_dirs/demo', 'data/shapes'),  # the defaults, in the repository
])
def test_demo_paths_given_are_relative_to_the_current_folder(tmp_path, monkeypatch, args,
                                                             work_dir, data_root):
    """As mmdet's tools read --work-dir; the run itself works in the repository."""
    import mnext_det.apis
    seen = {}

    def fake_run_demo(opts, log):
        seen.update(cwd=os.getcwd(), work_dir=opts.work_dir, data_root=opts.data_root)
        return 'report'
    monkeypatch.setattr(mnext_det.apis, 'run_demo', fake_run_demo)
    run = run_main(osp.join(ROOT, 'tools', 'demo.py'), '--quick', *args, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert seen == dict(cwd=ROOT, work_dir=work_dir.replace('CWD', str(tmp_path)),
                        data_root=data_root.replace('CWD', str(tmp_path)))

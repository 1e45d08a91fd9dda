"""Local execution: a partly failed study rerun finishes only the missing
runs, resuming them from their last checkpoint; the report aggregates them."""
import dataclasses
import json
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import time

import pytest

from mnext_det.engine.allocator import ALLOCATOR_ENV, find_tcmalloc
from mnext_det.study import (ConfigSpec, StudyFailed, StudyScripts, execute_local, plan_study,
                             write_report)

from ..conftest import ROOT

BASE = osp.join(ROOT, 'configs/demo/ssdlite_mobilenetv2-050_1xb8-10e_shapes-160.py')
NEXT = osp.join(ROOT, 'configs/demo/ssdlite_mobilenext-050_1xb8-10e_shapes-160.py')
FAKE = StudyScripts(train=osp.join(osp.dirname(__file__), 'fake_train.py'), test='unused')


def _invocations(run):
    with open(osp.join(run.work_dir, 'invocations.txt')) as f:
        return f.read().split()


def test_failed_run_is_resumed_and_finished_runs_are_kept(tmp_path, monkeypatch):
    pytest.importorskip('mmdet')
    specs = [ConfigSpec('mobilenetv2', BASE), ConfigSpec('mobilenext', NEXT)]
    runs = plan_study(specs, [0, 1], str(tmp_path), cfg_options=['train_cfg.max_epochs=3'])
    assert len(runs) == 4 and {r.max_epochs for r in runs} == {3}
    victim = runs[3]  # mobilenext, seed 1
    monkeypatch.setenv('FAKE_DIE_IN', victim.work_dir)
    monkeypatch.setenv('FAKE_DIE_EPOCH', '2')
    lines = []
    with pytest.raises(StudyFailed, match='1 of 4 runs failed') as err:
        execute_local(runs, FAKE, parallel=2, log=lines.append)
    assert 'mobilenext seed=1' in str(err.value) and 'study_stdout.log' in str(err.value)
    assert not osp.exists(osp.join(victim.work_dir, 'result.json'))
    assert all(osp.exists(osp.join(r.work_dir, 'result.json')) for r in runs[:3])
    assert any('ETA' in line for line in lines)

    # the killed run's work dir planned under another config: refused, not resumed into it
    other = plan_study(specs, [0, 1], str(tmp_path), cfg_options=['train_cfg.max_epochs=4'])
    with pytest.raises(StudyFailed, match=rf'{re.escape(victim.name)}: .* holds an unfinished '
                       r'run of another config'):
        execute_local(other[3:], FAKE, log=lines.append)

    results = execute_local(runs, FAKE, parallel=2, log=lines.append)
    assert '4 runs, 3 already finished, 1 to run' in lines[-2]
    for run in runs[:3]:
        assert _invocations(run) == ['start_epoch=0']  # not trained again
    assert _invocations(victim) == ['start_epoch=0', 'start_epoch=2']  # resumed at epoch 2
    assert [r['seed'] for r in results] == [0, 0, 1, 1]
    final = results[3]['metrics']['val']['coco/bbox_mAP']
    assert final == pytest.approx(0.1 + 0.1 + 0.01 + 0.002)
    assert [p['epoch'] for p in results[3]['curve']] == [1, 2, 3]
    assert results[3]['config_hash'] == results[1]['config_hash']  # seeds share the config

    # another budget in the same work dir: refused, not silently mixed
    longer = plan_study(specs, [0, 1], str(tmp_path), cfg_options=['train_cfg.max_epochs=4'])
    with pytest.raises(StudyFailed, match='another config.*use a new --work-dir'):
        execute_local(longer, FAKE, log=lines.append)

    study = write_report(str(tmp_path), results, ['mobilenetv2', 'mobilenext'],
                         'coco/bbox_mAP', 'python tools/study.py ...')
    diff = study['paired_differences']['mobilenext']['coco/bbox_mAP']
    assert diff['mean'] == pytest.approx(0.1) and diff['wins'] == 2
    assert study['split'] == 'val'
    on_disk = json.load(open(tmp_path / 'study.json'))
    assert set(on_disk) >= {'runs', 'summary', 'paired_differences'}
    assert {'config', 'seed', 'lr', 'metrics', 'wall_s', 'config_hash'} <= set(on_disk['runs'][0])
    assert on_disk['summary']['mobilenext']['coco/bbox_mAP']['n'] == 2
    assert (tmp_path / 'study.png').stat().st_size > 0
    assert (tmp_path / 'learning_curves.png').stat().st_size > 0
    text = (tmp_path / 'study.md').read_text()
    assert '| mobilenext | config | 2 |' in text and '+0.100' in text


def test_lr_grid_chooses_on_val_and_reports_the_test_split(tmp_path):
    pytest.importorskip('mmdet')
    specs = [ConfigSpec('mobilenetv2', BASE), ConfigSpec('mobilenext', NEXT)]
    runs = plan_study(specs, [0, 1], str(tmp_path), lr_grid={'mobilenext': [1e-3, 4e-3]},
                      cfg_options=['train_cfg.max_epochs=2'])
    assert len(runs) == 6 and [r.lr for r in runs[:3]] == [None, 1e-3, 4e-3]
    results = execute_local(runs, FAKE, parallel=2, log=lambda m: None)
    # a grid without a test split would report the split that chose the lr
    with pytest.raises(ValueError, match='separate test split'):
        write_report(str(tmp_path), results, ['mobilenetv2', 'mobilenext'],
                     'coco/bbox_mAP', 'cmd')
    for r in results:  # as tools/test.py on the test split would give
        r['metrics']['test'] = {'coco/bbox_mAP': r['metrics']['val']['coco/bbox_mAP'] - 0.05}
    study = write_report(str(tmp_path), results, ['mobilenetv2', 'mobilenext'],
                         'coco/bbox_mAP', 'cmd')
    assert study['split'] == 'test' and study['chosen_lr']['mobilenext'] == 4e-3
    mean = study['summary']['mobilenext']['coco/bbox_mAP']['mean']
    assert mean == pytest.approx(0.1 + 0.1 + 0.005 + 0.004 - 0.05)
    with pytest.raises(ValueError, match=r"metric 'pascal_voc/mAP' is not among the val results "
                       r"of 6 of 6 runs \(they have: coco/bbox_mAP"):
        write_report(str(tmp_path), results, ['mobilenetv2', 'mobilenext'], 'pascal_voc/mAP',
                     'cmd')


def test_unfinished_training_without_final_validation_is_an_error(tmp_path):
    pytest.importorskip('mmdet')
    specs = [ConfigSpec('mobilenetv2', BASE), ConfigSpec('mobilenext', NEXT)]
    runs = plan_study(specs, [0], str(tmp_path), cfg_options=['train_cfg.max_epochs=2'])
    # the trainer stops after 2 epochs and exits 0, but the plan expects 5:
    # the study must not call that finished
    runs = [dataclasses.replace(r, max_epochs=5) for r in runs]
    with pytest.raises(StudyFailed, match='no validation of epoch 5'):
        execute_local(runs, FAKE, log=lambda m: None)


@pytest.mark.parametrize('allocator', ['auto', 'system'])
def test_trainings_start_under_tcmalloc_so_they_need_not_reexecute(tmp_path, monkeypatch,
                                                                   allocator):
    """tools/train.py re-executes itself under tcmalloc after its imports
    (about 5 s on a 2-core VM); started with LD_PRELOAD set, it does not."""
    pytest.importorskip('mmdet')
    lib = find_tcmalloc()
    if lib is None:
        pytest.skip('no tcmalloc on this machine')
    monkeypatch.setenv(ALLOCATOR_ENV, allocator)
    monkeypatch.delenv('LD_PRELOAD', raising=False)
    runs = plan_study([ConfigSpec('mobilenetv2', BASE), ConfigSpec('mobilenext', NEXT)], [0],
                      str(tmp_path), cfg_options=['train_cfg.max_epochs=1'])
    execute_local(runs, FAKE, log=lambda m: None)
    for run in runs:
        with open(osp.join(run.work_dir, 'ld_preload.txt')) as f:
            assert f.read() == (lib if allocator == 'auto' else '')


def test_study_killed_mid_run_finishes_only_the_missing_runs(tmp_path):
    pytest.importorskip('mmdet')
    specs = [ConfigSpec('mobilenetv2', BASE), ConfigSpec('mobilenext', NEXT)]
    runs = plan_study(specs, [0, 1], str(tmp_path), cfg_options=['train_cfg.max_epochs=3'])
    script = (f'import sys; sys.path.insert(0, {ROOT!r}); '
              'from mnext_det.study import ConfigSpec, StudyScripts, execute_local, plan_study; '
              f'specs = [ConfigSpec("mobilenetv2", {BASE!r}), ConfigSpec("mobilenext", {NEXT!r})]; '
              f'runs = plan_study(specs, [0, 1], {str(tmp_path)!r}, '
              'cfg_options=["train_cfg.max_epochs=3"]); '
              f'execute_local(runs, StudyScripts(train={FAKE.train!r}, test="unused"))')
    env = dict(os.environ, FAKE_EPOCH_SECONDS='0.4')
    study = subprocess.Popen([sys.executable, '-c', script], env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not osp.exists(osp.join(runs[0].work_dir, 'result.json')):
        assert time.time() < deadline and study.poll() is None, 'first run never finished'
        time.sleep(0.05)
    os.killpg(study.pid, signal.SIGKILL)  # the study and its trainers, mid-run
    study.wait()
    finished = [r for r in runs if osp.exists(osp.join(r.work_dir, 'result.json'))]
    assert 1 <= len(finished) < len(runs)
    before = {r.index: _invocations(r) for r in runs if osp.exists(
        osp.join(r.work_dir, 'invocations.txt'))}
    resume_at = {}
    for run in runs:
        last = osp.join(run.work_dir, 'last_checkpoint')
        resume_at[run.index] = int(open(last).read().strip()[-len('N.pth'):-len('.pth')]) \
            if osp.exists(last) else 0
    results = execute_local(runs, FAKE, parallel=1, log=lambda m: None)
    assert len(results) == 4
    for run in runs:
        calls = _invocations(run)
        if run in finished:
            assert calls == before[run.index]  # not trained again
        elif resume_at[run.index] == run.max_epochs:  # killed between training and result
            assert calls == before[run.index]
        else:
            # one more call, resuming from the checkpoint the kill left
            assert len(calls) == len(before.get(run.index, [])) + 1
            assert calls[-1] == f'start_epoch={resume_at[run.index]}'
            assert results[run.index]['metrics']['val']['coco/bbox_mAP'] > 0


def test_a_training_a_killed_study_left_is_counted_to_its_last_output(tmp_path):
    """study.json gave wall_s 0.0 to runs whose study was killed before they
    recorded their time (the time went into the file only when train.py returned)."""
    from types import SimpleNamespace

    from mnext_det.study.execute import WALL_FILE, _close_start, _wall
    run = SimpleNamespace(work_dir=str(tmp_path))
    (tmp_path / WALL_FILE).write_text('12.0\nstart@1000.0\n')
    log = tmp_path / 'study_stdout.log'
    log.write_text('Epoch(train) ...\n')
    os.utime(log, (1030.0, 1030.0))  # its last output
    assert _wall(run) == 12.0  # an open start counts nothing yet
    _close_start(run, str(log))
    assert (tmp_path / WALL_FILE).read_text().split() == ['12.0', '30.0']
    assert _wall(run) == 42.0
    (tmp_path / WALL_FILE).write_text('start@1000.0\n')
    _close_start(run, str(log), 1100.0)  # a training that returned
    assert _wall(run) == 100.0

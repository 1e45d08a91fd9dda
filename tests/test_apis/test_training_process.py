"""run_training / run_trainings on a stand-in ``tools/train.py``: what is
echoed, what the log keeps, how failures and Ctrl-C are reported."""
import os.path as osp
import signal
import textwrap

import pytest

from mnext_det.apis.output_log import TAIL_LINES
from mnext_det.apis.training_process import TrainingFailed, run_training, run_trainings

# A train.py that prints numbered lines, a progress line, then exits with the
# status given by the config's file name (``exit_<N>.py``).
_TRAIN_PY = textwrap.dedent('''
    import os, sys
    status = int(os.path.basename(sys.argv[1])[len('exit_'):-len('.py')])
    for i in range(60):
        print(f'line {i}')
    print('2026/12/04 01:00:00 - mmengine - INFO - Epoch(train) [1][1/1] loss: 1.0')
    print('threads', os.environ['OMP_NUM_THREADS'], 'resume' if '--resume' in sys.argv else '')
    sys.exit(status)
''')


@pytest.fixture
def repo(tmp_path):
    (tmp_path / 'tools').mkdir()
    (tmp_path / 'tools' / 'train.py').write_text(_TRAIN_PY)
    return str(tmp_path)


def _config(tmp_path, status: int, max_epochs: int = 2) -> str:
    path = tmp_path / f'exit_{status}.py'
    path.write_text(f'train_cfg = dict(max_epochs={max_epochs})\n')
    return str(path)


def test_success_echoes_progress_with_tag_and_keeps_full_log(repo, tmp_path):
    echoed = []
    work_dir = str(tmp_path / 'wd')
    secs = run_training(repo, _config(tmp_path, 0), work_dir, 'next', 3, echoed.append)
    assert secs > 0
    assert echoed == ['  [next] Epoch(train) [1][1/1] loss: 1.0']
    log = open(osp.join(work_dir, 'train_stdout.log')).read().splitlines()
    assert log[0].startswith('$ ') and log[0].endswith(f'--work-dir {work_dir}')
    assert log[1:61] == [f'line {i}' for i in range(60)]
    assert log[-1].strip() == 'threads 3'


def test_failure_echoes_the_tail_and_names_the_log(repo, tmp_path):
    echoed = []
    work_dir = str(tmp_path / 'wd')
    with pytest.raises(TrainingFailed, match=r'v2: training failed \(exit 3\); log: .*'
                                             r'train_stdout\.log'):
        run_training(repo, _config(tmp_path, 3), work_dir, 'v2', 1, echoed.append)
    tail = echoed[-1].splitlines()
    assert len(tail) == TAIL_LINES
    assert tail[0] == f'line {62 - TAIL_LINES}' and tail[-1].strip() == 'threads 1'


def test_ctrl_c_exit_raises_without_the_tail(repo, tmp_path):
    echoed = []
    status = 128 + signal.SIGINT
    with pytest.raises(TrainingFailed, match=f'exit {status}'):
        run_training(repo, _config(tmp_path, status), str(tmp_path / 'wd'), 'v2', 1,
                     echoed.append)
    assert echoed == ['  [v2] Epoch(train) [1][1/1] loss: 1.0']


def test_resume_keeps_a_finished_training_and_appends_to_an_unfinished_one(repo, tmp_path):
    config = _config(tmp_path, 0, max_epochs=2)
    finished, unfinished = tmp_path / 'finished', tmp_path / 'unfinished'
    for work_dir, epoch in ((finished, 2), (unfinished, 1)):
        work_dir.mkdir()
        (work_dir / f'epoch_{epoch}.pth').write_bytes(b'')
        (work_dir / 'last_checkpoint').write_text(str(work_dir / f'epoch_{epoch}.pth'))
        (work_dir / 'train_stdout.log').write_text('earlier run\n')
    echoed = []
    assert run_training(repo, config, str(finished), 'a', 1, echoed.append, resume=True) == 0.
    assert echoed == [f'  [a] finished in {finished}, kept']
    assert (finished / 'train_stdout.log').read_text() == 'earlier run\n'
    run_training(repo, config, str(unfinished), 'b', 1, echoed.append, resume=True)
    log = (unfinished / 'train_stdout.log').read_text().splitlines()
    assert log[0] == 'earlier run' and log[1].endswith('--resume')
    assert log[-1].strip() == 'threads 1 resume'


def test_run_trainings_returns_times_in_job_order_and_raises_a_failure(repo, tmp_path):
    ok = _config(tmp_path, 0)
    jobs = [(ok, str(tmp_path / 'a'), 'a'), (ok, str(tmp_path / 'b'), 'b')]
    times = run_trainings(repo, jobs, 2, 1, echo=lambda line: None)
    assert len(times) == 2 and all(t > 0 for t in times)
    jobs.append((_config(tmp_path, 5), str(tmp_path / 'c'), 'c'))
    with pytest.raises(TrainingFailed, match='c: training failed'):
        run_trainings(repo, jobs, 2, 1, echo=lambda line: None)

"""Trainings in child processes: ``tools/train.py`` with a fixed number of
torch threads, progress lines echoed, the whole output kept in a log."""
import os
import os.path as osp
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Sequence, Tuple

from ..engine.allocator import tcmalloc_env

__all__ = ['TrainingFailed', 'run_training', 'run_trainings']

_PROGRESS = re.compile(r'Epoch\(|Error|error:|Traceback|load backbone|missing keys')
_TAIL_LINES = 40


class TrainingFailed(RuntimeError):
    """A training process exited non-zero; the message names its log."""


def run_training(repo: str, config: str, work_dir: str, tag: str, threads: int,
                 echo: Callable[[str], None] = print) -> float:
    """Run ``repo/tools/train.py config --work-dir work_dir`` with ``threads``
    torch threads (under tcmalloc when found, ``engine.allocator``) and return
    its wall time in seconds.

    Epoch and error lines are echoed with ``tag``; the full output goes to
    ``work_dir/train_stdout.log``, whose tail is echoed on failure."""
    os.makedirs(work_dir, exist_ok=True)
    log_path = osp.join(work_dir, 'train_stdout.log')
    cmd = [sys.executable, osp.join(repo, 'tools', 'train.py'), config, '--work-dir', work_dir]
    env = dict(tcmalloc_env(), OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    start = time.time()
    tail: List[str] = []
    with open(log_path, 'w') as logf:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, cwd=repo, env=env)
        for line in proc.stdout:
            logf.write(line)
            logf.flush()
            tail = (tail + [line])[-_TAIL_LINES:]
            if _PROGRESS.search(line):
                echo(f'  [{tag}] {line.rstrip().split(" - INFO - ")[-1][:220]}')
        proc.wait()
    if proc.returncode != 0:
        echo(''.join(tail).rstrip())
        raise TrainingFailed(f'{tag}: training failed (exit {proc.returncode}); log: {log_path}')
    return time.time() - start


def run_trainings(repo: str, jobs: Sequence[Tuple[str, str, str]], parallel: int, threads: int,
                  echo: Callable[[str], None] = print) -> List[float]:
    """Run ``(config, work_dir, tag)`` trainings, ``parallel`` at a time;
    return their wall times in job order."""
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        futures = [pool.submit(run_training, repo, cfg, wd, tag, threads, echo)
                   for cfg, wd, tag in jobs]
        return [f.result() for f in futures]

"""Trainings in child processes: ``tools/train.py`` with a fixed number of
torch threads, progress lines echoed, the whole output kept in a log;
optionally resumed from each work dir's last checkpoint."""
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Sequence, Tuple

from mmengine.config import Config

from ..engine.checkpoint_hook import finished_training
from ..engine.parent_death import training_env
from .output_log import TAIL_LINES

__all__ = ['TrainingFailed', 'run_training', 'run_trainings']

_PROGRESS = re.compile(r'Epoch\(|Error|error:|Traceback|load backbone|missing keys|'
                       r'resumed epoch|^resume: ')
_INTERRUPTED = (-signal.SIGINT, 128 + signal.SIGINT)  # exit statuses of a Ctrl-C


class TrainingFailed(RuntimeError):
    """A training process exited non-zero; the message names its log."""


def run_training(repo: str, config: str, work_dir: str, tag: str, threads: int,
                 echo: Callable[[str], None] = print, resume: bool = False) -> float:
    """Run ``repo/tools/train.py config --work-dir work_dir`` with ``threads``
    torch threads (under tcmalloc when found, ``engine.allocator``) and return
    its wall time in seconds. With ``resume``, ``--resume``: from the work
    dir's last checkpoint, afresh where there is none; a training whose last
    checkpoint is its final epoch's is kept as it is (0 s, no process).

    Epoch and error lines are echoed with ``tag``; the full output goes to
    ``work_dir/train_stdout.log`` (appended to when resuming), whose tail is
    echoed on failure (not on Ctrl-C)."""
    if resume and finished_training(work_dir, Config.fromfile(config).train_cfg.max_epochs):
        echo(f'  [{tag}] finished in {work_dir}, kept')
        return 0.
    os.makedirs(work_dir, exist_ok=True)
    log_path = osp.join(work_dir, 'train_stdout.log')
    cmd = [sys.executable, osp.join(repo, 'tools', 'train.py'), config, '--work-dir', work_dir]
    if resume:
        cmd.append('--resume')
    env = training_env(threads)
    start = time.time()
    tail: List[str] = []
    with open(log_path, 'a' if resume else 'w') as logf:
        logf.write(f'$ {" ".join(cmd)}\n')
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, cwd=repo, env=env)
        for line in proc.stdout:
            logf.write(line)
            logf.flush()
            tail = (tail + [line])[-TAIL_LINES:]
            if _PROGRESS.search(line):
                echo(f'  [{tag}] {line.rstrip().split(" - INFO - ")[-1][:220]}')
        proc.wait()
    if proc.returncode != 0:
        if proc.returncode not in _INTERRUPTED:  # Ctrl-C: the caller says how to resume
            echo(''.join(tail).rstrip())
        raise TrainingFailed(f'{tag}: training failed (exit {proc.returncode}); log: {log_path}')
    return time.time() - start


def run_trainings(repo: str, jobs: Sequence[Tuple[str, str, str]], parallel: int, threads: int,
                  echo: Callable[[str], None] = print, resume: bool = False) -> List[float]:
    """Run ``(config, work_dir, tag)`` trainings, ``parallel`` at a time
    (``resume``: as :func:`run_training`); return their wall times in job order."""
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        futures = [pool.submit(run_training, repo, cfg, wd, tag, threads, echo, resume)
                   for cfg, wd, tag in jobs]
        return [f.result() for f in futures]

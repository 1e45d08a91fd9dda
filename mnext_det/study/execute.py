"""Run a study's trainings locally, resumably: finished runs are skipped,
unfinished ones resume from their last checkpoint (``tools/train.py --resume``).

A run is finished when its ``result.json`` exists. It is written only after the
training reached its last epoch and the run's metrics were read: the final
validation from mmengine's ``scalars.json`` and, when the study has a test
split, ``tools/test.py`` on the final checkpoint.
"""
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ..engine.atomic_io import atomic_write_text
from ..engine.checkpoint_hook import finished_training
from ..engine.parent_death import training_env
from .plan import Run

__all__ = ['StudyScripts', 'train_command', 'test_command', 'run_result', 'val_records',
           'training_finished', 'execute_local', 'StudyFailed']

RESULT_FILE = 'result.json'
WALL_FILE = 'study_wall_s.txt'  # a duration per training start, start@T while it runs
# the config hash of the run that trains in a work dir, written when it starts
HASH_FILE = 'study_config_hash.txt'


class StudyFailed(RuntimeError):
    """Some runs failed; the others are finished and a rerun retries these."""


@dataclass(frozen=True)
class StudyScripts:
    """Where the trainer and tester live (``tools/train.py``, ``tools/test.py``)
    and the interpreter that runs them."""
    train: str
    test: str
    python: str = sys.executable


def train_command(run: Run, scripts: StudyScripts) -> List[str]:
    """``tools/train.py CONFIG --work-dir DIR --resume --cfg-options ...``:
    ``--resume`` without a path resumes from the work dir's last checkpoint
    and starts afresh when there is none."""
    return [scripts.python, scripts.train, run.config, '--work-dir', run.work_dir, '--resume',
            '--cfg-options', *run.options]


def training_finished(run: Run) -> bool:
    """Whether the run's last checkpoint exists and is its final epoch's."""
    return finished_training(run.work_dir, run.max_epochs)


def test_command(run: Run, scripts: StudyScripts, test_options: Sequence[str]) -> List[str]:
    """``tools/test.py`` on the run's final checkpoint with the test split."""
    return [scripts.python, scripts.test, run.config,
            osp.join(run.work_dir, f'epoch_{run.max_epochs}.pth'),
            '--work-dir', osp.join(run.work_dir, 'test_split'),
            '--cfg-options', *run.options, *test_options]


def val_records(work_dir: str) -> List[Dict]:
    """Validation records (``step`` = epoch) from every ``scalars.json`` in
    the work dir, one per epoch (a resumed run's later log wins)."""
    by_step: Dict[int, Dict] = {}
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                if 'loss' not in rec and any('/' in k for k in rec):
                    by_step[int(rec['step'])] = rec
    return [by_step[s] for s in sorted(by_step)]


def _metrics(rec: Dict) -> Dict[str, float]:
    return {k: float(v) for k, v in rec.items()
            if '/' in k and isinstance(v, (int, float))}


def _test_metrics(run: Run) -> Dict[str, float]:
    logs = sorted(glob.glob(osp.join(run.work_dir, 'test_split', '*', '*.json')))
    if not logs:
        raise RuntimeError(f'{run.name}: tools/test.py wrote no metrics under '
                           f'{osp.join(run.work_dir, "test_split")}')
    with open(logs[-1]) as f:
        return _metrics(json.load(f))


def _call(cmd: List[str], log_path: str, threads: int) -> int:
    # started under tcmalloc, as tools/train.py and tools/test.py would
    # re-execute themselves into it, importing torch, mmengine and mmdet twice
    env = training_env(threads)
    with open(log_path, 'a') as log:
        log.write(f'$ {" ".join(cmd)}\n')
        log.flush()
        return subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)


def _wall(run: Run) -> float:
    """Seconds the run's trainings took, over every start (:data:`WALL_FILE`)."""
    path = osp.join(run.work_dir, WALL_FILE)
    if not osp.isfile(path):
        return 0.
    with open(path) as f:
        return sum(float(x) for x in f.read().split() if not x.startswith('start@'))


def _close_start(run: Run, out: str, end: Optional[float] = None) -> None:
    """The last ``start@T`` line of :data:`WALL_FILE` becomes the time from
    ``T`` to ``end``; without ``end`` (the study was killed while that
    training ran, or before it recorded its time) to the training's last
    output, its log's modification time, read before a new start writes it."""
    path = osp.join(run.work_dir, WALL_FILE)
    if not osp.isfile(path):
        return
    with open(path) as f:
        entries = f.read().split()
    if entries and entries[-1].startswith('start@'):
        start = float(entries[-1][len('start@'):])
        if end is None:
            end = osp.getmtime(out) if osp.isfile(out) else start
        atomic_write_text(path, '\n'.join(entries[:-1] + [f'{max(end - start, 0.):.1f}']) + '\n')


def _started_hash(run: Run) -> Optional[str]:
    """The config hash of the run that started training in the run's work
    dir (:data:`HASH_FILE`), None where none did."""
    path = osp.join(run.work_dir, HASH_FILE)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return f.read().strip()


def run_result(run: Run) -> Optional[Dict]:
    """The run's ``result.json`` contents, or None while unfinished."""
    path = osp.join(run.work_dir, RESULT_FILE)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def finalize(run: Run, scripts: StudyScripts, test_options: Optional[Sequence[str]],
             threads: int) -> Dict:
    """Read the run's metrics (and evaluate the test split) into ``result.json``."""
    records = val_records(run.work_dir)
    if not records or int(records[-1]['step']) != run.max_epochs:
        raise RuntimeError(f'{run.name}: no validation of epoch {run.max_epochs} in '
                           f'{run.work_dir}/*/vis_data/scalars.json')
    metrics = dict(val=_metrics(records[-1]))
    if test_options is not None:
        log = osp.join(run.work_dir, 'study_stdout.log')
        if _call(test_command(run, scripts, test_options), log, threads) != 0:
            raise RuntimeError(f'{run.name}: test-split evaluation failed; log: {log}')
        metrics['test'] = _test_metrics(run)
    result = dict(config=run.config, label=run.label, seed=run.seed, lr=run.lr,
                  metrics=metrics, wall_s=round(_wall(run), 1), config_hash=run.config_hash,
                  curve=[dict(epoch=int(r['step']), **_metrics(r)) for r in records])
    atomic_write_text(osp.join(run.work_dir, RESULT_FILE), json.dumps(result, indent=1))
    return result


def execute_local(runs: Sequence[Run], scripts: StudyScripts,
                  test_options: Optional[Sequence[str]] = None, parallel: int = 1,
                  threads: int = 1, metric: str = 'coco/bbox_mAP',
                  log: Callable[[str], None] = print) -> List[Dict]:
    """Train every unfinished run, ``parallel`` at a time with ``threads``
    torch threads each, and return all results in run order.

    Raises :class:`StudyFailed` naming the failed runs and their logs once
    all others are done; a rerun retries only those."""
    previous = [run_result(r) for r in runs]
    for run, done_before in zip(runs, previous):
        started = (done_before or {}).get('config_hash') or _started_hash(run)
        if started is not None and started != run.config_hash:
            state = 'a finished' if done_before is not None else 'an unfinished'
            raise StudyFailed(
                f'{run.name}: {run.work_dir} holds {state} run of another config (hash '
                f'{started}, planned {run.config_hash}): the config or --cfg-options changed '
                'since; use a new --work-dir')
    todo = [r for r, done_before in zip(runs, previous) if done_before is None]
    log(f'{len(runs)} runs, {len(runs) - len(todo)} already finished, {len(todo)} to run, '
        f'{parallel} at a time with {threads} thread(s) each')
    lock = threading.Lock()
    done: List[Tuple[Run, float]] = []
    failures: List[str] = []

    def one(run: Run) -> None:
        os.makedirs(run.work_dir, exist_ok=True)
        atomic_write_text(osp.join(run.work_dir, HASH_FILE), run.config_hash)
        out = osp.join(run.work_dir, 'study_stdout.log')
        _close_start(run, out)  # one a killed study left open
        t0 = time.time()
        if not training_finished(run):
            with open(osp.join(run.work_dir, WALL_FILE), 'a') as f:
                f.write(f'start@{t0:.1f}\n')
            code = _call(train_command(run, scripts), out, threads)
            _close_start(run, out, time.time())
            if code != 0:
                with lock:
                    failures.append(f'{run.name}: tools/train.py exited {code}; log: {out}')
                    log(f'FAILED {run.name} (exit {code}); log: {out}')
                return
        try:
            result = finalize(run, scripts, test_options, threads)
        except RuntimeError as e:
            with lock:
                failures.append(str(e))
                log(f'FAILED {e}')
            return
        with lock:
            done.append((run, time.time() - t0))
            left = len(todo) - len(done) - len(failures)
            mean_s = sum(s for _, s in done) / len(done)
            eta = mean_s * left / max(1, parallel)
            value = result['metrics']['val'].get(metric, float('nan'))
            log(f'{len(runs) - left - len(failures)}/{len(runs)} runs done: {run.name} '
                f'val {metric}={value:.3f} in {done[-1][1]:.0f} s; ETA {eta / 60:.1f} min')

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        list(pool.map(one, todo))
    if failures:
        raise StudyFailed(f'{len(failures)} of {len(runs)} runs failed (rerun the same command '
                          'to retry them; finished runs are kept):\n  ' + '\n  '.join(failures))
    # a run is identified by its config hash, seed and lr; label and path are this plan's
    return [dict(run_result(r), label=r.label, config=r.config) for r in runs]

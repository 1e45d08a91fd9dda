"""The config and checkpoint of a finished mmengine training work dir.

mmengine 0.10 writes, per run, ``work_dir/<config name>.py`` (the dumped
config; ``<timestamp>.py`` for a config without a file name) and
``work_dir/<timestamp>/vis_data/config.py`` (the same text, by the
visualizer's LocalVisBackend), and saves into every checkpoint's ``meta`` the
config text (``cfg``) and ``experiment_name`` (``<name>_<timestamp>``). A work
dir reused by several runs keeps the configs of all of them; the checkpoint's
own ``meta`` says which one is its run's.
"""
import glob
import os.path as osp
import re
from typing import List, Optional, Sequence, Tuple

from mmengine.config import Config

from ..checkpoint import latest_checkpoint, load_checkpoint_file, training_progress

__all__ = ['resolve_work_dir', 'run_config', 'resolve_detectors']

_TIMESTAMP = re.compile(r'(?:^|_)(\d{8}_\d{6})$')


def resolve_work_dir(work_dir: str) -> Tuple[str, str]:
    """``(config, checkpoint)`` of a finished work dir: the checkpoint
    ``last_checkpoint`` names (or the newest ``*.pth``) and the config of the
    run that saved it (:func:`run_config`).

    Raises:
        FileNotFoundError: no work dir, checkpoint or config.
        ValueError: the checkpoint is not its run's last epoch or iteration
            (the run did not finish); give ``CONFIG CHECKPOINT`` to compare
            it anyway.
    """
    if not osp.isdir(work_dir):
        raise FileNotFoundError(f'work dir not found: {work_dir}')
    ckpt = latest_checkpoint(work_dir)
    if ckpt is None:
        raise FileNotFoundError(f'{work_dir}: no last_checkpoint and no *.pth')
    if not osp.isfile(ckpt):
        raise FileNotFoundError(f'{work_dir}: checkpoint {ckpt} does not exist')
    config = run_config(work_dir, ckpt)
    _require_finished(work_dir, config, ckpt)
    return config, ckpt


def _require_finished(work_dir: str, config: str, checkpoint: str) -> None:
    progress = training_progress(load_checkpoint_file(checkpoint).get('meta') or {},
                                 Config.fromfile(config).get('train_cfg') or {})
    if progress is not None and progress[1] < progress[2]:
        unit, done, total = progress
        raise ValueError(f'{work_dir}: its last checkpoint {checkpoint} is at {unit} {done} '
                         f'of {total}: the run did not finish (--resume it); to compare it as '
                         'it is, give CONFIG CHECKPOINT instead')


def _text(path: str) -> str:
    with open(path, encoding='utf-8') as f:
        return f.read().strip()


def run_config(work_dir: str, checkpoint: str) -> str:
    """The config file in ``work_dir`` of the run that saved ``checkpoint``.

    The one whose text is the config saved in the checkpoint's ``meta``; for
    a checkpoint without it, the one its ``experiment_name`` names (dumped or
    in that run's ``vis_data``); for a checkpoint without either, the only
    dumped config. A dumped ``<config name>.py`` is preferred to the
    ``vis_data/config.py`` of the same text.

    Raises:
        FileNotFoundError: ``work_dir`` has no config.
        ValueError: none of its configs is the checkpoint's run's.
    """
    dumped = sorted(glob.glob(osp.join(work_dir, '*.py')))
    logged = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'config.py')))
    if not dumped + logged:
        raise FileNotFoundError(f'{work_dir}: no dumped config (*.py or '
                                '<timestamp>/vis_data/config.py)')
    meta = load_checkpoint_file(checkpoint).get('meta', {})
    experiment = str(meta.get('experiment_name', ''))
    stamp = _TIMESTAMP.search(experiment)
    stem = experiment[:stamp.start()] if stamp else experiment
    run_dir = osp.join(work_dir, stamp.group(1)) if stamp else None
    run_logged = [c for c in logged if osp.dirname(osp.dirname(c)) == run_dir]
    saved = meta.get('cfg')
    if saved:
        fits = [c for c in dumped + run_logged + logged if _text(c) == saved.strip()]
    elif experiment:
        fits = [c for c in dumped if osp.basename(c) == f'{stem}.py'] + run_logged
    else:
        fits = dumped if len(dumped) == 1 else []
    if fits:
        return sorted(fits, key=lambda c: osp.basename(c) != f'{stem}.py')[0]
    configs = dumped + logged
    why = '; the config saved in it matches none' if saved else ''
    raise ValueError(f'{work_dir}: {len(configs)} dumped configs ({", ".join(configs)}) and '
                     f'{checkpoint} names none of them (experiment {stem!r}{why}); give '
                     'CONFIG CHECKPOINT instead')


def resolve_detectors(pairs: Sequence[str], work_dirs: Sequence[str] = (),
                      names: Optional[Sequence[str]] = None,
                      minimum: int = 1) -> Tuple[List[Tuple[str, str]], List[str]]:
    """``[(config, checkpoint), ...]`` of the ``CONFIG CHECKPOINT`` ``pairs``
    and then of the ``work_dirs``, with their labels (``names``, default the
    config file names); at least ``minimum`` of them, every file checked."""
    if len(pairs) % 2:
        raise ValueError(f'positional arguments must be CONFIG CHECKPOINT pairs, got {list(pairs)}')
    models = list(zip(pairs[::2], pairs[1::2])) + [resolve_work_dir(d) for d in work_dirs]
    if len(models) < minimum:
        raise ValueError(f'at least {minimum} detector(s) needed (CONFIG CHECKPOINT pairs'
                         f'{" and/or --work-dirs" if minimum > 1 else ""}), got {len(models)}')
    given = bool(names)
    names = list(names) if names else [osp.splitext(osp.basename(c))[0] for c, _ in models]
    if len(names) != len(models):
        raise ValueError(f'--names has {len(names)} labels for {len(models)} detectors')
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f'{"--names repeats" if given else "the config names repeat"} '
                         f'{", ".join(repeated)}: the rows could not be told apart; give one '
                         f'label per detector with --names')
    for config, ckpt in models:
        for path, what in ((config, 'config'), (ckpt, 'checkpoint')):
            if not osp.isfile(path):
                raise FileNotFoundError(f'{what} file not found: {path}')
    return models, names

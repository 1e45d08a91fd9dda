"""Command-line plumbing shared by ``tools/train.py`` and ``tools/test.py``."""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Union

from mmengine.config import Config, DictAction

from ..config_file import merge_options, read_config
from ..config_types import type_name


def add_launch_args(parser: argparse.ArgumentParser) -> None:
    """Add mmdet's ``--work-dir``, ``--cfg-options``, ``--launcher`` and
    ``--local_rank`` arguments."""
    parser.add_argument('--work-dir', help='the dir to save logs, metrics and models')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. train_dataloader.batch_size=8')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def with_amp(optim_wrapper: Dict) -> Dict:
    """``optim_wrapper`` in mixed precision as ``tools/train.py --amp`` (mmdet's
    flag) sets it: mmengine's ``AmpOptimWrapper`` with a dynamic loss scale."""
    return dict(optim_wrapper, type='AmpOptimWrapper', loss_scale='dynamic')


def compile_options() -> Dict:
    """``torch.compile`` keyword arguments of ``tools/train.py --compile``
    (mmengine's ``cfg.compile``): inductor with channels-last layouts forced
    in every graph. Its own heuristic counts only forward convolutions, so the
    backward graph, which holds only ``convolution_backward``, keeps NCHW
    buffers between channels-last convs and pays a copy per conv
    (pytorch/pytorch#189239, torch 2.14): without this, compiling made the
    demo detectors' CPU steps 1.04-1.09x slower; with it 1.09-1.11x faster
    (docs/deploy.md, "Training")."""
    return dict(options=dict(force_layout_optimization=True))


def with_compile_options(compile_cfg: Union[bool, Dict, None]) -> Union[bool, Dict, None]:
    """A config's own ``compile`` (mmengine: ``True`` or ``torch.compile``
    keyword arguments) with :func:`compile_options`' inductor options added
    where it leaves them unset, so ``compile=True`` in a config compiles as
    ``--compile`` does. Left as given: a false value, a ``mode`` (torch takes
    a mode or options, not both) and a backend other than inductor."""
    if not compile_cfg:
        return compile_cfg
    kwargs = {} if compile_cfg is True else dict(compile_cfg)
    if 'mode' in kwargs or kwargs.get('backend', 'inductor') != 'inductor':
        return compile_cfg
    kwargs['options'] = {**compile_options()['options'], **(kwargs.get('options') or {})}
    return kwargs


_WORLD_SIZE_ENV = {'pytorch': 'WORLD_SIZE', 'slurm': 'SLURM_NTASKS', 'mpi': 'OMPI_COMM_WORLD_SIZE'}


def with_visualization(cfg: Config, show_dir: Optional[str] = None, show: bool = False,
                       wait_time: float = 2.) -> None:
    """mmdet's ``tools/test.py --show-dir`` / ``--show`` / ``--wait-time``: the
    config's visualization hook draws each test image with its predictions
    and ground truth into ``show_dir``, a folder of the run's log dir
    (``WORK_DIR/<timestamp>/``), and with ``show`` in a window for
    ``wait_time`` seconds each.

    Raises:
        ValueError: the config has no ``default_hooks.visualization``;
            ``show`` on a Linux machine without a display; a negative
            ``wait_time``.
    """
    flag = '--show-dir' if show_dir is not None else '--show'
    hook = (cfg.get('default_hooks') or {}).get('visualization')
    if hook is None:
        raise ValueError(f"{flag} needs default_hooks.visualization in the config (mmdet's "
                         "DetVisualizationHook, which the detection configs' runtime holds)")
    if wait_time < 0:
        raise ValueError(f'--wait-time must be >= 0 seconds, got {wait_time:g}')
    if show and sys.platform.startswith('linux') and not (
            os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY')):
        raise ValueError('--show opens a window and this machine has no display (neither DISPLAY '
                         'nor WAYLAND_DISPLAY is set); draw into files with --show-dir DIR')
    hook['draw'] = True
    if show:
        hook.update(show=True, wait_time=wait_time)
    if show_dir is not None:
        hook['test_out_dir'] = show_dir


def with_tta(cfg: Config) -> None:
    """mmdet's ``tools/test.py --tta``: the detector wrapped in the config's
    ``tta_model`` and the test split read through its ``tta_pipeline``. A
    config without them (ours, as mmdet's SSD configs) gets mmdet's default,
    horizontal flip: ``DetTTAModel`` merging both views with the detector's
    own NMS settings, and the test pipeline with its ``PackDetInputs``
    packing each flip (``flip`` and ``flip_direction`` added to its keys).

    Raises:
        ValueError: not a detector config, or a test pipeline that does not
            end in ``PackDetInputs``.
    """
    if 'bbox_head' not in cfg.get('model', {}):
        raise ValueError('--tta runs detector configs (test-time augmentation of boxes)')
    if 'tta_model' not in cfg:
        test_cfg = cfg.model.get('test_cfg') or {}
        cfg.tta_model = dict(type='DetTTAModel', tta_cfg=dict(
            nms=test_cfg.get('nms', dict(type='nms', iou_threshold=0.5)),
            max_per_img=test_cfg.get('max_per_img', 100)))
    if 'tta_pipeline' not in cfg:
        pipeline = [dict(t) for t in cfg.test_dataloader.dataset.pipeline]
        pack = pipeline[-1]
        if type_name(pack.get('type')) != 'PackDetInputs':
            raise ValueError('--tta: the test pipeline ends in '
                             f'{type_name(pack.get("type"))!r}, not PackDetInputs; set '
                             'tta_pipeline in the config')
        keys = tuple(pack.get('meta_keys', ())) + ('flip', 'flip_direction')
        pipeline[-1] = dict(type='TestTimeAug', transforms=[
            [dict(type='RandomFlip', prob=1.), dict(type='RandomFlip', prob=0.)],
            [dict(pack, meta_keys=tuple(dict.fromkeys(keys)))]])
        cfg.tta_pipeline = pipeline
    cfg.model = dict(cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


def launch_world_size(cfg: Config) -> int:
    """The number of training processes ``cfg.launcher`` starts, read from
    the launcher's environment before any process group exists (1 without one)."""
    return int(os.environ.get(_WORLD_SIZE_ENV.get(cfg.get('launcher', 'none'), ''), 1))


def batch_and_lr(cfg: Config) -> str:
    """The total training batch and the lr a run starts with, for its log:
    the loader's batch x processes (the launcher's world size) x gradient
    accumulation, the optimizer's lr, and what ``auto_scale_lr`` makes of it
    (mmengine scales only when it is enabled, e.g. by ``--auto-scale-lr``, and
    by the batch of one step, without the accumulation)."""
    per = cfg.train_dataloader.batch_size
    world = launch_world_size(cfg)
    accumulate = cfg.optim_wrapper.get('accumulative_counts', 1)
    total = per * world * accumulate
    text = (f'{per} per process x {world} process(es)'
            + (f' x {accumulate} accumulated' if accumulate != 1 else '') + f' = {total}')
    lr = (cfg.optim_wrapper.get('optimizer') or {}).get('lr')
    if lr is None:
        return text
    text += f'; lr {lr:g}'
    base = (cfg.get('auto_scale_lr') or {}).get('base_batch_size')
    if not base:
        return text + ' (no auto_scale_lr.base_batch_size: the lr is used as set)'
    step = per * world
    if cfg.auto_scale_lr.get('enable', False):
        return text + f' x {step}/{base} = {lr * step / base:g} (auto_scale_lr on)'
    if step == base:
        return text + f' (set for this batch, auto_scale_lr.base_batch_size {base})'
    return text + (f' (set for a batch of {base}, used as set: --auto-scale-lr scales it '
                   f'to {lr * step / base:g})')


def schedulers_past_training(cfg: Config) -> List[str]:
    """A line per epoch-based param scheduler that ends after the epoch-based
    training does (``--cfg-options train_cfg.max_epochs=4`` on a config whose
    cosine runs to epoch 10: the lr never anneals, without a word)."""
    train = cfg.get('train_cfg') or {}
    epochs = train.get('max_epochs')
    if not isinstance(epochs, int) or train.get('by_epoch') is False:
        return []
    schedulers = cfg.get('param_scheduler') or []
    lines = []
    for i, sched in enumerate(schedulers if isinstance(schedulers, (list, tuple))
                              else [schedulers]):
        if not isinstance(sched, dict) or not sched.get('by_epoch', True):
            continue
        end = sched.get('end')
        if isinstance(end, int) and end > epochs:
            t_max = ' and T_max' if 'T_max' in sched else ''
            lines.append(f'param_scheduler.{i} ({sched.get("type")}) ends at epoch {end}, '
                         f'after train_cfg.max_epochs={epochs}: training stops {epochs}/{end} '
                         f'of the way through it; set its end{t_max} to {epochs} to run it '
                         'whole')
    return lines


def load_config(config: str, work_dir: Optional[str], cfg_options: Optional[Dict],
                launcher: str, local_rank: int = 0) -> Config:
    """Load ``config`` and apply the launch arguments; the work dir defaults
    to ``work_dirs/<config name>``. Raises ``NotADirectoryError`` for a work
    dir that exists as a file."""
    os.environ.setdefault('LOCAL_RANK', str(local_rank))
    cfg = read_config(config)
    cfg.launcher = launcher
    merge_options(cfg, cfg_options, config)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])
    if osp.exists(cfg.work_dir) and not osp.isdir(cfg.work_dir):
        raise NotADirectoryError(f'work dir {cfg.work_dir} is a file, not a folder (--work-dir)')
    return cfg

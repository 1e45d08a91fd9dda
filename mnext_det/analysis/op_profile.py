"""Where a detector's CPU time goes, by kind of op.

:func:`profile_train_steps` cuts training steps into their phases
(``forward`` with the loss, ``backward``, ``optimizer``) with
``torch.profiler.record_function`` and charges every op's self CPU time to its
phase and to a kind: convolutions by their weight's shape (depthwise k x k,
pointwise 1 x 1, dense), batch norm, activations, elementwise, and the rest.
:func:`activation_traffic` counts the activation elements each kind reads and
writes in one forward pass: what memory-bound ops cost on a CPU, which
multiply-adds do not show; :func:`step_traffic` the same for a whole training
step, and :func:`format_memory_speed` sets the two side by side: the GB/s each
kind reaches against an add, a pure memory pass (:func:`add_bandwidth`).
Needs mmdet for the detectors.
"""
from collections import defaultdict
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch.profiler import ProfilerActivity, profile, record_function
from torch.utils._python_dispatch import TorchDispatchMode

from .detector_benchmark import build_detector, synthetic_batch
from .timing import median_time

__all__ = ['PHASES', 'op_kind', 'profile_train_steps', 'activation_traffic', 'detector_traffic',
           'training_traffic', 'step_traffic', 'add_bandwidth', 'format_profiles', 'format_traffic',
           'format_memory_speed', 'format_byte_rate']

PHASES = ('forward', 'backward', 'optimizer')
_CONV_WEIGHT_INDEX = {'aten::convolution': 1, 'aten::convolution_backward': 2}
_KINDS = (('batch_norm', 'batch norm'), ('hardtanh', 'activation'), ('relu', 'activation'),
          ('clamp', 'activation'), ('threshold', 'activation'), ('add', 'elementwise'),
          ('mul', 'elementwise'), ('copy_', 'copy / layout'), ('contiguous', 'copy / layout'),
          ('clone', 'copy / layout'))


def _conv_kind(weight: Sequence[int]) -> str:
    if len(weight) != 4:
        return 'conv (other)'
    if weight[1] == 1 and weight[2] > 1:
        return f'depthwise conv {weight[2]}x{weight[3]}'
    if weight[2] == weight[3] == 1:
        return 'pointwise conv 1x1'
    return f'dense conv {weight[2]}x{weight[3]}'


def op_kind(name: str, conv_weight: Optional[Sequence[int]]) -> str:
    """The kind an op is charged to: ``conv_weight`` is the weight shape of the
    convolution it belongs to (None outside convolutions)."""
    if conv_weight is not None:
        return _conv_kind(conv_weight)
    for key, kind in _KINDS:
        if key in name:
            return kind
    return 'other'


_STEP_LABEL = 'detector step '


def _charge(events) -> Dict[int, Dict[str, Dict[str, float]]]:
    """Self CPU microseconds of the profiled ``events`` by detector (the index
    in their ``_STEP_LABEL`` range), phase and kind."""
    totals: Dict[int, Dict[str, Dict[str, float]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(float)))
    for event in events:
        if event.name in PHASES or event.name.startswith(_STEP_LABEL):
            continue
        phase, conv_weight, parent = None, None, event
        while parent is not None and not parent.name.startswith(_STEP_LABEL):
            if phase is None and parent.name in PHASES:
                phase = parent.name
            if conv_weight is None and parent.name in _CONV_WEIGHT_INDEX:
                shapes = parent.input_shapes or []
                index = _CONV_WEIGHT_INDEX[parent.name]
                conv_weight = shapes[index] if len(shapes) > index else []
            parent = parent.cpu_parent
        if phase is not None and parent is not None:
            detector = int(parent.name[len(_STEP_LABEL):])
            totals[detector][phase][op_kind(event.name, conv_weight)] += event.self_cpu_time_total
    return totals


def _detector_loss(config: str, channels_last: bool,
                   batch_size: int) -> Tuple[Callable[[], torch.Tensor], Any]:
    """``(loss_fn, optim_wrapper)`` of ``config``'s detector in training mode:
    ``loss_fn`` computes its training loss on a synthetic batch of ``batch_size``."""
    model, optim, size = build_detector(config, channels_last)
    data = synthetic_batch(model, size, batch_size)
    model.train()

    def loss_fn() -> torch.Tensor:
        batch = model.data_preprocessor(data, True)
        return model.parse_losses(model._run_forward(batch, mode='loss'))[0]

    return loss_fn, optim


def _train_step(config: str, channels_last: bool, batch_size: int) -> Callable[[], None]:
    loss_fn, optim = _detector_loss(config, channels_last, batch_size)

    def step() -> None:
        with record_function('forward'):
            loss = loss_fn()
        with record_function('backward'):
            loss.backward()
        with record_function('optimizer'):
            optim.step()
            optim.zero_grad()

    return step


def profile_train_steps(configs: Sequence[str], channels_last: bool = False,
                        batch_size: int = 8, iters: int = 3,
                        warmup: int = 2) -> List[Dict[str, Dict[str, float]]]:
    """Milliseconds per training step of each config's detector on a synthetic
    batch, by phase and kind of op (:data:`PHASES`, :func:`op_kind`). The
    detectors take turns step by step under one profiler, so a drift of the
    machine's speed falls on all of them alike."""
    steps = [_train_step(c, channels_last, batch_size) for c in configs]
    for _ in range(warmup):
        for step in steps:
            step()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(iters):
            for i, step in enumerate(steps):
                with record_function(f'{_STEP_LABEL}{i}'):
                    step()
    totals = _charge(prof.events())
    return [{phase: {kind: us / 1000 / iters for kind, us in kinds.items()}
             for phase, kinds in totals[i].items()} for i in range(len(configs))]


class _TrafficMode(TorchDispatchMode):
    """Adds up, per op kind, the elements of the 4-D tensors each aten op reads
    and writes (activations; weights only tell convolutions apart; a conv's
    backward reads the output gradient and the input and writes the input
    gradient). Views move no data and are not counted."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: Dict[str, int] = defaultdict(int)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func.is_view:
            return out
        name = f'aten::{func.__name__.split(".")[0]}'
        index = _CONV_WEIGHT_INDEX.get(name)
        conv_weight = list(args[index].shape) if index is not None else None
        inputs = args[:index] if index is not None else args
        tensors = [t for t in inputs if isinstance(t, torch.Tensor) and t.dim() == 4]
        outs = out if isinstance(out, (tuple, list)) else (out, )
        tensors += [t for t in outs if isinstance(t, torch.Tensor) and t.dim() == 4][:1]
        if tensors:
            self.elements[op_kind(name, conv_weight)] += sum(t.numel() for t in tensors)
        return out


def activation_traffic(module: torch.nn.Module, x: torch.Tensor) -> Dict[str, float]:
    """MB (float32) of activations each kind of op reads and writes in one
    eval forward of ``module`` on ``x``, per image."""
    module.eval()
    mode = _TrafficMode()
    with torch.no_grad(), mode:
        module(x)
    return {kind: n * 4 / 1e6 / x.shape[0] for kind, n in mode.elements.items()}


def detector_traffic(config: str, fold_bn: bool = False) -> Dict[str, float]:
    """:func:`activation_traffic` of ``config``'s detector (raw forward, no
    NMS) on one image of its test input size; ``fold_bn`` folds every BN into
    its conv first, as the exported models are."""
    model, _, (w, h) = build_detector(config)
    if fold_bn:
        from ..deploy.fuse import fuse_conv_bn
        model = fuse_conv_bn(model.eval())
    return activation_traffic(model, torch.zeros(1, 3, h, w))


def training_traffic(loss_fn: Callable[[], torch.Tensor]) -> Dict[str, Dict[str, float]]:
    """MB of activations each kind of op reads and writes while ``loss_fn``
    computes a loss (``forward``) and autograd back-propagates it
    (``backward``): the bytes a training step cannot move less of, whatever
    the kernels."""
    modes = {phase: _TrafficMode() for phase in PHASES[:2]}
    with modes['forward']:
        loss = loss_fn()
    with modes['backward']:
        loss.backward()
    return {phase: {kind: n * 4 / 1e6 for kind, n in mode.elements.items()}
            for phase, mode in modes.items()}


def step_traffic(config: str, batch_size: int = 8) -> Dict[str, Dict[str, float]]:
    """:func:`training_traffic` of one training step of ``config``'s detector
    on :func:`profile_train_steps`'s synthetic batch."""
    return training_traffic(_detector_loss(config, False, batch_size)[0])


def add_bandwidth(numel: int = 8 * 96 * 40 * 40, runs: int = 20) -> float:
    """GB/s of a float32 add ``a + b -> out`` over ``numel`` elements (two
    reads and a write): the speed of one pass over memory on this machine.
    The default is an activation of the demo detectors' step (batch 8, 96
    channels at 40 x 40), which no core's L2 holds."""
    a, b, out = torch.rand(numel), torch.rand(numel), torch.empty(numel)
    seconds = median_time(lambda: torch.add(a, b, out=out), runs, warmup=3)
    return 3 * numel * 4 / seconds / 1e9


def format_memory_speed(names: Sequence[str], profiles: Sequence[Dict[str, Dict[str, float]]],
                        traffic: Sequence[Dict[str, Dict[str, float]]],
                        bandwidth: float) -> str:
    """A Markdown table: per phase and kind of op, the MB a step moves
    (:func:`step_traffic`), its ms (:func:`profile_train_steps`) and the GB/s
    that makes, also as a share of an add's ``bandwidth``: near 100 % a kind
    runs at the speed of memory, and only moving fewer bytes makes it faster."""
    keys = sorted({(p, k) for t in traffic for p, kinds in t.items() for k in kinds},
                  key=lambda pk: (PHASES.index(pk[0]), -traffic[0].get(pk[0], {}).get(pk[1], 0)))
    header = ['phase', 'op kind'] + [f'{n} {col}' for n in names for col in ('MB', 'ms', 'GB/s')]
    lines = [f'Memory speed of the training step: activation MB each kind must read and write, '
             f'its ms, and the GB/s that makes (share of an add\'s {bandwidth:.1f} GB/s)', '',
             '| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]

    def cell(t: Dict[str, Dict[str, float]], prof: Dict[str, Dict[str, float]],
             rows: Sequence) -> List[str]:
        mb = sum(t.get(p, {}).get(k, 0.) for p, k in rows)
        ms = sum(prof.get(p, {}).get(k, 0.) for p, k in rows)
        return [f'{mb:.1f}', f'{ms:.1f}',
                f'{mb / ms:.1f} ({mb / ms / bandwidth:.0%})' if ms > 0 else '-']

    for key in keys + [('all', 'total')]:
        cells = list(key)
        for t, prof in zip(traffic, profiles):
            cells += cell(t, prof, keys if key == ('all', 'total') else [key])
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def format_byte_rate(names: Sequence[str], traffic: Sequence[Dict[str, Dict[str, float]]],
                     wall_ms: Sequence[float]) -> str:
    """A Markdown table: each detector's activation MB per training step
    (:func:`step_traffic`, all kinds), its wall ms per step (e.g. the
    interleaved ``total`` of :func:`~.step_phases.time_step_phases`) and the
    GB/s that makes; each later one's MB and GB/s as ratios to the first's, and
    the speed ratio it would train at moving its bytes at the first's GB/s."""
    mbs = [sum(sum(kinds.values()) for kinds in t.values()) for t in traffic]
    header = ['detector', 'MB per step', 'wall ms per step', 'GB/s',
              f'speed vs {names[0]} at equal GB/s']
    lines = ['Activation bytes per training step against its wall time', '',
             '| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for name, mb, ms in zip(names, mbs, wall_ms):
        rate, base_rate = mb / ms, mbs[0] / wall_ms[0]
        lines.append(f'| {name} | {mb:.1f} (x{mb / mbs[0]:.3f}) | {ms:.1f} | '
                     f'{rate:.2f} (x{rate / base_rate:.3f}) | {mbs[0] / mb:.3f}x |')
    return '\n'.join(lines)


def format_traffic(names: Sequence[str], traffic: Sequence[Dict[str, float]],
                   title: str) -> str:
    """A Markdown table of :func:`activation_traffic` results side by side,
    each later one as a ratio to the first."""
    kinds = sorted({k for t in traffic for k in t}, key=lambda k: -traffic[0].get(k, 0.))
    header = ['op kind'] + [f'{n} MB' for n in names]
    lines = [title, '', '| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for kind in kinds + ['total']:
        values = [sum(t.values()) if kind == 'total' else t.get(kind, 0.) for t in traffic]
        cells = [kind, f'{values[0]:.1f}'] + [
            f'{v:.1f} (x{v / values[0]:.2f})' if values[0] else f'{v:.1f}' for v in values[1:]]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def format_profiles(names: Sequence[str], profiles: Sequence[Dict[str, Dict[str, float]]],
                    threads: int) -> str:
    """A Markdown table: ms per step of each (phase, kind) for every profile,
    with each later profile's difference to the first and its share of the
    total difference."""
    keys = sorted({(p, k) for prof in profiles for p, kinds in prof.items() for k in kinds},
                  key=lambda pk: (PHASES.index(pk[0]), -profiles[0].get(pk[0], {}).get(pk[1], 0)))

    def value(prof: Dict[str, Dict[str, float]], key) -> float:
        return prof.get(key[0], {}).get(key[1], 0.)

    totals = [sum(value(prof, key) for key in keys) for prof in profiles]
    header = ['phase', 'op kind'] + [f'{n} ms' for n in names]
    header += [f'{n} - {names[0]} ms (share)' for n in names[1:]]
    lines: List[str] = [f'CPU training step, {threads} torch thread(s), self CPU time per op', '',
                        '| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for key in keys + [('all', 'total')]:
        values = totals if key == ('all', 'total') else [value(p, key) for p in profiles]
        cells = [key[0], key[1]] + [f'{v:.1f}' for v in values]
        for v, total in zip(values[1:], totals[1:]):
            gap = total - totals[0]
            share = (v - values[0]) / gap if gap else 0.
            cells.append(f'{v - values[0]:+.1f} ({share:+.0%})')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)

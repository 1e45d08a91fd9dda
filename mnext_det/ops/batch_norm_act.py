"""Training-mode batch norm with an optional ReLU6, fused in one C++ kernel.

In a CPU training step of the demo detectors, torch's batch norm and ReLU6
take about a third of the time: forward, batch norm reads its input three
times and the activation passes over the output again; backward,
``hardtanh_backward`` writes a masked gradient that batch norm's backward
reads twice. The kernel (``csrc/batch_norm_act.cpp``) reads the input once
for the statistics and once for the output, and backward reads the gradient
and input once for the per-channel sums and once for the input gradient; the
ReLU6 mask is the pre-activation's, recomputed from the input by forward's own
expression (exactly forward's clip, without reading the output). Same
mathematics as ``F.batch_norm(training=True)`` + ``clamp(0, 6)``; the results
differ from torch's by float rounding only (and, where an input of ReLU6 is
within rounding of 0 or 6, in which side of the clip it falls).

The extension is compiled for this CPU (``-O3 -march=native -fopenmp``) on
first use, about 30 s, and cached by torch under a name that holds a digest
of the source and its path, the compiler flags, torch's version and the CPU's
model and flags, so a home folder shared between machines never loads another
CPU's build, and two checkouts on one machine do not rebuild each other's.
"""
import hashlib
import logging
import os
import os.path as osp
import platform
import shutil
import warnings
from types import ModuleType
from typing import Optional, Tuple

import torch
from torch.autograd.function import once_differentiable

__all__ = ['batch_norm_act', 'extension_status', 'load_extension']

_SOURCE = osp.join(osp.dirname(__file__), 'csrc', 'batch_norm_act.cpp')
_CFLAGS = ['-O3', '-march=native', '-fopenmp']
_state: dict = {}


def _cpu_model() -> str:
    """The CPU's model name and instruction-set flags (a VM may hide some of a
    model's), as ``-march=native`` sees them."""
    try:
        with open('/proc/cpuinfo') as f:
            lines = [line for line in f if line.startswith(('model name', 'flags'))]
        return ''.join(dict.fromkeys(lines))
    except OSError:
        return platform.processor()


def _build_name() -> str:
    with open(_SOURCE, 'rb') as f:
        digest = hashlib.sha1(f.read())
    # the source's path too: torch's ninja file names it, so two checkouts sharing one
    # build folder would rebuild it (about 30 s) every time the other one loads it
    digest.update(' '.join([*_CFLAGS, torch.__version__, platform.machine(), _cpu_model(),
                            osp.realpath(_SOURCE)]).encode())
    return f'mnext_batch_norm_act_{digest.hexdigest()[:12]}'


def _put_ninja_on_path() -> None:
    """torch runs ``ninja`` from ``PATH``; the pip package's binary is not
    there when the interpreter's environment is not activated."""
    if shutil.which('ninja'):
        return
    try:
        import ninja
    except ImportError:
        return
    os.environ['PATH'] = ninja.BIN_DIR + os.pathsep + os.environ.get('PATH', '')


def load_extension(required: bool = False) -> Optional[ModuleType]:
    """The compiled module, built on first call; ``None`` where it cannot be
    built (no compiler or ninja), with one warning naming the reason, or the
    error itself with ``required=True``."""
    if 'module' in _state and (_state['module'] is not None or not required):
        return _state['module']
    try:
        logger = logging.getLogger('torch.utils.cpp_extension')
        level = logger.level
        logger.setLevel(logging.ERROR)  # "No CUDA runtime is found": this is a CPU build
        try:
            from torch.utils.cpp_extension import load
            _put_ninja_on_path()
            module = load(_build_name(), [_SOURCE], extra_cflags=_CFLAGS,
                          extra_ldflags=['-fopenmp'], verbose=False)
        finally:
            logger.setLevel(level)
        _state.update(module=module, reason='compiled for this CPU')
    except Exception as err:  # a missing compiler or ninja: torch's op stays
        if required:
            raise RuntimeError(f'cannot build {_SOURCE}: {err}') from err
        lines = str(err).strip().splitlines() or ['']
        # the compiler's or the shell's own words, not torch's "Error building extension"
        cause = next((line for line in lines if any(
            word in line for word in ('error:', 'not found', 'No such file'))), lines[-1])
        _state.update(module=None, reason=f'not built ({type(err).__name__}: {cause.strip()})')
        warnings.warn(f'fused batch norm unavailable, torch\'s batch norm is used: '
                      f'{_state["reason"]}')
    return _state['module']


def extension_status() -> str:
    """Whether the kernel is in use, and why not, in a few words."""
    load_extension()
    return _state['reason']


class _BatchNormAct(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                running_mean: torch.Tensor, running_var: torch.Tensor, momentum: float,
                eps: float, relu6: bool, channels_last: bool) -> torch.Tensor:
        y, mean, invstd, scale = _state['module'].forward(
            x, weight, bias, running_mean, running_var, momentum, eps, relu6, channels_last)
        ctx.relu6, ctx.channels_last = relu6, channels_last
        ctx.save_for_backward(x, mean, invstd, scale, weight, bias)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:
        fmt = torch.channels_last if ctx.channels_last else torch.contiguous_format
        gi, gw, gb = _state['module'].backward(grad.contiguous(memory_format=fmt),
                                               *ctx.saved_tensors, ctx.relu6, ctx.channels_last)
        return gi, gw, gb, None, None, None, None, None, None


def _layout(x: torch.Tensor) -> Optional[bool]:
    """True for channels-last, False for contiguous NCHW, None for neither."""
    if x.is_contiguous(memory_format=torch.channels_last) and x.stride(1) == 1:
        return True
    return False if x.is_contiguous() else None


def batch_norm_act(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                   running_mean: torch.Tensor, running_var: torch.Tensor, momentum: float,
                   eps: float, relu6: bool) -> Optional[torch.Tensor]:
    """``clamp(batch_norm(x, training=True), 0, 6)`` (the clamp with
    ``relu6``) through the kernel, updating the running statistics as torch
    does; ``None`` where the kernel does not apply (not a float32 CPU 4-d
    tensor in NCHW or channels-last layout, a single value per channel, or
    the extension not built), for the caller to run torch's ops."""
    if (x.dim() != 4 or x.device.type != 'cpu' or x.dtype != torch.float32
            or x.numel() <= x.size(1) or weight is None or bias is None
            or running_mean is None or running_var is None):
        return None
    layout = _layout(x)
    if layout is None or load_extension() is None:
        return None
    return _BatchNormAct.apply(x, weight, bias, running_mean, running_var, momentum, eps,
                               relu6, layout)

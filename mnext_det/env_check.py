"""Print the environment and say what is wrong: ``python -m mnext_det.env_check``."""
import importlib
import importlib.metadata
import platform
import sys
from typing import List, Optional, Tuple

REQUIRED: List[Tuple[str, str]] = [('torch', ''), ('torchvision', ''), ('mmengine', ''),
                                   ('mmcv', '2.1.0'), ('mmdet', '3.3.0'), ('pycocotools', ''),
                                   ('numpy', '')]


def cuda_ops_problem(cuda_available: bool, mmcv_cuda: str) -> Optional[str]:
    """The problem, if any, of mmcv's ops compiled for ``mmcv_cuda``
    (``mmcv.ops.get_compiling_cuda_version()``: ``'not available'`` for a CPU
    build) on a machine whose torch sees a GPU or not."""
    if cuda_available and mmcv_cuda == 'not available':
        return ('a GPU is visible but mmcv\'s ops were built without CUDA (CUDA NMS and '
                'RoI ops fail on the GPU): rebuild them with `make install` (it builds the '
                'CUDA ops where torch sees a GPU, or with FORCE_CUDA=1)')
    return None


def _dist_version(name: str) -> str:
    """The installed distribution's version, for a module without ``__version__``
    (pycocotools); ``'?'`` if pip's metadata does not know it."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return '?'


def collect() -> Tuple[List[str], List[str]]:
    """Return (report lines, problems)."""
    lines = [f'python: {sys.version.split()[0]} ({platform.machine()})']
    problems = []
    for name, want in REQUIRED:
        try:
            mod = importlib.import_module(name)
        except Exception as e:  # noqa: BLE001 - report any import failure
            problems.append(f'{name} does not import: {e}. Run `make install`.')
            lines.append(f'{name}: MISSING')
            continue
        version = getattr(mod, '__version__', None) or _dist_version(name)
        lines.append(f'{name}: {version}')
        if want and version != want:
            problems.append(f'{name} is {version}, mnext-det needs {want}. Run `make install`.')
    cuda_available = False
    try:
        import torch
        cuda_available = torch.cuda.is_available()
        lines.append(f'CUDA available: {cuda_available} '
                     f'(torch built with CUDA {torch.version.cuda})')
    except ImportError:
        pass
    try:
        from mmcv.ops import get_compiling_cuda_version, nms  # noqa: F401
        mmcv_cuda = get_compiling_cuda_version()
        lines.append(f'mmcv compiled ops: OK (CUDA: {mmcv_cuda})')
        problem = cuda_ops_problem(cuda_available, mmcv_cuda)
        if problem:
            problems.append(problem)
    except Exception as e:  # noqa: BLE001
        problems.append(f'mmcv compiled ops unavailable ({e}): rebuild with `make install`.')
    from .engine.allocator import find_tcmalloc
    lib = find_tcmalloc()
    lines.append(f'tcmalloc: {lib} (training and benchmarks run under it)' if lib else
                 'tcmalloc: not found (optional, about 1.15x CPU training speed: '
                 'apt install libtcmalloc-minimal4)')
    from .ops import extension_status
    lines.append(f'CPU training kernels (batch norm + ReLU6, 3x3 depthwise conv): '
                 f'{extension_status()} (optional, faster CPU training with FusedBatchNormHook '
                 'and DepthwiseConvHook; `make install` builds them)')
    return lines, problems


def main() -> int:
    lines, problems = collect()
    print('\n'.join(lines))
    if problems:
        print('\nPROBLEMS:\n' + '\n'.join(f'- {p}' for p in problems))
        return 1
    print('environment OK')
    return 0


if __name__ == '__main__':
    sys.exit(main())

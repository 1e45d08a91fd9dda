"""Peak memory of one (model, backend) pair of the inference benchmark,
measured in a fresh process: ``python -m mnext_det.analysis.peak_memory
MODEL BACKEND THREADS`` prints ``PEAK_MB <MiB>`` (Linux ``/proc``)."""
import subprocess
import sys
import tempfile

import torch

__all__ = ['peak_memory_mb']


def peak_memory_mb(name: str, backend: str, threads: int) -> float:
    """Peak RSS growth (MiB) over the first three inferences in a fresh
    process whose model is loaded: activations, workspace and allocator
    arenas on top of the weights; NaN when the process reports none."""
    out = subprocess.run(
        [sys.executable, '-m', __name__, name, backend, str(threads)],
        capture_output=True, text=True, timeout=600)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith('PEAK_MB ')]
    return float(lines[-1].split()[1]) if lines else float('nan')


def _status_mb(field: str) -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f'{field} not in /proc/self/status')


def _measure(name: str, backend: str, threads: int) -> None:
    from .inference_benchmark_models import make_runner, model_builders
    torch.set_num_threads(threads)
    builder, size = model_builders(quick=False)[name]
    model = builder().eval()
    with tempfile.TemporaryDirectory() as tmp:
        run = make_runner(model, size, backend, threads, tmp, 'm')
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # reset the peak RSS (VmHWM) to the current RSS
        base = _status_mb('VmRSS')
        for _ in range(3):
            run()
        print(f"PEAK_MB {_status_mb('VmHWM') - base:.1f}")


if __name__ == '__main__':
    _measure(sys.argv[1], sys.argv[2], int(sys.argv[3]))

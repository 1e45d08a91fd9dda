"""Side-by-side batch-1 CPU latency of MobileNeXt vs MobileNetV2 classifiers
and SSDLite detectors over PyTorch eager, ONNX Runtime and (when installed)
TFLite (``tools/analysis_tools/benchmark.py``).

Every (model, backend) pair runs ``iters`` timed calls per round, and the
pairs take turns round by round, so load from other processes falls on all of
them alike. Per pair: median, p10-p90 and min latency, batch-1 throughput
(1000 / median), achieved GFLOP/s (2 x MAdds / median) against a matmul peak
measured in the same run (best of all rounds), params, MAdds, peak memory
(:mod:`.peak_memory`) and the ratio to the MobileNetV2 baseline of the same
backend (median of per-round ratios); identity-multiplier variants also their
ratio to the full shortcut with the p10-p90 of its per-round values. For ONNX
Runtime, a per-op-type profile of MobileNeXt and its baseline explains the
ratio. The ``cpu`` timer times
the CPU time of the calling thread with one thread (ONNX Runtime, LiteRT and
PyTorch then compute in that thread), which stays stable when other processes
share the CPU; wall time with several threads is what a dedicated machine sees.
"""
import json
import os
import os.path as osp
import platform
import re
import tempfile
import time
from collections import defaultdict
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from ..deploy import OnnxRuntimeModel
from .complexity import count_madds, count_params
from .inference_benchmark_models import (CLS_BASELINE, DET_BASELINE, DET_MNEXT, FULL_SHORTCUT,
                                         IDENTITY_PREFIX, SAME_TAP_BASELINE, backends,
                                         make_runner, model_builders)
from .peak_memory import peak_memory_mb
from .timing import CLOCKS, Clock, Spread, machine_summary, paired_ratio, time_calls

__all__ = ['run_inference_benchmark', 'matmul_peak_gflops', 'ort_profile']

_PROFILED = (FULL_SHORTCUT, CLS_BASELINE, 'SSDLite-MobileNeXt-1.0', DET_BASELINE)


def matmul_peak_gflops(threads: int, repeats: int = 20,
                       clock: Clock = time.perf_counter) -> float:
    """Best fp32 GFLOP/s of a 1024^3 matmul with ``threads`` threads."""
    torch.set_num_threads(threads)
    a, b = torch.rand(1024, 1024), torch.rand(1024, 1024)
    best = min(time_calls(lambda: a @ b, repeats, warmup=1, clock=clock))
    return 2 * 1024**3 / best / 1e9


def ort_profile(file: str, threads: int, runs: int = 20) -> Dict[str, float]:
    """ONNX Runtime milliseconds per run by op type (its profiler)."""
    with tempfile.TemporaryDirectory() as tmp:
        session = OnnxRuntimeModel(file, num_threads=threads,
                                   profile_prefix=osp.join(tmp, 'ort'))
        shape = session.session.get_inputs()[0].shape
        x = np.random.rand(1, *shape[1:]).astype(np.float32)
        for _ in range(runs):
            session(x)
        path = session.session.end_profiling()
        with open(path) as f:
            events = json.load(f)
    per_op: Dict[str, float] = defaultdict(float)
    for ev in events:
        if ev.get('cat') == 'Node' and ev['name'].endswith('_kernel_time'):
            per_op[ev['args']['op_name']] += ev['dur'] / 1e3 / runs
    return dict(sorted(per_op.items(), key=lambda kv: -kv[1]))


def _cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _paired_ratio(rounds: List[List[float]], base_rounds: List[List[float]]) -> Spread:
    """Median and p10-p90 of the per-round ratios of median latencies: pairs
    that took turns in every round share that round's machine load."""
    return paired_ratio([np.median(a) for a in rounds], [np.median(b) for b in base_rounds])


def _row_stats(row: dict, key: Tuple[str, str],
               samples: Dict[Tuple[str, str], List[List[float]]]) -> None:
    """Latency figures of ``row`` from its rounds of ms samples; for an
    identity-multiplier variant also its paired ratio to the full shortcut."""
    spread = Spread.of(np.concatenate(samples[key]))
    row.update(median_ms=spread.median, p10_ms=spread.p10, p90_ms=spread.p90,
               min_ms=spread.min, throughput=1000. / spread.median,
               gflops=2 * row['madds'] / spread.median / 1e6)
    base = (CLS_BASELINE if row['input'] == 224 else DET_BASELINE, key[1])
    if base in samples:
        row['ratio'] = _paired_ratio(samples[key], samples[base]).median
        row['ratio_min'] = row['min_ms'] / Spread.of(np.concatenate(samples[base])).min
    full = (FULL_SHORTCUT, key[1])
    if key[0].startswith(IDENTITY_PREFIX) and key != full and full in samples:
        vs_full = _paired_ratio(samples[key], samples[full])
        row.update(vs_full=vs_full.median, vs_full_p10=vs_full.p10, vs_full_p90=vs_full.p90)
    same_tap = (SAME_TAP_BASELINE, key[1])
    if key[0] == DET_MNEXT and same_tap in samples:
        vs_tap = _paired_ratio(samples[key], samples[same_tap])
        row.update(vs_same_tap=vs_tap.median, vs_same_tap_p10=vs_tap.p10,
                   vs_same_tap_p90=vs_tap.p90)


def run_inference_benchmark(threads: int = 2, rounds: int = 15, iters: int = 10,
                            quick: bool = False, memory: bool = True, timer: str = 'wall',
                            log: Callable[[str], None] = print, models: Optional[str] = None,
                            only_backends: Optional[Sequence[str]] = None
                            ) -> Tuple[dict, List[dict], Dict[str, Dict[str, float]]]:
    """``(meta, rows, ort_profiles)``: one row per (model, backend) pair.

    ``quick``: few models and backends, at most 3 rounds x 3 iterations, no
    memory processes (a smoke test). ``timer``: a key of
    :data:`~.timing.CLOCKS`; ``cpu`` runs with one thread. ``models``: a
    regular expression the model names must match (the baselines of the
    ratios, the full shortcut beside an identity variant and the same-tap
    MobileNetV2 beside SSDLite-MobileNeXt always run);
    ``only_backends``: a subset of the backends.
    """
    clock = CLOCKS[timer]
    if timer == 'cpu':
        threads = 1
    if quick:
        rounds, iters, memory = min(rounds, 3), min(iters, 3), False
    torch.set_num_threads(threads)
    load_start = os.getloadavg()
    peak = matmul_peak_gflops(threads, clock=clock)
    builders = model_builders(quick)
    if models is not None:
        kept = {n for n in builders if re.search(models, n)}
        if not kept:
            raise ValueError(f'--models {models!r} matches none of {sorted(builders)}')
        sizes = {builders[n][1] for n in kept}
        kept |= {base for base in (CLS_BASELINE, DET_BASELINE)
                 if base in builders and builders[base][1] in sizes}
        if any(n.startswith(IDENTITY_PREFIX) for n in kept):
            kept.add(FULL_SHORTCUT)
        if DET_MNEXT in kept and SAME_TAP_BASELINE in builders:
            kept.add(SAME_TAP_BASELINE)
        builders = {n: b for n, b in builders.items() if n in kept}
    names_backends = backends(quick)
    if only_backends:
        unknown = sorted(set(only_backends) - set(names_backends))
        if unknown:
            extra = ('; tflite needs the tflite extra: pip install .[tflite]'
                     if 'tflite' in unknown and not quick else '')
            raise ValueError(f'--backends {unknown}: not among {names_backends}{extra}')
        names_backends = [b for b in names_backends if b in only_backends]
    rows: Dict[Tuple[str, str], dict] = {}
    runners = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, (builder, size)) in enumerate(builders.items()):
            model = builder().eval()
            info = dict(params=count_params(model),
                        madds=count_madds(model, (1, 3, size, size)), input=size)
            for backend in names_backends:
                log(f'preparing {name} / {backend}')
                runners[(name, backend)] = make_runner(model, size, backend, threads, tmp,
                                                       f'm{i}')
                rows[(name, backend)] = dict(model=name, backend=backend, **info)
        for run in runners.values():  # warm-up
            for _ in range(3):
                run()
        samples: Dict[Tuple[str, str], List[List[float]]] = defaultdict(list)
        for r in range(rounds):
            for key, run in runners.items():
                samples[key].append([t * 1e3 for t in time_calls(run, iters, clock=clock)])
            peak = max(peak, matmul_peak_gflops(threads, repeats=5, clock=clock))
            log(f'round {r + 1}/{rounds}')
        profiles = {}
        if 'onnxruntime' in names_backends:
            for name in _PROFILED:
                if name in builders:
                    idx = list(builders).index(name)
                    profiles[name] = ort_profile(osp.join(tmp, f'm{idx}.onnx'), threads)
    for key, row in rows.items():
        _row_stats(row, key, samples)
        if memory:
            row['peak_mem_mb'] = peak_memory_mb(key[0], key[1], threads)
    meta = dict(date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
                machine=machine_summary(),
                cpu=_cpu_name(), threads=threads, rounds=rounds, iters=iters,
                load_avg_start=load_start, load_avg_end=os.getloadavg(),
                matmul_peak_gflops=peak, torch=torch.__version__, quick=quick, timer=timer)
    return meta, list(rows.values()), profiles

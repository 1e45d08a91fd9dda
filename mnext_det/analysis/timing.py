"""The one timer of the benchmarks and reports: calls timed after a warm-up on
a clock passed in (wall or CPU time), their median and spread."""
import os
import platform
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Sequence, Tuple, TypeVar

import numpy as np
import torch
import torch.nn as nn

__all__ = ['Clock', 'CLOCKS', 'time_call', 'time_calls', 'median_time', 'time_interleaved',
           'Spread', 'paired_ratio', 'measure_latency', 'latencies_side_by_side',
           'machine_summary']

Clock = Callable[[], float]
K = TypeVar('K')
# wall: elapsed time; cpu: CPU time of the calling thread (stable when other
# processes load the machine, meaningful with one compute thread)
CLOCKS: Dict[str, Clock] = {'wall': time.perf_counter, 'cpu': time.thread_time}


def time_call(fn: Callable[[], object], clock: Clock = time.perf_counter) -> float:
    """Seconds one call of ``fn`` takes on ``clock``."""
    start = clock()
    fn()
    return clock() - start


def time_calls(fn: Callable[[], object], runs: int, warmup: int = 0,
               clock: Clock = time.perf_counter) -> List[float]:
    """Seconds of each of ``runs`` calls of ``fn`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    return [time_call(fn, clock) for _ in range(runs)]


def median_time(fn: Callable[[], object], runs: int, warmup: int = 0,
                clock: Clock = time.perf_counter) -> float:
    """Median seconds of ``runs`` calls of ``fn`` after ``warmup`` untimed ones."""
    return float(np.median(time_calls(fn, runs, warmup, clock)))


def time_interleaved(calls: Mapping[K, Callable[[], object]], rounds: int, warmup: int = 0,
                     repeat: int = 1, clock: Clock = time.perf_counter) -> Dict[K, List[float]]:
    """Seconds per call of every callable, the callables taking turns: each of
    ``rounds`` rounds (after ``warmup`` untimed ones) times ``repeat`` calls of
    each in turn, so a drift of the machine's speed hits all of them alike."""
    times: Dict[K, List[float]] = {key: [] for key in calls}
    for round_ in range(warmup + rounds):
        for key, fn in calls.items():
            start = clock()
            for _ in range(repeat):
                fn()
            if round_ >= warmup:
                times[key].append((clock() - start) / repeat)
    return times


@dataclass(frozen=True)
class Spread:
    """Median, 10th and 90th percentile and minimum of timings (their unit)."""

    median: float
    p10: float
    p90: float
    min: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> 'Spread':
        """The spread of ``samples`` (at least one)."""
        values = np.asarray(samples, dtype=float)
        return cls(median=float(np.median(values)), p10=float(np.percentile(values, 10)),
                   p90=float(np.percentile(values, 90)), min=float(values.min()))


def paired_ratio(values: Sequence[float], base_values: Sequence[float]) -> Spread:
    """Spread of the per-round ratios ``value / base`` of two measurements
    that took turns in every round: a drift of the machine's speed falls on
    both of a round and cancels."""
    return Spread.of([v / b for v, b in zip(values, base_values)])


def measure_latency(module: nn.Module, input_size: Tuple[int, int], runs: int = 20,
                    warmup: int = 3, threads: int = 1) -> float:
    """Median wall latency (ms) of a batch-1 forward of ``module`` (set to
    eval mode) on a random ``(width, height)`` image, on ``threads`` torch
    threads (1 by default: the mobile convention, and stable on a busy machine)."""
    rounds = latencies_side_by_side([module], [input_size], runs, warmup, 1, threads)
    return float(np.median(rounds[0]))


def latencies_side_by_side(modules: Sequence[nn.Module], input_sizes: Sequence[Tuple[int, int]],
                           rounds: int = 20, warmup: int = 3, repeat: int = 3,
                           threads: int = 1) -> List[List[float]]:
    """Wall latency (ms) of batch-1 forwards of each module (set to eval mode)
    on a random image of its ``(width, height)``, per round: the modules take
    turns, ``repeat`` forwards each per round (:func:`time_interleaved`), so
    that a drift of the machine's speed falls on all of them alike and
    :func:`paired_ratio` of two of them cancels it; ``threads`` torch threads."""
    calls = {}
    for i, (module, (w, h)) in enumerate(zip(modules, input_sizes)):
        module.eval()
        x = torch.rand(1, 3, h, w)
        calls[i] = lambda m=module, x=x: m(x)
    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.no_grad():
            times = time_interleaved(calls, rounds, warmup, repeat)
    finally:
        torch.set_num_threads(old_threads)
    return [[t * 1000 for t in times[i]] for i in range(len(modules))]


def machine_summary() -> str:
    """The machine a timing ran on, as the reports name it: ``<processor or
    architecture>, <N> cores[ (<M> usable)], malloc <allocator>`` (fewer usable
    under an affinity mask or CPU quota, ``engine.cpus``; tcmalloc or glibc's
    changes CPU training speed, ``engine.allocator``)."""
    from ..engine.allocator import loaded_allocator
    from ..engine.cpus import usable_cpus
    usable = usable_cpus()
    cores = f'{os.cpu_count()} cores' + ('' if usable == os.cpu_count() else f' ({usable} usable)')
    return f'{platform.processor() or platform.machine()}, {cores}, malloc {loaded_allocator()}'

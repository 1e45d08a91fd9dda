"""The CPUs a run may use, and how much of them the host took away.

``os.cpu_count()`` counts the host's CPUs, not the ones this process may run
on: under ``taskset`` or a container's CPU quota (``docker --cpus 2`` on a
64-core host) it over-counts, and a run that sizes its threads from it
oversubscribes the cores it really has. Torch's own default follows the
affinity mask but not a cgroup quota. On a virtual machine, time the
hypervisor gives to other guests shows up as *steal* in ``/proc/stat``: the
same job on "the same kind" of VM can take twice as long when it is high.
"""
import math
import os
import os.path as osp
from dataclasses import dataclass
from typing import Optional

__all__ = ['CpuTimes', 'cgroup_cpu_limit', 'cap_torch_threads', 'cpu_summary', 'cpu_times',
           'usable_cpus']

_CGROUP_ROOT = '/sys/fs/cgroup'


def _read(path: str) -> Optional[str]:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _quota(quota: Optional[str], period: Optional[str]) -> Optional[float]:
    if quota is None or period is None or quota in ('max', '-1'):
        return None
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    return q / p if q > 0 and p > 0 else None


def cgroup_cpu_limit(root: str = _CGROUP_ROOT) -> Optional[float]:
    """CPUs' worth of time the cgroup quota allows (``2.0`` for
    ``docker --cpus 2``), ``None`` without a quota. Reads cgroup v2's
    ``cpu.max`` and v1's ``cpu/cpu.cfs_quota_us`` under ``root``."""
    limits = []
    v2 = _read(osp.join(root, 'cpu.max'))
    if v2 is not None:
        fields = v2.split()
        if len(fields) == 2:
            limits.append(_quota(*fields))
    for v1 in ('cpu', 'cpu,cpuacct'):
        limits.append(_quota(_read(osp.join(root, v1, 'cpu.cfs_quota_us')),
                             _read(osp.join(root, v1, 'cpu.cfs_period_us'))))
    found = [x for x in limits if x is not None]
    return min(found) if found else None


def _affinity_cpus() -> int:
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _capped(affinity: int, limit: Optional[float]) -> int:
    return max(1, affinity if limit is None else min(affinity, math.floor(limit)))


def usable_cpus(root: str = _CGROUP_ROOT) -> int:
    """CPUs this process may keep busy: its affinity mask, capped by the
    cgroup quota (rounded down, at least 1)."""
    return _capped(_affinity_cpus(), cgroup_cpu_limit(root))


def cpu_summary(root: str = _CGROUP_ROOT) -> str:
    """``usable_cpus`` and where it comes from, for logs and reports."""
    affinity, limit = _affinity_cpus(), cgroup_cpu_limit(root)
    return (f'{_capped(affinity, limit)} usable CPUs ({os.cpu_count()} on the host, '
            f'{affinity} in the affinity mask, cgroup quota '
            f'{"none" if limit is None else f"{limit:g} CPUs"})')


def cap_torch_threads(root: str = _CGROUP_ROOT) -> int:
    """Lower torch's intra-op threads to :func:`usable_cpus` when they exceed
    it and ``OMP_NUM_THREADS`` does not set them; returns the thread count."""
    import torch
    cpus = usable_cpus(root)
    if 'OMP_NUM_THREADS' not in os.environ and torch.get_num_threads() > cpus:
        torch.set_num_threads(cpus)
    return torch.get_num_threads()


@dataclass(frozen=True)
class CpuTimes:
    """Machine-wide CPU time in clock ticks since boot (``/proc/stat``)."""
    busy: int
    idle: int
    steal: int

    def steal_since(self, start: 'CpuTimes') -> Optional[float]:
        """Share of the CPU time between ``start`` and this sample that the
        hypervisor gave to other guests (``None`` when no time passed)."""
        total = ((self.busy - start.busy) + (self.idle - start.idle)
                 + (self.steal - start.steal))
        return (self.steal - start.steal) / total if total > 0 else None


def cpu_times(stat: str = '/proc/stat') -> Optional[CpuTimes]:
    """The ``cpu`` line of ``stat``, ``None`` where there is none (not Linux)."""
    text = _read(stat)
    if not text or not text.startswith('cpu '):
        return None
    fields = [int(x) for x in text.splitlines()[0].split()[1:]]
    fields += [0] * (8 - len(fields))
    user, nice, system, idle, iowait, irq, softirq, steal = fields[:8]
    return CpuTimes(busy=user + nice + system + irq + softirq, idle=idle + iowait, steal=steal)

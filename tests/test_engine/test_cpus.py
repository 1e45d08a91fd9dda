import os

import pytest
import torch

from mnext_det.engine.cpus import (CpuTimes, cap_torch_threads, cgroup_cpu_limit, cpu_summary,
                                   cpu_times, usable_cpus)

AFFINITY = len(os.sched_getaffinity(0))


def _cgroup(tmp_path, v2=None, v1=None):
    """A fake cgroup root: v2's ``cpu.max`` text and/or v1's (quota, period)."""
    if v2 is not None:
        (tmp_path / 'cpu.max').write_text(v2 + '\n')
    if v1 is not None:
        (tmp_path / 'cpu').mkdir()
        (tmp_path / 'cpu' / 'cpu.cfs_quota_us').write_text(f'{v1[0]}\n')
        (tmp_path / 'cpu' / 'cpu.cfs_period_us').write_text(f'{v1[1]}\n')
    return str(tmp_path)


@pytest.mark.parametrize('v2, v1, limit', [
    ('200000 100000', None, 2.0),           # docker --cpus 2, cgroup v2
    ('max 100000', None, None),             # v2 without a quota
    (None, (150000, 100000), 1.5),          # v1 quota
    (None, (-1, 100000), None),             # v1 without a quota
    ('300000 100000', (50000, 100000), 0.5),  # both: the tighter one
    (None, None, None),                     # no cgroup files at all
    ('garbage', None, None),
])
def test_cgroup_cpu_limit_reads_v1_and_v2_quotas(tmp_path, v2, v1, limit):
    assert cgroup_cpu_limit(_cgroup(tmp_path, v2, v1)) == limit


def test_usable_cpus_is_the_affinity_mask_capped_by_the_quota(tmp_path):
    assert usable_cpus(_cgroup(tmp_path / 'none')) == AFFINITY
    (tmp_path / 'a').mkdir()
    assert usable_cpus(_cgroup(tmp_path / 'a', v2='1500000 100000')) == min(AFFINITY, 15)
    (tmp_path / 'b').mkdir()
    assert usable_cpus(_cgroup(tmp_path / 'b', v2='150000 100000')) == 1  # 1.5 CPUs -> 1
    (tmp_path / 'c').mkdir()
    assert usable_cpus(_cgroup(tmp_path / 'c', v2='10000 100000')) == 1  # never 0
    assert '1 usable CPUs' in cpu_summary(str(tmp_path / 'c'))
    assert 'cgroup quota 0.1 CPUs' in cpu_summary(str(tmp_path / 'c'))


def test_cap_torch_threads_lowers_threads_above_the_quota_only(tmp_path, monkeypatch):
    old = torch.get_num_threads()
    root = _cgroup(tmp_path, v2='100000 100000')
    try:
        torch.set_num_threads(2)
        monkeypatch.setenv('OMP_NUM_THREADS', '2')
        assert cap_torch_threads(root) == 2  # the user's own setting wins
        monkeypatch.delenv('OMP_NUM_THREADS')
        assert cap_torch_threads(root) == 1
        torch.set_num_threads(1)
        assert cap_torch_threads(str(tmp_path / 'absent')) == 1  # never raised
    finally:
        torch.set_num_threads(old)


def test_cpu_times_and_steal_share(tmp_path):
    stat = tmp_path / 'stat'
    # user nice system idle iowait irq softirq steal guest guest_nice
    stat.write_text('cpu  100 0 20 300 10 0 5 15 0 0\ncpu0 50 0 10 150 5 0 2 7 0 0\n')
    start = cpu_times(str(stat))
    assert start == CpuTimes(busy=125, idle=310, steal=15)
    end = CpuTimes(busy=start.busy + 60, idle=start.idle + 20, steal=start.steal + 20)
    assert end.steal_since(start) == pytest.approx(20 / 100)
    assert start.steal_since(start) is None
    stat.write_text('intr 1 2 3\n')
    assert cpu_times(str(stat)) is None
    assert cpu_times(str(tmp_path / 'absent')) is None

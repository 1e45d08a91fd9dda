"""Summary statistics over seeds: mean, sample std, Student-t 95 % interval,
and the paired per-seed difference to a baseline."""
import math
from typing import Dict, List, Mapping, Optional, Sequence

__all__ = ['t_critical_95', 'summarize', 'paired_difference']

# Two-sided 95 % quantiles t_{0.975, df} of Student's t for df = 1..30.
_T975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
         2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
         2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)
_Z975 = 1.959964


def t_critical_95(df: int) -> float:
    """``t_{0.975, df}``: the table for df <= 30, the Cornish-Fisher expansion
    in 1/df beyond it (error below 1e-4 there)."""
    if df < 1:
        raise ValueError(f'degrees of freedom must be >= 1, got {df}')
    if df <= len(_T975):
        return _T975[df - 1]
    z = _Z975
    return (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2) +
            (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3))


def summarize(values: Sequence[float]) -> Dict[str, object]:
    """``{mean, std, ci95: [lo, hi], n}`` of ``values``; ``std`` is the sample
    standard deviation (n - 1), ``ci95`` the Student-t interval of the mean.
    With one value ``std`` and ``ci95`` are None: one seed gives no interval."""
    n = len(values)
    if n == 0:
        raise ValueError('summarize: no values')
    mean = math.fsum(values) / n
    if n == 1:
        return dict(mean=mean, std=None, ci95=None, n=1)
    std = math.sqrt(math.fsum((v - mean)**2 for v in values) / (n - 1))
    half = t_critical_95(n - 1) * std / math.sqrt(n)
    return dict(mean=mean, std=std, ci95=[mean - half, mean + half], n=n)


def paired_difference(values: Mapping[int, float],
                      baseline: Mapping[int, float]) -> Optional[Dict[str, object]]:
    """Summary of ``values[s] - baseline[s]`` over the seeds ``s`` both have,
    plus ``wins`` (seeds where the difference is > 0) and the ``seeds`` used;
    None when they share no seed."""
    seeds: List[int] = sorted(set(values) & set(baseline))
    if not seeds:
        return None
    diffs = [values[s] - baseline[s] for s in seeds]
    return dict(summarize(diffs), wins=sum(d > 0 for d in diffs), seeds=seeds)

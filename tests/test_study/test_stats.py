"""Mean, std and Student-t intervals against values worked out by hand."""
import math

import pytest

from mnext_det.study.stats import paired_difference, summarize, t_critical_95


def test_summary_of_three_seeds():
    # mean 0.34; deviations -0.04, 0, 0.04 -> s^2 = 0.0032 / 2, s = 0.04;
    # half width t_{0.975,2} * s / sqrt(3) = 4.3027 * 0.04 / 1.7320508 = 0.0993666
    s = summarize([0.30, 0.34, 0.38])
    assert s['n'] == 3
    assert s['mean'] == pytest.approx(0.34, abs=1e-12)
    assert s['std'] == pytest.approx(0.04, abs=1e-12)
    assert s['ci95'] == pytest.approx([0.2406334, 0.4393666], abs=1e-6)


def test_one_seed_has_no_interval_and_none_is_an_error():
    assert summarize([0.25]) == dict(mean=0.25, std=None, ci95=None, n=1)
    with pytest.raises(ValueError, match='no values'):
        summarize([])


def test_paired_difference_uses_shared_seeds_only():
    # seeds 0 and 1 shared: diffs 0.1, 0.3 -> mean 0.2, s = sqrt(0.02) = 0.1414214,
    # half width 12.7062 * 0.1414214 / sqrt(2) = 1.27062
    d = paired_difference({0: 0.3, 1: 0.5}, {0: 0.2, 1: 0.2, 2: 0.1})
    assert d['seeds'] == [0, 1] and d['n'] == 2 and d['wins'] == 2
    assert d['mean'] == pytest.approx(0.2)
    assert d['std'] == pytest.approx(math.sqrt(0.02))
    assert d['ci95'] == pytest.approx([0.2 - 1.27062, 0.2 + 1.27062], abs=1e-5)
    assert paired_difference({3: 0.1}, {0: 0.2}) is None


@pytest.mark.parametrize('df,expected', [(1, 12.7062), (2, 4.3027), (10, 2.2281),
                                         (30, 2.0423), (31, 2.0395), (40, 2.0211),
                                         (60, 2.0003), (120, 1.9799)])
def test_t_quantiles_match_the_tables(df, expected):
    assert t_critical_95(df) == pytest.approx(expected, abs=2e-4)


def test_t_quantile_needs_a_degree_of_freedom():
    with pytest.raises(ValueError, match='degrees of freedom'):
        t_critical_95(0)

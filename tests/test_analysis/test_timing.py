"""The one timer: calls timed on the clock passed in, interleaved rounds, spread."""
import pytest
import torch
from torch import nn

from mnext_det.analysis.timing import (Spread, latencies_side_by_side, median_time,
                                       paired_ratio, time_calls, time_interleaved)


class FakeClock:
    """A clock that only the timed calls move."""

    def __init__(self) -> None:
        self.now = 0.

    def __call__(self) -> float:
        return self.now

    def work(self, seconds: float, log: list, name: str):
        def fn():
            log.append(name)
            self.now += seconds
        return fn


def test_interleaved_calls_take_turns_and_warmup_is_not_timed():
    clock, log = FakeClock(), []
    times = time_interleaved({'a': clock.work(1., log, 'a'), 'b': clock.work(3., log, 'b')},
                             rounds=2, warmup=1, repeat=2, clock=clock)
    assert log == ['a', 'a', 'b', 'b'] * 3
    assert times == {'a': [1., 1.], 'b': [3., 3.]}


def test_time_calls_and_median_on_the_given_clock():
    clock, log = FakeClock(), []
    assert time_calls(clock.work(2., log, 'x'), runs=3, warmup=2, clock=clock) == [2., 2., 2.]
    assert len(log) == 5
    assert median_time(clock.work(0.5, log, 'y'), runs=4, clock=clock) == 0.5


def test_spread():
    spread = Spread.of([4., 1., 3., 2., 10.])
    assert spread.median == 3. and spread.min == 1.
    assert spread.p10 == pytest.approx(1.4) and spread.p90 == pytest.approx(7.6)


def test_paired_ratio_pairs_the_rounds_so_a_slow_round_cancels():
    base = [0.10, 0.20, 0.10, 0.10]  # round 2: the machine twice as slow for both
    paired = paired_ratio(base, [0.11, 0.22, 0.11, 0.125])
    assert paired.median == pytest.approx(1 / 1.1)
    assert paired.p10 == pytest.approx((0.8 + 0.3 * (1 / 1.1 - 0.8)), rel=1e-6)
    assert paired.p90 == pytest.approx(1 / 1.1) and paired.min == pytest.approx(0.8)


class _Logged(nn.Module):
    def __init__(self, name: str, log: list) -> None:
        super().__init__()
        self.name, self.log = name, log

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.log.append((self.name, tuple(x.shape), self.training, torch.is_grad_enabled(),
                         torch.get_num_threads()))
        return x


def test_latencies_side_by_side_take_turns_in_eval_mode_on_one_thread():
    log = []
    modules = [_Logged('a', log), _Logged('b', log)]
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # timed on one thread, then given back
    try:
        ms = latencies_side_by_side(modules, [(64, 48), (32, 32)], rounds=4, warmup=2, repeat=3)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    assert [name for name, *_ in log] == (['a'] * 3 + ['b'] * 3) * 6
    assert {entry[1:] for entry in log if entry[0] == 'a'} == {((1, 3, 48, 64), False, False, 1)}
    assert {entry[1] for entry in log if entry[0] == 'b'} == {(1, 3, 32, 32)}
    assert len(ms) == 2 and all(len(rounds) == 4 and min(rounds) > 0 for rounds in ms)

"""tools/analysis_tools/benchmark_pretrain.py at its smallest: both pretraining
configs' training steps in interleaved rounds, one img/s per round."""
import os.path as osp
import re

import pytest

from ..conftest import ROOT, run

pytest.importorskip('mmdet')  # the MobileNetV2 pretraining config imports mmdet's backbone


def test_benchmark_pretrain_prints_every_round_and_the_ratio():
    out = run(osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark_pretrain.py'),
              '--batch-size', '2', '--iters', '1', '--rounds', '2', '--size', '64',
              '--skip-data', cwd=ROOT).stdout
    steps = re.findall(r'train step  (\S+) +([\d.]+) img/s  \(rounds: ([\d., ]+)\)', out)
    assert [name for name, _, _ in steps] == ['MobileNeXt-1.0', 'MobileNetV2-1.0'], out
    for _, median, rounds in steps:
        values = [float(v) for v in rounds.split(', ')]
        assert len(values) == 2 and min(values) <= float(median) <= max(values)
    ratio = float(re.search(r'ratio MobileNeXt-1.0 / MobileNetV2-1.0: ([\d.]+)', out).group(1))
    # the medians are printed to 0.05 and the ratio to 0.005 of the unrounded values: the
    # ratio lies in what the medians' intervals allow, at any speed of the machine
    a, b = float(steps[0][1]), float(steps[1][1])
    lowest, highest = (a - 0.05) / (b + 0.05), (a + 0.05) / (b - 0.05)
    assert lowest - 0.005 - 1e-9 <= ratio <= highest + 0.005 + 1e-9, out

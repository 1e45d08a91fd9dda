"""Numeric arguments below their least value or outside their interval are
refused before any work, naming the flag, by the functions and by the
analysis tools that use them."""
import argparse
import os.path as osp

import pytest

from mnext_det.tool_args import require_at_least, require_between

from .conftest import ROOT
from .tool_main import run_main


def test_require_at_least_names_the_flag_and_checks_list_items():
    args = argparse.Namespace(batch_size=4, warmup=0, workers=[0, -1], threads=None)
    require_at_least(args, batch_size=1, warmup=0, threads=1)
    with pytest.raises(ValueError, match='^--batch-size must be at least 8, got 4$'):
        require_at_least(args, batch_size=8)
    with pytest.raises(ValueError, match='^--workers must be at least 0, got -1$'):
        require_at_least(args, workers=0)


def test_require_between_names_the_flag_and_its_interval():
    require_between(argparse.Namespace(score_thr=0., iou=None), score_thr=(0, 1), iou=(0, 1))
    with pytest.raises(ValueError, match=r'^--score-thr must be in \[0, 1\], got 1\.5$'):
        require_between(argparse.Namespace(score_thr=1.5), score_thr=(0, 1))


@pytest.mark.parametrize('tool, args, message', [
    ('profile_detectors.py', ('--iters', '0'), '--iters must be at least 1, got 0'),
    ('profile_detectors.py', ('--warmup', '-1'), '--warmup must be at least 0, got -1'),
    ('benchmark_detectors.py', ('--train-iters', '0'), '--train-iters must be at least 1, got 0'),
    ('benchmark_pretrain.py', ('--workers', '2', '-1'), '--workers must be at least 0, got -1'),
    ('benchmark.py', ('--rounds', '0'), '--rounds must be at least 1, got 0'),
])
def test_analysis_tools_refuse_counts_below_their_least(tool, args, message):
    run = run_main(osp.join(ROOT, 'tools', 'analysis_tools', tool), *args, cwd=ROOT)
    assert (run.returncode, run.stderr) == (2, f'error: {message}\n')

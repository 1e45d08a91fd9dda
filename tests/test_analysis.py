"""Complexity counts and the summary command."""
import subprocess
import sys

import torch.nn as nn

from mnext_det.analysis import count_madds, summary_table
from mnext_det.cli import main


def test_count_madds_by_hand():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.Conv2d(8, 8, 3, padding=1,
                                                                             groups=8),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
    # 16x16 map: 8*16*16*27 + 8*16*16*9 + 8*4
    assert count_madds(model, (1, 3, 32, 32)) == 8 * 256 * 27 + 8 * 256 * 9 + 32


def test_summary_table_matches_official_params():
    rows = summary_table(input_size=64)
    body = rows[2:]
    assert len(body) == 5
    assert all('| yes |' in r for r in body), rows


def test_cli_models_and_env(capsys):
    assert main(['models']) == 0
    assert 'mobilenext_100' in capsys.readouterr().out.split()
    proc = subprocess.run([sys.executable, '-m', 'mnext_det.cli', 'env'], capture_output=True,
                          text=True, timeout=120)
    assert 'torch:' in proc.stdout and 'mmengine:' in proc.stdout

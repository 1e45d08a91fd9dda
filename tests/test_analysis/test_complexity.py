"""Complexity counts."""
import torch.nn as nn

from mnext_det.analysis import count_madds


def test_count_madds_by_hand():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.Conv2d(8, 8, 3, padding=1,
                                                                             groups=8),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
    # 16x16 map: 8*16*16*27 + 8*16*16*9 + 8*4
    assert count_madds(model, (1, 3, 32, 32)) == 8 * 256 * 27 + 8 * 256 * 9 + 32

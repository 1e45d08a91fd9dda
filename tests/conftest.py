import os

import pytest
import torch

from .tolerances import TEST_SEED

WIDTHS = (0.35, 0.5, 0.75, 1.0, 1.4)
MODEL_NAMES = ('mobilenext_035', 'mobilenext_050', 'mobilenext_075', 'mobilenext_100',
               'mobilenext_140')


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(TEST_SEED)


@pytest.fixture
def tmp_cwd(tmp_path):
    old = os.getcwd()
    os.chdir(tmp_path)
    yield tmp_path
    os.chdir(old)

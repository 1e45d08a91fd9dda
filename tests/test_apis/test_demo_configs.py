"""apis.demo_configs and the demo's loader-worker rule: what the rewritten
configs of one ``make demo`` run load their data with."""
import os.path as osp

import pytest
from mmengine.config import Config

from mnext_det.apis.demo import DEMO_DETECTORS, _loader_workers
from mnext_det.apis.demo_configs import _LOADERS, detector_config, pretrain_config

from ..conftest import ROOT


def _workers(path: str):
    cfg = Config.fromfile(path)
    return [(cfg[k].num_workers, cfg[k].persistent_workers) for k in _LOADERS]


@pytest.mark.parametrize('make', ['detector', 'pretrain'])
def test_workers_set_for_every_loader_or_left_as_the_config_has_them(tmp_path, make):
    _, det_src, pre_src = DEMO_DETECTORS[1]
    src = osp.join(ROOT, det_src if make == 'detector' else pre_src)

    def dump(name, workers):
        out = str(tmp_path / name)
        if make == 'detector':
            return detector_config(src, str(tmp_path), out, None, None, False, workers)
        return pretrain_config(src, str(tmp_path), out, None, False, workers)

    assert _workers(dump('zero.py', 0)) == [(0, False)] * 3
    assert _workers(dump('two.py', 2)) == [(2, True)] * 3
    assert _workers(dump('own.py', None)) == _workers(src)


def test_one_thread_trainings_load_their_own_data():
    assert _loader_workers(1) == 0
    assert _loader_workers(2) is None

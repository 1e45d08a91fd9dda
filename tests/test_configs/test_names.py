"""Config file names follow mmdet's order: {model}_{gpus}xb{batch}-{schedule}_{dataset}."""
import glob
import os.path as osp
import re

from ..conftest import ROOT

NAME = re.compile(r'^([a-z]+_)?[a-z0-9]+(-[a-z0-9]+)*'  # [algorithm_]backbone[-variant]
                  r'_\d+xb\d+-\d+e(-[a-z]+)?'  # _{gpus}xb{batch}-{epochs}e[-tag]
                  r'_[a-z0-9]+(-[a-z0-9]+)*\.py$')  # _dataset


def test_every_config_name_follows_mmdet_order():
    files = [f for f in glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))
             if '_base_' not in f]
    assert len(files) > 20
    bad = [osp.relpath(f, ROOT) for f in files if not NAME.match(osp.basename(f))]
    assert not bad, bad


def test_the_pattern_rejects_the_old_demo_names():
    assert NAME.match('ssdlite_mobilenext-050_1xb8-10e_shapes-160.py')
    assert not NAME.match('ssdlite_mobilenext-050_1xb8-shapes-160.py')
    assert not NAME.match('mobilenext-050_1xb64-shapes-crops.py')

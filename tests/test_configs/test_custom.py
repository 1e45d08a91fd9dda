"""The own-data template (configs/ssdlite/*_custom.py), filled in as a user would."""
import os.path as osp

import pytest
from mmengine.config import Config

from mnext_det.datasets.checks.preflight import check_detection_data
from mnext_det.datasets.synthetic import SHAPE_CLASSES

from ..conftest import ROOT

TEMPLATE = osp.join(ROOT, 'configs/ssdlite/ssdlite_mobilenext-100-in1k-pre_8xb24-600e_custom.py')


def _filled(tmp_path, data_root, classes):
    text = open(TEMPLATE).read()
    text = text.replace("'./ssdlite_", repr(osp.join(ROOT, 'configs/ssdlite')) + " + '/ssdlite_")
    text = text.replace("data_root = 'data/custom/'", f'data_root = {data_root!r}')
    text = text.replace("classes = ('cat', 'dog')", f'classes = {tuple(classes)!r}')
    text = text.replace("data_prefix=dict(img='images/')",
                        "data_prefix=dict(img='VOC2007/JPEGImages/')")
    path = tmp_path / 'my_ssdlite.py'
    path.write_text(text)
    return Config.fromfile(str(path))


def test_template_filled_in_passes_the_data_check_and_sizes_the_head(shapes, tmp_path):
    cfg = _filled(tmp_path, shapes, SHAPE_CLASSES)
    assert cfg.model.bbox_head.num_classes == len(SHAPE_CLASSES)
    assert cfg.train_dataloader.dataset.dataset.metainfo.classes == SHAPE_CLASSES
    check_detection_data(cfg)


def test_template_as_shipped_names_the_missing_folder(tmp_path):
    cfg = Config.fromfile(TEMPLATE)
    with pytest.raises(FileNotFoundError, match='data/custom'):
        check_detection_data(cfg)


def test_template_with_classes_the_json_lacks_is_refused(shapes, tmp_path):
    cfg = _filled(tmp_path, shapes, ('cat', 'dog'))
    with pytest.raises(ValueError, match='cat'):
        check_detection_data(cfg)

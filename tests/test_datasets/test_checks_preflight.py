"""Pre-flight checks of a detection config's data: clear errors on bad data
before training."""
import copy
import json

import pytest

pytest.importorskip('mmdet')
from mnext_det.datasets.checks.preflight import DataCheckError, check_detection_data  # noqa

from ..conftest import _config  # noqa: E402


def test_bad_data_errors_name_the_problem(shapes, tmp_path):
    cfg = _config(shapes, 'coco', tmp_path)
    missing = copy.deepcopy(cfg)
    missing.train_dataloader.dataset.data_root = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match='train_dataloader.dataset.data_root.*nowhere'):
        check_detection_data(missing)
    voc_xml = copy.deepcopy(cfg)
    not_coco = tmp_path / 'labels.json'
    not_coco.write_text(json.dumps([{'file': 'a.jpg', 'box': [1, 2, 3, 4]}]))
    voc_xml.train_dataloader.dataset.ann_file = str(not_coco)
    with pytest.raises(DataCheckError, match='not a COCO annotation file'):
        check_detection_data(voc_xml)
    wrong = copy.deepcopy(cfg)
    wrong.model.bbox_head.num_classes = 5
    with pytest.raises(DataCheckError, match='num_classes is 5 but .* has 6 classes'):
        check_detection_data(wrong)
    # a config may name the dataset class itself instead of its registry string
    from mmdet.datasets import CocoDataset
    wrong.train_dataloader.dataset.type = CocoDataset
    with pytest.raises(DataCheckError, match='num_classes is 5 but train_dataloader'):
        check_detection_data(wrong, splits=('train', ))
    voc = _config(shapes, 'voc', tmp_path)
    voc.model.bbox_head.num_classes = 20
    with pytest.raises(DataCheckError, match='num_classes is 20'):
        check_detection_data(voc)

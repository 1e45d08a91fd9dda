"""The test input size is read in one place, in mmcv's (w, h) order, and its
absence is an error, not a silent default."""
import pytest
from mmengine.config import Config

from mnext_det.datasets.pipeline_info import input_size_of
from mnext_det.deploy.builder import default_input_size


def _cfg(*pipeline):
    return Config(dict(test_dataloader=dict(dataset=dict(pipeline=list(pipeline)))))


def test_input_size_is_width_height_and_the_export_size_height_width():
    cfg = _cfg(dict(type='LoadImageFromFile'), dict(type='Resize', scale=(320, 240)))
    assert input_size_of(cfg) == (320, 240)
    assert default_input_size(cfg, 'detector') == (240, 320)
    assert input_size_of(_cfg(dict(type='Resize', scale=160))) == (160, 160)
    assert default_input_size(None, 'classifier') == (224, 224)


def test_a_pipeline_without_resize_is_named():
    cfg = _cfg(dict(type='LoadImageFromFile'))
    with pytest.raises(KeyError, match='test_dataloader.dataset.pipeline has no Resize'):
        input_size_of(cfg)
    with pytest.raises(ValueError, match='pass --input-size'):
        default_input_size(cfg, 'detector')


def test_a_scoped_or_class_resize_is_read():
    from mmdet.datasets.transforms import Resize
    assert input_size_of(_cfg(dict(type='mmdet.Resize', scale=(200, 100)))) == (200, 100)
    assert input_size_of(_cfg(dict(type=Resize, scale=96))) == (96, 96)

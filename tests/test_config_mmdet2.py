"""config_mmdet2: an mmdet 2.x key is named with its mmdet 3 place, and a
config that sets one is refused; every place it names is a key an option may
set in the shipped configs; of mmdet's own configs only its leftover mmdet
2.x file is refused."""
import os.path as osp

import pytest
from mmengine.config import Config

from mnext_det.config_file import merge_options, read_config
from mnext_det.config_mmdet2 import MMDET2_KEYS, mmdet3_key, refuse_mmdet2_keys

from .test_config_file import COCO, DEMO, _mmdet_configs


def test_mmdet3_key_rewrites_the_longest_known_prefix():
    assert mmdet3_key('data.train.pipeline.0.type') == 'train_dataloader.dataset.pipeline.0.type'
    assert mmdet3_key('runner.max_epochs') == 'train_cfg.max_epochs'
    assert mmdet3_key('lr_config.step') == MMDET2_KEYS['lr_config']  # no key path to extend
    assert mmdet3_key('train_cfg.max_epochs') is None and mmdet3_key('runner') is None


def test_the_mmdet3_keys_named_for_mmdet2_keys_are_merged():
    """Each mmdet 3 key the refusal of an mmdet 2.x option names is one an
    option may set in the shipped configs."""
    keys = [k for k in MMDET2_KEYS.values() if ' ' not in k]
    assert len(keys) > 15
    for config in (DEMO, COCO):
        for key in keys:
            cfg = read_config(config)
            node = cfg
            for part in key.split('.'):
                node = node.get(part) if isinstance(node, dict) else None
            merge_options(cfg, {key: 1 if node is None else node}, config)


@pytest.mark.slow
def test_only_mmdets_leftover_mmdet2_config_is_refused_for_its_mmdet2_keys():
    """Of mmdet's configs, the one that still sets mmdet 2.x keys
    (guided_anchoring's Fast R-CNN, which mmdet 3.3.0 cannot build either) is
    the one refused for them."""
    refused = []
    for path, config in _mmdet_configs():
        try:
            refuse_mmdet2_keys(Config(config), path)
        except ValueError as e:
            refused.append((osp.basename(path), str(e).split(': ', 2)[2]))
    assert refused == [('ga-fast-rcnn_r50-caffe_fpn_1x_coco.py',
                        'data.train (train_dataloader.dataset); data.val '
                        '(val_dataloader.dataset); data.test (test_dataloader.dataset); '
                        'optimizer_config.grad_clip (optim_wrapper.clip_grad); set them there '
                        'instead')]

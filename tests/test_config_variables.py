"""config_variables: a variable that a config file sets after a base file used
it is named with the keys it does not reach (mmengine merged the keys and
the run kept the base's epochs or data without a word); a file that sets
those keys too, by a dict or ``_base_.a.b = ...``, or that sets the same value,
is not. read_config warns; the tools print the warning as one line."""
import glob
import os.path as osp
import warnings

import pytest

from mnext_det.config_file import RUNTIME_KEYS, read_config
from mnext_det.config_variables import UnreachedVariableWarning, unreached_variables

from .conftest import ROOT

_BASE = """max_epochs = 10
data_root = 'data/a/'
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
param_scheduler = [dict(type='CosineAnnealingLR', T_max=max_epochs)]
val_dataloader = dict(batch_size=1, dataset=dict(data_root=data_root, ann_file='val.json'))
test_dataloader = val_dataloader
last_epochs = max_epochs // 2
"""


def _write(folder, **files):
    for name, text in files.items():
        (folder / f'{name}.py').write_text(text)
    return str(folder / 'child.py')


def test_a_variable_the_base_used_is_named_with_the_keys_it_does_not_reach(tmp_path):
    child = _write(tmp_path, base=_BASE,
                   child="_base_ = './base.py'\nmax_epochs = 12\ndata_root = 'data/b/'\n")
    base = str(tmp_path / 'base.py')
    # last_epochs is computed from it too, but no run reads it
    assert unreached_variables(child, RUNTIME_KEYS) == [
        f'max_epochs = 12 does not reach train_cfg.max_epochs, param_scheduler ({base} computed '
        'them from its own max_epochs = 10 when it was read)',
        f"data_root = 'data/b/' does not reach val_dataloader.dataset.data_root, test_dataloader "
        f"({base} computed them from its own data_root = 'data/a/' when it was read)"]


def test_a_pipeline_set_without_its_dataloader_is_named(tmp_path):
    """mmdet's most asked-about case: the new train_pipeline never reaches
    the dataloader that the base built from its own (a long value is named,
    not quoted)."""
    child = _write(tmp_path,
                   base="train_pipeline = [dict(type='LoadImageFromFile')]\n"
                        "train_dataloader = dict(dataset=dict(pipeline=train_pipeline))\n",
                   child="_base_ = './base.py'\ntrain_pipeline = [dict(type='LoadImageFromFile'), "
                         "dict(type='RandomFlip', prob=0.5)]\n")
    assert unreached_variables(child, RUNTIME_KEYS) == [
        f'train_pipeline does not reach train_dataloader.dataset.pipeline ({tmp_path}/base.py '
        "computed them from its own train_pipeline = [dict(type='LoadImageFromFile')] when it "
        'was read)']


@pytest.mark.parametrize('child', [
    # the keys set again: a dict merged key by key, a list replaced, _base_.a.b = ...
    "max_epochs = 12\ntrain_cfg = dict(max_epochs=max_epochs)\nparam_scheduler = []\n"
    "data_root = 'data/b/'\n_base_.val_dataloader.dataset.data_root = data_root\n"
    "test_dataloader = dict(dataset=dict(_delete_=True, data_root=data_root))\n",
    # the same value again
    "max_epochs = 10\ndata_root = 'data/a/'\n",
])
def test_a_variable_whose_keys_are_set_again_is_not_named(tmp_path, child):
    path = _write(tmp_path, base=_BASE, child="_base_ = './base.py'\n" + child)
    assert unreached_variables(path, RUNTIME_KEYS) == []
    assert read_config(path).val_dataloader.dataset.data_root in ('data/a/', 'data/b/')


def test_a_file_between_the_child_and_the_base_may_set_the_keys(tmp_path):
    child = _write(tmp_path, base=_BASE,
                   middle="_base_ = './base.py'\ntrain_cfg = dict(max_epochs=12)\n"
                          "param_scheduler = []\n",
                   child="_base_ = ['./middle.py']\nmax_epochs = 12\n")
    assert unreached_variables(child, RUNTIME_KEYS) == []


def test_a_variable_set_in_a_file_between_is_named_with_that_file(tmp_path):
    """The user's own base over ours sets max_epochs, an experiment file over
    it sets something else: reading the experiment names the middle file."""
    child = _write(tmp_path, base=_BASE, middle="_base_ = './base.py'\nmax_epochs = 12\n",
                   child="_base_ = './middle.py'\noptim_wrapper = dict(optimizer=dict(lr=0.1))\n")
    assert unreached_variables(child, RUNTIME_KEYS) == [
        f'max_epochs = 12 (set in {tmp_path}/middle.py) does not reach train_cfg.max_epochs, '
        f'param_scheduler ({tmp_path}/base.py computed them from its own max_epochs = 10 when it '
        'was read)']
    # the experiment file setting the variable too: one line, the experiment file's
    (tmp_path / 'child.py').write_text("_base_ = './middle.py'\nmax_epochs = 12\n")
    assert [line.split(' (')[0] for line in unreached_variables(child, RUNTIME_KEYS)] == [
        'max_epochs = 12 does not reach train_cfg.max_epochs, param_scheduler']
    # the experiment file setting the keys again reaches them
    (tmp_path / 'child.py').write_text("_base_ = './middle.py'\ntrain_cfg = dict(max_epochs=12)\n"
                                       'param_scheduler = []\n')
    assert unreached_variables(child, RUNTIME_KEYS) == []


def test_a_base_in_the_installed_mmdet_is_followed(tmp_path):
    """``mmdet::`` names a file in the installed mmdet's configs: its
    ``max_epochs = 120`` computed train_cfg and the cosine schedule."""
    mmdet = pytest.importorskip('mmdet')
    base = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', 'ssd',
                    'ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py')
    child = _write(tmp_path, child="_base_ = 'mmdet::ssd/ssdlite_mobilenetv2-scratch_8xb24-600e"
                   "_coco.py'\nmax_epochs = 12\n")
    assert unreached_variables(child, RUNTIME_KEYS) == [
        f'max_epochs = 12 does not reach train_cfg.max_epochs, param_scheduler ({base} computed '
        'them from its own max_epochs = 120 when it was read)']


def test_read_config_warns_and_the_tools_print_one_line(tmp_path, capsys):
    from mnext_det.tool_errors import tool_status
    child = _write(tmp_path, base=_BASE, child="_base_ = './base.py'\nmax_epochs = 12\n")
    with pytest.warns(UnreachedVariableWarning, match=r'child\.py: max_epochs = 12 does not '
                      r'reach train_cfg\.max_epochs, param_scheduler .*; set them in .*child\.py '
                      r"too, or the run keeps the base file's values$"):
        assert read_config(child).train_cfg.max_epochs == 10

    def main():
        read_config(child)
        warnings.warn('another warning')
    with pytest.warns(UserWarning, match='^another warning$'):  # others shown as before
        assert tool_status(main) == 0
    assert capsys.readouterr().err.startswith(f'warning: {child}: max_epochs = 12 does not '
                                              'reach ')


def test_no_shipped_config_sets_a_variable_its_base_used():
    configs = glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    assert len(configs) > 40
    assert {c: unreached_variables(c, RUNTIME_KEYS) for c in configs
            if unreached_variables(c, RUNTIME_KEYS)} == {}


@pytest.mark.slow
def test_over_mmdets_configs_only_these_are_named():
    """Over mmdet 3.3.0's configs: simple_copy_paste's 90k configs set
    max_iters = 90000 and train 270000 iterations (train_cfg keeps the base's),
    the MOT20 configs validate at the base's img_scale, strong_baselines' and
    guided_anchoring's own pipelines go unused, and mm_grounding_dino's
    pretraining configs change data_root for training or pseudo-labelling and
    validate on the base's dataset (on purpose: hence a warning, not an
    error). The configs over them are named too, each line naming the file
    above that set the variable."""
    mmdet = pytest.importorskip('mmdet')
    root = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs')
    lines = {osp.relpath(c, root): unreached_variables(c, RUNTIME_KEYS)
             for c in glob.glob(osp.join(root, '*', '*.py'))}
    named = {c: {line.split(' ')[0] for line in found if ' (set in ' not in line}
             for c, found in lines.items()}
    inherited = {osp.relpath(line.split(' (set in ')[1].split(')')[0], root)
                 for found in lines.values() for line in found if ' (set in ' in line}
    assert len(inherited) == 3 and inherited <= {c for c, v in named.items() if v}
    assert {c: v for c, v in named.items() if v} == {
        'simple_copy_paste/mask-rcnn_r50_fpn_rpn-2conv_4conv1fc_syncbn-all_32xb2-ssj-90k_coco.py':
            {'max_iters'},
        'simple_copy_paste/mask-rcnn_r50_fpn_rpn-2conv_4conv1fc_syncbn-all_32xb2-ssj-scp-90k_'
        'coco.py': {'max_iters'},
        'strongsort/yolox_x_8xb4-80e_crowdhuman-mot20train_test-mot20test.py': {'img_scale'},
        'bytetrack/bytetrack_yolox_x_8xb4-80e_crowdhuman-mot20train_test-mot20test.py':
            {'img_scale'},
        'strong_baselines/mask-rcnn_r50-caffe_fpn_rpn-2conv_4conv1fc_syncbn-all_lsj-100e_coco.py':
            {'test_pipeline'},
        'guided_anchoring/ga-fast-rcnn_r50-caffe_fpn_1x_coco.py': {'train_pipeline',
                                                                   'test_pipeline'},
        'mm_grounding_dino/grounding_dino_swin-t_pretrain_obj365.py': {'dataset_type',
                                                                      'data_root'},
        'mm_grounding_dino/grounding_dino_swin-t_pretrain_pseudo-labeling_cat.py': {'data_root'},
        'mm_grounding_dino/grounding_dino_swin-t_pretrain_pseudo-labeling_flickr30k.py':
            {'data_root'},
    }

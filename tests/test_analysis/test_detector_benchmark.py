"""detector_benchmark variants: what each row changes in the detector it times."""
import os.path as osp

import pytest
import torch

from ..conftest import ROOT

pytest.importorskip('mmdet')
from mmdet.models.dense_heads import AnchorHead  # noqa: E402

from mnext_det.analysis.detector_benchmark import Variant, _prepare  # noqa: E402
from mnext_det.models.heads import SSDLiteHead  # noqa: E402

DEMO_NEXT = osp.join(ROOT, 'configs', 'demo', 'ssdlite_mobilenext-050_1xb8-10e_shapes-160.py')


def test_mmdet_anchors_row_rebuilds_the_anchors_every_step():
    kept = _prepare(Variant(DEMO_NEXT), 2, 'cpu')
    rebuilt = _prepare(Variant(DEMO_NEXT, mmdet_anchors=True), 2, 'cpu')
    assert kept.model.bbox_head.get_anchors.__func__ is SSDLiteHead.get_anchors
    assert rebuilt.model.bbox_head.get_anchors.__func__ is AnchorHead.get_anchors
    assert rebuilt.name == kept.name + ' (mmdet_anchors)'
    rebuilt.model.train()
    rebuilt.model.train_step(rebuilt.data, rebuilt.optim)
    assert not rebuilt.model.bbox_head._anchor_cache


def test_mmdet_loss_row_computes_the_loss_image_by_image():
    batch = _prepare(Variant(DEMO_NEXT), 2, 'cpu')
    per_image = _prepare(Variant(DEMO_NEXT, mmdet_loss=True), 2, 'cpu')
    assert batch.model.bbox_head.batch_loss and not per_image.model.bbox_head.batch_loss
    assert per_image.name == batch.name + ' (mmdet_loss)'
    for bench, kind in ((batch, torch.Tensor), (per_image, list)):
        bench.model.train()
        losses = bench.model.loss(*bench.model.data_preprocessor(bench.data, True).values())
        assert isinstance(losses['loss_cls'], kind)


def test_the_train_ratio_is_printed_with_its_per_round_spread():
    from mnext_det.analysis.detector_benchmark import format_table
    from mnext_det.analysis.timing import paired_ratio
    base = [0.10, 0.20, 0.10, 0.10]  # step seconds; round 2: the machine twice as slow
    paired = paired_ratio(base, [0.11, 0.22, 0.11, 0.125])  # base step / step: speed
    row = dict(name='b', input='160x160', params_M=1.7, train_img_s=70., train_img_s_p10=60.,
               train_img_s_p90=75., forward_ms=9., predict_ms=15.)
    rows = [dict(row, name='a', train_ratio=1., train_ratio_p10=1., train_ratio_p90=1.),
            dict(row, train_ratio=paired.median, train_ratio_p10=paired.p10,
                 train_ratio_p90=paired.p90)]
    table = format_table(rows, 1, 8)
    assert '| a | 160x160 | 1.70 | 70.0 (60.0-75.0) (x1.00) |' in table
    assert f'| b | 160x160 | 1.70 | 70.0 (60.0-75.0) (x0.91, {paired.p10:.2f}-0.91) |' in table


def test_fused_bn_row_trains_with_the_fused_batch_norm():
    from torch import nn

    from mnext_det.engine import FusedBatchNormAct2d
    plain = _prepare(Variant(DEMO_NEXT, channels_last=True), 2, 'cpu')
    fused = _prepare(Variant(DEMO_NEXT, channels_last=True, fused_bn=True), 2, 'cpu')
    assert fused.name == plain.name + ' (fused_bn)'
    assert not any(isinstance(m, FusedBatchNormAct2d) for m in plain.model.modules())
    assert all(type(m) is not nn.BatchNorm2d for m in fused.model.modules())
    fused.model.train()
    assert fused.model.train_step(fused.data, fused.optim)['loss'].isfinite()


@pytest.mark.parametrize('option, swapped', [('pointwise_matmul', 'MatmulPointwiseConv2d'),
                                              ('depthwise_kernel', 'KernelDepthwiseConv2d')])
def test_an_option_row_trains_with_its_fast_path(option, swapped):
    import mnext_det.engine
    cls = getattr(mnext_det.engine, swapped)
    plain = _prepare(Variant(DEMO_NEXT, channels_last=True), 2, 'cpu')
    fast = _prepare(Variant(DEMO_NEXT, channels_last=True, **{option: True}), 2, 'cpu')
    assert fast.name == plain.name + f' ({option})'
    assert not any(isinstance(m, cls) for m in plain.model.modules())
    assert any(isinstance(m, cls) for m in fast.model.modules())
    fast.model.train()
    assert fast.model.train_step(fast.data, fast.optim)['loss'].isfinite()


def test_depthwise_separate_row_runs_the_conv_and_its_batch_norm_as_two_ops():
    from mnext_det.engine import DepthwiseNormSequential, KernelDepthwiseConv2d
    base = Variant(DEMO_NEXT, channels_last=True, fused_bn=True, depthwise_kernel=True)
    one_op = _prepare(base, 2, 'cpu')
    two_ops = _prepare(base._replace(depthwise_separate=True), 2, 'cpu')
    assert two_ops.name == one_op.name + ' (depthwise_separate)'
    assert any(type(m) is DepthwiseNormSequential for m in one_op.model.modules())
    assert not any(type(m) is DepthwiseNormSequential for m in two_ops.model.modules())
    assert any(type(m) is KernelDepthwiseConv2d for m in two_ops.model.modules())
    two_ops.model.train()
    assert two_ops.model.train_step(two_ops.data, two_ops.optim)['loss'].isfinite()


def test_rows_that_differ_in_one_thing_are_compared_round_by_round():
    from mnext_det.analysis.detector_benchmark import format_pairs
    steps = {  # step seconds; round 2: the machine twice as slow
        (DEMO_NEXT, False): [0.10, 0.20, 0.10],
        (DEMO_NEXT, True): [0.08, 0.16, 0.08],
        ('other.py', False): [0.12, 0.24, 0.12],
        ('other.py', True): [0.10, 0.20, 0.10]}
    rows = [dict(name=f'{cfg} {kernel}', variant=Variant(cfg, depthwise_kernel=kernel),
                 step_s=times) for (cfg, kernel), times in steps.items()]
    table = format_pairs(rows).splitlines()
    pairs = [line for line in table if line.startswith('| ') and 'against' not in line]
    # each kernel row against its plain row, each config against the first with the same option
    assert pairs == [f'| {DEMO_NEXT} True | {DEMO_NEXT} False | x1.250 (1.250-1.250) |',
                     f'| other.py False | {DEMO_NEXT} False | x0.833 (0.833-0.833) |',
                     f'| other.py True | {DEMO_NEXT} True | x0.800 (0.800-0.800) |',
                     '| other.py True | other.py False | x1.200 (1.200-1.200) |']
    assert format_pairs(rows[:1]) == ''

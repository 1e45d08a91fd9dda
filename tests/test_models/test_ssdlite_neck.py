"""SSDLiteNeck: mmdet's SSDNeck without the feed input, the feed input, and the
sandglass extra layers."""
import pytest
import torch

pytest.importorskip('mmdet')
from mmdet.models.necks import SSDNeck  # noqa: E402

from mnext_det.models.necks import SandglassExtraLayer, SSDLiteNeck  # noqa: E402


NECK = dict(in_channels=(16, 32), out_channels=(16, 32, 24, 16), level_strides=(2, 2),
            level_paddings=(1, 1), l2_norm_scale=None, use_depthwise=True,
            norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU6'))


def test_neck_equals_ssdneck_without_feed_input():
    torch.manual_seed(0)
    ours, theirs = SSDLiteNeck(**NECK).eval(), SSDNeck(**NECK).eval()
    theirs.load_state_dict(ours.state_dict())
    x = (torch.rand(2, 16, 8, 8), torch.rand(2, 32, 4, 4))
    for a, b in zip(ours(x), theirs(x)):
        torch.testing.assert_close(a, b)


def test_neck_feed_input_only_feeds_extra_layers():
    neck = SSDLiteNeck(**NECK).eval()
    taps = (torch.rand(1, 16, 8, 8), torch.rand(1, 32, 4, 4))
    out_a = neck(taps + (torch.rand(1, 32, 4, 4), ))
    out_b = neck(taps + (torch.rand(1, 32, 4, 4), ))
    assert [o.shape[1] for o in out_a] == [16, 32, 24, 16]
    torch.testing.assert_close(out_a[1], taps[1])  # the tap goes to the head
    assert not torch.allclose(out_a[2], out_b[2])  # extras start from the feed
    with pytest.raises(ValueError, match='expected 2 or 3'):
        neck(taps[:1])


def test_sandglass_extra_layers_follow_the_authors():
    neck = SSDLiteNeck(**dict(NECK, out_channels=(16, 32, 24, 16)), extra_type='sandglass',
                       sandglass_ratios=(0.25, 0.5)).eval()
    first = neck.extra_layers[0]
    assert isinstance(first, SandglassExtraLayer)
    dw, reduce, expand = first
    assert dw.conv.groups == 32 and dw.conv.stride == (2, 2) and dw.activate is not None
    assert reduce.conv.out_channels == 8 and not reduce.with_activation
    assert expand.conv.out_channels == 24 and expand.activate is not None
    outs = neck((torch.rand(1, 16, 8, 8), torch.rand(1, 32, 4, 4)))
    assert [tuple(o.shape[1:]) for o in outs] == [(16, 8, 8), (32, 4, 4), (24, 2, 2),
                                                   (16, 1, 1)]
    with pytest.raises(ValueError, match='sandglass_ratios'):
        SSDLiteNeck(**NECK, extra_type='sandglass', sandglass_ratios=(0.2, ))
    with pytest.raises(ValueError, match='extra_type'):
        SSDLiteNeck(**NECK, extra_type='fpn')


def test_inputs_unlike_in_channels_name_the_options_that_fit():
    """A backbone's widen_factor changed alone: the error gives the three
    options for these channels, as --cfg-options takes them."""
    neck = SSDLiteNeck(**NECK).eval()
    with pytest.raises(ValueError) as info:
        neck((torch.rand(1, 24, 8, 8), torch.rand(1, 48, 4, 4), torch.rand(1, 48, 4, 4)))
    assert str(info.value) == (
        'SSDLiteNeck inputs have (24, 48) channels, in_channels says (16, 32) (a backbone option '
        'changed alone?): for these inputs set model.neck.in_channels="(24, 48)" '
        'model.neck.out_channels="(24, 48, 24, 16)" model.bbox_head.in_channels="(24, 48, 24, 16)"')
    with pytest.raises(ValueError, match='feed input has 40 channels, the last head input 32'):
        neck((torch.rand(1, 16, 8, 8), torch.rand(1, 32, 4, 4), torch.rand(1, 40, 4, 4)))

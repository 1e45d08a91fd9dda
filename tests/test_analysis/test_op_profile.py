"""Charging profiled ops to their kind: convolutions by their weight's shape."""
import pytest

from mnext_det.analysis.op_profile import op_kind


def test_convolutions_are_told_apart_by_weight_shape():
    assert op_kind('aten::_slow_conv2d_forward', [96, 1, 3, 3]) == 'depthwise conv 3x3'
    assert op_kind('aten::mkldnn_convolution', [288, 48, 1, 1]) == 'pointwise conv 1x1'
    assert op_kind('aten::convolution_backward', [16, 3, 3, 3]) == 'dense conv 3x3'
    assert op_kind('aten::convolution', []) == 'conv (other)'


def test_other_ops_by_name():
    assert op_kind('aten::native_batch_norm_backward', None) == 'batch norm'
    assert op_kind('aten::hardtanh_backward', None) == 'activation'
    assert op_kind('aten::add_', None) == 'elementwise'
    assert op_kind('aten::copy_', None) == 'copy / layout'
    assert op_kind('aten::index', None) == 'other'


def test_activation_traffic_counts_real_passes_not_views():
    import torch
    import torch.nn as nn

    from mnext_det.analysis.op_profile import activation_traffic

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
            self.bn = nn.BatchNorm2d(8)

        def forward(self, x):
            out = self.bn(self.dw(x))
            out[:, :4].add_(x[:, :4])  # a partial shortcut: views are free
            return out

    mb = activation_traffic(Net(), torch.zeros(2, 8, 10, 10))
    per_tensor = 8 * 10 * 10 * 4 / 1e6  # one (8, 10, 10) float32 image
    assert mb['depthwise conv 3x3'] == pytest.approx(2 * per_tensor)
    assert mb['batch norm'] == pytest.approx(2 * per_tensor)
    assert mb['elementwise'] == pytest.approx(1.5 * per_tensor)  # reads 2 halves, writes 1
    assert set(mb) == {'depthwise conv 3x3', 'batch norm', 'elementwise'}

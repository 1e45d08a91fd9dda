"""Charging profiled ops to their kind: convolutions by their weight's shape."""
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

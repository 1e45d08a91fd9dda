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


def test_training_traffic_charges_each_backward_to_its_kind():
    import torch
    import torch.nn as nn

    from mnext_det.analysis.op_profile import training_traffic

    dw = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
    bn = nn.BatchNorm2d(8)
    x = torch.randn(2, 8, 10, 10, requires_grad=True)
    mb = training_traffic(lambda: bn(dw(x)).sum())
    tensor = 2 * 8 * 10 * 10 * 4 / 1e6  # one activation of the batch
    # forward: each op reads its input and writes its output
    assert mb['forward']['depthwise conv 3x3'] == pytest.approx(2 * tensor)
    assert mb['forward']['batch norm'] == pytest.approx(2 * tensor)
    # backward: the output gradient and the input in, the input gradient out
    assert mb['backward']['depthwise conv 3x3'] == pytest.approx(3 * tensor)
    assert mb['backward']['batch norm'] == pytest.approx(3 * tensor)


def test_format_memory_speed_divides_bytes_by_time():
    from mnext_det.analysis.op_profile import format_memory_speed

    traffic = [{'forward': {'batch norm': 100.0, 'activation': 50.0}}]
    profiles = [{'forward': {'batch norm': 20.0, 'activation': 2.5}}]
    table = format_memory_speed(['a'], profiles, traffic, bandwidth=20.0)
    assert "an add's 20.0 GB/s" in table
    assert '| forward | batch norm | 100.0 | 20.0 | 5.0 (25%) |' in table
    assert '| forward | activation | 50.0 | 2.5 | 20.0 (100%) |' in table
    assert table.index('batch norm |') < table.index('activation |')  # most MB first
    assert '| all | total | 150.0 | 22.5 | 6.7 (33%) |' in table


def test_format_byte_rate_gives_the_speed_at_equal_bytes_per_second():
    from mnext_det.analysis.op_profile import format_byte_rate

    traffic = [{'forward': {'batch norm': 60.0}, 'backward': {'batch norm': 40.0}},
               {'forward': {'batch norm': 80.0}, 'backward': {'batch norm': 45.0}}]
    table = format_byte_rate(['a', 'b'], traffic, [50.0, 62.5])
    assert '| a | 100.0 (x1.000) | 50.0 | 2.00 (x1.000) | 1.000x |' in table
    # 1.25x the bytes in 1.25x the time: the same GB/s, so 0.8x the speed
    assert '| b | 125.0 (x1.250) | 62.5 | 2.00 (x1.000) | 0.800x |' in table


def test_profiled_ops_are_charged_to_their_detector_phase_and_kind():
    from types import SimpleNamespace

    from mnext_det.analysis.op_profile import _STEP_LABEL, _charge

    def event(name, parent=None, us=0., shapes=None):
        return SimpleNamespace(name=name, cpu_parent=parent, self_cpu_time_total=us,
                               input_shapes=shapes)

    steps = [event(f'{_STEP_LABEL}{i}') for i in range(2)]
    forward0, backward1 = event('forward', steps[0]), event('backward', steps[1])
    conv = event('aten::convolution', forward0, 1., [[8, 96, 20, 20], [96, 1, 3, 3]])
    conv_bwd = event('aten::convolution_backward', backward1, 2.,
                     [[8, 96, 20, 20], [8, 96, 20, 20], [96, 1, 3, 3]])
    events = steps + [forward0, backward1, conv, conv_bwd,
                      event('aten::mkldnn_convolution', conv, 30.),
                      event('aten::native_batch_norm', forward0, 20.),
                      event('aten::native_batch_norm_backward', backward1, 40.),
                      event('aten::empty', event('aten::mkldnn_convolution', conv_bwd), 5.)]
    totals = _charge(events)
    assert totals[0] == {'forward': {'depthwise conv 3x3': 31., 'batch norm': 20.}}
    assert totals[1] == {'backward': {'depthwise conv 3x3': 7., 'batch norm': 40.}}

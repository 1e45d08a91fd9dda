"""In-place activations switched off before graph capture: same graph, same
outputs, the caller's model untouched."""
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from mnext_det.deploy.inplace import disable_inplace
from mnext_det.models.activations import InplaceReLU6

from ..tolerances import assert_float32_close, depth_and_fan_in


def _inplace_flags(model: nn.Module) -> list:
    return [m.inplace for m in model.modules() if hasattr(m, 'inplace')]


def _net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU6(inplace=True),
        ConvModule(8, 8, 3, padding=1, norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU6')),
        nn.Conv2d(8, 8, 1), InplaceReLU6(), nn.Conv2d(8, 4, 1), nn.ReLU(inplace=True)).eval()


def test_disable_inplace_clears_every_flag_and_keeps_outputs():
    net = _net()
    flags = _inplace_flags(net)
    assert len(flags) >= 4 and all(flags)  # ConvModule's own flag and its activation's
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        ref = net(x.clone())
        assert disable_inplace(net) is net
        out = net(x.clone())
    assert not any(_inplace_flags(net))
    torch.testing.assert_close(out, ref, rtol=0, atol=0)


def test_export_onnx_gives_the_graph_of_the_out_of_place_model(tmp_path):
    pytest.importorskip('onnxruntime')
    import onnx

    from mnext_det.deploy import OnnxRuntimeModel, export_onnx
    net = _net()
    plain = disable_inplace(_net())
    plain.load_state_dict(net.state_dict())
    shape = (1, 3, 16, 16)
    export_onnx(net, str(tmp_path / 'a.onnx'), shape, fold_bn=False)
    export_onnx(plain, str(tmp_path / 'b.onnx'), shape, fold_bn=False)
    assert all(_inplace_flags(net))  # exported from a copy
    ops = [[n.op_type for n in onnx.load(str(tmp_path / f)).graph.node]
           for f in ('a.onnx', 'b.onnx')]
    assert ops[0] == ops[1] and ops[0].count('Clip') == 3
    x = np.random.default_rng(0).standard_normal((3, 3, 16, 16)).astype(np.float32)
    a, b = (OnnxRuntimeModel(str(tmp_path / f))(x)[0] for f in ('a.onnx', 'b.onnx'))
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(a, b)
    assert_float32_close(a, ref, *depth_and_fan_in(net), what='ONNX Runtime against PyTorch')

"""compile_for_inference: BN folded, channels-last, inductor with frozen weights."""
import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mnext_det import create_model
from mnext_det.deploy import compile_for_inference

from ..tolerances import assert_float32_close, depth_and_fan_in
from .bn_stats import random_bn

pytestmark = pytest.mark.schedule_first


@pytest.mark.parametrize('multiplier', [1.0, 0.5])
def test_compiled_model_keeps_the_outputs_and_leaves_the_model_alone(multiplier):
    torch._dynamo.reset()
    model = random_bn(create_model('mobilenext_035', identity_tensor_multiplier=multiplier))
    torch.nn.init.normal_(model.classifier[1].weight, std=0.05)
    x = torch.randn(2, 3, 64, 64)
    depth, fan_in = depth_and_fan_in(model)
    run = compile_for_inference(model)
    with torch.no_grad():
        ref = model(x)
    out = run(x)
    assert ref.abs().max() > 0.1
    assert_float32_close(out, ref, depth, fan_in, what='compiled classifier logits')
    assert not out.requires_grad
    assert any(isinstance(m, _BatchNorm) for m in model.modules())  # folded a copy
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous()  # not made channels-last
    assert_float32_close(run(x[:1]), ref[:1], depth, fan_in, what='new batch size')

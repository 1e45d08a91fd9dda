"""A MobileNeXt classifier and a copy that a training fast-path hook changed,
for the hooks' tests: same state_dict, evaluation bit-identical."""
import copy
from types import SimpleNamespace
from typing import Tuple

import torch
from mmengine.registry import HOOKS
from torch import nn

from mnext_det.engine import to_channels_last
from mnext_det.models.factory import create_model

from ..tolerances import TEST_SEED


def hooked_mobilenext(hook_type: str) -> Tuple[nn.Module, nn.Module, torch.Tensor]:
    """``(hooked, reference, x)``: ``mobilenext_035`` in channels-last, a copy
    after ``hook_type``'s ``before_run``, and a channels-last input batch;
    checks that the copy keeps the ``state_dict`` keys and evaluates ``x``
    bit-identically (before training moves the running statistics apart by
    rounding)."""
    torch.manual_seed(TEST_SEED)
    ref = create_model('mobilenext_035', num_classes=5)
    to_channels_last(ref)
    model = copy.deepcopy(ref)
    HOOKS.build(dict(type=hook_type)).before_run(SimpleNamespace(model=model))
    assert list(model.state_dict()) == list(ref.state_dict())
    x = torch.randn(4, 3, 64, 64).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        assert torch.equal(model.eval()(x), ref.eval()(x))
    return model, ref, x

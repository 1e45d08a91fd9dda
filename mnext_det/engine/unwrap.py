"""The model a runner trains or tests, without its distributed or
test-time augmentation wrapper."""
from mmengine.model import BaseTTAModel, is_model_wrapper
from torch import nn

__all__ = ['unwrap_model']


def unwrap_model(model: nn.Module) -> nn.Module:
    """``model.module`` for an mmengine model wrapper (DDP, FSDP, ours) or
    test-time augmentation model (``tools/test.py --tta``), else ``model``."""
    return model.module if is_model_wrapper(model) or isinstance(model, BaseTTAModel) else model

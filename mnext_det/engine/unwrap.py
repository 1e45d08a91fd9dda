"""The model a runner trains, without its distributed wrapper."""
from mmengine.model import is_model_wrapper
from torch import nn

__all__ = ['unwrap_model']


def unwrap_model(model: nn.Module) -> nn.Module:
    """``model.module`` for an mmengine model wrapper (DDP, FSDP, ours), else
    ``model``."""
    return model.module if is_model_wrapper(model) else model

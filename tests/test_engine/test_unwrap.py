"""unwrap_model: the bare model under an mmengine model wrapper."""
from mmengine.registry import MODEL_WRAPPERS
from torch import nn

from mnext_det.engine.unwrap import unwrap_model


@MODEL_WRAPPERS.register_module(name='_TestOnlyWrapper', force=True)
class _Wrapper(nn.Module):
    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module


def test_wrapped_models_are_unwrapped_and_bare_ones_kept():
    bare = nn.Linear(2, 2)
    assert unwrap_model(_Wrapper(bare)) is bare
    assert unwrap_model(bare) is bare

"""Switch in-place activations to out-of-place before graph capture."""
import torch.nn as nn

__all__ = ['disable_inplace']


def disable_inplace(module: nn.Module) -> nn.Module:
    """Set ``inplace=False`` on every submodule that has a boolean ``inplace``
    flag (``nn.ReLU6``, ``nn.ReLU``, :class:`~mnext_det.models.InplaceReLU6`,
    mmcv's activations), in place.

    The exported graph is the same (an in-place clip and an out-of-place one
    both become one ``Clip``) and so are its outputs, but ``torch.export``
    rewrites each in-place op into its functional form plus a copy back, with
    symbolic-shape checks on the dynamic batch dimension: half of the demo
    detector's ONNX export time (``docs/deploy.md``, "What the exporter does").

    Args:
        module: The model to change (export functions pass their own copy).

    Returns:
        ``module``.
    """
    for child in module.modules():
        if isinstance(getattr(child, 'inplace', None), bool):
            child.inplace = False
    return module

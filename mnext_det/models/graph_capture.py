"""Whether the forward running now is being captured into a graph."""
import torch

__all__ = ['capturing_graph']


def capturing_graph() -> bool:
    """True under ``torch.compile`` (dynamo, also ONNX/TFLite export through it)
    and TorchScript tracing: eager-only paths (in-place slice updates, custom
    autograd functions, C++ kernels) must then take torch's plain ops."""
    return torch.compiler.is_compiling() or torch.jit.is_tracing()

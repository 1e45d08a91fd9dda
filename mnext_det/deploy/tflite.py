"""TFLite export through litert-torch and a LiteRT (ai-edge-litert) runner.

Optional: ``pip install .[tflite]`` (litert-torch, ai-edge-litert). The
graph keeps PyTorch's NCHW input; litert-torch inserts the layout changes.
"""
import copy
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

from .fuse import fuse_conv_bn

__all__ = ['export_tflite', 'TFLiteModel']


def export_tflite(model: nn.Module, file: str, input_shape: Sequence[int] = (1, 3, 224, 224),
                  fold_bn: bool = True) -> str:
    """Convert ``model`` (a copy, eval mode, static ``input_shape``) to a
    ``.tflite`` file with ``litert_torch.convert``; returns ``file``.

    Raises:
        ImportError: litert-torch is not installed (``pip install .[tflite]``).
    """
    try:
        import litert_torch
    except ImportError as e:
        raise ImportError('TFLite export needs litert-torch: pip install .[tflite]') from e
    model = copy.deepcopy(model)
    model.eval()  # some mmdet backbones return None from train()
    if fold_bn:
        fuse_conv_bn(model)
    with torch.inference_mode(False):
        litert_torch.convert(model, (torch.zeros(*input_shape), )).export(file)
    return file


class TFLiteModel:
    """A ``.tflite`` file in the LiteRT interpreter (XNNPACK on CPU).

    Args:
        file: ``.tflite`` path.
        num_threads: Interpreter threads (None: LiteRT's default).
    """

    def __init__(self, file: str, num_threads: Optional[int] = None) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as e:
            raise ImportError('running TFLite needs ai-edge-litert: pip install .[tflite]') from e
        self.interpreter = Interpreter(model_path=file, num_threads=num_threads)
        self.runner = self.interpreter.get_signature_runner()
        self.input_name = next(iter(self.runner.get_input_details()))
        # litert-torch names outputs output_0, output_1, ... in PyTorch order.
        self.output_names = sorted(self.runner.get_output_details(),
                                   key=lambda name: int(name.rsplit('_', 1)[-1]))

    def __call__(self, x: np.ndarray) -> List[np.ndarray]:
        """Outputs, in PyTorch order, for an input of the exported shape."""
        outs = self.runner(**{self.input_name: np.ascontiguousarray(x, np.float32)})
        return [outs[name] for name in self.output_names]

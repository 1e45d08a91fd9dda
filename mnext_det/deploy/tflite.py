"""TFLite export through litert-torch and a LiteRT (ai-edge-litert) runner.

Optional: ``pip install .[tflite]`` (litert-torch, ai-edge-litert). The
graph keeps PyTorch's NCHW input; litert-torch inserts the layout changes.
A ``.tflite`` file holds no metadata of ours, so the export writes it (the
preprocessing, classes and post-processing the ONNX export stores) next to
it as ``<file>.json``, which :class:`TFLiteModel` reads.
"""
import copy
import json
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from .fuse import fuse_conv_bn
from .inplace import disable_inplace

__all__ = ['export_tflite', 'metadata_file', 'TFLiteModel']


def metadata_file(file: str) -> str:
    """The metadata file written next to the ``.tflite`` ``file``."""
    return file + '.json'


def export_tflite(model: nn.Module, file: str, input_shape: Sequence[int] = (1, 3, 224, 224),
                  fold_bn: bool = True, metadata: Optional[Dict[str, Any]] = None) -> str:
    """Convert ``model`` (a copy, eval mode, static ``input_shape``) to a
    ``.tflite`` file with ``litert_torch.convert``; returns ``file``. With
    ``metadata`` (:func:`mnext_det.deploy.prepare_export`'s) also writes it
    to :func:`metadata_file`.

    Raises:
        ModuleNotFoundError: litert-torch is not installed (``pip install .[tflite]``).
    """
    try:
        import litert_torch
    except ImportError as e:
        raise ModuleNotFoundError('TFLite export needs litert-torch: pip install .[tflite]',
                                  name=e.name) from e
    model = disable_inplace(copy.deepcopy(model))
    model.eval()  # some mmdet backbones return None from train()
    if fold_bn:
        fuse_conv_bn(model)
    with torch.inference_mode(False):
        litert_torch.convert(model, (torch.zeros(*input_shape), )).export(file)
    if metadata is not None:
        with open(metadata_file(file), 'w') as f:
            json.dump(metadata, f, indent=1)
    return file


class TFLiteModel:
    """A ``.tflite`` file in the LiteRT interpreter (XNNPACK on CPU), with the
    metadata of :func:`metadata_file` when the export wrote it (``meta``,
    ``{}`` otherwise).

    Args:
        file: ``.tflite`` path.
        num_threads: Interpreter threads (None: LiteRT's default).
    """

    def __init__(self, file: str, num_threads: Optional[int] = None) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as e:
            raise ModuleNotFoundError('running TFLite needs ai-edge-litert: pip install '
                                      '.[tflite]', name=e.name) from e
        if not osp.isfile(file):
            raise FileNotFoundError(f'TFLite file not found: {file}')
        self.file = file
        self.meta: Dict[str, Any] = {}
        meta_path = metadata_file(file)
        if osp.isfile(meta_path):
            with open(meta_path) as f:
                try:
                    self.meta = json.load(f)
                except json.JSONDecodeError as e:
                    raise ValueError(f'{meta_path}: not the JSON metadata '
                                     f'tools/deploy/export.py writes ({e})') from None
        try:
            self.interpreter = Interpreter(model_path=file, num_threads=num_threads)
        except ValueError as e:  # LiteRT's message does not name the file
            raise ValueError(f'{file}: LiteRT cannot load it ({e})') from None
        self.runner = self.interpreter.get_signature_runner()
        self.input_name = next(iter(self.runner.get_input_details()))
        # litert-torch names outputs output_0, output_1, ... in PyTorch order.
        self.output_names = sorted(self.runner.get_output_details(),
                                   key=lambda name: int(name.rsplit('_', 1)[-1]))

    def __call__(self, x: np.ndarray) -> List[np.ndarray]:
        """Outputs, in PyTorch order, for an input of the exported shape."""
        outs = self.runner(**{self.input_name: np.ascontiguousarray(x, np.float32)})
        return [outs[name] for name in self.output_names]

    def require_metadata(self) -> Dict[str, Any]:
        """:attr:`meta`; raises ``FileNotFoundError`` naming the metadata file
        when the export did not write one."""
        if not self.meta:
            raise FileNotFoundError(f'{metadata_file(self.file)} not found: the metadata '
                                    f'tools/deploy/export.py writes next to {self.file}')
        return self.meta

    def detect_batch(self, x: np.ndarray,
                     scale_factors: Sequence[Tuple[float, float]]) -> List[Dict[str, np.ndarray]]:
        """Detections in original-image pixels for a preprocessed batch, one
        ``(w_scale, h_scale)`` per image: the exported batch-1 graph image by
        image, post-processed in numpy as :class:`OnnxRuntimeModel` does."""
        from .onnx_export import require_detector
        from .postprocess import raw_detections
        require_detector(self.file, self.require_metadata())
        outputs = [self(x[i:i + 1]) for i in range(len(x))]
        boxes = np.concatenate([boxes for boxes, _ in outputs])
        scores = np.concatenate([scores for _, scores in outputs])
        return raw_detections(boxes, scores, scale_factors, self.meta)

"""Export PyTorch modules to ONNX with preprocessing metadata."""
import copy
import json
import os.path as osp
from typing import Any, Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from .fuse import fuse_conv_bn
from .inplace import disable_inplace

__all__ = ['METADATA_KEY', 'MIN_OPSET', 'export_onnx', 'load_onnx', 'metadata_of',
           'set_metadata', 'read_metadata', 'require_detector', 'require_task']

#: Key of the JSON metadata entry in ``ModelProto.metadata_props``.
METADATA_KEY = 'mnext_det'
#: The lowest ONNX opset :func:`export_onnx` writes.
MIN_OPSET = 17


def export_onnx(model: nn.Module,
                file: str,
                input_shape: Sequence[int] = (1, 3, 224, 224),
                output_names: Sequence[str] = ('output', ),
                input_name: str = 'input',
                dynamic_batch: bool = True,
                opset: int = 18,
                fold_bn: bool = True,
                metadata: Optional[Dict[str, Any]] = None) -> str:
    """Export ``model`` (on a copy, in eval mode) to an ONNX file.

    Uses ``torch.onnx.export(dynamo=True)``; the graph is checked with
    ``onnx.checker`` before it is written.

    Args:
        model: Module mapping one ``(N, 3, H, W)`` tensor to a tensor or a
            tuple of tensors.
        file: Output ``.onnx`` path.
        input_shape: Example input shape; H and W are fixed in the graph.
        output_names: One name per output.
        input_name: Name of the graph input. Default: ``'input'``.
        dynamic_batch: Make the batch dimension dynamic (``batch``); else
            it is fixed to ``input_shape[0]``. Default: True.
        opset: ONNX opset (>= :data:`MIN_OPSET`). Default: 18.
        fold_bn: Fold BN into convs first (:func:`fuse_conv_bn`). Default: True.
        metadata: JSON-serialisable dict stored under :data:`METADATA_KEY`
            (preprocessing, task, classes, post-processing settings).

    Returns:
        ``file``.
    """
    import onnx
    if opset < MIN_OPSET:
        raise ValueError(f'opset must be >= {MIN_OPSET}, got {opset}')
    if len(input_shape) != 4:
        raise ValueError(f'input_shape must be (N, C, H, W), got {tuple(input_shape)}')
    model = disable_inplace(copy.deepcopy(model))
    model.eval()  # some mmdet backbones return None from train()
    if fold_bn:
        fuse_conv_bn(model)
    example = torch.zeros(*input_shape)
    dynamic_shapes = ({0: torch.export.Dim('batch', min=1, max=1024)}, ) if dynamic_batch else None
    with torch.no_grad():
        with torch.inference_mode(False):
            program = torch.onnx.export(model, (example, ), input_names=[input_name],
                                        output_names=list(output_names), opset_version=opset,
                                        dynamo=True, dynamic_shapes=dynamic_shapes,
                                        verbose=False)
    proto = program.model_proto
    if metadata is not None:
        set_metadata(proto, metadata)
    onnx.checker.check_model(proto)
    onnx.save(proto, file)
    return file


def metadata_of(proto: Any) -> Tuple[Dict[str, Any], Dict[str, str]]:
    """``(metadata, other_props)`` of a loaded ``onnx.ModelProto``;
    ``metadata`` is ``{}`` if the key is absent."""
    props = {p.key: p.value for p in proto.metadata_props}
    return json.loads(props.pop(METADATA_KEY, '{}')), props


def set_metadata(proto: Any, metadata: Dict[str, Any]) -> None:
    """Store ``metadata`` under :data:`METADATA_KEY`, replacing an earlier entry."""
    entry = next((p for p in proto.metadata_props if p.key == METADATA_KEY), None)
    if entry is None:
        entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata)


def load_onnx(file: str) -> Any:
    """The ``onnx.ModelProto`` in ``file``, without external data.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not an ONNX model (truncated, corrupt or
            another format); the message names it.
    """
    import onnx
    from google.protobuf.message import DecodeError
    if not osp.isfile(file):
        raise FileNotFoundError(f'ONNX file not found: {file}')
    try:
        return onnx.load(file, load_external_data=False)
    except DecodeError as e:
        raise ValueError(f'{file}: not a readable ONNX model, truncated or corrupt ({e})') from None


def read_metadata(file: str) -> Tuple[Dict[str, Any], Dict[str, str]]:
    """Return ``(metadata, other_props)`` of an ONNX file written by
    :func:`export_onnx`; ``metadata`` is ``{}`` if the key is absent.
    Raises as :func:`load_onnx`."""
    return metadata_of(load_onnx(file))


def require_task(file: str, metadata: Dict[str, Any],
                 tasks: Sequence[str] = ('detector', )) -> None:
    """Refuse a model whose metadata is missing or names a task not in ``tasks``."""
    wanted = ' or '.join(repr(t) for t in tasks)
    if not metadata:
        raise ValueError(f'{file}: no {METADATA_KEY!r} metadata, so not a model written by '
                         f'tools/deploy/export.py (export a {wanted} with it)')
    if metadata.get('task') not in tasks:
        raise ValueError(f'{file}: metadata task={metadata.get("task")!r}, expected {wanted} '
                         '(export one with tools/deploy/export.py)')


def require_detector(file: str, metadata: Dict[str, Any]) -> None:
    """Refuse a model whose metadata does not describe a detector export."""
    require_task(file, metadata, ('detector', ))

"""INT8 post-training quantization of exported ONNX detectors with ONNX
Runtime's static quantization (QDQ, per-channel weights).

Calibration images come from the config's *train* split through its *test*
pipeline and the model's own normalisation (what the deployed model sees),
never from the split it is evaluated on. The exported metadata travels with
the quantized file. Needs mmdet and onnxruntime.
"""
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence

import numpy as np

__all__ = ['calibration_batches', 'calibration_source', 'float_by_design', 'quantize_detector']


def calibration_batches(model_file: str, config: str, meta: Dict, num_calib: int,
                        seed: int = 0,
                        cfg_options: Optional[Dict] = None) -> Iterator[np.ndarray]:
    """``num_calib`` train images (a seeded random sample) as normalised
    ``(1, 3, H, W)`` float32 inputs, for the detector ``model_file`` whose
    metadata is ``meta``.

    Raises:
        ValueError: before any image is read, when ``num_calib`` is not
            between 1 and the train split's size, or the model's classes or
            input size differ from the config's
            (:func:`~mnext_det.deploy.evaluate.check_model_matches_config`).
    """
    from mmengine.registry import DATASETS

    from ..datasets.checks.preflight import check_detection_data
    from ..datasets.pipeline_info import innermost_dataset, input_size_of
    from .builder import load_scoped_config
    from .evaluate import check_model_matches_config
    from .onnxruntime_model import normalize_loaded
    if num_calib <= 0:
        raise ValueError(f'--num-calib must be a positive number of images, got {num_calib}')
    cfg = load_scoped_config(config, cfg_options)
    check_detection_data(cfg, splits=('train', ))
    dataset_cfg = dict(innermost_dataset(cfg.train_dataloader.dataset),
                       pipeline=cfg.test_dataloader.dataset.pipeline, test_mode=True)
    dataset = DATASETS.build(dataset_cfg)
    width, height = input_size_of(cfg)
    check_model_matches_config(model_file, meta, config, dataset.metainfo['classes'],
                               [height, width])
    if num_calib > len(dataset):
        raise ValueError(f'--num-calib {num_calib} exceeds the {len(dataset)} images of the '
                         f'train split of {config}')
    order = np.random.default_rng(seed).permutation(len(dataset))[:num_calib]
    return (normalize_loaded(dataset[int(i)]['inputs'].numpy()[None], meta) for i in order)


def calibration_source(config: str, cfg_options: Optional[Dict] = None) -> str:
    """The annotation file of ``config``'s train split, which calibrates."""
    from ..datasets.pipeline_info import innermost_dataset
    from .builder import load_scoped_config
    ds = innermost_dataset(load_scoped_config(config, cfg_options).train_dataloader.dataset)
    root = ds.get('data_root') or ''
    return osp.join(root, ds['ann_file']) if ds.get('ann_file') else root


def float_by_design(proto) -> List[str]:
    """Nodes that stay float whatever is quantized: box decoding and score
    activation (run by ``SSDExportWrapper`` itself, per the exporter's node
    ``namespace``) and the NMS of end-to-end graphs (``nms/*``)."""
    names = []
    for node in proto.graph.node:
        namespace = {p.key: p.value for p in node.metadata_props}.get('namespace', '')
        scope = namespace.split('/')[-2] if '/' in namespace else ''
        if node.name.startswith('nms/') or scope.endswith('SSDExportWrapper'):
            names.append(node.name)
    return names


def quantize_detector(model_file: str, config: str, out: str, num_calib: int = 200,
                      exclude_nodes: Sequence[str] = (),
                      op_types: Sequence[str] = ('Conv', 'Clip', 'Add'),
                      seed: int = 0, cfg_options: Optional[Dict] = None) -> List[str]:
    """Write an INT8 QDQ copy of ``model_file`` to ``out``; returns the
    quantized node names. Convolutions, ReLU6 and residual adds are
    quantized (weights per output channel, int8; activations uint8), so
    activations stay int8 between convs; :func:`float_by_design` nodes and
    ``exclude_nodes`` stay float. ``cfg_options`` (``--cfg-options``) apply
    to the config that calibrates; its train file is recorded in the
    metadata's ``quantization.calibration``.

    Raises:
        ValueError: ``out`` is ``model_file`` (the float model would be
            overwritten), ``model_file`` is quantized already, or an
            ``exclude_nodes`` name is not a node of it.
    """
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)

    from .onnx_export import load_onnx, metadata_of, require_detector, set_metadata
    if osp.abspath(out) == osp.abspath(model_file):
        raise ValueError(f'{out}: the output would overwrite the float model it quantizes; '
                         'write it to another file')
    source = load_onnx(model_file)
    meta, _ = metadata_of(source)
    require_detector(model_file, meta)
    if 'quantization' in meta:
        raise ValueError(f'{model_file} is quantized already (its metadata has a quantization '
                         'entry; quantizing it again writes a graph ONNX Runtime cannot load): '
                         'quantize the float model it came from')
    unknown = sorted(set(exclude_nodes) - {n.name for n in source.graph.node})
    if unknown:
        raise ValueError(f'{model_file} has no node named {", ".join(map(repr, unknown))} '
                         f'(--float-nodes takes ONNX node names, e.g. '
                         f'{source.graph.node[0].name!r})')
    batches = calibration_batches(model_file, config, meta, num_calib, seed, cfg_options)
    input_name = source.graph.input[0].name
    keep_float = float_by_design(source) + list(exclude_nodes)

    class Reader(CalibrationDataReader):

        def get_next(self):
            x = next(batches, None)
            return None if x is None else {input_name: x}

    quantize_static(model_file, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    op_types_to_quantize=list(op_types), nodes_to_exclude=keep_float)
    proto = onnx.load(out)
    dequantized = {n.output[0] for n in proto.graph.node if n.op_type == 'DequantizeLinear'}
    quantized = [n.name for n in proto.graph.node
                 if n.op_type in op_types and n.name not in keep_float and
                 any(i in dequantized for i in n.input)]
    meta['quantization'] = dict(format='QDQ', weights='int8 per-channel',
                                activations='uint8', num_calib=num_calib, seed=seed,
                                op_types=list(op_types), float_nodes=list(exclude_nodes),
                                float_by_design=len(keep_float) - len(exclude_nodes),
                                quantized=len(quantized),
                                calibration=calibration_source(config, cfg_options))
    set_metadata(proto, meta)
    onnx.save(proto, out)
    return quantized

"""End-to-end detector graphs: ONNX ``NonMaxSuppression`` appended to the
raw boxes + scores graph of :class:`SSDExportWrapper`.

The appended nodes do what :func:`mnext_det.deploy.ssd_postprocess` does,
in input pixels and for a dynamic batch:

1. per feature level, keep the ``nms_pre`` best (anchor, class) scores
   (scores below the level's ``nms_pre``-th best are zeroed; ties at that
   value all stay);
2. drop boxes not wider and taller than ``min_bbox_size`` (0 in our configs;
   larger values are refused, since mmdet applies them in original-image
   pixels);
3. class-wise ``NonMaxSuppression`` with ``score > score_thr`` and
   ``IoU > iou_threshold`` suppressing;
4. the ``max_per_img`` best survivors, padded to exactly ``K = max_per_img``.

Outputs: ``dets (N, K, 5)`` (x1, y1, x2, y2, score) and ``labels (N, K)``
(int64), padding rows with score 0 and label -1. Rescaling to the original
image is a division by the resize factors and does not change IoUs, so it
is left to the caller.
"""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

__all__ = ['append_nms', 'add_nms_to_file']


def _const(name: str, value: Any, dtype=np.int64):
    from onnx import numpy_helper
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def append_nms(proto: Any, postprocess: Dict[str, Any], num_classes: int,
               boxes: str = 'boxes', scores: str = 'scores') -> Any:
    """Return ``proto`` (an ``onnx.ModelProto`` whose outputs are ``boxes``
    ``(N, A, 4)`` and ``scores`` ``(N, A, C)``) with the nodes above appended
    and ``dets``, ``labels`` as its only outputs.

    Args:
        proto: The raw detector graph.
        postprocess: :meth:`SSDExportWrapper.postprocess_config`.
        num_classes: ``C``.
        boxes: Name of the boxes output.
        scores: Name of the scores output.
    """
    from onnx import TensorProto, helper
    if postprocess.get('min_bbox_size', -1) > 0:
        raise ValueError(f'test_cfg.min_bbox_size={postprocess["min_bbox_size"]} is applied in '
                         'original-image pixels by mmdet; the end-to-end graph supports <= 0')
    levels: Sequence[int] = postprocess['level_sizes']
    num_anchors = int(sum(levels))
    k = int(postprocess['max_per_img'])
    k_total = min(k, num_anchors * num_classes)
    nms_pre = int(postprocess['nms_pre'])
    graph = proto.graph
    nodes: List[Any] = []
    inits = [
        _const('nms/zero', 0.0, np.float32),
        _const('nms/max_out', [k]),
        _const('nms/iou', [postprocess['iou_threshold']], np.float32),
        _const('nms/score_thr', [postprocess['score_thr']], np.float32),
        _const('nms/k', [k_total]), _const('nms/num_anchors', num_anchors),
        _const('nms/minus_one', -1), _const('nms/min_size', postprocess.get('min_bbox_size', 0),
                                            np.float32),
        _const('nms/shape_flat', [0, -1]),
        _const('nms/axis2', [2]), _const('nms/start0', [0]), _const('nms/start2', [2]),
        _const('nms/end2', [2]), _const('nms/end4', [4]),
    ]

    def node(op: str, inputs: List[str], outputs: List[str], **attrs: Any) -> None:
        name = outputs[0] if outputs[0].startswith('nms/') else f'nms/{outputs[0]}'
        nodes.append(helper.make_node(op, inputs, outputs, name=name, **attrs))

    # 1. per-level nms_pre: zero the scores below each level's nms_pre-th best
    kept = scores
    if nms_pre > 0 and any(size * num_classes > nms_pre for size in levels):
        parts, start = [], 0
        for i, size in enumerate(levels):
            name = f'nms/level{i}'
            inits += [_const(f'{name}/start', [start]), _const(f'{name}/end', [start + size]),
                      _const(f'{name}/axis', [1])]
            node('Slice', [scores, f'{name}/start', f'{name}/end', f'{name}/axis'],
                 [f'{name}/scores'])
            if size * num_classes > nms_pre:
                inits.append(_const(f'{name}/pre', [nms_pre]))
                node('Reshape', [f'{name}/scores', 'nms/shape_flat'], [f'{name}/flat'])
                node('TopK', [f'{name}/flat', f'{name}/pre'], [f'{name}/top', f'{name}/top_i'],
                     axis=1)
                inits.append(_const(f'{name}/last', [nms_pre - 1]))
                node('Gather', [f'{name}/top', f'{name}/last'], [f'{name}/kth'], axis=1)
                node('Unsqueeze', [f'{name}/kth', 'nms/axis2'], [f'{name}/kth3'])
                node('GreaterOrEqual', [f'{name}/scores', f'{name}/kth3'], [f'{name}/keep'])
                node('Where', [f'{name}/keep', f'{name}/scores', 'nms/zero'],
                     [f'{name}/kept'])
                parts.append(f'{name}/kept')
            else:
                parts.append(f'{name}/scores')
            start += size
        node('Concat', parts, ['nms/pre_scores'], axis=1)
        kept = 'nms/pre_scores'

    # 2. boxes must be wider and taller than min_bbox_size
    node('Slice', [boxes, 'nms/start0', 'nms/end2', 'nms/axis2'], ['nms/xy1'])
    node('Slice', [boxes, 'nms/start2', 'nms/end4', 'nms/axis2'], ['nms/xy2'])
    node('Sub', ['nms/xy2', 'nms/xy1'], ['nms/wh'])
    node('ReduceMin', ['nms/wh', 'nms/axis2'], ['nms/min_wh'], keepdims=1)
    node('Greater', ['nms/min_wh', 'nms/min_size'], ['nms/big'])
    node('Where', ['nms/big', kept, 'nms/zero'], ['nms/valid_scores'])

    # 3. class-wise NMS on (N, C, A) scores
    node('Transpose', ['nms/valid_scores'], ['nms/scores_t'], perm=[0, 2, 1])
    node('NonMaxSuppression', [boxes, 'nms/scores_t', 'nms/max_out', 'nms/iou',
                               'nms/score_thr'], ['nms/selected'])
    # 4. scatter the survivors' scores into a dense (N, C * A) map, take the top K
    node('Split', ['nms/selected'], ['nms/sel_b', 'nms/sel_c', 'nms/sel_a'], axis=1,
         num_outputs=3)
    node('GatherND', ['nms/scores_t', 'nms/selected'], ['nms/sel_scores'])
    node('Mul', ['nms/sel_c', 'nms/num_anchors'], ['nms/sel_c_off'])
    node('Add', ['nms/sel_c_off', 'nms/sel_a'], ['nms/sel_flat'])
    node('Concat', ['nms/sel_b', 'nms/sel_flat'], ['nms/sel_idx'], axis=1)
    node('Reshape', ['nms/scores_t', 'nms/shape_flat'], ['nms/flat_scores'])
    node('Shape', ['nms/flat_scores'], ['nms/dense_shape'])
    node('ConstantOfShape', ['nms/dense_shape'], ['nms/dense0'],
         value=helper.make_tensor('nms/zero_value', TensorProto.FLOAT, [1], [0.0]))
    node('ScatterND', ['nms/dense0', 'nms/sel_idx', 'nms/sel_scores'], ['nms/dense'])
    node('TopK', ['nms/dense', 'nms/k'], ['nms/top_scores', 'nms/top_idx'], axis=1)
    node('Div', ['nms/top_idx', 'nms/num_anchors'], ['nms/top_label'])
    node('Mod', ['nms/top_idx', 'nms/num_anchors'], ['nms/top_anchor'])
    node('Unsqueeze', ['nms/top_anchor', 'nms/axis2'], ['nms/top_anchor3'])
    node('Concat', ['nms/top_anchor3', 'nms/top_anchor3', 'nms/top_anchor3',
                    'nms/top_anchor3'], ['nms/top_anchor4'], axis=2)
    node('GatherElements', [boxes, 'nms/top_anchor4'], ['nms/top_boxes'], axis=1)
    node('Greater', ['nms/top_scores', 'nms/zero'], ['nms/is_det'])
    node('Unsqueeze', ['nms/is_det', 'nms/axis2'], ['nms/is_det3'])
    node('Where', ['nms/is_det3', 'nms/top_boxes', 'nms/zero'], ['nms/det_boxes'])
    node('Unsqueeze', ['nms/top_scores', 'nms/axis2'], ['nms/top_scores3'])
    node('Concat', ['nms/det_boxes', 'nms/top_scores3'], ['dets'], axis=2)
    node('Where', ['nms/is_det', 'nms/top_label', 'nms/minus_one'], ['labels'])

    graph.node.extend(nodes)
    graph.initializer.extend(inits)
    while len(graph.output):
        graph.output.pop()
    graph.output.extend([
        helper.make_tensor_value_info('dets', TensorProto.FLOAT, ['batch', k_total, 5]),
        helper.make_tensor_value_info('labels', TensorProto.INT64, ['batch', k_total])])
    return proto


def add_nms_to_file(file: str, out: Optional[str] = None) -> str:
    """Append the NMS nodes to a raw detector ONNX file written by
    ``tools/deploy/export.py`` (in place unless ``out``); its metadata gets
    ``graph='end2end'``."""
    import onnx

    from .onnx_export import metadata_of, require_detector, set_metadata
    proto = onnx.load(file)
    meta, _ = metadata_of(proto)
    require_detector(file, meta)
    if meta.get('graph', 'raw') != 'raw':
        raise ValueError(f'{file}: metadata graph={meta["graph"]!r}; NMS is appended to raw '
                         'detector graphs only')
    append_nms(proto, meta['postprocess'], len(meta['classes']) or _num_classes(proto))
    meta['graph'] = 'end2end'
    set_metadata(proto, meta)
    onnx.checker.check_model(proto)
    onnx.save(proto, out or file)
    return out or file


def _num_classes(proto: Any) -> int:
    for output in proto.graph.output:
        if output.name == 'scores':
            return int(output.type.tensor_type.shape.dim[2].dim_value)
    raise ValueError('the graph has no scores output')

"""ONNX export + ONNX Runtime parity with PyTorch on real images, for the
MobileNeXt and MobileNetV2 classifiers and SSDLite detectors.

Models are randomly initialised, with random BN affine parameters (so BN
folding matters) and BN statistics measured on the test images (so
activations neither vanish nor saturate); detectors' class-score convs are
scaled so that thousands of boxes pass the score threshold. Tolerances:
- classifier logits: |ORT - PyTorch| <= 1e-4 + 1e-4 |PyTorch|, same top-5;
- backbone feature maps (values up to ~10): <= 1e-3 + 1e-3 |PyTorch|;
- detector raw outputs: boxes within 0.05 px (of 320), scores within 1e-4;
- detections (numpy post-processing of PyTorch's raw outputs, and ORT +
  numpy post-processing, vs mmdet ``predict``): every detection has a twin
  with the same label, score within 1e-6 and boxes within 1e-3 px (for ORT: the raw
  outputs' float32 bounds, in original-image pixels), and vice versa; detections whose score
  exactly ties another one of the same label may differ (NMS tie-breaking),
  at most 5 % of them.
"""
import collections

import numpy as np
import pytest
import torch

from mnext_det import create_model
from mnext_det.deploy import (OnnxRuntimeModel, export_onnx, prepare_export, preprocess,
                              read_metadata, ssd_postprocess)

from ..tolerances import (assert_float32_close, assert_max_error, assert_ranks_top_k,
                          depth_and_fan_in, float32_bound)

onnx = pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')

from .parity_models import build_detector, calibrate, real_images, score_bound  # noqa: E402


def mmdet_mobilenetv2_classifier():
    pytest.importorskip('mmdet')
    from mmengine.registry import init_default_scope

    from mnext_det import ImageClassifier
    init_default_scope('mmdet')
    return ImageClassifier(backbone=dict(type='mmdet.MobileNetV2', out_indices=(7, )),
                           in_channels=1280)


CLASSIFIERS = {
    'mobilenext_100': lambda: create_model('mobilenext_100'),
    'mobilenext_100_identity_0.5': lambda: create_model('mobilenext_100',
                                                        identity_tensor_multiplier=0.5),
    'mmdet_mobilenetv2': mmdet_mobilenetv2_classifier,
}


@pytest.fixture(scope='module')
def images():
    return real_images()


@pytest.mark.parametrize('name', list(CLASSIFIERS))
def test_classifier_logits_match_pytorch(name, images, tmp_path):
    model = CLASSIFIERS[name]()
    calibrate(model, model, images, 224)
    torch.nn.init.normal_(model.classifier[1].weight, std=0.05)
    graph, outputs, meta = prepare_export(model, name=name)
    file = export_onnx(graph, str(tmp_path / 'model.onnx'), (1, 3, 224, 224),
                       output_names=outputs, metadata=meta)
    runner = OnnxRuntimeModel(file)
    assert runner.meta['input_size'] == [224, 224] and runner.meta['color'] == 'RGB'
    assert runner.meta['mean'] == pytest.approx([123.675, 116.28, 103.53])
    ops = collections.Counter(n.op_type for n in onnx.load(file).graph.node)
    assert 'BatchNormalization' not in ops and 'ScatterND' not in ops, ops
    # batch 2 through a graph exported at batch 1: the batch is dynamic
    x = np.concatenate([preprocess(img, runner.meta)[0] for img in images])
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    out = runner(x)[0]
    assert np.abs(ref).max() > 1, 'logits too small for a meaningful comparison'
    assert_float32_close(out, ref, *depth_and_fan_in(model), what=f'{name} logits')
    for i in range(2):
        assert_ranks_top_k(np.argsort(-out[i])[:5], ref[i], *depth_and_fan_in(model),
                           what=f'{name} top 5')
    top = runner.classify(images[0], topk=3)
    assert_ranks_top_k([i for i, _ in top], ref[0], *depth_and_fan_in(model),
                       what=f'{name} classify top 3')


def test_backbone_export_outputs_every_feature(images, tmp_path):
    model = create_model('mobilenext_100', identity_tensor_multiplier=0.25)
    calibrate(model, model, images, 224)
    model.backbone.out_indices = (12, 20)
    graph, outputs, meta = prepare_export(model, task='backbone')
    assert outputs == ('feat0', 'feat1')
    file = export_onnx(graph, str(tmp_path / 'backbone.onnx'), (1, 3, 224, 224),
                       output_names=outputs, dynamic_batch=False, metadata=meta)
    meta_read, _ = read_metadata(file)
    assert meta_read['task'] == 'backbone' and meta_read['identity_tensor_multiplier'] == 0.25
    x = torch.from_numpy(preprocess(images[0], meta)[0])  # the calibration's distribution
    with torch.no_grad():
        ref = model.backbone(x)
    outs = OnnxRuntimeModel(file)(x.numpy())
    assert [o.shape for o in outs] == [(1, 384, 14, 14), (1, 1280, 7, 7)]
    for i, (o, r) in enumerate(zip(outs, ref)):
        assert_float32_close(o, r.numpy(), *depth_and_fan_in(model.backbone),
                             what=f'backbone feat{i}')
    # static batch: a batch of 2 runs image by image
    two = OnnxRuntimeModel(file)(np.concatenate([x.numpy(), np.zeros_like(x.numpy())]))
    assert [o.shape for o in two] == [(2, 384, 14, 14), (2, 1280, 7, 7)]
    assert all(np.array_equal(t[:1], o) for t, o in zip(two, outs))


def untied(dets_a, dets_b, atol, score_tol):
    """Detections of ``a`` with no twin in ``b`` (same label, boxes within
    ``atol`` px, score within ``score_tol``), leaving out those whose score equals
    another detection's of the same label: NMS implementations break such
    ties differently. Fails if ties explain more than 5 % of ``a``."""
    scores = np.concatenate([dets_a['scores'], dets_b['scores']])
    labels = np.concatenate([dets_a['labels'], dets_b['labels']])
    missing, tied = [], 0
    for i in range(len(dets_a['scores'])):
        label, score = dets_a['labels'][i], dets_a['scores'][i]
        twin = ((dets_b['labels'] == label) & (np.abs(dets_b['scores'] - score) <= score_tol) &
                (np.abs(dets_b['bboxes'] - dets_a['bboxes'][i]).max(axis=1) <= atol))
        if twin.any():
            continue
        if ((labels == label) & (np.abs(scores - score) < 1e-6)).sum() > 1:
            tied += 1
        else:
            missing.append(int(i))
    assert tied <= 0.05 * len(dets_a['scores']), f'{tied} tie-related differences'
    return missing


@pytest.mark.parametrize(
    'key', ['mobilenext', pytest.param('mobilenetv2', marks=pytest.mark.slow)])
def test_detector_matches_pytorch(key, images, tmp_path):
    from mmdet.structures import DetDataSample
    model, cfg = build_detector(key, images)
    graph, outputs, meta = prepare_export(model, cfg, name=key)
    assert meta['input_size'] == [320, 320] and len(meta['classes']) == 80
    file = export_onnx(graph, str(tmp_path / 'det.onnx'), (1, 3, 320, 320),
                       output_names=outputs, metadata=meta)
    runner = OnnxRuntimeModel(file)
    assert runner.meta['postprocess']['level_sizes'] == [2400, 600, 150, 54, 24, 6]
    depth, fan_in = depth_and_fan_in(model)
    for image in images:
        x, scale = preprocess(image, runner.meta)
        with torch.no_grad():
            boxes, scores = graph(torch.from_numpy(x))
            sample = DetDataSample(metainfo=dict(
                img_shape=(320, 320), ori_shape=image.shape[:2], scale_factor=scale,
                batch_input_shape=(320, 320)))
            pred = model.predict(torch.from_numpy(x), [sample], rescale=True)[0].pred_instances
        torch_dets = dict(bboxes=pred.bboxes.numpy(), scores=pred.scores.numpy(),
                          labels=pred.labels.numpy())
        assert len(torch_dets['scores']) >= 20, 'too few detections to compare'
        # raw graph outputs
        ort_boxes, ort_scores = runner(x)
        assert_float32_close(ort_boxes, boxes.numpy(), depth, fan_in, what=f'{key} boxes')
        score_tol = score_bound(model, x, depth, fan_in)
        assert_max_error(ort_scores, scores.numpy(), score_tol, what=f'{key} scores')
        # numpy post-processing of PyTorch's raw outputs == mmdet predict
        ours = ssd_postprocess(boxes[0].numpy(), scores[0].numpy(), scale_factor=scale,
                               **runner.meta['postprocess'])
        assert untied(ours, torch_dets, atol=1e-3, score_tol=1e-6) == []
        assert untied(torch_dets, ours, atol=1e-3, score_tol=1e-6) == []
        # end to end: ONNX Runtime + numpy post-processing vs mmdet predict, with the
        # raw outputs' float32 bounds (boxes scaled back to the original image)
        ort_dets = runner.detect(image)
        box_tol = float32_bound(boxes.numpy(), depth, fan_in) / min(scale)
        assert untied(torch_dets, ort_dets, atol=box_tol, score_tol=score_tol) == []
        assert untied(ort_dets, torch_dets, atol=box_tol, score_tol=score_tol) == []

"""TFLite export (litert-torch) and LiteRT inference match PyTorch; skipped
unless the optional extra is installed (``pip install .[tflite]``).
Tolerances as for ONNX: the float32 bound of ``tests/tolerances.py``, same top-5."""
import numpy as np
import pytest
import torch

from mnext_det import create_model
from mnext_det.deploy import preprocess, prepare_export

pytest.importorskip('litert_torch')
pytest.importorskip('ai_edge_litert')

from mnext_det.deploy.tflite import TFLiteModel, export_tflite  # noqa: E402

from ..tolerances import assert_float32_close, assert_max_error, depth_and_fan_in  # noqa: E402
from .test_onnx_export import build_detector, calibrate, real_images, score_bound  # noqa: E402


@pytest.fixture(scope='module')
def images():
    return real_images()


def test_tflite_classifier_matches_pytorch(images, tmp_path):
    model = create_model('mobilenext_100', identity_tensor_multiplier=0.5)
    calibrate(model, model, images, 224)
    torch.nn.init.normal_(model.classifier[1].weight, std=0.05)
    _, _, meta = prepare_export(model)
    file = export_tflite(model, str(tmp_path / 'cls.tflite'), (1, 3, 224, 224))
    runner = TFLiteModel(file, num_threads=2)
    for image in images:
        x, _ = preprocess(image, meta)
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        out = runner(x)[0]
        assert np.abs(ref).max() > 1
        assert_float32_close(out, ref, *depth_and_fan_in(model), what='tflite logits')
        assert list(np.argsort(-out[0])[:5]) == list(np.argsort(-ref[0])[:5])


@pytest.mark.slow
def test_tflite_detector_matches_pytorch(images, tmp_path):
    model, cfg = build_detector('mobilenext', images)
    graph, _, meta = prepare_export(model, cfg)
    file = export_tflite(graph, str(tmp_path / 'det.tflite'), (1, 3, 320, 320))
    runner = TFLiteModel(file, num_threads=2)
    x, _ = preprocess(images[0], meta)
    with torch.no_grad():
        boxes, scores = graph(torch.from_numpy(x))
    out_boxes, out_scores = runner(x)
    depth, fan_in = depth_and_fan_in(model)
    assert_float32_close(out_boxes, boxes.numpy(), depth, fan_in, what='tflite boxes')
    assert_max_error(out_scores, scores.numpy(), score_bound(model, x, depth, fan_in),
                     what='tflite scores')

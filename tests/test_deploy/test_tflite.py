"""TFLite export (litert-torch) and LiteRT inference match PyTorch; skipped
unless the optional extra is installed (``pip install .[tflite]``).
Tolerances as for ONNX: the float32 bound of ``tests/tolerances.py``, same top-5."""
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch

from mnext_det import create_model
from mnext_det.deploy import preprocess, prepare_export

pytest.importorskip('litert_torch')
pytest.importorskip('ai_edge_litert')

from mnext_det.deploy.tflite import TFLiteModel, export_tflite  # noqa: E402

from ..conftest import DEMO_DET, NO_WORKERS, ROOT, run  # noqa: E402
from ..tolerances import (assert_float32_close, assert_max_error, assert_ranks_top_k,  # noqa: E402
                          depth_and_fan_in)
from .demo_scores import ON_TRAIN, printed_metrics  # noqa: E402
from .parity_models import build_detector, calibrate, real_images, score_bound  # noqa: E402


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
        assert_ranks_top_k(np.argsort(-out[0])[:5], ref[0], *depth_and_fan_in(model),
                           what='tflite top 5')


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


def test_evaluate_scores_the_tflite_export_as_its_onnx_twin(demo_ws):
    """tools/deploy/evaluate.py on the .tflite export (with the metadata file the
    export writes beside it) gives the ONNX export's metrics; without it, a named error."""
    export, evaluate = (osp.join(ROOT, 'tools', 'deploy', f'{tool}.py')
                        for tool in ('export', 'evaluate'))
    for out, extra in (('twin.onnx', []), ('det.tflite', ['--format', 'tflite'])):
        run(export, DEMO_DET, '--checkpoint', 'work/epoch_10.pth', '--out', out, *extra,
            cwd=demo_ws)
    with open(demo_ws / 'det.tflite.json') as f:
        assert json.load(f)['task'] == 'detector'
    scores = {}
    for model in ('twin.onnx', 'det.tflite'):
        out = run(evaluate, DEMO_DET, model, '--threads', 1, '--cfg-options', *ON_TRAIN,
                  *NO_WORKERS, cwd=demo_ws).stdout
        scores[model] = printed_metrics(out)
    assert max(scores['twin.onnx'].values()) > 0.01
    assert set(scores['det.tflite']) == set(scores['twin.onnx'])
    for key, value in scores['twin.onnx'].items():
        assert scores['det.tflite'][key] == pytest.approx(value, abs=0.002), key
    os.remove(demo_ws / 'det.tflite.json')
    proc = run(evaluate, DEMO_DET, 'det.tflite', cwd=demo_ws, ok=False)
    assert proc.returncode == 2
    assert 'error: det.tflite.json not found: the metadata tools/deploy/export.py writes' \
        in proc.stderr

"""ONNX files that are not the exporter's models: a corrupt file, a graph ONNX
Runtime cannot load and an ONNX model without mnext-det metadata are each
refused with a message naming the file, by ``OnnxRuntimeModel``, by
``quantize_detector`` and by ``tools/deploy/onnx_infer.py``."""
import json
import re
import os.path as osp

import onnx
import pytest
from onnx import TensorProto, helper

from mnext_det.deploy import OnnxRuntimeModel
from mnext_det.deploy.onnx_export import METADATA_KEY, read_metadata
from mnext_det.deploy.quantize import quantize_detector

from ..conftest import DEMO_DET, ROOT
from ..tool_main import run_main

ONNX_INFER = osp.join(ROOT, 'tools', 'deploy', 'onnx_infer.py')


def _relu_model(op_type: str = 'Relu', metadata: dict = None,
                batch=1) -> onnx.ModelProto:
    shape = [batch, 3, 8, 8]
    graph = helper.make_graph([helper.make_node(op_type, ['x'], ['y'])], 'g',
                              [helper.make_tensor_value_info('x', TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info('y', TensorProto.FLOAT, shape)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    model.ir_version = 8
    if metadata is not None:
        entry = model.metadata_props.add()
        entry.key, entry.value = METADATA_KEY, json.dumps(metadata)
    return model


def test_corrupt_file_is_refused_naming_it(tmp_path):
    file = tmp_path / 'model.onnx'
    file.write_bytes(b'not an onnx model\n')
    for load in (read_metadata, OnnxRuntimeModel):
        with pytest.raises(ValueError,
                           match=f'^{re.escape(str(file))}: not a readable ONNX model, truncated'):
            load(str(file))
    with pytest.raises(FileNotFoundError, match='ONNX file not found: .*missing.onnx'):
        OnnxRuntimeModel(str(tmp_path / 'missing.onnx'))


def test_graph_onnx_runtime_cannot_load_is_refused_naming_it(tmp_path):
    file = str(tmp_path / 'model.onnx')
    onnx.save(_relu_model('NoSuchOp', {'task': 'classifier'}), file)
    with pytest.raises(ValueError,
                       match=f'^{re.escape(file)}: ONNX Runtime cannot load it .*NoSuchOp'):
        OnnxRuntimeModel(file)
    onnx.save(_relu_model(), file)
    assert OnnxRuntimeModel(file).meta == {}


def test_a_fixed_batch_graph_runs_any_batch_in_chunks(tmp_path):
    """``export.py --batch 1`` then ``evaluate.py`` (loader batch 16) ended in
    ONNX Runtime's INVALID_ARGUMENT: Got: 16 Expected: 1."""
    import numpy as np
    x = np.random.default_rng(0).standard_normal((5, 3, 8, 8)).astype(np.float32)
    for batch in (1, 2):
        file = str(tmp_path / f'b{batch}.onnx')
        onnx.save(_relu_model(batch=batch), file)
        model = OnnxRuntimeModel(file)
        assert model.fixed_batch == batch
        (y, ) = model(x)
        assert y.shape == x.shape and np.array_equal(y, np.maximum(x, 0))
    dynamic = str(tmp_path / 'dynamic.onnx')
    onnx.save(_relu_model(batch='N'), dynamic)
    assert OnnxRuntimeModel(dynamic).fixed_batch is None


def test_model_without_metadata_is_refused_by_the_tools(tmp_path):
    file = str(tmp_path / 'foreign.onnx')
    onnx.save(_relu_model(), file)
    no_meta = f"{file}: no '{METADATA_KEY}' metadata, so not a model written by tools/deploy/"
    with pytest.raises(ValueError, match=f'^{re.escape(no_meta)}'):
        quantize_detector(file, DEMO_DET, str(tmp_path / 'int8.onnx'))
    run = run_main(ONNX_INFER, file, tmp_path, cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.startswith(f"error: {no_meta}export.py (export a 'classifier' or "
                                 "'detector' with it)")
    onnx.save(_relu_model(metadata={'task': 'backbone'}), file)
    run = run_main(ONNX_INFER, file, tmp_path, cwd=tmp_path)
    assert run.stderr.startswith(f"error: {file}: metadata task='backbone', expected "
                                 "'classifier' or 'detector'")


@pytest.mark.parametrize('args, message', [
    (('--score-thr', '1.5'), '--score-thr must be in [0, 1], got 1.5'),
    (('--topk', '0'), '--topk must be at least 1, got 0'),
])
def test_onnx_infer_refuses_bad_thresholds(tmp_path, args, message):
    file = str(tmp_path / 'model.onnx')
    onnx.save(_relu_model(metadata={'task': 'classifier'}), file)
    run = run_main(ONNX_INFER, file, tmp_path, *args, cwd=tmp_path)
    assert (run.returncode, run.stderr) == (2, f'error: {message}\n')


def test_read_image_turns_a_photo_upright_as_mmdet_reads_it(tmp_path):
    """A phone's JPEG stored sideways with EXIF orientation 6: mmcv (mmdet's
    LoadImageFromFile) turns it, so the exported model must see it turned too."""
    import mmcv
    import numpy as np
    from PIL import Image

    from mnext_det.deploy import read_image
    pixels = np.zeros((40, 80, 3), np.uint8)
    pixels[5:15, 10:30] = 255
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6
    path = str(tmp_path / 'sideways.jpg')
    image.save(path, exif=exif.tobytes())
    ours, mmdet_reads = read_image(path), mmcv.imread(path)[..., ::-1]
    assert ours.shape == mmdet_reads.shape == (80, 40, 3)
    assert np.array_equal(ours, mmdet_reads)

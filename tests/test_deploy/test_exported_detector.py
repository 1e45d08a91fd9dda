"""Exported detectors as a mobile engineer uses them: the end-to-end ONNX graph
with NonMaxSuppression, the exported model scored on a dataset
(tools/deploy/evaluate.py) and its INT8 copy (tools/deploy/quantize.py), on
the ``demo_ws`` checkpoint (tests/conftest.py)."""
import glob
import os.path as osp
import re

import numpy as np
import pytest

pytest.importorskip('onnxruntime')
from ..conftest import DEMO_DET, NO_WORKERS, ROOT, run  # noqa: E402
from ..tool_main import run_main  # noqa: E402
from .demo_scores import ON_TRAIN, printed_metrics  # noqa: E402

pytestmark = pytest.mark.schedule_first


@pytest.fixture(scope='module')
def exported(demo_ws):
    ckpt = 'work/epoch_10.pth'
    for name, extra in (('raw', []), ('e2e', ['--nms', '--verify'])):
        proc = run(osp.join(ROOT, 'tools', 'deploy', 'export.py'), DEMO_DET, '--checkpoint',
                   ckpt, '--out', f'{name}.onnx', *extra, cwd=demo_ws)
        (demo_ws / f'{name}_export.log').write_text(proc.stdout)
    return demo_ws


def test_end_to_end_graph_has_nms_and_matches_raw_detections(exported):
    # --verify compares the graph before its NMS (it printed nothing with --nms)
    log = (exported / 'e2e_export.log').read_text()
    assert log.count('(boxes and scores before NMS, 1 random image(s)): max |PyTorch - onnx|') \
        == 2, log
    import onnx

    from mnext_det.deploy import OnnxRuntimeModel, preprocess, read_image
    ops = {n.op_type for n in onnx.load(str(exported / 'e2e.onnx')).graph.node}
    assert 'NonMaxSuppression' in ops
    raw, e2e = (OnnxRuntimeModel(str(exported / f'{n}.onnx')) for n in ('raw', 'e2e'))
    assert e2e.meta['graph'] == 'end2end' and raw.meta['graph'] == 'raw'
    images = sorted(glob.glob(str(exported / 'data/shapes/VOC2007/JPEGImages/*.jpg')))
    batch = [preprocess(read_image(p), e2e.meta) for p in images]
    x = np.concatenate([b[0] for b in batch])
    dets, labels = e2e(x)  # dynamic batch, fixed K = max_per_img, padded with -1
    assert dets.shape == (len(images), 100, 5) and labels.shape == (len(images), 100)
    assert ((labels == -1) == (dets[..., 4] == 0)).all()
    total = 0
    for a, b in zip(raw.detect_batch(x, [s for _, s in batch]),
                    e2e.detect_batch(x, [s for _, s in batch])):
        assert len(a['scores']) == len(b['scores'])
        np.testing.assert_allclose(b['scores'], a['scores'], atol=1e-6)
        assert (a['labels'] == b['labels']).all()  # scores are distinct: no ties to reorder
        assert np.abs(a['bboxes'] - b['bboxes']).max(initial=0) <= 0.1
        total += len(a['scores'])
    assert total > 100


def test_evaluate_reproduces_pytorch_ap(exported):
    torch_out = run(osp.join(ROOT, 'tools', 'test.py'), DEMO_DET, 'work/epoch_10.pth',
                    '--work-dir', 'work_eval', '--cfg-options', *ON_TRAIN, *NO_WORKERS,
                    cwd=exported)
    reference = printed_metrics(torch_out.stdout + torch_out.stderr)
    assert max(reference.values()) > 0.01
    for name in ('raw', 'e2e'):
        out = run(osp.join(ROOT, 'tools', 'deploy', 'evaluate.py'), DEMO_DET, f'{name}.onnx',
                  '--threads', 1, '--cfg-options', *ON_TRAIN, *NO_WORKERS, cwd=exported).stdout
        got = printed_metrics(out)
        assert set(got) == set(reference), name
        for key, value in reference.items():
            assert got[key] == pytest.approx(value, abs=0.002), (name, key)
        assert re.search(r'8 images, [\d.]+ ms/image', out)


def test_quantize_writes_qdq_int8_with_close_detections(exported):
    import onnx

    from mnext_det.deploy import OnnxRuntimeModel, read_image
    from mnext_det.deploy.postprocess import box_iou
    out = run(osp.join(ROOT, 'tools', 'deploy', 'quantize.py'), 'e2e.onnx', '--config',
              DEMO_DET, '--num-calib', 8, '--out', 'int8.onnx', cwd=exported).stdout
    assert 'wrote int8.onnx' in out
    assert out.strip().endswith('calibrated on 8 train images of '
                                'data/shapes/annotations/instances_train.json')
    proto = onnx.load(str(exported / 'int8.onnx'))
    ops = [n.op_type for n in proto.graph.node]
    assert 'QuantizeLinear' in ops and 'DequantizeLinear' in ops and 'NonMaxSuppression' in ops
    fp, q = (OnnxRuntimeModel(str(exported / f)) for f in ('e2e.onnx', 'int8.onnx'))
    assert q.meta['quantization']['num_calib'] == 8 and q.meta['classes'] == fp.meta['classes']
    matched = total = 0
    for path in sorted(glob.glob(str(exported / 'data/shapes/VOC2007/JPEGImages/val_*.jpg'))):
        a, b = fp.detect(read_image(path)), q.detect(read_image(path))
        top = a['scores'] > 0.5 * a['scores'].max()  # the float model's confident boxes
        for box, label in zip(a['bboxes'][top], a['labels'][top]):
            same = b['labels'] == label
            total += 1
            matched += bool(same.any() and box_iou(box, b['bboxes'][same]).max() > 0.8)
    assert total and matched / total >= 0.8
    # quantized twice: ONNX Runtime could not load the result (two nodes of one name)
    proc = run_main(osp.join(ROOT, 'tools', 'deploy', 'quantize.py'), 'int8.onnx', '--config',
                    DEMO_DET, '--num-calib', 2, '--out', 'int8_again.onnx', cwd=exported)
    assert proc.returncode == 2 and 'int8.onnx is quantized already' in proc.stderr
    assert not (exported / 'int8_again.onnx').exists()


def _renamed_categories(ws, tmp_path, split: str) -> str:
    """A copy of the demo data's ``split`` json with categories named a-f."""
    import json
    data = json.loads((ws / f'data/shapes/annotations/instances_{split}.json').read_text())
    for cat, name in zip(data['categories'], 'abcdef'):
        cat['name'] = name
    out = tmp_path / f'renamed_{split}.json'
    out.write_text(json.dumps(data))
    return str(out)


def test_bad_inputs_stop_with_a_named_error(exported, tmp_path):
    from mnext_det import create_model
    from mnext_det.deploy import export_onnx, prepare_export
    classifier = str(tmp_path / 'classifier.onnx')
    graph, names, meta = prepare_export(create_model('mobilenext_035', num_classes=4).eval(),
                                        input_size=(64, 64))
    export_onnx(graph, classifier, (1, 3, 64, 64), output_names=names, metadata=meta)
    evaluate = osp.join(ROOT, 'tools', 'deploy', 'evaluate.py')
    # refused before any work: the tools' __main__ in this process
    proc = run_main(evaluate, DEMO_DET, classifier, cwd=exported)
    assert proc.returncode == 2 and proc.stderr.startswith('error: ')
    assert 'classifier.onnx' in proc.stderr and "task='classifier'" in proc.stderr
    # data whose classes are other than the model's (a json of other categories)
    renamed = _renamed_categories(exported, tmp_path, 'val')
    proc = run_main(evaluate, DEMO_DET, 'raw.onnx', '--cfg-options',
                    f'test_dataloader.dataset.ann_file={renamed}',
                    f'test_evaluator.ann_file={renamed}',
                    "test_dataloader.dataset.metainfo.classes=['a','b','c','d','e','f']",
                    *NO_WORKERS, cwd=exported)
    assert proc.returncode == 2 and 'raw.onnx: metadata classes' in proc.stderr, proc.stderr
    # the loader moved to other data, the evaluator not: scored against the other boxes
    proc = run_main(evaluate, DEMO_DET, 'raw.onnx', '--cfg-options', ON_TRAIN[0], *NO_WORKERS,
                    cwd=exported)
    assert proc.returncode == 2 and 'test_evaluator.ann_file is ' in proc.stderr
    quantize = osp.join(ROOT, 'tools', 'deploy', 'quantize.py')
    proc = run_main(quantize, 'raw.onnx', '--config', DEMO_DET, '--num-calib', 0, cwd=exported)
    assert proc.returncode == 2 and '--num-calib must be at least 1, got 0' in proc.stderr
    before = (exported / 'raw.onnx').read_bytes()
    proc = run_main(quantize, 'raw.onnx', '--config', DEMO_DET, '--out', 'raw.onnx', cwd=exported)
    assert proc.returncode == 2 and 'raw.onnx: the output would overwrite the float model' \
        in proc.stderr
    assert (exported / 'raw.onnx').read_bytes() == before
    proc = run_main(quantize, 'raw.onnx', '--config', DEMO_DET, '--float-nodes', 'no_such_node',
                    '--out', tmp_path / 'q.onnx', cwd=exported)
    assert proc.returncode == 2 and "raw.onnx has no node named 'no_such_node'" in proc.stderr
    assert not (tmp_path / 'q.onnx').exists()
    # calibrated on another dataset's images, with nothing in its metadata to tell
    other = tmp_path / 'other_classes.py'
    other.write_text(f"_base_ = {DEMO_DET!r}\ntrain_dataloader = dict(dataset=dict(metainfo="
                     "dict(classes=('a', 'b', 'c', 'd', 'e', 'f')), ann_file="
                     f"{_renamed_categories(exported, tmp_path, 'train')!r}))\n")
    proc = run_main(quantize, 'raw.onnx', '--config', other, '--num-calib', 2, '--out',
                    tmp_path / 'q.onnx', cwd=exported)
    assert proc.returncode == 2, proc.stderr
    assert 'raw.onnx: metadata classes' in proc.stderr and 'other_classes.py' in proc.stderr
    assert not (tmp_path / 'q.onnx').exists()


def test_deploy_report_rows_for_every_format(exported, monkeypatch):
    from mnext_det.deploy.report import (FORMATS, build_deploy_report, format_deploy_markdown,
                                         plot_deploy_chart)
    monkeypatch.chdir(exported)
    rows = build_deploy_report([('a', DEMO_DET, 'work/epoch_10.pth')], 'report', num_calib=4,
                               threads=(1, ), rounds=1, runs=1,
                               cfg_options=dict(test_dataloader=dict(num_workers=0,
                                                                     persistent_workers=False)))
    assert [r.format for r in rows] == list(FORMATS)
    pytorch, raw, e2e, int8 = rows
    assert raw.AP == pytest.approx(pytorch.AP, abs=0.002) and e2e.AP == raw.AP
    assert int8.size_MB < 0.5 * raw.size_MB  # int8 weights
    assert all(r.latency_ms['1'] > 0 and r.latency_ratio['1'] == 1.0 for r in rows)
    table = format_deploy_markdown(rows)
    assert table.count('\n| a |') == 4 and 'latency 1 thr (ms)' in table
    plot_deploy_chart(rows, 'report/chart.png')
    assert (exported / 'report' / 'chart.png').stat().st_size > 1000

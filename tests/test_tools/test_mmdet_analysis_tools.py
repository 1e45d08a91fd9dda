"""mmdet's shipped analysis tools (``mmdet/.mim/tools/analysis_tools``) on the
demo config, the ``demo_ws`` checkpoint and its results (tests/conftest.py),
run as a user runs them; each test checks what the tool produced."""
import json
import os
import os.path as osp
import pickle
import re
import sys
from multiprocessing.pool import ThreadPool

import numpy as np
import pytest
import torch

mmdet = pytest.importorskip('mmdet')
import cv2  # noqa: E402
import matplotlib  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.fileio import dump, load  # noqa: E402
from mmengine.registry import DATASETS, init_default_scope  # noqa: E402

from mnext_det.evaluation.mmdet_tools import load_mmdet_tool, mmdet_tool_path  # noqa: E402
from mnext_det.results_io import UnsafePickleError  # noqa: E402

from ..conftest import DEMO_DET as DEMO, NO_WORKERS, ROOT, run  # noqa: E402
from ..fault_injection import CodeRunningPayload  # noqa: E402
from ..tool_main import run_main  # noqa: E402

pytestmark = pytest.mark.schedule_first


tool = mmdet_tool_path
load_tool = load_mmdet_tool  # the shipped tool as a module, to run its main in this process


@pytest.fixture
def ws(demo_ws):
    return demo_ws


@pytest.fixture
def val_set(ws, monkeypatch):
    monkeypatch.chdir(ws)
    cfg = Config.fromfile(DEMO)
    init_default_scope('mmdet')
    return DATASETS.build(cfg.test_dataloader.dataset)


def _gt(dataset, idx):
    instances = dataset.get_data_info(idx)['instances']
    return (np.array([i['bbox'] for i in instances], np.float32).reshape(-1, 4),
            np.array([i['bbox_label'] for i in instances], np.int64))


def _results_with(ws, predictions):
    """The tools/test.py results with ``pred_instances`` replaced, written
    the way DumpResults writes them."""
    results = load(str(ws / 'work' / 'results.pkl'))
    for result, (boxes, labels) in zip(results, predictions):
        result['pred_instances'] = dict(bboxes=torch.as_tensor(boxes).reshape(-1, 4),
                                        scores=torch.full((len(labels), ), 0.9),
                                        labels=torch.as_tensor(labels, dtype=torch.int64))
    path = ws / f'crafted_{len(os.listdir(ws))}.pkl'
    dump(results, str(path))
    return path


def test_browse_dataset_draws_the_ground_truth_boxes(ws):
    run(tool('browse_dataset'), DEMO, '--output-dir', 'browse', '--not-show', '--show-interval',
        0, '--cfg-options', 'train_dataloader.dataset.pipeline.3.prob=0.0', cwd=ws)
    coco = json.loads((ws / 'data/shapes/annotations/instances_train.json').read_text())
    assert sorted(os.listdir(ws / 'browse')) == sorted(i['file_name'] for i in coco['images'])
    for image in coco['images']:
        raw = cv2.imread(str(ws / 'data/shapes/VOC2007/JPEGImages' / image['file_name']))
        drawn = cv2.imread(str(ws / 'browse' / image['file_name']))
        diff = np.abs(raw.astype(int) - drawn.astype(int)).max(axis=2)
        near_box = np.zeros(diff.shape, bool)
        for ann in (a for a in coco['annotations'] if a['image_id'] == image['id']):
            x1, y1, w, h = np.round(ann['bbox']).astype(int)
            x2, y2 = min(x1 + w, 159), min(y1 + h, 159)
            border = np.concatenate([diff[y1:y2 + 1, x1], diff[y1:y2 + 1, x2],
                                     diff[y1, x1:x2 + 1], diff[y2, x1:x2 + 1]])
            assert (border > 30).mean() > 0.5, (image['file_name'], ann['bbox'])
            near_box[max(y1 - 3, 0):y2 + 4, max(x1 - 3, 0):x2 + 4] = True
        assert (diff[~near_box] > 30).mean() < 0.02, image['file_name']


def test_analyze_logs_plots_our_scalars(ws, monkeypatch, capsys):
    scalars = next((ws / 'work').glob('*/vis_data/scalars.json'))
    records = [json.loads(line) for line in scalars.read_text().splitlines()]
    train = [r for r in records if 'loss' in r]
    val = [r for r in records if 'coco/bbox_mAP' in r]
    assert len(train) == 40 and len(val) == 2
    module = load_tool('analyze_logs')
    matplotlib.use('Agg')
    plotted = {}

    def savefig(path, *args, **kwargs):
        plotted[path] = [(list(line.get_xdata()), list(line.get_ydata()))
                         for line in module.plt.gca().lines]
        return real_savefig(path, *args, **kwargs)

    real_savefig = module.plt.savefig
    monkeypatch.setattr(module.plt, 'savefig', savefig)
    for key in ('loss', 'bbox_mAP'):
        monkeypatch.setattr(sys, 'argv', ['analyze_logs.py', 'plot_curve', str(scalars), '--keys',
                                          key, '--eval-interval', '5',
                                          '--out', str(ws / f'{key}.png')])
        module.main()
    assert plotted[str(ws / 'loss.png')] == [([r['step'] for r in train],
                                              [r['loss'] for r in train])]
    assert plotted[str(ws / 'bbox_mAP.png')] == [([5, 10], [r['coco/bbox_mAP'] for r in val])]
    assert (ws / 'loss.png').stat().st_size > 1000

    monkeypatch.setattr(sys, 'argv', ['analyze_logs.py', 'cal_train_time', str(scalars)])
    module.main()
    # the tool files each line under the epoch of the line before it, so the
    # first iteration of epoch 2 counts in epoch 1; then drops each epoch's first
    buckets, epoch = {}, 1
    for record in records:
        if 'loss' in record:
            buckets.setdefault(epoch, []).append(record['time'])
        epoch = record.get('epoch', epoch)
    per_epoch = [np.mean(times[1:]) for _, times in sorted(buckets.items())]
    assert f'average iter time: {np.mean(per_epoch):.4f} s/iter' in capsys.readouterr().out


def test_confusion_matrix_counts_a_hand_checked_case(ws, val_set, monkeypatch):
    from mmdet.evaluation import bbox_overlaps
    gts = [_gt(val_set, i) for i in range(len(val_set))]
    assert all(len(b) for b, _ in gts[:2])
    for boxes, _ in gts:  # no two objects match each other, so each prediction hits one
        iou = bbox_overlaps(boxes, boxes)
        assert (iou[~np.eye(len(boxes), dtype=bool)] < 0.5).all()
    (b0, l0), (b1, l1) = gts[0], gts[1]
    wrong = (l1[0] + 1) % 6
    fp_box = np.array([[0, 0, 4, 4]], np.float32)
    assert bbox_overlaps(fp_box, b1).max() < 0.5
    preds = [(b0, l0), (np.concatenate([b1[:1], fp_box]), np.array([wrong, 2])),
             (np.zeros((0, 4)), []), (np.zeros((0, 4)), [])]
    path = _results_with(ws, preds)
    # by hand: image 0 all right; image 1 its first object labelled `wrong`
    # (counted as that confusion and as missed), the rest missed, one box on
    # background predicted as class 2; images 2 and 3 all missed
    expected = np.zeros((7, 7))
    for label in l0:
        expected[label, label] += 1
    expected[l1[0], wrong] += 1
    expected[6, 2] += 1
    for labels in (l1, gts[2][1], gts[3][1]):
        for label in labels:
            expected[label, 6] += 1

    module = load_tool('confusion_matrix')
    matplotlib.use('Agg')
    seen = []
    real_plot = module.plot_confusion_matrix
    monkeypatch.setattr(module, 'plot_confusion_matrix',
                        lambda matrix, *a, **k: (seen.append(matrix.copy()),
                                                 real_plot(matrix, *a, **k)))
    monkeypatch.setattr(sys, 'argv', ['confusion_matrix.py', DEMO, str(path), str(ws / 'cm')])
    module.main()
    np.testing.assert_array_equal(seen[0], expected)
    assert (ws / 'cm' / 'confusion_matrix.png').stat().st_size > 1000


def test_confusion_matrix_refuses_a_results_pickle_that_runs_code(ws):
    marker = ws / 'pwned'

    evil = ws / 'evil.pkl'
    evil.write_bytes(pickle.dumps([CodeRunningPayload(str(marker))]))
    proc = run(tool('confusion_matrix'), DEMO, evil, 'cm_evil', cwd=ws, ok=False)
    assert proc.returncode != 0 and not marker.exists()
    assert 'UnsafePickleError' in proc.stderr and 'posix.system' in proc.stderr
    # the real results of tools/test.py --out go through the same loader
    run(tool('confusion_matrix'), DEMO, 'work/results.pkl', 'cm_real', '--cfg-options',
        *NO_WORKERS, cwd=ws)
    assert (ws / 'cm_real' / 'confusion_matrix.png').is_file()


def test_safe_pickle_loader_is_still_needed():
    """mmengine still unpickles *.pkl without restriction; when this fails,
    upstream restricted it and ``register_safe_pickle_loader`` can go."""
    import io

    from mmengine.fileio.handlers import PickleHandler

    from mnext_det.compat import _UPSTREAM_PICKLE_LOAD, _load_pickle_from_fileobj
    assert PickleHandler.load_from_fileobj is _load_pickle_from_fileobj
    code = io.BytesIO(pickle.dumps(os.getcwd, protocol=2))
    assert _UPSTREAM_PICKLE_LOAD(PickleHandler(), code) is os.getcwd
    with pytest.raises(UnsafePickleError, match='posix.getcwd'):
        load(io.BytesIO(pickle.dumps(os.getcwd, protocol=2)), file_format='pkl')


def test_get_flops_equals_our_madds_plus_bn(ws):
    out = run(tool('get_flops'), DEMO, '--num-images', 1, '--cfg-options', *NO_WORKERS,
              cwd=ws).stdout
    flops = float(re.search(r'Flops: ([\d.]+)M', out).group(1))
    params = float(re.search(r'Params: ([\d.]+)M', out).group(1))
    row = run('-m', 'mnext_det.cli', 'summary', '--config', DEMO,
              cwd=ws).stdout.strip().splitlines()[-1]
    cells = [c.strip() for c in row.strip('|').split('|')]
    ours = dict(zip(('params', 'madds', 'bn', 'sum'), (float(c[:-1]) for c in cells[2:])))
    assert cells[1] == '(160, 160)'
    assert ours['params'] == params
    assert ours['sum'] == pytest.approx(ours['madds'] + ours['bn'], abs=0.0011)
    assert flops == ours['sum']


def test_optimize_anchors_refuses_ssd_and_ours_measures_it(ws):
    proc = run(tool('optimize_anchors'), DEMO, '--device', 'cpu', '--input-shape', 160, 160,
               cwd=ws, ok=False)
    assert proc.returncode != 0 and 'Only support optimize YOLOAnchor' in proc.stderr
    bad = run(osp.join(ROOT, 'tools', 'analysis_tools', 'ssd_anchors.py'), DEMO, '--iou-thr',
              '1.5', cwd=ws, ok=False)
    assert (bad.returncode, bad.stderr) == (2, 'error: iou_thr (--iou-thr) is an IoU in (0, 1], '
                                               'got 1.5\n')
    out = run(osp.join(ROOT, 'tools', 'analysis_tools', 'ssd_anchors.py'), DEMO, '--out',
              'anchors.json', cwd=ws).stdout
    report = json.loads((ws / 'anchors.json').read_text())
    coco = json.loads((ws / 'data/shapes/annotations/instances_train.json').read_text())
    assert report['num_boxes'] == len(coco['annotations'])
    assert report['featmap_sizes'] == [[10, 10], [5, 5], [3, 3], [2, 2], [1, 1], [1, 1]]
    assert report['current']['min_sizes'] == [20, 40, 64, 88, 112, 136]
    assert 0 < report['current_coverage'] <= report['proposed_coverage'] <= 1
    assert f'{report["proposed_coverage"]:.1%} |' in out


def test_ssd_anchor_coverage_by_hand():
    """One 16x16 box centred on the single anchor of a 1x1 map: anchors of
    min size 16 cover it exactly, min size 32 gives IoU 1/4."""
    from mnext_det.analysis.anchors import anchor_coverage
    gen = dict(type='SSDAnchorGenerator', strides=[32], ratios=[[2]], min_sizes=[16],
               max_sizes=[16], scale_major=False)
    init_default_scope('mmdet')
    box = [np.array([[8, 8, 24, 24]], np.float32)]
    assert anchor_coverage(gen, [(1, 1)], box, 0.99) == 1.0
    assert anchor_coverage({**gen, 'min_sizes': [32], 'max_sizes': [32]}, [(1, 1)], box,
                           0.26) == 0.0


def test_coco_error_analysis_plots_from_our_results(ws, val_set, monkeypatch):
    ann = 'data/shapes/annotations/instances_val.json'
    run(tool('coco_error_analysis'), 'work/res.bbox.json', 'errors', '--ann', ann, cwd=ws)
    names = set(os.listdir(ws / 'errors' / 'bbox'))
    for name in ('allclass', 'circle', 'ring'):
        assert {f'bbox-{name}-{area}.png' for area in ('allarea', 'small', 'medium', 'large')} \
            <= names

    coco = json.loads((ws / ann).read_text())
    present = sorted({a['category_id'] for a in coco['annotations']})
    module = load_tool('coco_error_analysis')
    matplotlib.use('Agg')
    monkeypatch.setattr(module, 'Pool', lambda processes: ThreadPool(2))
    for shift, expected in ((0.0, (1, 1, 1)), (0.4, (0, 0, 1))):
        # boxes moved right by `shift` of their width: IoU (1 - s) / (1 + s) = 0.43 at 0.4
        dets = [dict(image_id=a['image_id'], category_id=a['category_id'], score=0.9,
                     bbox=[a['bbox'][0] + shift * a['bbox'][2], *a['bbox'][1:]])
                for a in coco['annotations']]
        res = ws / f'dets_{shift}.json'
        res.write_text(json.dumps(dets))
        plots = {}
        monkeypatch.setattr(module, 'makeplot',
                            lambda rs, ps, out, name, kind: plots.setdefault(name, ps.copy()))
        monkeypatch.setattr(sys, 'argv', ['coco_error_analysis.py', str(res),
                                          str(ws / f'err_{shift}'), '--ann', ann])
        module.main()
        for cat in present:
            name = coco['categories'][[c['id'] for c in coco['categories']].index(cat)]['name']
            c75, c50, loc = (plots[name][k, :, 0, 0].mean() for k in range(3))
            assert (c75, c50, loc) == pytest.approx(expected, abs=0.02), (shift, name)


def test_analyze_results_sorts_images_by_their_ap(ws, val_set):
    gts = [_gt(val_set, i) for i in range(len(val_set))]
    preds = [gts[0], gts[1], (np.zeros((0, 4)), []), (np.zeros((0, 4)), [])]
    path = _results_with(ws, preds)
    run(tool('analyze_results'), DEMO, path, 'shown', '--topk', 2, '--cfg-options',
        *NO_WORKERS, cwd=ws)
    names = [osp.basename(val_set.get_data_info(i)['img_path'])[:-4] for i in range(4)]
    assert sorted(os.listdir(ws / 'shown' / 'good')) == sorted(f'{n}_1.0.jpg' for n in names[:2])
    assert sorted(os.listdir(ws / 'shown' / 'bad')) == sorted(f'{n}_0.0.jpg' for n in names[2:])
    image = cv2.imread(str(ws / 'shown' / 'good' / f'{names[0]}_1.0.jpg'))
    assert image is not None and image.shape[0] == 160


def test_benchmark_runs_on_cpu_for_every_task(ws):
    common = ['--max-iter', 4, '--log-interval', 1, '--num-warmup', 1, '--cfg-options',
              'train_dataloader.batch_size=2', *NO_WORKERS]
    out = run(tool('benchmark'), DEMO, '--checkpoint', 'work/epoch_10.pth', '--task',
              'inference', *common, cwd=ws).stdout
    overall = re.search(r'Overall fps: ([\d.]+) img/s, times per image: ([\d.]+) ms/img', out)
    fps, ms = float(overall.group(1)), float(overall.group(2))
    assert fps > 0 and ms == pytest.approx(1000 / fps, rel=0.02, abs=0.1)
    for task in ('dataloader', 'dataset'):
        out = run(tool('benchmark'), DEMO, '--task', task, '--dataset-type', 'train', *common,
                  cwd=ws).stdout
        assert re.search(r'Overall fps: [\d.]+ (batch|img)/s', out), task


def test_cpu_benchmark_patch_is_still_needed():
    """mmdet's InferenceBenchmark still moves the model to CUDA
    unconditionally; when this fails, ``register_cpu_inference_benchmark``
    can go."""
    import inspect

    from mmdet.utils.benchmark import InferenceBenchmark

    from mnext_det.compat import register_cpu_inference_benchmark
    register_cpu_inference_benchmark()  # getsource reads the wrapped method
    assert 'model.cuda()' in inspect.getsource(InferenceBenchmark._init_model)
    assert 'torch.cuda.synchronize()' in inspect.getsource(InferenceBenchmark.run_once)


def test_compare_names_bad_latency_rounds(tmp_path):
    proc = run_main(osp.join(ROOT, 'tools', 'analysis_tools', 'compare.py'), DEMO, 'a.pth', DEMO,
                    'b.pth', '--latency-rounds', 0, cwd=tmp_path)
    assert proc.returncode != 0
    assert '--latency-rounds must be at least 1, got 0' in proc.stderr


def test_compare_adds_confusion_matrices_and_recall_by_size(ws, val_set):
    from PIL import Image

    from mnext_det.evaluation.mmdet_tools import confusion_matrix
    run(osp.join(ROOT, 'tools', 'analysis_tools', 'compare.py'), DEMO, 'work/epoch_10.pth', DEMO,
        'work/epoch_10.pth', '--names', 'a', 'b', '--out-dir', 'cmp', '--latency-rounds', 2,
        '--confusion', '--cfg-options', *NO_WORKERS, cwd=ws)
    report = json.loads((ws / 'cmp' / 'compare.json').read_text())
    # the same matrix mmdet's tool counts on tools/test.py's predictions
    expected = confusion_matrix(val_set, load(str(ws / 'work' / 'results.pkl')))
    for result in report['results']:
        np.testing.assert_array_equal(result['confusion'], expected)
    assert expected[:6].sum() >= sum(len(_gt(val_set, i)[1]) for i in range(len(val_set)))
    for row in report['summary']:
        assert {'AR100', 'ARs', 'ARm', 'ARl'} <= set(row) and 0 <= row['AR100'] <= 1
    # timed side by side: the baseline's per-round ratio to itself is 1 in every round
    assert report['results'][0]['latency_ratio'] == [1., 1., 1.]
    assert report['results'][1]['latency_ratio'][0] == report['summary'][1]['latency_ratio']
    parts = [Image.open(ws / 'cmp' / f'confusion_matrices_{n}' / 'confusion_matrix.png')
             for n in 'ab']
    assert Image.open(ws / 'cmp' / 'confusion_matrices.png').width == sum(p.width for p in parts)

"""tools/test.py refuses a checkpoint that does not fit the config's model
(its ``__main__`` in this process, tests/tool_main.py), evaluates under
tcmalloc as tools/train.py trains (started as a user does), draws the
predictions with --show-dir and tests with flip augmentation with --tta."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import pytest
import torch
from mmengine.fileio import load

from mnext_det import create_model
from mnext_det.config_file import read_config
from mnext_det.engine.allocator import ALLOCATOR_ENV, find_tcmalloc
from mnext_det.engine.launch import with_tta, with_visualization

from ..conftest import DEMO_DET, NO_WORKERS, ROOT
from ..tool_main import run_main


def test_test_tool_refuses_checkpoint_that_does_not_fit(small_run):
    """mmengine loads load_from non-strictly; tools/test.py must not evaluate
    random weights when the checkpoint is for another model."""
    tmp, config, _ = small_run
    wrong = str(tmp / 'width050.pth')
    torch.save(dict(state_dict=create_model('mobilenext_050', num_classes=3).state_dict()), wrong)
    proc = run_main('tools/test.py', config, wrong, '--work-dir', tmp / 'wrong', cwd=ROOT)
    assert proc.returncode == 2
    tail = proc.stderr[-2000:]
    assert tail.startswith('error: ') and "width050.pth does not match the config's model" in tail
    assert 'shape mismatches' in tail, tail
    assert 'accuracy/top1:' not in proc.stdout + proc.stderr


def test_test_tool_evaluates_under_tcmalloc_as_train_does(small_run):
    """A user's tools/test.py re-executes under tcmalloc where the machine has it
    (glibc's malloc page-faults every large activation again), as tools/train.py."""
    tmp, config, _ = small_run
    ckpt = str(tmp / 'first' / 'epoch_2.pth')
    proc = subprocess.run([sys.executable, 'tools/test.py', config, ckpt, '--work-dir',
                           str(tmp / 'test_alloc')], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS='1',
                                             **{ALLOCATOR_ENV: 'auto'}))
    assert proc.returncode == 0, proc.stderr[-3000:]
    allocator = 'tcmalloc' if find_tcmalloc() else 'system'
    assert f'allocator: {allocator}' in proc.stdout
    assert 'torch threads: 1 (' in proc.stdout and 'usable CPUs' in proc.stdout
    assert 'accuracy/top1:' in proc.stdout + proc.stderr


def test_show_dir_draws_every_test_image(demo_ws):
    """mmdet's --show-dir: each val image with its boxes, at its own size."""
    val = json.loads((demo_ws / 'data' / 'shapes' / 'annotations' / 'instances_val.json')
                     .read_text())['images']
    drawn = glob.glob(str(demo_ws / 'work' / '*' / 'vis' / '*'))
    assert sorted(os.path.basename(p) for p in drawn) == sorted(i['file_name'] for i in val)
    for path in drawn:
        image = next(i for i in val if i['file_name'] == os.path.basename(path))
        # ground truth and prediction side by side
        assert cv2.imread(path).shape == (image['height'], 2 * image['width'], 3)


def test_show_dir_needs_a_visualization_hook(small_run):
    tmp, config, _ = small_run
    proc = run_main('tools/test.py', config, str(tmp / 'first' / 'epoch_2.pth'), '--work-dir',
                    tmp / 'shown', '--show-dir', 'vis', cwd=ROOT)
    assert (proc.returncode, proc.stderr) == (2, "error: --show-dir needs default_hooks."
                                              "visualization in the config (mmdet's "
                                              "DetVisualizationHook, which the detection "
                                              "configs' runtime holds)\n")


def test_show_sets_the_visualization_hook_as_mmdet_does(monkeypatch):
    monkeypatch.setenv('DISPLAY', ':0')
    cfg = read_config(DEMO_DET)
    with_visualization(cfg, show=True, wait_time=0.5)
    hook = cfg.default_hooks.visualization
    assert (hook.draw, hook.show, hook.wait_time, 'test_out_dir' in hook) == (True, True, 0.5,
                                                                              False)
    with_visualization(cfg, 'vis')
    assert hook.test_out_dir == 'vis'


@pytest.mark.parametrize('show_args, message', [
    (dict(show=True), r'--show opens a window and this machine has no display \(neither '
                      r'DISPLAY nor WAYLAND_DISPLAY is set\); draw into files with --show-dir'),
    (dict(show_dir='vis', wait_time=-1), r'--wait-time must be >= 0 seconds, got -1$'),
])
def test_show_without_a_display_or_with_a_negative_wait_is_refused(monkeypatch, show_args,
                                                                   message):
    for name in ('DISPLAY', 'WAYLAND_DISPLAY'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, 'platform', 'linux')
    cfg = read_config(DEMO_DET)
    with pytest.raises(ValueError, match=message):
        with_visualization(cfg, **show_args)
    assert 'show' not in cfg.default_hooks.visualization


def test_tta_wraps_the_detector_and_packs_both_flips():
    cfg = read_config(DEMO_DET)
    detector, pipeline = cfg.model.to_dict(), list(cfg.test_dataloader.dataset.pipeline)
    with_tta(cfg)
    assert cfg.model.type == 'DetTTAModel' and cfg.model.module == detector
    assert cfg.model.tta_cfg == dict(nms=detector['test_cfg']['nms'],
                                     max_per_img=detector['test_cfg']['max_per_img'])
    tta = cfg.test_dataloader.dataset.pipeline
    assert tta[:-1] == pipeline[:-1] and tta[-1].type == 'TestTimeAug'
    flips, (pack, ) = tta[-1].transforms
    assert [f.prob for f in flips] == [1., 0.]
    assert pack.meta_keys == tuple(pipeline[-1].meta_keys) + ('flip', 'flip_direction')


def test_tta_refuses_a_classifier(small_run):
    tmp, config, _ = small_run
    proc = run_main('tools/test.py', config, str(tmp / 'first' / 'epoch_2.pth'), '--work-dir',
                    tmp / 'tta', '--tta', cwd=ROOT)
    assert (proc.returncode, proc.stderr) == (
        2, 'error: --tta runs detector configs (test-time augmentation of boxes)\n')


def test_tta_evaluates_the_merged_flips(demo_ws):
    """mmdet's --tta (which our tool refused as an unknown argument): the
    checkpoint check sees the detector inside DetTTAModel, and the merged
    predictions differ from the plain ones."""
    proc = run_main(osp.join(ROOT, 'tools', 'test.py'), DEMO_DET, 'work/epoch_10.pth',
                    '--work-dir', 'work_tta', '--tta', '--out', 'work_tta/results.pkl',
                    '--cfg-options', *NO_WORKERS, cwd=demo_ws)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'coco/bbox_mAP:' in proc.stdout + proc.stderr
    plain, tta = (load(str(demo_ws / d / 'results.pkl')) for d in ('work', 'work_tta'))
    assert [r['img_path'] for r in tta] == [r['img_path'] for r in plain]
    assert any(not torch.equal(a['pred_instances']['bboxes'], b['pred_instances']['bboxes'])
               for a, b in zip(plain, tta))

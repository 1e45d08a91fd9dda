"""tools/test.py refuses a checkpoint that does not fit the config's model
(its ``__main__`` in this process, tests/tool_main.py), evaluates under
tcmalloc as tools/train.py trains (started as a user does) and draws the
predictions with --show-dir."""
import glob
import json
import os
import subprocess
import sys

import cv2
import torch

from mnext_det import create_model
from mnext_det.engine.allocator import ALLOCATOR_ENV, find_tcmalloc

from ..conftest import ROOT
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
    assert 'shape mismatches' in tail and 'convert_official_ckpt.py' in tail, tail
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

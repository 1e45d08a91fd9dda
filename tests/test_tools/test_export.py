"""tools/deploy/export.py and tools/deploy/onnx_infer.py (files and folders) from the
command line, including their refusals of mismatched checkpoints and unreadable images.
One export and one inference start the tools as a user does; the other runs
and the refusals run their ``__main__`` in this process (tests/tool_main.py)."""
import importlib.util
import os.path as osp
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from mnext_det import create_model

from ..conftest import ROOT
from ..test_deploy.parity_models import calibrate, real_images
from ..tolerances import depth_and_fan_in, float32_bound
from ..tool_main import run_main

pytest.importorskip('onnxruntime')


EXPORT = osp.join(ROOT, 'tools', 'deploy', 'export.py')
INFER = osp.join(ROOT, 'tools', 'deploy', 'onnx_infer.py')
DET_CONFIG = osp.join(ROOT, 'configs', 'ssdlite',
                      'ssdlite_mobilenext-100-scratch_8xb24-600e_coco.py')


def _run(*args):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=600,
                          cwd=ROOT)


def _photo():
    import matplotlib
    return osp.join(osp.dirname(matplotlib.__file__), 'mpl-data', 'sample_data',
                    'grace_hopper.jpg')


def test_export_refuses_checkpoint_of_another_model(tmp_path):
    ckpt = str(tmp_path / 'mnext050.pth')
    torch.save({'state_dict': create_model('mobilenext_050').state_dict()}, ckpt)
    res = run_main(EXPORT, 'mobilenext_100', '--checkpoint', ckpt, '--out',
                   str(tmp_path / 'x.onnx'), cwd=ROOT)
    assert res.returncode == 2 and res.stderr.startswith('error: ') and res.stderr.count('\n') == 1
    assert 'does not match' in res.stderr and ckpt in res.stderr
    assert 'mobilenext_100' in res.stderr and 'shape mismatches' in res.stderr
    assert not osp.exists(tmp_path / 'x.onnx')


@pytest.mark.parametrize('args, message', [
    (('--input-size', '0'), '--input-size takes H or H W, each at least 1, got [0]'),
    (('--input-size', '224', '224', '3'), '--input-size takes H or H W, each at least 1, got '
                                          '[224, 224, 3]'),
    (('--batch', '0'), '--batch must be at least 1 (leave it out for a dynamic batch), got 0'),
    (('--opset', '5'), '--opset must be at least 17, got 5'),  # named the flag, after the build
    (('--out', 'OUT/x.pth'), '--out OUT/x.pth: --format onnx writes a .onnx file (name it so, '
                             'or choose the format with --format)'),
    (('--format', 'tflite'), '--out OUT/x.onnx: --format tflite writes a .tflite file (name it '
                             'so, or choose the format with --format)'),
    (('--out', 'OUT/folder.onnx'), '--out: OUT/folder.onnx is a folder; give a file name'),
])
def test_export_refuses_bad_sizes_and_outputs(tmp_path, args, message):
    """--input-size 0 ended in a torch.export traceback, --batch 0 wrote a
    static batch-1 model and --out x.pth an ONNX model named .pth."""
    (tmp_path / 'folder.onnx').mkdir()
    args = [a.replace('OUT', str(tmp_path)) for a in args]
    res = run_main(EXPORT, 'mobilenext_035', '--out', str(tmp_path / 'x.onnx'), *args, cwd=ROOT)
    assert (res.returncode, res.stderr) == (2, f'error: {message.replace("OUT", str(tmp_path))}\n')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['folder.onnx']


def test_export_then_classify_and_refuse_unreadable_image(tmp_path):
    # weights whose activations neither vanish nor saturate (a fresh model's logits are
    # ~1e-9 in eval mode, where any error would pass), as a trained checkpoint's
    model = create_model('mobilenext_050', identity_tensor_multiplier=0.5)
    calibrate(model, model, real_images(), 224)
    torch.nn.init.normal_(model.classifier[1].weight, std=0.05)
    ckpt = str(tmp_path / 'calibrated.pth')
    torch.save({'state_dict': model.state_dict()}, ckpt)
    out = str(tmp_path / 'cls.onnx')
    res = _run(EXPORT, 'mobilenext_050', '--identity-multiplier', '0.5', '--checkpoint', ckpt,
               '--out', out, '--verify')
    assert res.returncode == 0, res.stderr
    assert f'weights: {ckpt}' in res.stdout and 'input N x 3 x 224 x 224' in res.stdout
    match = re.search(r'max \|PyTorch - onnx\| = (\S+) \(max \|value\| (\S+)\)', res.stdout)
    diff, largest = float(match.group(1)), float(match.group(2))
    assert largest > 1, res.stdout
    # the bound of two float32 evaluations of this network over its 1000 logits
    assert diff <= float32_bound(np.full(1000, largest), *depth_and_fan_in(model)), res.stdout
    res = _run(INFER, out, _photo(), '--topk', '3')
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(_photo() + ': ') and res.stdout.count(': 0.') == 3
    folder = tmp_path / 'photos'
    folder.mkdir()
    shutil.copy(_photo(), folder / 'b.jpg')
    shutil.copy(_photo(), folder / 'a.jpg')
    shutil.copy(_photo(), folder / 'c.gif')  # not an image by its name: said, not run
    res = run_main(INFER, out, str(folder), '--topk', '1', cwd=ROOT)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith('skipped 1 file(s)') and lines[0].endswith(str(folder / 'c.gif'))
    assert [line.split(': ')[0] for line in lines[1:]] == [
        str(folder / 'a.jpg'), str(folder / 'b.jpg')]
    bad = tmp_path / 'broken.jpg'
    bad.write_bytes(b'not an image at all')
    res = run_main(INFER, out, str(bad), _photo(), cwd=ROOT)  # skipped, the photo still run
    assert res.returncode == 2 and res.stdout.splitlines()[0] == f'{bad}: not a readable ' \
        'image, skipped' and res.stdout.splitlines()[1].startswith(_photo() + ': ')
    assert res.stderr == (f'error: 1 of 2 files could not be read as images (the others were '
                          f'run): {bad}\n')
    res = run_main(INFER, out, str(tmp_path / 'missing.png'), cwd=ROOT)
    assert res.returncode == 2 and res.stderr.startswith('error: ') and 'missing.png' in res.stderr


@pytest.mark.slow
def test_detector_export_and_inference_draws_boxes(tmp_path):
    pytest.importorskip('mmdet')
    out = str(tmp_path / 'det.onnx')
    res = _run(EXPORT, DET_CONFIG, '--out', out, '--batch', '1')
    assert res.returncode == 0, res.stderr
    assert "outputs ['boxes', 'scores']); weights: none given (--checkpoint)" in res.stdout
    res = _run(INFER, out, _photo(), '--score-thr', '0.0', '--out-dir', str(tmp_path / 'vis'))
    assert res.returncode == 0, res.stderr
    assert 'detections above 0.0' in res.stdout
    assert osp.isfile(tmp_path / 'vis' / 'grace_hopper.png')


def test_tflite_export_without_the_extra_is_one_line():
    """The tflite extra is not installed by make install (it pulls in jax and
    transformers): one line saying what to install, not an ImportError traceback."""
    if importlib.util.find_spec('litert_torch') is not None:
        pytest.skip('litert-torch is installed here')
    res = run_main(EXPORT, 'mobilenext_050', '--format', 'tflite', '--input-size', '32',
                   '--out', '/tmp/never_written.tflite', cwd=ROOT)
    assert (res.returncode, res.stderr) == (2, 'error: TFLite export needs litert-torch: pip '
                                               'install .[tflite]\n')

"""Numeric arguments below their least value or outside their interval are
refused before any work, naming the flag, by the functions and by the
analysis tools that use them."""
import argparse
import os.path as osp

import pytest
import torch

from mnext_det.tool_args import (require_at_least, require_between, require_device,
                                require_writable)

from .conftest import ROOT
from .tool_main import run_main


def test_require_at_least_names_the_flag_and_checks_list_items():
    args = argparse.Namespace(batch_size=4, warmup=0, workers=[0, -1], threads=None)
    require_at_least(args, batch_size=1, warmup=0, threads=1)
    with pytest.raises(ValueError, match='^--batch-size must be at least 8, got 4$'):
        require_at_least(args, batch_size=8)
    with pytest.raises(ValueError, match='^--workers must be at least 0, got -1$'):
        require_at_least(args, workers=0)


def test_require_between_names_the_flag_and_its_interval():
    require_between(argparse.Namespace(score_thr=0., iou=None), score_thr=(0, 1), iou=(0, 1))
    with pytest.raises(ValueError, match=r'^--score-thr must be in \[0, 1\], got 1\.5$'):
        require_between(argparse.Namespace(score_thr=1.5), score_thr=(0, 1))


@pytest.mark.parametrize('tool, args, message', [
    ('profile_detectors.py', ('--iters', '0'), '--iters must be at least 1, got 0'),
    ('profile_detectors.py', ('--warmup', '-1'), '--warmup must be at least 0, got -1'),
    ('benchmark_detectors.py', ('--train-iters', '0'), '--train-iters must be at least 1, got 0'),
    ('benchmark_pretrain.py', ('--workers', '2', '-1'), '--workers must be at least 0, got -1'),
    ('benchmark.py', ('--rounds', '0'), '--rounds must be at least 1, got 0'),
])
def test_analysis_tools_refuse_counts_below_their_least(tool, args, message):
    run = run_main(osp.join(ROOT, 'tools', 'analysis_tools', tool), *args, cwd=ROOT)
    assert (run.returncode, run.stderr) == (2, f'error: {message}\n')


def test_require_writable_refuses_outputs_that_cannot_be_written(tmp_path):
    note = tmp_path / 'note.txt'
    note.write_text('x')
    args = argparse.Namespace(out=str(tmp_path / 'new' / 'deeper' / 'r.pkl'), out_dir=None,
                              json=str(tmp_path / 'r.json'))
    require_writable(args, files=['out', 'json'], folders=['out_dir'])
    with pytest.raises(ValueError, match=rf'^--out: {note} is a file, so it cannot hold '
                       rf'{note}/a/r\.pkl$'):
        require_writable(argparse.Namespace(out=str(note / 'a' / 'r.pkl')), files=['out'])
    with pytest.raises(ValueError, match=rf'^--out-dir: {note} is a file; give a folder$'):
        require_writable(argparse.Namespace(out_dir=str(note)), folders=['out_dir'])
    with pytest.raises(ValueError, match=rf'^--json: {tmp_path} is a folder; give a file name$'):
        require_writable(argparse.Namespace(json=str(tmp_path)), files=['json'])


@pytest.mark.parametrize('tool, args, flag', [
    ('tools/test.py', ('CONFIG', 'CKPT', '--out', '{note}/res.pkl'), '--out'),
    ('tools/misc/infer.py', ('CONFIG', 'CKPT', 'x.jpg', '--out-dir', '{note}'), '--out-dir'),
    ('tools/deploy/export.py', ('mobilenext_050', '--out', '{note}/x.onnx'), '--out'),
    ('tools/misc/check_dataset.py', ('coco', 'a.json', 'img', '--json', '{note}/r.json'),
     '--json'),
    ('tools/analysis_tools/compare.py', ('C', 'K', 'C', 'K', '--out-dir', '{note}/c'),
     '--out-dir'),
])
def test_tools_refuse_an_output_below_a_file_before_any_work(tool, args, flag, tmp_path):
    """Each found it only after its work, in a FileExistsError traceback
    (check_dataset after the full scan, with exit 1: 'the data has errors')."""
    note = tmp_path / 'note.txt'
    note.write_text('x')
    run = run_main(osp.join(ROOT, tool), *(a.format(note=note) for a in args), cwd=str(tmp_path))
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith(f'error: {flag}: {note} is a file'), run.stderr


def test_require_device_names_a_device_this_machine_lacks(monkeypatch):
    require_device(argparse.Namespace(device='cpu'))
    with pytest.raises(ValueError, match=r"^--device: 'gpu' is not a torch device"):
        require_device(argparse.Namespace(device='gpu'))
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(ValueError, match=r'^--device cuda: torch sees no CUDA device here'):
        require_device(argparse.Namespace(device='cuda'))
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 2)
    require_device(argparse.Namespace(device='cuda:1'))
    with pytest.raises(ValueError, match=r'^--device cuda:2: torch sees 2 CUDA device\(s\), '
                       r'cuda:0 to cuda:1$'):
        require_device(argparse.Namespace(device='cuda:2'))

"""tools/train.py from the command line: it stops before training on missing
data or on --amp without a GPU (its ``__main__`` in this process,
tests/tool_main.py), and trains, resumes (and tools/test.py tests) without
mmcv and mmdet."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
import torch
from mmengine.config import Config

from mnext_det.checkpoint import load_checkpoint_file
from mnext_det.engine.launch import compile_options

from ..conftest import ROOT, _config
from ..fault_injection import train_env, write_classification_run
from ..import_blocker import BLOCK_MM
from ..tool_main import run_main


def test_train_tool_fails_before_training_on_missing_data(shapes, tmp_path):
    cfg = _config(shapes, 'coco', tmp_path / 'wd')
    cfg.train_dataloader.dataset.data_root = str(tmp_path / 'nowhere')
    cfg.dump(str(tmp_path / 'bad.py'))
    proc = run_main(osp.join(ROOT, 'tools', 'train.py'), tmp_path / 'bad.py', cwd=ROOT)
    assert proc.returncode != 0
    assert 'dataset folder not found' in proc.stderr and 'nowhere' in proc.stderr
    assert not (tmp_path / 'wd').exists()  # no runner was built


@pytest.mark.skipif(torch.cuda.is_available(), reason='the GPU-less refusal')
def test_train_amp_without_a_gpu_is_a_clear_error(tmp_path):
    config = write_classification_run(tmp_path, max_epochs=1)
    proc = run_main(osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir', tmp_path / 'wd',
                    '--amp', cwd=ROOT)
    assert proc.returncode == 2 and 'error: --amp needs a GPU' in proc.stderr
    assert not (tmp_path / 'wd').exists()


def test_train_resume_test_tools_without_mmcv_and_mmdet(small_run):
    """tools/train.py, --resume and tools/test.py in one process that cannot
    import mmcv or mmdet."""
    tmp, config, _ = small_run
    work = str(tmp / 'tools')
    runs = [['tools/train.py', config, '--work-dir', work, '--cfg-options',
             'train_cfg.max_epochs=1'],
            ['tools/train.py', config, '--work-dir', work, '--resume', '--cfg-options',
             'train_cfg.max_epochs=2'],
            ['tools/test.py', config, osp.join(work, 'epoch_2.pth'), '--work-dir', work]]
    code = BLOCK_MM + textwrap.dedent(f'''
        import runpy
        for argv in {runs!r}:
            sys.argv = argv
            try:
                runpy.run_path(argv[0], run_name='__main__')
            except SystemExit as e:  # the tools end through run_tool
                assert not e.code, (argv, e.code)
            print('TOOL DONE', argv[0], flush=True)
        assert not any(k.split('.')[0] in ('mmcv', 'mmdet') for k in sys.modules)
    ''')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    assert out.count('TOOL DONE') == 3
    assert 'resumed epoch: 1, iter: 3' in out
    assert 'Epoch(train) [2][3/3]' in out
    assert 'accuracy/top1:' in out and 'accuracy/top5: 100.0000' in out


def test_resume_in_an_empty_work_dir_starts_from_load_from(small_run, tmp_path):
    """A job that passes --resume on every launch (preemption): its first
    launch, with nothing to resume, starts from the config's load_from weights
    (mmdet's tool drops them) and says so. At lr 0 the weights it saves are
    the loaded ones."""
    tmp, config, _ = small_run
    weights = tmp / 'first' / 'epoch_2.pth'
    work = tmp_path / 'run'
    run = run_main(osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir', work, '--resume',
                   '--cfg-options', f'load_from={weights}', 'train_cfg.max_epochs=1',
                   'optim_wrapper.optimizer.lr=0', 'optim_wrapper.optimizer.weight_decay=0',
                   cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (f"resume: no checkpoint in {work}: training starts at the beginning from "
            f"load_from {weights}'s weights") in run.stdout
    loaded = load_checkpoint_file(str(weights))['state_dict']
    trained = load_checkpoint_file(str(work / 'epoch_1.pth'))['state_dict']
    convs = [k for k, v in loaded.items() if k.endswith('weight') and v.dim() == 4]
    assert convs and all(torch.equal(loaded[k], trained[k]) for k in convs)


def test_train_tool_compiles_a_configs_compile_true_as_its_flag_does(tmp_path, monkeypatch):
    """mmengine's ``compile=True`` in a config (here from --cfg-options) gets
    compile_options() too, not inductor's default layouts."""
    spec = importlib.util.spec_from_file_location('train_tool', osp.join(ROOT, 'tools', 'train.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    config = write_classification_run(tmp_path, max_epochs=1)
    monkeypatch.setattr(sys, 'argv', ['train.py', config, '--cfg-options', 'compile=True'])
    assert tool.build_cfg(tool.parse_args()).compile == compile_options()
    monkeypatch.setattr(sys, 'argv', ['train.py', config])
    assert not tool.build_cfg(tool.parse_args()).get('compile')


@pytest.mark.slow
def test_train_compile_flag_trains_with_torch_compile(tmp_path):
    """--compile reaches mmengine as cfg.compile with compile_options() and the
    compiled run trains."""
    config = write_classification_run(tmp_path, max_epochs=1)
    work = tmp_path / 'compiled'
    proc = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'train.py'), config,
                           '--work-dir', str(work), '--compile'], capture_output=True,
                          text=True, cwd=ROOT, timeout=600, env=train_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (work / 'epoch_1.pth').is_file()
    dumped = Config.fromfile(str(work / osp.basename(config)))
    assert dumped.compile == compile_options()

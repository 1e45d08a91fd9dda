import os
import subprocess
import sys

import pytest
import torch

from .tolerances import TEST_SEED

WIDTHS = (0.35, 0.5, 0.75, 1.0, 1.4)
MODEL_NAMES = ('mobilenext_035', 'mobilenext_050', 'mobilenext_075', 'mobilenext_100',
               'mobilenext_140')


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(TEST_SEED)


@pytest.fixture
def tmp_cwd(tmp_path):
    old = os.getcwd()
    os.chdir(tmp_path)
    yield tmp_path
    os.chdir(old)


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_DET = os.path.join(ROOT, 'configs', 'demo', 'ssdlite_mobilenext-050_1xb8-shapes-160.py')
NO_WORKERS = [f'{split}_dataloader.{key}' for split in ('train', 'val', 'test')
              for key in ('num_workers=0', 'persistent_workers=False')]


def run(script, *args, cwd, ok=True):
    """``python script args`` in ``cwd`` as a user runs it (Agg plots, one
    thread); asserts exit status 0 unless ``ok=False``."""
    env = dict(os.environ, MPLBACKEND='Agg', OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, script, *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300)
    if ok:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope='session')
def demo_ws(tmp_path_factory):
    """A user's folder: ``data/shapes`` (8 train, 4 val scenes), the demo
    MobileNeXt detector trained 10 epochs (4 iterations each, validated after
    epochs 5 and 10) in ``work/`` and its ``tools/test.py`` results as
    ``work/results.pkl``, ``work/res.bbox.json`` and the printed metrics in
    ``work/test_stdout.txt``."""
    pytest.importorskip('mmdet')
    from mnext_det.datasets.synthetic import SyntheticConfig, generate_shapes_dataset
    root = tmp_path_factory.mktemp('demo_ws')
    generate_shapes_dataset(str(root / 'data' / 'shapes'),
                            SyntheticConfig(num_train=8, num_val=4, num_test=0, image_size=160,
                                            max_objects=4), progress=False)
    run(os.path.join(ROOT, 'tools', 'train.py'), DEMO_DET, '--work-dir', 'work',
        '--cfg-options', 'train_cfg.max_epochs=10', 'train_cfg.val_interval=5',
        'train_dataloader.batch_size=2', 'optim_wrapper.optimizer.lr=0.004',
        'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=10', *NO_WORKERS,
        cwd=root)
    proc = run(os.path.join(ROOT, 'tools', 'test.py'), DEMO_DET, 'work/epoch_10.pth',
               '--work-dir', 'work', '--out', 'work/results.pkl', '--cfg-options',
               'test_evaluator.outfile_prefix=work/res', *NO_WORKERS, cwd=root)
    (root / 'work' / 'test_stdout.txt').write_text(proc.stdout + proc.stderr)
    return root

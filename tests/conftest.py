"""Shared fixtures: the seed, a temporary working directory, the trained demo
detector's folder, the generated shapes data (trained on), a short pretraining
run, a reference run for the resume tests; and the helpers they are built with."""
import copy
import os
import os.path as osp
import subprocess
import sys
import textwrap
import time
from typing import Sequence

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from PIL import Image

from mnext_det.checkpoint import load_checkpoint_file
from mnext_det.datasets.checks.preflight import check_detection_data
from mnext_det.datasets.synthetic import SHAPE_CLASSES, SyntheticConfig, generate_shapes_dataset
from mnext_det.engine.allocator import ALLOCATOR_ENV
from mnext_det.engine.cpus import cap_torch_threads

from .fault_injection import model_tensors, run_train, write_classification_run
from .tolerances import TEST_SEED

# The suite's tool processes stay on glibc's malloc: re-executing under tcmalloc
# repeats each one's imports (3-4 s, some fifty processes). The allocator's own
# tests and the demo's (tests/test_tools/test_demo.py) set it back to `auto`.
os.environ.setdefault(ALLOCATOR_ENV, 'system')
# Under a container's CPU quota torch's default (one thread per CPU of the
# affinity mask) oversubscribes the CPUs the suite really has; under
# pytest-xdist (`make test`: one worker per usable CPU) the workers share them.
torch.set_num_threads(max(1, cap_torch_threads() // int(os.environ.get(
    'PYTEST_XDIST_WORKER_COUNT', 1))))

WIDTHS = (0.35, 0.5, 0.75, 1.0, 1.4)
MODEL_NAMES = ('mobilenext_035', 'mobilenext_050', 'mobilenext_075', 'mobilenext_100',
               'mobilenext_140')


def pytest_collection_modifyitems(items):
    """Modules marked ``schedule_first`` run first, in their order. Under
    ``make test`` (pytest-xdist ``--dist worksteal``) each worker starts on
    its half of the tests and an idle one takes tests from the end of the
    other's: with the long modules at the front, what is left to share at the
    end is short tests, and the workers finish together."""
    items.sort(key=lambda item: item.get_closest_marker('schedule_first') is None)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(TEST_SEED)


@pytest.fixture(scope='session', autouse=True)
def _session_default_scopes():
    """mmengine's default scopes as the session found them, before any fixture."""
    return copy.copy(DefaultScope._instance_dict)


@pytest.fixture(autouse=True)
def _default_scope(_session_default_scopes):
    """After every test, mmengine's default scopes are the session's first ones
    again: a Runner built by a test, or by a session fixture set up for it
    (``small_run``'s classifier), stays mmengine's current ``DefaultScope`` for
    the rest of the process (a classifier's is ``mmengine``), and registry
    builds in a later test of the same xdist worker would then search the
    wrong registry. Restored as ``DefaultScope.overwrite_default_scope`` does."""
    yield
    DefaultScope._instance_dict = copy.copy(_session_default_scopes)


@pytest.fixture
def tmp_cwd(tmp_path):
    old = os.getcwd()
    os.chdir(tmp_path)
    yield tmp_path
    os.chdir(old)


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_DET = os.path.join(ROOT, 'configs', 'demo', 'ssdlite_mobilenext-050_1xb8-10e_shapes-160.py')
NO_WORKERS = [f'{split}_dataloader.{key}' for split in ('train', 'val', 'test')
              for key in ('num_workers=0', 'persistent_workers=False')]


def run(script, *args, cwd, ok=True, timeout=300):
    """``python script args`` in ``cwd`` as a user runs it (Agg plots, one
    thread); asserts exit status 0 unless ``ok=False``."""
    env = dict(os.environ, MPLBACKEND='Agg', OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, script, *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=timeout)
    if ok:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope='session')
def demo_ws(tmp_path_factory):
    """A user's folder: ``data/shapes`` (8 train, 4 val scenes), the demo
    MobileNeXt detector trained 10 epochs (4 iterations each, validated after
    epochs 5 and 10) in ``work/`` and its ``tools/test.py`` results as
    ``work/results.pkl``, ``work/res.bbox.json``, the val images drawn with
    their predictions in ``work/<timestamp>/vis`` (``--show-dir``) and the
    printed metrics in ``work/test_stdout.txt``."""
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
               '--work-dir', 'work', '--out', 'work/results.pkl', '--show-dir', 'vis',
               '--cfg-options',
               'test_evaluator.outfile_prefix=work/res', *NO_WORKERS, cwd=root)
    (root / 'work' / 'test_stdout.txt').write_text(proc.stdout + proc.stderr)
    return root


# The generated shapes data in COCO and VOC layout, and detectors trained on it
def _coco_dataset(root, split, pipeline):
    return dict(type='CocoDataset', data_root=root, metainfo=dict(classes=SHAPE_CLASSES),
                ann_file=f'annotations/instances_{split}.json',
                data_prefix=dict(img='VOC2007/JPEGImages/'), pipeline=pipeline)


def _voc_dataset(root, split, pipeline):
    return dict(type='VOCDataset', data_root=root, metainfo=dict(classes=SHAPE_CLASSES),
                ann_file=f'VOC2007/ImageSets/Main/{split}.txt',
                data_prefix=dict(sub_data_root='VOC2007/'), pipeline=pipeline)


def _config(root, layout, work_dir):
    cfg = Config.fromfile(DEMO_DET)
    make = _coco_dataset if layout == 'coco' else _voc_dataset
    cfg.train_dataloader.update(batch_size=4, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset = make(root, 'train', cfg.train_pipeline)
    for loader in ('val_dataloader', 'test_dataloader'):
        cfg[loader].update(batch_size=4, num_workers=0, persistent_workers=False)
        cfg[loader].dataset = dict(make(root, 'val', cfg.test_pipeline), test_mode=True)
    evaluator = (dict(type='CocoMetric', ann_file=root + 'annotations/instances_val.json',
                      metric='bbox', classwise=True) if layout == 'coco' else
                 dict(type='VOCMetric', metric='mAP', eval_mode='11points'))
    cfg.val_evaluator = cfg.test_evaluator = evaluator
    cfg.train_cfg.update(max_epochs=5, val_begin=100)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0)]
    cfg.optim_wrapper.optimizer.lr = 4e-3  # a fall visible within 10 steps of this run
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.update(interval=5)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'{layout}_{time.time_ns()}'
    cfg.visualizer.name = cfg.experiment_name  # one visualizer (and scalars file) per run
    return cfg


@pytest.fixture(scope='session')
def shapes(tmp_path_factory):
    pytest.importorskip('mmdet')
    root = str(tmp_path_factory.mktemp('shapes'))
    generate_shapes_dataset(root, SyntheticConfig(num_train=8, num_val=4, num_test=0, image_size=160,
                                                  max_objects=4), progress=False)
    return root + '/'


@pytest.fixture(scope='session')
def trained(shapes, tmp_path_factory):
    """Train briefly on both layouts; return {layout: (cfg, work_dir)}."""
    out = {}
    for layout in ('coco', 'voc'):
        work_dir = tmp_path_factory.mktemp(f'train_{layout}')
        cfg = _config(shapes, layout, work_dir)
        check_detection_data(cfg)
        Runner.from_cfg(cfg).train()
        out[layout] = (cfg, work_dir)
    return out


# A short pretraining run on a generated ImageFolder
COLORS = ('blue', 'green', 'red')


def make_image_folder(root: str, n_train: int = 6, n_val: int = 2, size: int = 40,
                      classes: Sequence[str] = COLORS, seed: int = 0) -> str:
    """Write ``root/{train,val}/<class>/<i>.{png,jpg}``: noise images whose
    dominant colour channel is the class (blue, green, red)."""
    rng = np.random.default_rng(seed)
    for split, n in (('train', n_train), ('val', n_val)):
        for ci, name in enumerate(classes):
            folder = osp.join(root, split, name)
            os.makedirs(folder, exist_ok=True)
            for i in range(n):
                img = rng.integers(0, 90, (size, size, 3)).astype(np.uint8)
                img[..., (2 - ci) % 3] += 120
                ext = 'png' if i % 2 else 'jpg'
                Image.fromarray(img).save(osp.join(folder, f'{name}_{i}.{ext}'))
    return root


BASE = osp.join(ROOT, 'configs/imagenet/mobilenext-035_8xb64-210e_in1k.py')


def write_config(path, data_root: str, size: int, batch: int, lr: float, max_epochs: int,
                 cosine_end: int, base: str = BASE) -> str:
    """A config inheriting a real pretraining config, scaled down to the
    generated data (pipelines at ``size`` px, 3 classes, CPU, seed 0)."""
    path.write_text(textwrap.dedent(f'''
        _base_ = {base!r}
        model = dict(num_classes=3)
        train_pipeline = [
            dict(type='DecodeImage'),
            dict(type='TorchvisionTransforms', transforms=[
                dict(type='RandomChoice', transforms=[
                    dict(type='RandomResizedCrop', size={size}, interpolation='bilinear'),
                    dict(type='RandomResizedCrop', size={size}, interpolation='bicubic')]),
                dict(type='RandomHorizontalFlip'),
                dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4)]),
            dict(type='PackClsInputs')]
        test_pipeline = [
            dict(type='DecodeImage'),
            dict(type='TorchvisionTransforms', transforms=[
                dict(type='Resize', size={size}, interpolation='bicubic'),
                dict(type='CenterCrop', size={size})]),
            dict(type='PackClsInputs')]
        loader = dict(batch_size={batch}, num_workers=0, persistent_workers=False,
                      pin_memory=False)
        train_dataloader = dict(**loader, dataset=dict(
            data_root={data_root!r}, num_classes=3, pipeline=train_pipeline))
        val_dataloader = dict(**loader, dataset=dict(
            data_root={data_root!r}, num_classes=3, pipeline=test_pipeline))
        test_dataloader = val_dataloader
        optim_wrapper = dict(optimizer=dict(lr={lr}))
        param_scheduler = [
            dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
                 convert_to_iter_based=True),
            dict(type='CosineAnnealingLR', T_max={cosine_end - 1}, eta_min=1e-5,
                 by_epoch=True, begin=1, end={cosine_end}, convert_to_iter_based=True)]
        train_cfg = dict(max_epochs={max_epochs})
        default_hooks = dict(logger=dict(interval=1),
                             checkpoint=dict(max_keep_ckpts={max_epochs}))
        env_cfg = dict(dist_cfg=dict(backend='gloo'))
        randomness = dict(seed=0)
    '''))
    return str(path)


def _runner(config: str, work_dir, **overrides) -> Runner:
    cfg = Config.fromfile(config)
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(overrides)
    return Runner.from_cfg(cfg)


@pytest.fixture(scope='session')
def small_run(tmp_path_factory):
    """Two epochs on 3 x 8 images at 32 px, 3 iterations per epoch."""
    tmp = tmp_path_factory.mktemp('pretrain')
    data = make_image_folder(str(tmp / 'data'), n_train=8, n_val=4, size=36)
    config = write_config(tmp / 'cfg.py', data, size=32, batch=8, lr=0.01, max_epochs=2,
                          cosine_end=3)
    runner = _runner(config, tmp / 'first')
    runner.train()
    return tmp, config, runner


# The uninterrupted training run the resume tests compare with
EPOCHS, ITERS_PER_EPOCH = 5, 4


def _last(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def _assert_same_run(ckpt_a: str, ckpt_b: str) -> None:
    a, b = load_checkpoint_file(ckpt_a), load_checkpoint_file(ckpt_b)
    assert (a['meta']['epoch'], a['meta']['iter']) == (b['meta']['epoch'], b['meta']['iter'])
    for key in ('state_dict', 'ema_state_dict'):
        ta, tb = model_tensors(a[key]), model_tensors(b[key])
        assert ta.keys() == tb.keys()
        for k in ta:
            torch.testing.assert_close(ta[k], tb[k], rtol=0, atol=0, msg=f'{key}.{k}')
    sa, sb = a['optimizer']['state'], b['optimizer']['state']
    assert sa.keys() == sb.keys()
    for k in sa:
        torch.testing.assert_close(sa[k]['momentum_buffer'], sb[k]['momentum_buffer'],
                                   rtol=0, atol=0)
    assert a['param_schedulers'] == b['param_schedulers']


@pytest.fixture(scope='session')
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('reference')
    cfg = write_classification_run(tmp, max_epochs=EPOCHS)
    work = str(tmp / 'work')
    proc = run_train([cfg, '--work-dir', work])
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = _last(work)
    assert last.endswith(f'epoch_{EPOCHS}.pth')
    return tmp, cfg, last

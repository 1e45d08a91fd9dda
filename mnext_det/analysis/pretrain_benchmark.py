"""Pretraining throughput (``tools/analysis_tools/benchmark_pretrain.py``):
MobileNeXt-1.0 vs MobileNetV2-1.0 training steps, and the training data
pipeline alone.

Model part: forward + loss + backward + SGD step of the pretraining configs'
classifiers (data already on the device), the models measured in alternating
rounds in one process, img/s per round. Data part: the MobileNeXt config's
training dataloader (decode, RandomResizedCrop, flip, ColorJitter, collate)
over an ImageFolder or over generated ImageNet-sized JPEGs, img/s per worker
count. A model whose config does not import (MobileNetV2's needs mmdet) is
skipped.
"""
import functools
import math
import os
import os.path as osp
import statistics
import tempfile
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import Runner
from mmengine.utils import import_modules_from_strings

from .timing import time_call, time_interleaved

__all__ = ['CONFIGS', 'bench_models', 'bench_data', 'format_models', 'format_data']

# the checkout (configs/ lies beside the package)
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = {
    'MobileNeXt-1.0': 'configs/imagenet/mobilenext-100_8xb64-210e_in1k.py',
    'MobileNetV2-1.0': 'configs/imagenet/mobilenetv2-100_8xb64-210e_in1k.py',
}


def _load(config: str) -> Config:
    cfg = Config.fromfile(osp.join(ROOT, config))
    import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.default_scope)
    return cfg


def _train_step(model, optim, inputs, labels) -> None:
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=labels), True)
    loss = model(**data, mode='loss')['loss']
    optim.zero_grad(set_to_none=True)
    loss.backward()
    optim.step()


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def _train_steps(model, optim, inputs, labels, iters: int, device: str) -> None:
    for _ in range(iters):
        _train_step(model, optim, inputs, labels)
    _sync(device)


def bench_models(batch: int, iters: int, rounds: int, size: int, device: str,
                 channels_last: bool,
                 log: Callable[[str], None] = print) -> Dict[str, List[float]]:
    """img/s of each model's training step, one value per round of ``iters``
    steps; a model whose config cannot be imported is skipped (logged)."""
    runs = {}
    for name, config in CONFIGS.items():
        try:
            cfg = _load(config)
        except ImportError as e:
            log(f'{name}: skipped ({e})')
            continue
        model = MODELS.build(cfg.model).to(device).train()
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        optim = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
        inputs = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8, device=device)
        labels = torch.randint(0, 1000, (batch, ), device=device)
        runs[name] = (model, optim, inputs, labels)
        for _ in range(2):  # warm-up
            _train_step(model, optim, inputs, labels)
    _sync(device)
    times = time_interleaved({name: functools.partial(_train_steps, *run, iters=iters,
                                                      device=device)
                              for name, run in runs.items()}, rounds)
    return {name: [batch * iters / seconds for seconds in t] for name, t in times.items()}


def _write_jpegs(folder: str, n: int, classes: int = 4) -> None:
    """ImageNet-like JPEGs in ``folder/train/classK``: 500x375, about 110 KB
    each (ImageNet's average file size), upsampled noise."""
    from PIL import Image
    rng = np.random.default_rng(0)
    for i in range(n):
        d = osp.join(folder, 'train', f'class{i % classes}')
        os.makedirs(d, exist_ok=True)
        small = rng.integers(0, 256, (125, 167, 3), dtype=np.uint8)
        Image.fromarray(small).resize((500, 375), Image.BILINEAR).save(
            osp.join(d, f'{i}.JPEG'), quality=90)


def _loader_rate(cfg: Config, data_root: str, workers: int, batch: int, batches: int) -> float:
    dl_cfg = cfg.train_dataloader.copy()
    dl_cfg.update(num_workers=workers, persistent_workers=workers > 0, batch_size=batch,
                  pin_memory=torch.cuda.is_available())
    dl_cfg.dataset = dict(dl_cfg.dataset, data_root=data_root, num_classes=None)
    loader = Runner.build_dataloader(dl_cfg, seed=0)
    state = dict(it=iter(loader), images=0)
    next(state['it'])  # start the workers

    def load() -> None:
        for _ in range(batches):
            try:
                state['images'] += len(next(state['it'])['inputs'])
            except StopIteration:
                state['it'] = iter(loader)
    seconds = time_call(load)
    return state['images'] / seconds


def bench_data(data_root: Optional[str], workers: List[int], batch: int, batches: int,
               num_images: int = 512) -> Dict[int, float]:
    """img/s of the MobileNeXt config's training dataloader per worker count,
    over ``data_root`` (an ImageFolder with ``train/``) or, when None, over
    ``num_images`` generated 500x375 JPEGs."""
    cfg = _load(CONFIGS['MobileNeXt-1.0'])
    with tempfile.TemporaryDirectory() as tmp:
        if data_root is None:
            _write_jpegs(tmp, num_images)
            data_root = tmp
        return {w: _loader_rate(cfg, data_root, w, batch, batches) for w in workers}


def format_models(results: Dict[str, List[float]]) -> str:
    """img/s of each model (median of its rounds, and the rounds) and the
    MobileNeXt / MobileNetV2 ratio."""
    medians = {name: statistics.median(v) for name, v in results.items()}
    lines = [f'train step  {name:16s} {medians[name]:8.1f} img/s  (rounds: '
             + ', '.join(f'{x:.1f}' for x in v) + ')' for name, v in results.items()]
    if len(medians) == 2:
        a, b = medians.values()
        lines.append(f'ratio MobileNeXt-1.0 / MobileNetV2-1.0: {a / b:.2f}')
    return '\n'.join(lines)


def format_data(data: Dict[int, float], results: Dict[str, List[float]]) -> str:
    """img/s per worker count and the workers needed to feed the faster model."""
    lines = [f'data pipeline  {w} worker(s): {rate:8.1f} img/s' for w, rate in data.items()]
    fastest = max((statistics.median(v) for v in results.values()), default=None)
    per_worker = max(rate / max(w, 1) for w, rate in data.items())
    if fastest:
        lines.append(f'to feed {fastest:.1f} img/s: about {math.ceil(fastest / per_worker)} '
                     f'worker(s) at {per_worker:.1f} img/s each')
    return '\n'.join(lines)

"""Pretraining throughput: MobileNeXt-1.0 vs MobileNetV2-1.0 training steps,
and the training data pipeline alone.

    python tools/analysis_tools/benchmark_pretrain.py [--batch-size 32] [--iters 10]
        [--data-root DIR] [--workers 0 1 2] [--device cpu|cuda]

Model part: forward + loss + backward + SGD step of the pretraining
configs' classifiers at 224 px (data already on the device), the two models
measured in alternating rounds in one process; prints img/s each, the
ratio, and the median of the rounds. Data part: the training dataloader
of the config (decode, RandomResizedCrop, flip, ColorJitter, collate) over
``--data-root`` (an ImageFolder) or over generated ImageNet-sized JPEGs;
prints img/s per worker count and the workers needed to keep the faster
model busy. Figures depend on the machine: report them with it.
"""
import argparse
import math
import os
import os.path as osp
import statistics
import tempfile
import time
from typing import Dict, List

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import Runner
from mmengine.utils import import_modules_from_strings

import mnext_det  # noqa: F401

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


def bench_models(batch: int, iters: int, rounds: int, size: int, device: str,
                 channels_last: bool) -> Dict[str, List[float]]:
    """img/s of each model's training step, one value per round."""
    runs = {}
    for name, config in CONFIGS.items():
        try:
            cfg = _load(config)
        except ImportError as e:
            print(f'{name}: skipped ({e})')
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
    results: Dict[str, List[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, (model, optim, inputs, labels) in runs.items():
            _sync(device)
            start = time.perf_counter()
            for _ in range(iters):
                _train_step(model, optim, inputs, labels)
            _sync(device)
            results[name].append(batch * iters / (time.perf_counter() - start))
    return results


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


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


def bench_data(data_root: str, workers: List[int], batch: int, batches: int) -> Dict[int, float]:
    """img/s of the MobileNeXt config's training dataloader per worker count."""
    cfg = _load(CONFIGS['MobileNeXt-1.0'])
    out = {}
    for w in workers:
        dl_cfg = cfg.train_dataloader.copy()
        dl_cfg.update(num_workers=w, persistent_workers=w > 0, batch_size=batch,
                      pin_memory=torch.cuda.is_available())
        dl_cfg.dataset = dict(dl_cfg.dataset, data_root=data_root, num_classes=None)
        loader = Runner.build_dataloader(dl_cfg, seed=0)
        it = iter(loader)
        next(it)  # start the workers
        start, n = time.perf_counter(), 0
        for _ in range(batches):
            try:
                n += len(next(it)['inputs'])
            except StopIteration:
                it = iter(loader)
        out[w] = n / (time.perf_counter() - start)
        del it, loader
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--iters', type=int, default=5, help='train steps per round')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--data-root', help='ImageFolder root with train/ (default: '
                        'generated 500x375 JPEGs)')
    parser.add_argument('--num-images', type=int, default=512,
                        help='generated images when --data-root is not given')
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 2])
    parser.add_argument('--data-batches', type=int, default=20)
    parser.add_argument('--skip-data', action='store_true')
    args = parser.parse_args()

    print(f'device: {args.device} ({torch.get_num_threads()} threads), batch '
          f'{args.batch_size}, {args.size} px, {args.rounds} rounds x {args.iters} steps')
    results = bench_models(args.batch_size, args.iters, args.rounds, args.size,
                           args.device, args.channels_last)
    medians = {name: statistics.median(v) for name, v in results.items()}
    for name, v in results.items():
        print(f'train step  {name:16s} {medians[name]:8.1f} img/s  (rounds: '
              + ', '.join(f'{x:.1f}' for x in v) + ')')
    if len(medians) == 2:
        a, b = medians.values()
        print(f'ratio MobileNeXt-1.0 / MobileNetV2-1.0: {a / b:.2f}')
    if args.skip_data:
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_root
        if root is None:
            _write_jpegs(tmp, args.num_images)
            root = tmp
        data = bench_data(root, args.workers, args.batch_size, args.data_batches)
    for w, rate in data.items():
        print(f'data pipeline  {w} worker(s): {rate:8.1f} img/s')
    fastest = max(medians.values()) if medians else None
    per_worker = max(rate / max(w, 1) for w, rate in data.items())
    if fastest:
        print(f'to feed {fastest:.1f} img/s: about {math.ceil(fastest / per_worker)} '
              f'worker(s) at {per_worker:.1f} img/s each')


if __name__ == '__main__':
    main()

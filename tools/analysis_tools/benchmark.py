"""Side-by-side CPU latency of MobileNeXt vs MobileNetV2 classifiers and
SSDLite detectors, over PyTorch eager, ONNX Runtime and (when installed) TFLite.

    python tools/analysis_tools/benchmark.py [--threads 2] [--rounds 15] [--iters 10]
        [--out-dir work_dirs/benchmark] [--quick] [--no-memory] [--timer wall|cpu]

Every (model, backend) pair runs ``--iters`` batch-1 calls per round, and the
pairs take turns round by round, so load from other processes falls on all of
them alike. Reported per pair: median, p10-p90 and min latency, batch-1
throughput (1000 / median), achieved GFLOP/s (2 x MAdds / median) against a
matmul peak measured in the same run (best of all rounds), params, MAdds,
peak memory (RSS growth during inference, in a fresh process) and the ratio to the MobileNetV2
baseline of the same backend (median of per-round ratios). For ONNX Runtime,
a per-op-type profile of MobileNeXt and its baseline explains the ratio.
``--timer cpu`` times the CPU time of the calling thread with one thread
(ONNX Runtime, LiteRT and PyTorch then compute in that thread), which stays
stable when other processes share the CPU; wall time with several threads is
what a dedicated machine would see.
Writes benchmark.md, benchmark.json and benchmark.png to --out-dir.
A benchmark, not a test: figures depend on the machine and its load.
"""
import argparse
import copy
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from typing import Callable, Dict, List, Tuple

import numpy as np
import torch
import torch.nn as nn

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
from mnext_det import ImageClassifier, create_model
from mnext_det.analysis import count_madds, count_params
from mnext_det.deploy import (OnnxRuntimeModel, SSDExportWrapper, build_model,
                              export_onnx, fuse_conv_bn)

DET_CONFIGS = {
    'SSDLite-MobileNeXt-1.0': 'configs/ssdlite/ssdlite_mobilenext-100-scratch_8xb24-600e_coco.py',
    'SSDLite-MobileNetV2': 'configs/ssdlite/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py',
}
CLS_BASELINE, DET_BASELINE = 'torchvision MobileNetV2', 'SSDLite-MobileNetV2'


class _TorchvisionSSDLite(nn.Module):
    """torchvision SSDLite backbone + head raw outputs (no decoding/NMS)."""

    def __init__(self) -> None:
        super().__init__()
        from torchvision.models.detection import ssdlite320_mobilenet_v3_large
        model = ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None)
        self.backbone, self.head = model.backbone, model.head

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        out = self.head(list(self.backbone(x).values()))
        return out['bbox_regression'], out['cls_logits']


def _mmdet_mobilenetv2() -> nn.Module:
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    return ImageClassifier(backbone=dict(type='mmdet.MobileNetV2', out_indices=(7, )),
                           in_channels=1280)


def model_builders(quick: bool) -> Dict[str, Tuple[Callable[[], nn.Module], int]]:
    """name -> (builder of an eval-mode module, input size)."""
    import torchvision

    def mnext(div: int) -> Callable[[], nn.Module]:
        return lambda: create_model('mobilenext_100', identity_tensor_multiplier=1 / div)

    def ssd(cfg: str) -> Callable[[], nn.Module]:
        return lambda: SSDExportWrapper(build_model(osp.join(ROOT, cfg))[0].eval(), (320, 320))

    models = {'MobileNeXt-1.0 (identity 1)': (mnext(1), 224)}
    for div in ((2, ) if quick else (2, 3, 4)):
        models[f'MobileNeXt-1.0 (identity 1/{div})'] = (mnext(div), 224)
    models[CLS_BASELINE] = (lambda: torchvision.models.mobilenet_v2(), 224)
    if quick:
        return models
    models['mmdet MobileNetV2'] = (_mmdet_mobilenetv2, 224)
    for name, cfg in DET_CONFIGS.items():
        models[name] = (ssd(cfg), 320)
    models['torchvision SSDLite320-MobileNetV3-L'] = (_TorchvisionSSDLite, 320)
    return models


def backends(quick: bool) -> List[str]:
    names = ['eager+fold+cl', 'onnxruntime'] if quick else [
        'eager', 'eager+fold', 'eager+fold+cl', 'onnxruntime']
    try:
        import ai_edge_litert  # noqa: F401
        import litert_torch  # noqa: F401
        if not quick:
            names.append('tflite')
    except ImportError:
        pass
    return names


def make_runner(model: nn.Module, size: int, backend: str, threads: int,
                workdir: str, tag: str) -> Callable[[], object]:
    """A zero-argument callable running one batch-1 inference."""
    x = torch.rand(1, 3, size, size)
    if backend.startswith('eager'):
        model = copy.deepcopy(model).eval()
        if 'fold' in backend:
            fuse_conv_bn(model)
        if backend.endswith('+cl'):
            model = model.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)

        def run() -> object:
            with torch.inference_mode():
                return model(x)
        return run
    if backend == 'onnxruntime':
        file = export_onnx(model, osp.join(workdir, f'{tag}.onnx'), (1, 3, size, size),
                           output_names=('out0', 'out1') if size == 320 else ('out0', ))
        session = OnnxRuntimeModel(file, num_threads=threads)
        xn = x.numpy()
        return lambda: session(xn)
    if backend == 'tflite':
        from mnext_det.deploy.tflite import TFLiteModel, export_tflite
        file = export_tflite(model, osp.join(workdir, f'{tag}.tflite'), (1, 3, size, size))
        interp = TFLiteModel(file, num_threads=threads)
        xn = x.numpy()
        return lambda: interp(xn)
    raise ValueError(f'unknown backend {backend!r}')


def matmul_peak_gflops(threads: int, repeats: int = 20) -> float:
    """Best fp32 GFLOP/s of a 1024^3 matmul with ``threads`` threads."""
    torch.set_num_threads(threads)
    a, b = torch.rand(1024, 1024), torch.rand(1024, 1024)
    a @ b
    best = min(_time(lambda: a @ b) for _ in range(repeats))
    return 2 * 1024**3 / best / 1e9


_CLOCK = time.perf_counter


def _time(fn: Callable[[], object]) -> float:
    t = _CLOCK()
    fn()
    return _CLOCK() - t


def ort_profile(file: str, threads: int, runs: int = 20) -> Dict[str, float]:
    """ONNX Runtime milliseconds per run by op type (its profiler)."""
    with tempfile.TemporaryDirectory() as tmp:
        session = OnnxRuntimeModel(file, num_threads=threads,
                                   profile_prefix=osp.join(tmp, 'ort'))
        shape = session.session.get_inputs()[0].shape
        x = np.random.rand(1, *shape[1:]).astype(np.float32)
        for _ in range(runs):
            session(x)
        path = session.session.end_profiling()
        events = json.load(open(path))
    per_op: Dict[str, float] = defaultdict(float)
    for ev in events:
        if ev.get('cat') == 'Node' and ev['name'].endswith('_kernel_time'):
            per_op[ev['args']['op_name']] += ev['dur'] / 1e3 / runs
    return dict(sorted(per_op.items(), key=lambda kv: -kv[1]))


def peak_memory_mb(name: str, backend: str, threads: int) -> float:
    """Peak RSS growth (MiB) over the first three inferences in a fresh
    process whose model is loaded: activations, workspace and allocator
    arenas on top of the weights."""
    out = subprocess.run(
        [sys.executable, __file__, '--_memory', name, backend, '--threads', str(threads)],
        capture_output=True, text=True, timeout=600)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith('PEAK_MB ')]
    return float(lines[-1].split()[1]) if lines else float('nan')


def _status_mb(field: str) -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f'{field} not in /proc/self/status')


def _memory_child(name: str, backend: str, threads: int) -> None:
    torch.set_num_threads(threads)
    builder, size = model_builders(quick=False)[name]
    model = builder().eval()
    with tempfile.TemporaryDirectory() as tmp:
        run = make_runner(model, size, backend, threads, tmp, 'm')
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # reset the peak RSS (VmHWM) to the current RSS
        base = _status_mb('VmRSS')
        for _ in range(3):
            run()
        print(f"PEAK_MB {_status_mb('VmHWM') - base:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--rounds', type=int, default=15)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--out-dir', default='work_dirs/benchmark')
    parser.add_argument('--quick', action='store_true',
                        help='few models, backends and runs, no memory (smoke test)')
    parser.add_argument('--no-memory', action='store_true', help='skip peak-memory processes')
    parser.add_argument('--timer', default='wall', choices=['wall', 'cpu'],
                        help='wall: elapsed time; cpu: CPU time of the calling thread, '
                        'with 1 thread (robust when other processes load the CPU)')
    parser.add_argument('--_memory', nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.timer == 'cpu':
        global _CLOCK
        _CLOCK, args.threads = time.thread_time, 1
    if args._memory:
        _memory_child(*args._memory, args.threads)
        return
    if args.quick:
        args.rounds, args.iters, args.no_memory = min(args.rounds, 3), min(args.iters, 3), True
    torch.set_num_threads(args.threads)
    os.makedirs(args.out_dir, exist_ok=True)
    load_start = os.getloadavg()
    peak = matmul_peak_gflops(args.threads)
    builders = model_builders(args.quick)
    names_backends = backends(args.quick)
    rows: Dict[Tuple[str, str], dict] = {}
    runners = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, (builder, size)) in enumerate(builders.items()):
            model = builder().eval()
            info = dict(params=count_params(model),
                        madds=count_madds(model, (1, 3, size, size)), input=size)
            for backend in names_backends:
                print(f'preparing {name} / {backend}', flush=True)
                runners[(name, backend)] = make_runner(model, size, backend, args.threads,
                                                       tmp, f'm{i}')
                rows[(name, backend)] = dict(model=name, backend=backend, **info)
        for run in runners.values():  # warm-up
            for _ in range(3):
                run()
        samples: Dict[Tuple[str, str], List[List[float]]] = defaultdict(list)
        for r in range(args.rounds):
            for key, run in runners.items():
                samples[key].append([_time(run) * 1e3 for _ in range(args.iters)])
            peak = max(peak, matmul_peak_gflops(args.threads, repeats=5))
            print(f'round {r + 1}/{args.rounds}', flush=True)
        profiles = {}
        if 'onnxruntime' in names_backends:
            for name in ('MobileNeXt-1.0 (identity 1)', CLS_BASELINE,
                         'SSDLite-MobileNeXt-1.0', DET_BASELINE):
                if name not in builders:
                    continue
                idx = list(builders).index(name)
                profiles[name] = ort_profile(osp.join(tmp, f'm{idx}.onnx'), args.threads)
    for key, row in rows.items():
        flat = np.concatenate(samples[key])
        med = float(np.median(flat))
        row.update(median_ms=med, p10_ms=float(np.percentile(flat, 10)),
                   p90_ms=float(np.percentile(flat, 90)), min_ms=float(flat.min()),
                   throughput=1000. / med, gflops=2 * row['madds'] / med / 1e6)
        base = CLS_BASELINE if row['input'] == 224 else DET_BASELINE
        if (base, key[1]) in samples:
            ratios = [np.median(a) / np.median(b)
                      for a, b in zip(samples[key], samples[(base, key[1])])]
            row['ratio'] = float(np.median(ratios))
            row['ratio_min'] = row['min_ms'] / float(np.concatenate(samples[(base, key[1])]).min())
        if not args.no_memory:
            row['peak_mem_mb'] = peak_memory_mb(key[0], key[1], args.threads)
    meta = dict(date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
                machine=f'{platform.processor() or platform.machine()}, {os.cpu_count()} cores',
                cpu=_cpu_name(), threads=args.threads, rounds=args.rounds, iters=args.iters,
                load_avg_start=load_start, load_avg_end=os.getloadavg(),
                matmul_peak_gflops=peak, torch=torch.__version__, quick=args.quick,
                timer=args.timer)
    write_outputs(args.out_dir, meta, list(rows.values()), profiles)


def _cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def write_outputs(out_dir: str, meta: dict, rows: List[dict],
                  profiles: Dict[str, Dict[str, float]]) -> None:
    """benchmark.md (printed too), benchmark.json and benchmark.png."""
    lines = [f"Machine: {meta['cpu']} ({meta['machine']}), {meta['threads']} threads, "
             f"torch {meta['torch']}, {meta['date']}; load average "
             f"{meta['load_avg_start'][0]:.1f} at start, {meta['load_avg_end'][0]:.1f} at end; "
             f"matmul peak {meta['matmul_peak_gflops']:.1f} GFLOP/s. "
             f"{meta['rounds']} rounds x {meta['iters']} batch-1 runs per pair, "
             f"{meta['timer']} time.", '',
             '| model | backend | median ms | p10-p90 ms | min ms | img/s | ratio to MobileNetV2 '
             '(median / min) | GFLOP/s (% peak) | params | MAdds | peak MiB |',
             '|---|---|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        ratio = f"{r['ratio']:.2f}x / {r['ratio_min']:.2f}x" if 'ratio' in r else '-'
        mem = f"{r['peak_mem_mb']:.0f}" if 'peak_mem_mb' in r else '-'
        lines.append(
            f"| {r['model']} | {r['backend']} | {r['median_ms']:.2f} | "
            f"{r['p10_ms']:.2f}-{r['p90_ms']:.2f} | {r['min_ms']:.2f} | {r['throughput']:.0f} | "
            f"{ratio} | {r['gflops']:.1f} ({100 * r['gflops'] / meta['matmul_peak_gflops']:.0f}%) | "
            f"{r['params'] / 1e6:.2f}M | {r['madds'] / 1e6:.0f}M | {mem} |")
    for name, prof in profiles.items():
        total = sum(prof.values())
        lines += ['', f'ONNX Runtime profile, {name}: {total:.2f} ms of kernels per run: ' +
                  ', '.join(f'{op} {ms:.2f}' for op, ms in list(prof.items())[:8])]
    text = '\n'.join(lines)
    print(text)
    with open(osp.join(out_dir, 'benchmark.md'), 'w') as f:
        f.write(text + '\n')
    with open(osp.join(out_dir, 'benchmark.json'), 'w') as f:
        json.dump(dict(meta=meta, results=rows, ort_profiles=profiles), f, indent=1)
    _plot(out_dir, rows)


def _plot(out_dir: str, rows: List[dict]) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    models = list(dict.fromkeys(r['model'] for r in rows))
    backend_names = list(dict.fromkeys(r['backend'] for r in rows))
    fig, ax = plt.subplots(figsize=(12, 0.5 * len(models) * len(backend_names) / 2 + 2))
    height = 0.8 / len(backend_names)
    for j, backend in enumerate(backend_names):
        sel = {r['model']: r for r in rows if r['backend'] == backend}
        ys = [i + j * height for i, m in enumerate(models) if m in sel]
        med = [sel[m]['median_ms'] for m in models if m in sel]
        err = [[sel[m]['median_ms'] - sel[m]['p10_ms'] for m in models if m in sel],
               [sel[m]['p90_ms'] - sel[m]['median_ms'] for m in models if m in sel]]
        ax.barh(ys, med, height, xerr=err, label=backend)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(models))])
    ax.set_yticklabels(models)
    ax.invert_yaxis()
    ax.set_xlabel('batch-1 latency, ms (median, p10-p90)')
    ax.legend()
    fig.tight_layout()
    fig.savefig(osp.join(out_dir, 'benchmark.png'), dpi=100)


if __name__ == '__main__':
    main()

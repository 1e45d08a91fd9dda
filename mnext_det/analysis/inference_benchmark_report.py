"""``benchmark.md``, ``benchmark.json`` and ``benchmark.png`` of the inference
benchmark (:func:`~.inference_benchmark.run_inference_benchmark`)."""
import json
import os
import os.path as osp
from typing import Dict, List

from .inference_benchmark_models import SAME_TAP_BASELINE

__all__ = ['write_outputs']


def _markdown(meta: dict, rows: List[dict], profiles: Dict[str, Dict[str, float]]) -> str:
    lines = [f"Machine: {meta['cpu']} ({meta['machine']}), {meta['threads']} threads, "
             f"torch {meta['torch']}, {meta['date']}; load average "
             f"{meta['load_avg_start'][0]:.1f} at start, {meta['load_avg_end'][0]:.1f} at end; "
             f"matmul peak {meta['matmul_peak_gflops']:.1f} GFLOP/s. "
             f"{meta['rounds']} rounds x {meta['iters']} batch-1 runs per pair, "
             f"{meta['timer']} time.", '',
             '| model | backend | median ms | p10-p90 ms | min ms | img/s | ratio to MobileNetV2 '
             '(median / min) | GFLOP/s (% peak) | params | MAdds | peak MiB |',
             '|---|---|---|---|---|---|---|---|---|---|---|']
    peak = meta['matmul_peak_gflops']
    for r in rows:
        ratio = f"{r['ratio']:.2f}x / {r['ratio_min']:.2f}x" if 'ratio' in r else '-'
        mem = f"{r['peak_mem_mb']:.0f}" if 'peak_mem_mb' in r else '-'
        lines.append(
            f"| {r['model']} | {r['backend']} | {r['median_ms']:.2f} | "
            f"{r['p10_ms']:.2f}-{r['p90_ms']:.2f} | {r['min_ms']:.2f} | {r['throughput']:.0f} | "
            f"{ratio} | {r['gflops']:.1f} ({100 * r['gflops'] / peak:.0f}%) | "
            f"{r['params'] / 1e6:.2f}M | {r['madds'] / 1e6:.0f}M | {mem} |")
    paired = [r for r in rows if 'vs_full' in r]
    if paired:
        lines += ['', 'Identity tensor multiplier, latency / the full shortcut\'s on the same '
                  'backend (median of per-round ratios, p10-p90 of them; below 1 is faster):',
                  '', '| model | backend | ratio to identity 1 (p10-p90) |', '|---|---|---|']
        lines += [f"| {r['model']} | {r['backend']} | {r['vs_full']:.3f} "
                  f"({r['vs_full_p10']:.3f}-{r['vs_full_p90']:.3f}) |" for r in paired]
    same_tap = [r for r in rows if 'vs_same_tap' in r]
    if same_tap:
        lines += ['', f"{same_tap[0]['model']}, latency / {SAME_TAP_BASELINE}'s (the same "
                  'head input; median of per-round ratios, p10-p90 of them):', '',
                  '| backend | ratio (p10-p90) |', '|---|---|']
        lines += [f"| {r['backend']} | {r['vs_same_tap']:.3f} "
                  f"({r['vs_same_tap_p10']:.3f}-{r['vs_same_tap_p90']:.3f}) |" for r in same_tap]
    for name, prof in profiles.items():
        total = sum(prof.values())
        lines += ['', f'ONNX Runtime profile, {name}: {total:.2f} ms of kernels per run: ' +
                  ', '.join(f'{op} {ms:.2f}' for op, ms in list(prof.items())[:8])]
    return '\n'.join(lines)


def write_outputs(out_dir: str, meta: dict, rows: List[dict],
                  profiles: Dict[str, Dict[str, float]]) -> str:
    """Write benchmark.md, benchmark.json and benchmark.png into ``out_dir``
    (created if missing); return the Markdown."""
    os.makedirs(out_dir, exist_ok=True)
    text = _markdown(meta, rows, profiles)
    with open(osp.join(out_dir, 'benchmark.md'), 'w') as f:
        f.write(text + '\n')
    with open(osp.join(out_dir, 'benchmark.json'), 'w') as f:
        json.dump(dict(meta=meta, results=rows, ort_profiles=profiles), f, indent=1)
    _plot(out_dir, rows)
    return text


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
    plt.close(fig)

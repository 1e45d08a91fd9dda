"""`make demo`: SSDLite-MobileNeXt vs SSDLite-MobileNetV2 end to end on CPU.

    python tools/demo.py [--work-dir work_dirs/demo] [--data-root data/shapes]
        [--epochs N] [--pretrain-epochs N] [--no-pretrain] [--quick]

Stages (each prints its progress and wall time):
  1. generate the built-in shapes dataset if missing (COCO, VOC, crops);
  2. pretrain both backbones on the object crops (configs/demo/*crops.py);
  3. train both detectors with identical settings, backbones initialised from
     stage 2 (configs/demo/ssdlite_*.py);
  4. evaluate both on the val split with mmdet's CocoMetric, measure params,
     multiply-adds and CPU latency;
  5. write report.md, report.json, comparison.png, learning_curve.png,
     detections.png and confusion_matrices.png into the work dir and print
     the table.
``--quick`` runs every stage on a tiny dataset for a smoke test (minutes).
"""
import argparse
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

import mnext_det  # noqa: E402,F401  (safe checkpoint loader)
from mnext_det.datasets.synthetic import (SHAPE_CLASSES, SyntheticConfig,
                                          dataset_exists, generate_shapes_dataset)
from mnext_det.study.execute import val_records

DETECTORS = (  # baseline first
    ('SSDLite-MobileNetV2-0.5', 'configs/demo/ssdlite_mobilenetv2-050_1xb8-shapes-160.py',
     'configs/demo/mobilenetv2-050_1xb64-shapes-crops.py'),
    ('SSDLite-MobileNeXt-0.5', 'configs/demo/ssdlite_mobilenext-050_1xb8-shapes-160.py',
     'configs/demo/mobilenext-050_1xb64-shapes-crops.py'),
)
_PROGRESS = re.compile(r'Epoch\(|Error|error:|Traceback|load backbone|missing keys')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/shapes',
                        help='built-in dataset folder (generated when missing)')
    parser.add_argument('--epochs', type=int, default=None,
                        help='detector epochs (default: the demo configs\')')
    parser.add_argument('--pretrain-epochs', type=int, default=None,
                        help='backbone pretraining epochs (default: the configs\')')
    parser.add_argument('--no-pretrain', action='store_true',
                        help='train the detectors from scratch')
    parser.add_argument('--quick', action='store_true',
                        help='tiny dataset, one epoch each: a smoke test of every stage')
    parser.add_argument('--parallel', type=int, default=min(2, os.cpu_count() or 1),
                        help='trainings run at once (the two detectors, the two backbones)')
    return parser.parse_args()


def log(msg: str) -> None:
    print(f'[demo {time.strftime("%H:%M:%S")}] {msg}', flush=True)


def run_train(config: str, work_dir: str, tag: str, threads: int) -> float:
    """Run tools/train.py in a subprocess with ``threads`` torch threads, echo
    its progress lines, keep the log; return the wall time in seconds."""
    os.makedirs(work_dir, exist_ok=True)
    log_path = osp.join(work_dir, 'train_stdout.log')
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), config, '--work-dir', work_dir]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    start = time.time()
    with open(log_path, 'w') as logf:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, cwd=REPO, env=env)
        tail: List[str] = []
        for line in proc.stdout:
            logf.write(line)
            logf.flush()
            tail = (tail + [line])[-40:]
            if _PROGRESS.search(line):
                print(f'  [{tag}] {line.rstrip().split(" - INFO - ")[-1][:220]}', flush=True)
        proc.wait()
    if proc.returncode != 0:
        sys.stdout.write(''.join(tail))
        raise RuntimeError(f'{tag}: training failed (exit {proc.returncode}); log: {log_path}')
    return time.time() - start


def run_pair(jobs: List[Tuple[str, str, str]], parallel: int, threads: int) -> List[float]:
    """Run ``(config, work_dir, tag)`` trainings, ``parallel`` at a time."""
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        futures = [pool.submit(run_train, cfg, wd, tag, threads) for cfg, wd, tag in jobs]
        return [f.result() for f in futures]


def _cosine(max_epochs: int, warmup_iters: int) -> List[Dict]:
    return [
        dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
        dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0, by_epoch=True, begin=0,
             end=max_epochs, convert_to_iter_based=True),
    ]


def _set_schedule(cfg: Config, epochs: Optional[int], quick: bool, warmup_iters: int,
                  quick_batch: int) -> None:
    # --epochs / --quick: a cosine schedule over the epochs, one checkpoint at
    # the end, and a small batch for the quick smoke run.
    if epochs is not None or quick:
        epochs = epochs or 1
        cfg.train_cfg.max_epochs = epochs
        cfg.param_scheduler = _cosine(epochs, 2 if quick else warmup_iters)
        cfg.default_hooks.checkpoint.interval = epochs
    if quick:
        cfg.train_dataloader.batch_size = quick_batch


def pretrain_config(src: str, data_root: str, out: str, epochs: Optional[int],
                    quick: bool) -> str:
    """Dump ``src`` with the crops folder and schedule of this run."""
    cfg = Config.fromfile(osp.join(REPO, src))
    crops = osp.join(data_root, 'crops')
    cfg.train_dataloader.dataset.data_root = crops
    cfg.val_dataloader.dataset.data_root = crops
    cfg.test_dataloader.dataset.data_root = crops
    _set_schedule(cfg, epochs, quick, warmup_iters=20, quick_batch=16)
    cfg.dump(out)
    return out


def detector_config(src: str, data_root: str, out: str, epochs: Optional[int],
                    backbone_ckpt: Optional[str], quick: bool) -> str:
    """Dump ``src`` with this run's dataset, schedule and backbone init."""
    cfg = Config.fromfile(osp.join(REPO, src))
    root = data_root.rstrip('/') + '/'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = root
    for ev in ('val_evaluator', 'test_evaluator'):
        cfg[ev].ann_file = root + 'annotations/instances_val.json'
    _set_schedule(cfg, epochs, quick, warmup_iters=50, quick_batch=4)
    if backbone_ckpt:
        cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=backbone_ckpt,
                                           prefix='backbone.')
    cfg.dump(out)
    return out


def last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def learning_curve(work_dir: str, key: str) -> List[Tuple[int, float]]:
    """``(epoch, value)`` of a validation metric from mmengine's scalars.json."""
    return [(int(rec['step']), float(rec[key])) for rec in val_records(work_dir) if key in rec]


def plot_curves(curves: Dict[str, List[Tuple[int, float]]], path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, pts in curves.items():
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker='o', label=name)
    ax.set_xlabel('epoch')
    ax.set_ylabel('val COCO AP')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def detections_picture(pairs: List[Tuple[str, str, str]], ann_file: str, img_dir: str,
                       path: str, num_images: int = 4) -> None:
    """Grid: ground truth row, then one row per detector, on the first val images."""
    from mmdet.apis import inference_detector, init_detector
    from PIL import Image

    from mnext_det.evaluation.comparison import draw_detections
    with open(ann_file) as f:
        coco = json.load(f)
    images = coco['images'][:num_images]
    rows = []
    gt_row = []
    for info in images:
        img = np.array(Image.open(osp.join(img_dir, info['file_name'])).convert('RGB'))
        anns = [a for a in coco['annotations'] if a['image_id'] == info['id']]
        boxes = np.array([[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                           a['bbox'][1] + a['bbox'][3]] for a in anns]).reshape(-1, 4)
        gt_row.append(draw_detections(img, boxes, [a['category_id'] - 1 for a in anns],
                                      [1.0] * len(anns), SHAPE_CLASSES, 0.0, 'ground truth'))
    rows.append(gt_row)
    for name, config, ckpt in pairs:
        model = init_detector(config, ckpt, device='cpu')
        row = []
        for info in images:
            file = osp.join(img_dir, info['file_name'])
            pred = inference_detector(model, file).pred_instances
            img = np.array(Image.open(file).convert('RGB'))
            row.append(draw_detections(img, pred.bboxes.numpy(), pred.labels.numpy(),
                                       pred.scores.numpy(), SHAPE_CLASSES, 0.3, name))
        rows.append(row)
    w, h = rows[0][0].size
    grid = Image.new('RGB', (w * len(images), h * len(rows)), (255, 255, 255))
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            grid.paste(img, (c * w, r * h))
    grid.save(path)


def main() -> None:
    args = parse_args()
    os.chdir(REPO)
    t0 = time.time()
    timings: Dict[str, float] = {}
    work_dir = osp.abspath(args.work_dir)
    data_root = osp.abspath(args.data_root)
    data_cfg = SyntheticConfig()
    if args.quick:
        data_root = osp.join(work_dir, 'shapes_quick')
        data_cfg = SyntheticConfig(num_train=24, num_val=8, num_test=0)
    cfg_dir = osp.join(work_dir, 'configs')
    os.makedirs(cfg_dir, exist_ok=True)
    log(f'work dir {work_dir}; {os.cpu_count()} CPU cores, torch threads '
        f'{os.environ.get("OMP_NUM_THREADS", "default")}')

    log(f'[1/5] dataset {data_root}')
    start = time.time()
    if dataset_exists(data_root, data_cfg):
        log('  found, not regenerated')
    else:
        counts = generate_shapes_dataset(data_root, data_cfg, workers=args.parallel)
        log(f'  generated: {data_cfg.num_train} train / {data_cfg.num_val} val / '
            f'{data_cfg.num_test} test images, '
            f'objects {counts}')
    timings['data_s'] = time.time() - start

    # one process per core with one torch thread each: on a small CPU this is
    # much faster than one process with several threads, and it gives both
    # models the same budget at the same time
    threads = max(1, (os.cpu_count() or 1) // args.parallel)
    log(f'trainings: {args.parallel} at a time, {threads} torch thread(s) each')
    backbone_ckpts: Dict[str, Optional[str]] = {name: None for name, _, _ in DETECTORS}
    start = time.time()
    if not args.no_pretrain:
        log('[2/5] pretraining both backbones on the object crops')
        jobs = []
        for name, _, pre_src in DETECTORS:
            wd = osp.join(work_dir, 'pretrain_' + osp.splitext(osp.basename(pre_src))[0])
            cfg = pretrain_config(pre_src, data_root, osp.join(cfg_dir, osp.basename(pre_src)),
                                  args.pretrain_epochs, args.quick)
            jobs.append((cfg, wd, f'pretrain {name}'))
        run_pair(jobs, args.parallel, threads)
        for (name, _, _), (_, wd, _) in zip(DETECTORS, jobs):
            backbone_ckpts[name] = last_checkpoint(wd)
    timings['pretrain_s'] = time.time() - start

    log('[3/5] training both detectors with identical settings')
    start = time.time()
    jobs = []
    for name, det_src, _ in DETECTORS:
        wd = osp.join(work_dir, osp.splitext(osp.basename(det_src))[0])
        cfg = detector_config(det_src, data_root, osp.join(cfg_dir, osp.basename(det_src)),
                              args.epochs, backbone_ckpts[name], args.quick)
        jobs.append((cfg, wd, name))
    for (name, _, _), secs in zip(DETECTORS, run_pair(jobs, args.parallel, threads)):
        timings[f'train_{name}_s'] = secs
    names = [name for name, _, _ in DETECTORS]
    pairs = [(name, cfg, last_checkpoint(wd)) for name, (cfg, wd, _) in zip(names, jobs)]
    curves = {name: learning_curve(wd, 'coco/bbox_mAP') for name, (_, wd, _) in zip(names, jobs)}
    timings['train_s'] = time.time() - start

    log('[4/5] evaluating both detectors on the val split (CocoMetric)')
    from mnext_det.deploy.builder import class_names
    from mnext_det.evaluation.comparison import (evaluate_detector, format_markdown,
                                                 plot_chart, write_json)
    from mnext_det.evaluation.mmdet_tools import plot_confusion_matrices
    start = time.time()
    baseline_cfg = Config.fromfile(pairs[0][1])
    results = [evaluate_detector(cfg, ckpt, name=name, work_dir=osp.join(work_dir, 'eval'),
                                 dataset_from=baseline_cfg,
                                 latency_runs=3 if args.quick else 20, confusion=True)
               for name, cfg, ckpt in pairs]
    timings['eval_s'] = time.time() - start

    log('[5/5] writing the report')
    table = format_markdown(results)
    detections_picture(pairs, osp.join(data_root, 'annotations', 'instances_val.json'),
                       osp.join(data_root, 'VOC2007', 'JPEGImages'),
                       osp.join(work_dir, 'detections.png'))
    plot_chart(results, osp.join(work_dir, 'comparison.png'),
               'SSDLite on the built-in shapes val split')
    plot_curves(curves, osp.join(work_dir, 'learning_curve.png'))
    plot_confusion_matrices([r.confusion for r in results], class_names(baseline_cfg), names,
                            osp.join(work_dir, 'confusion_matrices.png'))
    timings['total_s'] = time.time() - t0
    curve_lines = [f'- {n}: ' + ', '.join(f'ep{e} {v:.3f}' for e, v in pts)
                   for n, pts in curves.items()]
    report = (f'# make demo: SSDLite-MobileNeXt vs SSDLite-MobileNetV2\n\n{table}\n'
              f'Val AP per epoch:\n' + '\n'.join(curve_lines) + '\n\n'
              f'Wall time: {timings["total_s"] / 60:.1f} min in total (data '
              f'{timings["data_s"]:.0f} s, pretraining {timings["pretrain_s"]:.0f} s, '
              f'detector training {timings["train_s"]:.0f} s, evaluation '
              f'{timings["eval_s"]:.0f} s) on {os.cpu_count()} CPU cores.\n\n'
              'Confusion matrices side by side: confusion_matrices.png. To look closer '
              '(browse the data, plot the logs, FLOPs, anchors, error analysis) with '
              'mmdet\'s own tools on these work dirs: tools/analysis_tools/README.md.\n')
    with open(osp.join(work_dir, 'report.md'), 'w') as f:
        f.write(report)
    write_json(results, osp.join(work_dir, 'report.json'),
               extra=dict(timings=timings, learning_curves=curves, quick=args.quick))
    print('\n' + report)
    log(f'report: {work_dir}/report.md, report.json, comparison.png, learning_curve.png, '
        'detections.png, confusion_matrices.png')


if __name__ == '__main__':
    main()

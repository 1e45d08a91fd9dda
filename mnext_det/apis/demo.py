"""``make demo``: SSDLite-MobileNeXt vs SSDLite-MobileNetV2 end to end on CPU.

Stages: (1) the built-in shapes dataset, generated if missing; (2) with
``pretrain``, both backbones pretrained on its object crops (off by default:
at 10 epochs it lowers both detectors' AP, ``make study-demo``);
(3) both detectors trained with identical settings, from those backbones or
from their configs' init; (4) both evaluated on the val split
(mmdet's CocoMetric, params, multiply-adds, CPU latency, confusion matrices);
(5) ``report.md``, ``report.json`` and the pictures in the work dir. With
``resume``, a rerun in the same work dir with the same options keeps what a
killed run finished and resumes each training from its last epoch.
"""
import json
import os
import os.path as osp
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from ..checkpoint import read_last_checkpoint
from ..datasets.synthetic import (SHAPE_CLASSES, SyntheticConfig, dataset_exists,
                                  generate_shapes_dataset)
from ..engine.allocator import loaded_allocator
from ..engine.atomic_io import atomic_write_text
from ..engine.cpus import cpu_summary, cpu_times, usable_cpus
from ..study.execute import val_records
from ..tool_args import require_at_least
from .demo_configs import detector_config, pretrain_config
from .output_log import output_to_log
from .training_process import run_trainings

__all__ = ['DEMO_DETECTORS', 'DemoOptions', 'run_demo']

# (name, detector config, backbone pretraining config), relative to the repo; baseline first
DEMO_DETECTORS = (
    ('SSDLite-MobileNetV2-0.5', 'configs/demo/ssdlite_mobilenetv2-050_1xb8-8e_shapes-160.py',
     'configs/demo/mobilenetv2-050_1xb64-4e_shapes-crops.py'),
    ('SSDLite-MobileNeXt-0.5', 'configs/demo/ssdlite_mobilenext-050_1xb8-8e_shapes-160.py',
     'configs/demo/mobilenext-050_1xb64-4e_shapes-crops.py'),
)
_METRIC = 'coco/bbox_mAP'
_QUICK_DATA = SyntheticConfig(num_train=24, num_val=8, num_test=0)
_PICTURES = ('comparison.png', 'learning_curve.png', 'detections.png', 'confusion_matrices.png')
OPTIONS_FILE = 'demo_options.json'
# what each recorded option is called on tools/demo.py's command line
_OPTION_FLAGS = dict(data_root='--data-root', epochs='--epochs',
                     pretrain_epochs='--pretrain-epochs', pretrain='--pretrain',
                     quick='--quick')


@dataclass
class DemoOptions:
    """What one ``make demo`` run does; ``None`` epochs keep the configs' own."""
    repo: str
    work_dir: str = 'work_dirs/demo'
    data_root: str = 'data/shapes'
    epochs: Optional[int] = None
    pretrain_epochs: Optional[int] = None
    pretrain: bool = False
    quick: bool = False
    parallel: int = 2
    resume: bool = False

    def __post_init__(self) -> None:
        require_at_least(self, epochs=1, pretrain_epochs=1, parallel=1)
        if self.pretrain_epochs is not None and not self.pretrain:
            raise ValueError(f'{_OPTION_FLAGS["pretrain_epochs"]} needs '
                             f'{_OPTION_FLAGS["pretrain"]} (the demo does not pretrain by '
                             'default)')


def _stem(path: str) -> str:
    return osp.splitext(osp.basename(path))[0]


def _dataset(opts: DemoOptions, work_dir: str, log: Callable[[str], None]) -> str:
    data_root, data_cfg = osp.abspath(opts.data_root), SyntheticConfig()
    if opts.quick:
        data_root, data_cfg = osp.join(work_dir, 'shapes_quick'), _QUICK_DATA
    log(f'[1/5] dataset {data_root}')
    if dataset_exists(data_root, data_cfg):
        log('  found, not regenerated')
    else:
        counts = generate_shapes_dataset(data_root, data_cfg, workers=opts.parallel)
        log(f'  generated: {data_cfg.num_train} train / {data_cfg.num_val} val / '
            f'{data_cfg.num_test} test images, objects {counts}')
    return data_root


def _record_options(opts: DemoOptions, work_dir: str) -> None:
    """Write the options that shape the run's trainings to ``OPTIONS_FILE``;
    with ``opts.resume``, first refuse a work dir whose run had other ones
    (its checkpoints belong to other data or another schedule)."""
    path = osp.join(work_dir, OPTIONS_FILE)
    current = dict(data_root=osp.abspath(opts.data_root), epochs=opts.epochs,
                   pretrain_epochs=opts.pretrain_epochs, pretrain=opts.pretrain,
                   quick=opts.quick)
    if opts.resume and osp.isfile(path):
        with open(path) as f:
            previous = json.load(f)
        differ = [f'{_OPTION_FLAGS[k]} {previous.get(k)!r} then, {v!r} now'
                  for k, v in current.items() if previous.get(k) != v]
        if differ:
            raise ValueError(f'{path}: --resume needs the options of the run in this work dir ('
                             + '; '.join(differ) + '); rerun with them, or start afresh in '
                             'another --work-dir')
    atomic_write_text(path, json.dumps(current, indent=1) + '\n')


def _loader_workers(threads: int) -> Optional[int]:
    """Data-loader processes of a training with ``threads`` torch threads: none
    with one thread (one core each), where a loader process only takes turns
    with its training on the same core and hands every batch over through
    shared memory (a demo detector step: 0.171 instead of 0.182 s); the
    config's own otherwise."""
    return 0 if threads == 1 else None


def _pretrain(opts: DemoOptions, work_dir: str, data_root: str, threads: int,
              log: Callable[[str], None]) -> Dict[str, Optional[str]]:
    """Stage 2: the backbone checkpoint of each detector (None from scratch)."""
    if not opts.pretrain:
        log('[2/5] no backbone pretraining (--pretrain adds it): both detectors start from '
            'their configs\' init')
        return {name: None for name, _, _ in DEMO_DETECTORS}
    log('[2/5] pretraining both backbones on the object crops')
    jobs = [(pretrain_config(osp.join(opts.repo, src), osp.join(data_root, 'crops'),
                             osp.join(work_dir, 'configs', osp.basename(src)),
                             opts.pretrain_epochs, opts.quick, _loader_workers(threads)),
             osp.join(work_dir, 'pretrain_' + _stem(src)), f'pretrain {name}')
            for name, _, src in DEMO_DETECTORS]
    run_trainings(opts.repo, jobs, opts.parallel, threads, log, opts.resume)
    return {name: read_last_checkpoint(wd, required=True)
            for (name, _, _), (_, wd, _) in zip(DEMO_DETECTORS, jobs)}


def _train(opts: DemoOptions, work_dir: str, data_root: str, backbones: Dict[str, Optional[str]],
           threads: int, timings: Dict[str, float],
           log: Callable[[str], None]) -> List[Tuple[str, str, str, str]]:
    """Stage 3: ``(name, config, checkpoint, work dir)`` of each trained detector."""
    log('[3/5] training both detectors with identical settings')
    jobs = [(detector_config(osp.join(opts.repo, src), data_root,
                             osp.join(work_dir, 'configs', osp.basename(src)), opts.epochs,
                             backbones[name], opts.quick, _loader_workers(threads)),
             osp.join(work_dir, _stem(src)), name)
            for name, src, _ in DEMO_DETECTORS]
    for (_, _, name), secs in zip(jobs, run_trainings(opts.repo, jobs, opts.parallel, threads,
                                                      log, opts.resume)):
        timings[f'train_{name}_s'] = secs
    return [(name, cfg, read_last_checkpoint(wd, required=True), wd) for cfg, wd, name in jobs]


def _steal_text(steal: Optional[float]) -> str:
    return '' if steal is None else (
        f' CPU steal {steal:.0%} of the machine\'s CPU time during the run (time the '
        'hypervisor gave to other guests: a high share makes every stage slower).')


def _report(table: str, curves: Dict[str, List[Tuple[int, float]]],
            timings: Dict[str, float], resumed: bool) -> str:
    curve_lines = [f'- {n}: ' + ', '.join(f'ep{e} {v:.3f}' for e, v in pts)
                   for n, pts in curves.items()]
    return (f'# make demo: SSDLite-MobileNeXt vs SSDLite-MobileNetV2\n\n{table}\n'
            f'Val AP per epoch:\n' + '\n'.join(curve_lines) + '\n\n'
            f'Wall time: {timings["total_s"] / 60:.1f} min in total (data '
            f'{timings["data_s"]:.0f} s, '
            + (f'pretraining {timings["pretrain_s"]:.0f} s, ' if 'pretrain_s' in timings
               else 'no pretraining, ')
            + f'detector training {timings["train_s"]:.0f} s, evaluation '
            f'{timings["eval_s"]:.0f} s) on {usable_cpus()} usable CPU cores.'
            + _steal_text(timings.get('cpu_steal'))
            + (' This run resumed a killed one (--resume): the times are this run\'s only.'
               if resumed else '') + '\n\n'
            'Confusion matrices side by side: confusion_matrices.png. To look closer '
            '(browse the data, plot the logs, FLOPs, anchors, error analysis) with '
            'mmdet\'s own tools on these work dirs: tools/analysis_tools/README.md.\n')


def run_demo(opts: DemoOptions, log: Callable[[str], None] = print) -> str:
    """Run every stage and return the Markdown report (also in ``report.md``).

    Trainings run ``opts.parallel`` at a time with ``usable_cpus() // parallel``
    torch threads each (the affinity mask and cgroup quota, not the host's
    count, ``engine.cpus``): on a small CPU one process per core is much faster
    than one process with several threads, and both models get the same
    budget at the same time. With one thread each, a training loads its own
    data (:func:`_loader_workers`). With ``opts.resume`` every training
    continues from its work dir's last checkpoint (every epoch has one), so a
    finished one ends at once; the options must be the killed run's
    (:data:`OPTIONS_FILE`)."""
    from mmengine.config import Config

    from ..deploy.builder import class_names
    from ..evaluation.comparison_report import format_markdown, write_json
    from ..evaluation.detector_eval import evaluate_detectors
    from ..evaluation.mmdet_tools import plot_confusion_matrices
    from ..visualization.charts import plot_chart
    from ..visualization.detection_grid import detection_grid
    from ..visualization.learning_curves import plot_learning_curves
    t0, cpu0 = time.time(), cpu_times()
    timings: Dict[str, float] = {}
    work_dir = osp.abspath(opts.work_dir)
    os.makedirs(osp.join(work_dir, 'configs'), exist_ok=True)
    _record_options(opts, work_dir)
    log(f'work dir {work_dir}; {cpu_summary()}, torch threads '
        f'{os.environ.get("OMP_NUM_THREADS", "default")}, malloc {loaded_allocator()}')
    log('resuming every training from its last checkpoint' if opts.resume else
        'killed? the same command with --resume (make demo DEMO_ARGS=--resume) continues '
        'from each training\'s last epoch')
    data_root = _dataset(opts, work_dir, log)
    timings['data_s'] = time.time() - t0

    threads = max(1, usable_cpus() // opts.parallel)
    workers = _loader_workers(threads)
    log(f'trainings: {opts.parallel} at a time, {threads} torch thread(s) each, data loaded '
        + ('in the training process' if workers == 0 else "by the configs' loader workers"))
    start = time.time()
    backbones = _pretrain(opts, work_dir, data_root, threads, log)
    if opts.pretrain:
        timings['pretrain_s'] = time.time() - start
    start = time.time()
    detectors = _train(opts, work_dir, data_root, backbones, threads, timings, log)
    timings['train_s'] = time.time() - start
    curves = {name: [(int(r['step']), float(r[_METRIC])) for r in val_records(wd) if _METRIC in r]
              for name, _, _, wd in detectors}

    eval_dir = osp.join(work_dir, 'eval')
    log(f'[4/5] evaluating both detectors on the val split (CocoMetric; the metrics go to the '
        f'report, the evaluations\' output to {eval_dir}/<detector>_stdout.log)')
    start = time.time()
    baseline_cfg = Config.fromfile(detectors[0][1])
    results = evaluate_detectors(
        [(name, cfg, ckpt) for name, cfg, ckpt, _ in detectors], eval_dir,
        latency_rounds=3 if opts.quick else 20, confusion=True, log_level='WARNING',
        context=lambda i, name: output_to_log(osp.join(eval_dir, f'{name}_stdout.log')))
    timings['eval_s'] = time.time() - start

    log('[5/5] writing the report')
    pictures = [osp.join(work_dir, p) for p in _PICTURES]
    with output_to_log(osp.join(work_dir, 'report_stdout.log')):
        plot_chart(results, pictures[0], 'SSDLite on the built-in shapes val split')
        plot_learning_curves(curves, pictures[1])
        detection_grid([d[:3] for d in detectors],
                       osp.join(data_root, 'annotations', 'instances_val.json'),
                       osp.join(data_root, 'VOC2007', 'JPEGImages'), SHAPE_CLASSES, pictures[2])
        plot_confusion_matrices([r.confusion for r in results], class_names(baseline_cfg),
                                [d[0] for d in detectors], pictures[3])
    timings['total_s'] = time.time() - t0
    cpu1 = cpu_times()
    steal = cpu1.steal_since(cpu0) if cpu0 and cpu1 else None
    if steal is not None:
        timings['cpu_steal'] = steal
    report = _report(format_markdown(results), curves, timings, opts.resume)
    with open(osp.join(work_dir, 'report.md'), 'w') as f:
        f.write(report)
    write_json(results, osp.join(work_dir, 'report.json'),
               extra=dict(timings=timings, learning_curves=curves, quick=opts.quick,
                          resumed=opts.resume))
    log(f'report: {work_dir}/report.md, report.json, ' + ', '.join(_PICTURES))
    return report

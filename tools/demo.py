"""`make demo`: SSDLite-MobileNeXt vs SSDLite-MobileNetV2 end to end on CPU.

    python tools/demo.py [--work-dir work_dirs/demo] [--data-root data/shapes]
        [--epochs N] [--pretrain] [--pretrain-epochs N] [--quick] [--resume]

Generates the built-in shapes data if missing, trains both detectors with
identical settings (from their configs' init, or with ``--pretrain`` from
backbones first pretrained on the data's object crops), evaluates them on
the val split and writes report.md, report.json, comparison.png,
learning_curve.png, detections.png and confusion_matrices.png into the work
dir (by default work_dirs/demo and data/shapes in the repository; paths given
are relative to the current folder). ``--quick``: every stage (with
``--pretrain``) on a tiny dataset, a smoke test of minutes. ``--resume``: after
a kill, the same command with it keeps the finished trainings and resumes the
others from their last epoch (every epoch is checkpointed).
"""
import argparse
import os
import os.path as osp
import shlex
import sys
import time

from mnext_det.apis import DemoOptions, run_demo
from mnext_det.apis.training_process import TrainingFailed
from mnext_det.engine.allocator import reexec_under_tcmalloc
from mnext_det.engine.cpus import usable_cpus
from mnext_det.tool_errors import error_line, run_tool

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', help=f'default: {DemoOptions.work_dir} in the repository')
    parser.add_argument('--data-root', help='built-in dataset folder, generated when missing '
                        f'(default: {DemoOptions.data_root} in the repository)')
    parser.add_argument('--epochs', type=int, default=None,
                        help='detector epochs (default: the demo configs\')')
    parser.add_argument('--pretrain-epochs', type=int, default=None,
                        help='backbone pretraining epochs, with --pretrain (default: the '
                             'configs\')')
    parser.add_argument('--pretrain', action=argparse.BooleanOptionalAction, default=False,
                        help='pretrain both backbones on the object crops first (stage 2; '
                             'off by default: at 10 epochs it lowers both detectors\' AP, '
                             'make study-demo)')
    parser.add_argument('--quick', action='store_true',
                        help='tiny dataset, one epoch each: a smoke test of every stage')
    parser.add_argument('--resume', action='store_true',
                        help="continue a killed run in the same --work-dir with the same "
                             "options: every training from its last epoch's checkpoint")
    parser.add_argument('--parallel', type=int, default=min(2, usable_cpus()),
                        help='trainings run at once (the two detectors, the two backbones)')
    return parser.parse_args()


def log(msg: str) -> None:
    print(f'[demo {time.strftime("%H:%M:%S")}] {msg}', flush=True)


def main() -> int:
    args = parse_args()
    reexec_under_tcmalloc()
    script = osp.relpath(osp.abspath(sys.argv[0]))
    paths = {key: osp.abspath(path) for key, path in (('work_dir', args.work_dir),
                                                       ('data_root', args.data_root)) if path}
    os.chdir(REPO)
    opts = DemoOptions(repo=REPO, **paths,
                       epochs=args.epochs, pretrain_epochs=args.pretrain_epochs,
                       pretrain=args.pretrain, quick=args.quick, parallel=args.parallel,
                       resume=args.resume)
    try:
        report = run_demo(opts, log)
    except TrainingFailed as e:
        print(error_line(e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        again = shlex.join(['python', script, *sys.argv[1:]]
                           + ([] if args.resume else ['--resume']))
        print(f'interrupted; to continue from each training\'s last epoch: {again}'
              + ('' if len(sys.argv) > 1 else ' (make demo DEMO_ARGS=--resume)'),
              file=sys.stderr)
        return 130
    print('\n' + report)
    return 0


if __name__ == '__main__':
    run_tool(main)

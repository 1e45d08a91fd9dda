"""Where the CPU training step of each detector goes, op kind by op kind.

    python tools/analysis_tools/profile_detectors.py [CONFIG ...] [--batch-size 8]
        [--iters 3] [--warmup 2] [--phase-iters 10] [--threads 1]
        [--memory-format nchw|channels_last]

Default configs: the demo's SSDLite-MobileNetV2-0.5 and SSDLite-MobileNeXt-0.5
(160 input). Each detector trains on the same synthetic batch; the tables, in
the order printed:

1. milliseconds per step under ``torch.profiler`` (the detectors taking turns
   step by step) by phase (forward with loss, backward, optimizer) and kind of
   op (depthwise, pointwise and dense convs by weight shape, batch norm,
   activations, elementwise, other), with every later detector's difference
   to the first and its share of the whole gap;
2. the MB of activations each kind reads and writes in that step and the GB/s
   its time makes, also as a share of a plain add's on this machine (a kind
   near 100 % runs at the speed of memory);
3. the wall time of each phase of the step without the profiler, the
   detectors taking turns (data preprocessor, backbone + neck, head, loss,
   backward, optimizer; ``mnext_det/analysis/step_phases.py``);
4. each detector's bytes per step against that wall time: the speed ratio it
   would have moving its bytes as fast as the first detector does;
5. the activation traffic of one batch-1 forward, with BN and with BN folded
   into the convs as exported (``mnext_det/analysis/op_profile.py``).

A profile, not a test: the profiler adds overhead of its own, so compare rows,
not absolute times.
"""
import argparse
import os.path as osp

import torch

from mnext_det.analysis.op_profile import (add_bandwidth, detector_traffic, format_byte_rate,
                                           format_memory_speed, format_profiles, format_traffic,
                                           profile_train_steps, step_traffic)
from mnext_det.analysis.step_phases import format_step_phases, time_step_phases
from mnext_det.engine.allocator import reexec_under_tcmalloc
from mnext_det.tool_args import require_at_least
from mnext_det.tool_errors import run_tool

DEMO_CONFIGS = ('configs/demo/ssdlite_mobilenetv2-050_1xb8-10e_shapes-160.py',
                'configs/demo/ssdlite_mobilenext-050_1xb8-10e_shapes-160.py')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='*', default=list(DEMO_CONFIGS))
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--iters', type=int, default=3, help='profiled steps')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--phase-iters', type=int, default=10,
                        help='steps timed per phase, without the profiler')
    parser.add_argument('--threads', type=int, default=1, help='torch threads')
    parser.add_argument('--memory-format', choices=('nchw', 'channels_last'),
                        default='channels_last', help='tensor layout of the models')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    require_at_least(args, batch_size=1, iters=1, warmup=0, phase_iters=1, threads=1)
    reexec_under_tcmalloc()
    torch.set_num_threads(args.threads)
    missing = [c for c in args.configs if not osp.isfile(c)]
    if missing:
        raise FileNotFoundError(f'config file not found: {", ".join(missing)}')
    profiles = profile_train_steps(args.configs, args.memory_format == 'channels_last',
                                   args.batch_size, args.iters, args.warmup)
    names = [osp.splitext(osp.basename(c))[0] for c in args.configs]
    print(f'{args.memory_format}, batch {args.batch_size}')
    print(format_profiles(names, profiles, torch.get_num_threads()))
    step_mb = [step_traffic(c, args.batch_size) for c in args.configs]
    print('\n' + format_memory_speed(names, profiles, step_mb, add_bandwidth()))
    phases = time_step_phases(args.configs, args.memory_format == 'channels_last',
                              args.batch_size, args.phase_iters, args.warmup)
    print('\n' + format_step_phases(names, phases, torch.get_num_threads()))
    print('\n' + format_byte_rate(names, step_mb, [row['total'] for row in phases]))
    for fold_bn, what in ((False, 'with BN'), (True, 'BN folded into the convs')):
        traffic = [detector_traffic(c, fold_bn) for c in args.configs]
        print('\n' + format_traffic(names, traffic, f'Activation traffic of one batch-1 '
                                     f'forward, {what}'))


if __name__ == '__main__':
    run_tool(main)

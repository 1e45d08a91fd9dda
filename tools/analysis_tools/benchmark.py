"""Side-by-side CPU latency of MobileNeXt vs MobileNetV2 classifiers and
SSDLite detectors, over PyTorch eager, ONNX Runtime and (when installed) TFLite.

    python tools/analysis_tools/benchmark.py [--threads 2] [--rounds 15] [--iters 10]
        [--out-dir work_dirs/benchmark] [--quick] [--no-memory] [--timer wall|cpu]
        [--models REGEX] [--backends eager+fold+cl onnxruntime ...]

The (model, backend) pairs take turns round by round; reported per pair:
median, p10-p90 and min latency, img/s, GFLOP/s against a matmul peak,
params, MAdds, peak memory and the ratio to the MobileNetV2 baseline of the
same backend (method: ``mnext_det/analysis/inference_benchmark.py``).
``--timer cpu`` times the calling thread's CPU time with one thread (stable
when other processes share the CPU). Writes benchmark.md, benchmark.json and
benchmark.png to --out-dir. A benchmark, not a test: figures depend on the
machine and its load.
"""
import argparse

from mnext_det.analysis.inference_benchmark import run_inference_benchmark
from mnext_det.analysis.inference_benchmark_report import write_outputs
from mnext_det.analysis.timing import CLOCKS
from mnext_det.engine.allocator import reexec_under_tcmalloc
from mnext_det.tool_args import require_at_least, require_writable
from mnext_det.tool_errors import run_tool


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--rounds', type=int, default=15)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--out-dir', default='work_dirs/benchmark')
    parser.add_argument('--quick', action='store_true',
                        help='few models, backends and runs, no memory (smoke test)')
    parser.add_argument('--no-memory', action='store_true', help='skip peak-memory processes')
    parser.add_argument('--timer', default='wall', choices=sorted(CLOCKS),
                        help='wall: elapsed time; cpu: CPU time of the calling thread, '
                        'with 1 thread (robust when other processes load the CPU)')
    parser.add_argument('--models', help='regular expression of the model names to time '
                        '(their MobileNetV2 baseline always runs), e.g. "identity"')
    parser.add_argument('--backends', nargs='+', help='a subset of: eager, eager+fold, '
                        'eager+fold+cl, compiled, onnxruntime, tflite')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    require_at_least(args, threads=1, rounds=1, iters=1)
    require_writable(args, folders=['out_dir'])
    reexec_under_tcmalloc()
    meta, rows, profiles = run_inference_benchmark(
        args.threads, args.rounds, args.iters, quick=args.quick, memory=not args.no_memory,
        timer=args.timer, log=lambda msg: print(msg, flush=True), models=args.models,
        only_backends=args.backends)
    print(write_outputs(args.out_dir, meta, rows, profiles))


if __name__ == '__main__':
    run_tool(main)

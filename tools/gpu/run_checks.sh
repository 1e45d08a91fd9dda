#!/usr/bin/env bash
# The GPU checks (README, "Where MobileNeXt stands"; issue 12, item 3) in one go, on a
# machine with an NVIDIA GPU whose image has torch but no internet:
#
#   bash tools/gpu/run_checks.sh [all|install|measure]
#
# install: `make install` offline from .whl (made here by tools/gpu/download_wheels.sh),
#          building mmcv's CUDA ops for this card only (TORCH_CUDA_ARCH_LIST from torch,
#          MAX_JOBS = its cores; several minutes), the wheel cached in .gpu-cache/;
# measure: train img/s of both demo detectors and both COCO detectors with and without
#          AMP (benchmark_detectors.py --device cuda --amp, rows interleaved), and mmcv's
#          CUDA NMS against the CPU's on the same raw outputs (test_ssdlite_head.py).
# Every stage's output goes to $OUT (the device tool's folder) or work_dirs/gpu/.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
STAGE=${1:-all}
case "$STAGE" in
  all|install|measure) ;;
  *) echo "run_checks.sh: unknown stage '$STAGE' (all, install or measure)" >&2; exit 2 ;;
esac
OUT=${OUT:-$ROOT/work_dirs/gpu}
mkdir -p "$OUT"
PYTHON=${PYTHON:-python3}
export PYTHON PYTHONUNBUFFERED=1 MNEXT_ALLOCATOR=system
DEMO=(configs/demo/ssdlite_mobilenetv2-050_1xb8-10e_shapes-160.py
  configs/demo/ssdlite_mobilenext-050_1xb8-10e_shapes-160.py)

install_stage() {
  [ -d .whl ] || { echo "no .whl/: run tools/gpu/download_wheels.sh where pip works and carry .whl" >&2; return 1; }
  nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv || return 1
  local arch
  arch=$("$PYTHON" -c 'import torch; print("%d.%d" % torch.cuda.get_device_capability())') || return 1
  echo "building mmcv's CUDA ops for compute capability $arch with $(nproc) jobs"
  MNEXT_WHEELS=$ROOT/.whl MNEXT_CACHE=$ROOT/.gpu-cache FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST=$arch \
    MAX_JOBS=$(nproc) bash tools/install.sh
}

measure_stage() {
  local status=0
  "$PYTHON" tools/analysis_tools/benchmark_detectors.py "${DEMO[@]}" --device cuda --amp \
    --train-iters 60 --warmup 10 --infer-runs 50 | tee "$OUT/benchmark_demo.md" || status=1
  "$PYTHON" tools/analysis_tools/benchmark_detectors.py --device cuda --amp --batch-size 24 \
    --train-iters 30 --warmup 5 --infer-runs 30 | tee "$OUT/benchmark_coco.md" || status=1
  "$PYTHON" -m pytest tests/test_models/test_ssdlite_head.py -q -rA -p no:cacheprovider \
    | tee "$OUT/cuda_nms.txt" || status=1
  return $status
}

status=0
if [ "$STAGE" != measure ]; then
  (time install_stage) 2>&1 | tee "$OUT/install.log" || status=1
fi
if [ "$STAGE" != install ] && [ $status = 0 ]; then
  measure_stage 2>&1 | tee "$OUT/measure.log" || status=1
fi
echo "run_checks.sh $STAGE: $([ $status = 0 ] && echo done || echo FAILED), logs in $OUT"
exit $status

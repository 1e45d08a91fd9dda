#!/usr/bin/env bash
# One-command, idempotent environment setup for mnext-det.
#
# Installs torch/torchvision, builds mmcv 2.1.0 (full ops) from source once and
# caches the wheel, then installs mmengine, mmdet 3.3.0, pycocotools and this
# package in editable mode, and (as root, with apt) tcmalloc, which training
# preloads when present. Every step is skipped when already satisfied.
#
# Environment:
#   PYTHON          interpreter to install into (default: python3)
#   MNEXT_CACHE     wheel cache (default: ~/.cache/mnext-det)
#   TORCH_SPEC      torch requirement (default: per-architecture pin below)
#   FORCE_CUDA=1    build mmcv's CUDA ops even where no GPU is visible
#   MAX_JOBS        parallel compile jobs for mmcv (default: nproc)
#   MNEXT_ALLOCATOR system: neither install nor use tcmalloc
#   MNEXT_WHEELS    offline: install from this folder only (no index, no
#                   dependency resolution: the folder holds what is missing;
#                   tools/gpu/download_wheels.sh writes one)
set -euo pipefail

PYTHON=${PYTHON:-python3}
CACHE=${MNEXT_CACHE:-$HOME/.cache/mnext-det}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/requirements.sh
source "$ROOT/tools/requirements.sh"

step() { printf '\n==> [install] %s\n' "$*"; }
fail() { printf '\n[install] FAILED at step: %s\n' "$*" >&2; exit 1; }
EDITABLE_FLAGS=()
if [ -n "${MNEXT_WHEELS:-}" ]; then
  [ -d "$MNEXT_WHEELS" ] || fail "offline install: MNEXT_WHEELS=$MNEXT_WHEELS is not a folder"
  # pip reads these in every call, the build venv's and isolated builds' too
  export PIP_NO_INDEX=1 PIP_NO_DEPS=1 PIP_FIND_LINKS=$(cd "$MNEXT_WHEELS" && pwd)
  echo "[install] offline: packages from $PIP_FIND_LINKS only, dependencies not resolved"
  MMCV_RUNTIME_REQS+=("${RUNTIME_OFFLINE_DEPS[@]}")
  DET_REQS+=("${DET_OFFLINE_DEPS[@]}")
  # this package builds with the interpreter's setuptools (an isolated build would need
  # setuptools' and wheel's own dependencies in the folder)
  EDITABLE_FLAGS=(--no-build-isolation)
fi
pip_install() { "$PYTHON" -m pip install --disable-pip-version-check "$@"; }
# Run checks outside the repo so a source checkout on sys.path is not mistaken for an install.
has() { (cd / && "$PYTHON" -c "$1") >/dev/null 2>&1; }
# What is already satisfied, probed in one interpreter (each start imports torch: seconds).
# Its line 'READY <names>' says what is; when everything is, the environment check's report
# follows it, so that a run with nothing to install starts no second interpreter for it.
probe() {
  (cd / && "$PYTHON" - "$ROOT" "$MMCV_VERSION" "$MMDET_VERSION" 2>/dev/null <<'PY'
import importlib, importlib.util, os, sys
root, mmcv_version, mmdet_version = sys.argv[1:4]
checks = {
    'torch': lambda: importlib.import_module('torch') and importlib.import_module('torchvision'),
    # with CUDA ops where a GPU is visible or FORCE_CUDA=1 asks for them
    'mmcv': lambda: (importlib.import_module('mmcv.ops').nms
                     and importlib.import_module('mmcv').__version__ == mmcv_version
                     and (importlib.import_module('mmcv.ops').get_compiling_cuda_version()
                          != 'not available' or not (
                              os.environ.get('FORCE_CUDA') == '1'
                              or importlib.import_module('torch').cuda.is_available()))),
    'mmdet': lambda: (importlib.import_module('mmengine') and importlib.import_module('pycocotools')
                      and importlib.import_module('mmdet').__version__ == mmdet_version),
    # found, not imported: onnx and seaborn take seconds to import
    'tools': lambda: all(importlib.util.find_spec(m) for m in (
        'pytest', 'xdist', 'hypothesis', 'onnx', 'onnxruntime', 'onnxscript', 'seaborn',
        'psutil')),
    'mnext_det': lambda: os.path.dirname(os.path.dirname(
        importlib.import_module('mnext_det').__file__)) == root,
    'tcmalloc': lambda: importlib.import_module('mnext_det.engine.allocator').find_tcmalloc(),
    # built once by step 7; probed here so that a later run starts no interpreter for it
    # (only from this checkout: another one's mnext_det may hold another kernel)
    'kernel': lambda: 'mnext_det' in ready and importlib.import_module(
        'mnext_det.ops').load_extension(required=True),
}
ready = []
for name, check in checks.items():
    try:
        if check():
            ready.append(name)
    except Exception:
        pass
print('READY ' + ' '.join(ready), flush=True)
if len(ready) == len(checks):
    sys.exit(importlib.import_module('mnext_det.env_check').main())
PY
  ) || true
}
PROBE=$(probe)
READY=" $(printf '%s\n' "$PROBE" | awk '/^READY /{sub(/^READY /, ""); print; exit}') "
# the environment check's report when nothing is missing (empty otherwise)
ENV_REPORT=$(printf '%s\n' "$PROBE" | awk 'after; /^READY /{after=1}')
ready() { case "$READY" in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

case "$(uname -m)" in
  x86_64) DEFAULT_TORCH="torch==2.14.1 torchvision==0.29.1" ;;
  aarch64) DEFAULT_TORCH="torch==2.9.1 torchvision==0.24.1" ;;
  *) DEFAULT_TORCH="torch torchvision" ;;
esac
TORCH_SPEC=${TORCH_SPEC:-$DEFAULT_TORCH}

step "1/7 torch + torchvision"
if ready torch; then
  echo "already installed"
else
  # shellcheck disable=SC2086
  pip_install $TORCH_SPEC || fail "1/7 pip install $TORCH_SPEC"
fi

step "2/7 mmcv $MMCV_VERSION with compiled ops"
if ready mmcv; then
  echo "already installed with ops"
else
  TORCH_VERSION=$("$PYTHON" -c 'import torch; print(torch.__version__.split("+")[0])')
  WITH_CUDA=0
  if [ "${FORCE_CUDA:-0}" = "1" ] || has "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    WITH_CUDA=1
  fi
  TAG="py$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')-torch${TORCH_VERSION}-$([ $WITH_CUDA = 1 ] && echo cuda || echo cpu)-$(uname -m)"
  WHEEL_DIR="$CACHE/wheels/mmcv-$MMCV_VERSION-$TAG"
  echo "wheel tag: $TAG"
  if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    echo "no cached wheel in $WHEEL_DIR: building from source (about 8 minutes on 2 CPU cores)"
    BUILD=$(mktemp -d)
    trap 'rm -rf "$BUILD"' EXIT
    # A build venv that sees the installed torch (--system-site-packages) but has
    # its own setuptools < 70, which still ships pkg_resources for mmcv's setup.py;
    # without pip of its own (no ensurepip needed): it runs $PYTHON's.
    "$PYTHON" -m venv --system-site-packages --without-pip "$BUILD/venv" || fail "2/7 create build venv"
    # A venv made from a venv sees the base interpreter's packages, not torch in $PYTHON's:
    # put $PYTHON's own site-packages (torch, pip) behind the build venv's.
    "$PYTHON" -c 'import sysconfig; print("import site; " + "; ".join(f"site.addsitedir({p!r})" for p in dict.fromkeys(sysconfig.get_path(k) for k in ("purelib", "platlib"))))' \
      > "$("$BUILD/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/_install_python.pth" \
      || fail "2/7 let the build venv see $PYTHON's packages"
    "$BUILD/venv/bin/python" -m pip install --disable-pip-version-check -q "${MMCV_BUILD_REQS[@]}" \
      || fail "2/7 install build tools (${MMCV_BUILD_REQS[*]})"
    "$BUILD/venv/bin/python" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: \
      "mmcv==$MMCV_VERSION" -d "$BUILD" || fail "2/7 download mmcv $MMCV_VERSION source"
    tar -xzf "$BUILD"/mmcv-$MMCV_VERSION.tar.gz -C "$BUILD" || fail "2/7 unpack mmcv source"
    # torch >= 2.10 headers need C++20; mmcv 2.1.0 forces -std=c++17.
    sed -i 's/-std=c++17/-std=c++20/g' "$BUILD/mmcv-$MMCV_VERSION/setup.py"
    (
      cd "$BUILD/mmcv-$MMCV_VERSION"
      export MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)}
      [ $WITH_CUDA = 1 ] && export FORCE_CUDA=1
      "$BUILD/venv/bin/python" -m pip wheel --disable-pip-version-check --no-build-isolation --no-deps -w "$BUILD/dist" .
    ) || fail "2/7 compile mmcv $MMCV_VERSION (see the compiler output above)"
    mkdir -p "$WHEEL_DIR"
    cp "$BUILD"/dist/mmcv-*.whl "$WHEEL_DIR/" || fail "2/7 cache the mmcv wheel in $WHEEL_DIR"
  else
    echo "using cached wheel: $(ls "$WHEEL_DIR"/mmcv-*.whl)"
  fi
  pip_install --no-deps --force-reinstall "$WHEEL_DIR"/mmcv-*.whl || fail "2/7 install cached mmcv wheel"
  pip_install "${MMCV_RUNTIME_REQS[@]}" \
    || fail "2/7 install mmcv's runtime dependencies"
  has "from mmcv.ops import nms" || fail "2/7 import mmcv.ops after install"
fi

step "3/7 mmengine, mmdet $MMDET_VERSION, pycocotools"
if ready mmdet; then
  echo "already installed"
else
  pip_install "${DET_REQS[@]}" || fail "3/7 pip install ${DET_REQS[*]}"
fi

step "4/7 test, export and analysis tools (pytest, pytest-xdist, hypothesis, onnx, onnxruntime, seaborn, psutil)"
if ready tools; then
  echo "already installed"
else
  pip_install "${TOOL_REQS[@]}" || fail "4/7 pip install ${TOOL_REQS[*]}"
fi

step "5/7 mnext-det (editable)"
if ready mnext_det; then
  echo "already installed from $ROOT"
else
  pip_install -e "$ROOT" --no-deps -q "${EDITABLE_FLAGS[@]}" || fail "5/7 pip install -e $ROOT"
fi
step "6/7 tcmalloc (optional: about 1.15x CPU training speed, mnext_det/engine/allocator.py)"
if [ "${MNEXT_ALLOCATOR:-auto}" = "system" ]; then
  echo "skipped: MNEXT_ALLOCATOR=system"
# (probed before step 5 on a fresh machine, where mnext_det did not import yet)
elif ready tcmalloc || has "import sys; from mnext_det.engine.allocator import find_tcmalloc; sys.exit(0 if find_tcmalloc() else 1)"; then
  echo "found"
elif command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  apt-get install -y -q libtcmalloc-minimal4 >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q libtcmalloc-minimal4 >/dev/null 2>&1; } \
    || echo "could not apt-get install libtcmalloc-minimal4: training runs on glibc's malloc"
else
  echo "not installed (needs root): 'sudo apt install libtcmalloc-minimal4' or 'conda install gperftools'; training runs on glibc's malloc meanwhile"
fi
step "7/7 CPU training kernels: batch norm + ReLU6, 3x3 depthwise conv (optional: faster CPU training; C++ built for this CPU once, about 60 s; mnext_det/ops)"
if ! command -v ninja >/dev/null 2>&1; then
  pip_install -q ninja || echo "could not pip install ninja (torch needs it to build the kernel)"
fi
if ready kernel || has "from mnext_det.ops import load_extension; load_extension(required=True)"; then
  echo "built"
else
  echo "not built: training runs torch's batch norm and depthwise conv; the reason: python -c 'from mnext_det.ops import load_extension; load_extension(required=True)'"
fi
if [ "$(printf '%s\n' "$ENV_REPORT" | tail -n 1)" = "environment OK" ]; then
  printf '%s\n' "$ENV_REPORT"  # nothing was missing, and the probe's check passed
else
  (cd / && "$PYTHON" -m mnext_det.env_check) || fail "environment check (python -m mnext_det.env_check)"
fi

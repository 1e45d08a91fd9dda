#!/usr/bin/env bash
# Wheels for an offline `make install` on a machine whose image already has torch
# and the scientific stack (the GPU machine of tools/gpu/run_checks.sh): what such
# an image lacks, at the versions tools/requirements.sh asks for, without their
# dependencies, and mmcv as source (built there). Run where pip can reach PyPI:
#
#   bash tools/gpu/download_wheels.sh [DIR] [PYTHON_VERSION]    (default: .whl 3.12)
#
# then `MNEXT_WHEELS=DIR make install` there (tools/install.sh, offline).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tools/requirements.sh
source "$ROOT/tools/requirements.sh"
DIR=${1:-$ROOT/.whl}
PY_VERSION=${2:-3.12}
case "$PY_VERSION" in
  3.[0-9]|3.[0-9][0-9]) ;;
  *) echo "download_wheels.sh: PYTHON_VERSION must look like 3.12, got '$PY_VERSION'" >&2; exit 2 ;;
esac
PYTHON=${PYTHON:-python3}
# What install.sh's steps 2-3 ask for, less what such images ship besides torch (they
# also have scipy, matplotlib, rich, tqdm, six and step 4's tools), each once.
SHIPPED=" opencv-python-headless packaging Pillow pyyaml numpy "
LACKING=("${MMCV_BUILD_REQS[@]}")
for req in "${MMCV_RUNTIME_REQS[@]}" "${RUNTIME_OFFLINE_DEPS[@]}" "${DET_REQS[@]}" \
  "${DET_OFFLINE_DEPS[@]}"; do
  case "$SHIPPED ${LACKING[*]} " in *" $req "*) ;; *) LACKING+=("$req") ;; esac
done
PLATFORMS=()
for tag in manylinux_2_28 manylinux_2_27 manylinux_2_24 manylinux_2_17 manylinux2014 manylinux1; do
  PLATFORMS+=(--platform "${tag}_x86_64")
done
mkdir -p "$DIR"
# pip reads the source's metadata, and mmcv's setup.py needs pkg_resources (setuptools < 70) and wheel
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$PYTHON" -m pip install -q --no-warn-conflicts --target "$TMP/setuptools" "${MMCV_BUILD_REQS[@]}"
PYTHONPATH=$TMP/setuptools "$PYTHON" -m pip download -q --no-deps --no-build-isolation \
  --no-binary :all: "mmcv==$MMCV_VERSION" -d "$DIR"
"$PYTHON" -m pip download -q --no-deps --only-binary=:all: --implementation cp \
  --python-version "$PY_VERSION" "${PLATFORMS[@]}" -d "$DIR" "${LACKING[@]}"
echo "offline install set for Python $PY_VERSION in $DIR ($(du -sh "$DIR" | cut -f1)):"
ls "$DIR"

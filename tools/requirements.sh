# What tools/install.sh installs, in one place (sourced by it and by
# tools/gpu/download_wheels.sh, which fetches the same for an offline install).
# shellcheck shell=bash disable=SC2034
MMCV_VERSION=2.1.0
MMDET_VERSION=3.3.0
MMENGINE_SPEC="mmengine>=0.10.4,<0.11"
# mmcv's build venv: setuptools < 70 still ships pkg_resources, which mmcv's setup.py imports
MMCV_BUILD_REQS=("setuptools<70" wheel ninja)
MMCV_RUNTIME_REQS=(addict "$MMENGINE_SPEC" opencv-python-headless packaging Pillow pyyaml yapf)
DET_REQS=("$MMENGINE_SPEC" "mmdet==$MMDET_VERSION" pycocotools numpy)
# their dependencies that an image with torch and the scientific stack may lack, named
# because an offline install (MNEXT_WHEELS) does not resolve dependencies: mmengine's and
# yapf's (installed with mmcv's runtime), mmdet's (installed with it)
RUNTIME_OFFLINE_DEPS=(platformdirs termcolor)
DET_OFFLINE_DEPS=(terminaltables shapely)
# the exporters at the versions the parity tests passed with (export tools keep moving)
TOOL_REQS=(pytest pytest-xdist hypothesis onnx==1.23.2 onnxruntime==1.32.0 onnxscript==0.7.2
  seaborn psutil)

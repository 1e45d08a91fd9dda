"""mnext-det: MobileNeXt backbones and SSDLite detectors on MMDetection."""
from setuptools import find_packages, setup


def _version() -> str:
    scope: dict = {}
    with open('mnext_det/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mnext-det',
    version=_version(),
    description='MobileNeXt (ECCV 2020) backbones, classifiers and SSDLite detectors on MMDetection',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mnext_det', 'mnext_det.*']),
    # the CPU training kernels, compiled on first use by torch (needs ninja)
    package_data={'mnext_det.ops': ['csrc/*.cpp', 'csrc/*.h']},
    python_requires='>=3.9',
    # mmcv (2.1.x with compiled ops) is built by `make install`: PyPI has it
    # only as source that does not build on current torch without patches.
    install_requires=['torch', 'torchvision', 'mmengine>=0.10.4,<0.11', 'numpy', 'ninja'],
    extras_require={
        'det': ['mmdet==3.3.0', 'mmcv>=2.0.0rc4,<2.2.0', 'pycocotools'],
        'export': ['onnx>=1.17', 'onnxruntime>=1.20', 'onnxscript'],
        # pinned: converters change often; installs transformers/jax as well
        'tflite': ['litert-torch==0.10.0', 'ai-edge-litert>=2.3,<2.4'],
        # what mmdet's shipped analysis tools import (analyze_logs, benchmark)
        'analysis': ['seaborn', 'psutil'],
        'dev': ['pytest', 'pytest-xdist', 'hypothesis'],
    },
    entry_points={'console_scripts': ['mnext-det=mnext_det.cli:main']},
    license='Apache-2.0',
)

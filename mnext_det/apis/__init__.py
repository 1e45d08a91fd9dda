"""Runnable pipelines behind the tools: ``demo`` (``make demo``: data,
pretraining, detector training, evaluation and report). The seeded study
runner is :mod:`mnext_det.study`."""
from .demo import DEMO_DETECTORS, DemoOptions, run_demo

__all__ = ['DEMO_DETECTORS', 'DemoOptions', 'run_demo']

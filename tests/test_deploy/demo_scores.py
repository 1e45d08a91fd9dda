"""Scoring the ``demo_ws`` detector (tests/conftest.py) with tools/test.py and
tools/deploy/evaluate.py: on its training images, where the briefly trained
detector has AP above 0 (so "same AP" is not "both 0"), and its printed COCO
metrics read back."""
import re

ON_TRAIN = ['test_dataloader.dataset.ann_file=annotations/instances_train.json',
            'test_evaluator.ann_file=data/shapes/annotations/instances_train.json']
METRIC = re.compile(r'coco/(bbox_mAP\w*): (-?[\d.]+)')


def printed_metrics(text: str) -> dict:
    """``{'bbox_mAP': 0.41, ...}`` from a tool's printed ``coco/bbox_mAP...`` values."""
    return {k: float(v) for k, v in METRIC.findall(text)}

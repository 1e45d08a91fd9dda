"""detector_benchmark variants: what each row changes in the detector it times."""
import os.path as osp

import pytest

from ..conftest import ROOT

pytest.importorskip('mmdet')
from mmdet.models.dense_heads import AnchorHead  # noqa: E402

from mnext_det.analysis.detector_benchmark import Variant, _prepare  # noqa: E402
from mnext_det.models.heads import SSDLiteHead  # noqa: E402

DEMO_NEXT = osp.join(ROOT, 'configs', 'demo', 'ssdlite_mobilenext-050_1xb8-10e_shapes-160.py')


def test_mmdet_anchors_row_rebuilds_the_anchors_every_step():
    kept = _prepare(Variant(DEMO_NEXT), 2, 'cpu')
    rebuilt = _prepare(Variant(DEMO_NEXT, mmdet_anchors=True), 2, 'cpu')
    assert kept.model.bbox_head.get_anchors.__func__ is SSDLiteHead.get_anchors
    assert rebuilt.model.bbox_head.get_anchors.__func__ is AnchorHead.get_anchors
    assert rebuilt.name == kept.name + ' (mmdet_anchors)'
    rebuilt.model.train()
    rebuilt.model.train_step(rebuilt.data, rebuilt.optim)
    assert not rebuilt.model.bbox_head._anchor_cache

# Init ablation: the MobileNeXt demo detector with mmdet's SSDLite init only,
# TruncNormal(std=0.03) on every conv and no ZeroInitResidual (the from-scratch
# default before the seeded study; docs/detection.md). Backbone init only.
_base_ = './ssdlite_mobilenext-050_1xb8-10e_shapes-160.py'

model = dict(backbone=dict(
    init_cfg=dict(_delete_=True, type='TruncNormal', layer='Conv2d', std=0.03)))

# Init ablation: the MobileNeXt demo detector with ZeroInitResidual after the
# conv init, so every sandglass block with a shortcut starts as the identity.
# Backbone init only; all else inherited.
_base_ = './ssdlite_mobilenext-050_1xb8-shapes-160.py'

model = dict(backbone=dict(init_cfg=[
    dict(type='TruncNormal', layer='Conv2d', std=0.03),
    dict(type='ZeroInitResidual')]))

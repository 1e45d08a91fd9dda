# Init ablation: the demo baseline with ZeroInitResidual after the conv init,
# so every inverted residual block with a shortcut starts as the identity
# (torchvision's zero_init_residual). Backbone init only; all else inherited.
_base_ = './ssdlite_mobilenetv2-050_1xb8-shapes-160.py'

model = dict(backbone=dict(init_cfg=[
    dict(type='TruncNormal', layer='Conv2d', std=0.03),
    dict(type='ZeroInitResidual')]))

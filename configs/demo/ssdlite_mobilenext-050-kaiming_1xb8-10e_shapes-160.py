# Init ablation: the MobileNeXt demo detector with the authors' backbone init
# (Kaiming normal, fan-out, in MobileNeXt.__init__) instead of mmdet's
# TruncNormal(std=0.03). Backbone init only; all else inherited.
_base_ = './ssdlite_mobilenext-050_1xb8-10e_shapes-160.py'

model = dict(backbone=dict(init_cfg=None))

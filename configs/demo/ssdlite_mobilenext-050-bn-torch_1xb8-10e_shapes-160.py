# BN ablation: the MobileNeXt demo detector (zero-init) with PyTorch's BN
# defaults in the backbone (momentum 0.1, eps 1e-5, as the authors'
# classification code) instead of mmdet's SSDLite setting (0.03, 1e-3).
_base_ = './ssdlite_mobilenext-050_1xb8-10e_shapes-160.py'

model = dict(backbone=dict(norm_cfg=dict(type='BN', eps=1e-5, momentum=0.1)))

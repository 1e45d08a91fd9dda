# Demo: SSDLite-MobileNeXt-0.5 on the Fashion-MNIST scenes. Inherits the
# MobileNetV2-0.5 scenes config (the data) and changes the backbone and its taps
# exactly as ssdlite_mobilenext-050_1xb8-10e_shapes-160.py does for the shapes;
# tests/test_configs/test_ssdlite.py checks both.
_base_ = './ssdlite_mobilenetv2-050_1xb8-10e_fashion-scenes-160.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='MobileNeXt',
        widen_factor=0.5,
        tap_indices=(13, 20),
        out_indices=(20, ),
        norm_cfg={{_base_.norm_cfg}},
        act_cfg={{_base_.act_cfg}},
        init_cfg=[
            dict(type='TruncNormal', layer='Conv2d', std=0.03),
            dict(type='ZeroInitResidual')]),
    neck=dict(
        in_channels=(288, 1280),
        out_channels=(288, 1280, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(288, 1280, 512, 256, 256, 128)))

# Demo: SSDLite-MobileNetV2-0.5 tapped where MobileNeXt-0.5 is (the expansion of
# the first 160-ch block, 288 ch at stride 16), on the Fashion-MNIST scenes:
# the scenes config with the backbone change of
# ssdlite_mobilenetv2-050-exptap_1xb8-10e_shapes-160.py.
_base_ = './ssdlite_mobilenetv2-050_1xb8-10e_fashion-scenes-160.py'

model = dict(
    backbone=dict(type='TappedMobileNetV2', out_indices=(7, ), tap_indices=(5, )),
    neck=dict(in_channels=(288, 1280), out_channels=(288, 1280, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(288, 1280, 512, 256, 256, 128)))

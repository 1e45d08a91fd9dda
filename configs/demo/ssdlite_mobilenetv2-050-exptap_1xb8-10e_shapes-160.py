# The demo baseline tapped where Sandler et al. attach SSDLite: the expansion of the
# first 160-ch block (288 ch at stride 16 at width 0.5, the channels of the
# MobileNeXt-0.5 demo detector's tap), not layer 5's 48-ch output
# (configs/ssdlite/ssdlite_mobilenetv2-exptap-scratch_8xb24-600e_coco.py says why).
_base_ = './ssdlite_mobilenetv2-050_1xb8-10e_shapes-160.py'

model = dict(
    backbone=dict(type='TappedMobileNetV2', out_indices=(7, ), tap_indices=(5, )),
    neck=dict(in_channels=(288, 1280), out_channels=(288, 1280, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(288, 1280, 512, 256, 256, 128)))

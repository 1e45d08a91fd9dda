# SSDLite-MobileNetV2 tapped where Sandler et al. (MobileNetV2, Sec. 6.2) attach
# SSDLite: the first level reads the expansion of the first 160-ch block (576 ch at
# stride 16, before its stride-2 depthwise conv), the same place and width as the
# MobileNeXt authors' tap (576 ch before layer 13's stride-2 depthwise conv). mmdet's
# SSDLite-MobileNetV2 (ssdlite_mobilenetv2-scratch_...) reads layer 5's 96-ch output,
# which makes its head 1.16x cheaper than SSDLite-MobileNeXt's; with this tap the two
# detectors differ in the backbone only. Backbone type and the channels that follow.
_base_ = './ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py'

model = dict(
    backbone=dict(type='TappedMobileNetV2', out_indices=(7, ), tap_indices=(5, )),
    neck=dict(in_channels=(576, 1280), out_channels=(576, 1280, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(576, 1280, 512, 256, 256, 128)))

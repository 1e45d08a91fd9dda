# SSDLite-MobileNeXt-0.5 from scratch on COCO 2017 at 320: the width-1.0
# config with the width and the taps' channels (288 at stride 16, 1280 at
# stride 32) changed.
_base_ = './ssdlite_mobilenext-100-scratch_8xb24-600e_coco.py'

model = dict(
    backbone=dict(widen_factor=0.5),
    neck=dict(in_channels=(288, 1280), out_channels=(288, 1280, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(288, 1280, 512, 256, 256, 128)))

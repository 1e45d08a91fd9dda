# SSDLite-MobileNeXt-1.4 from scratch on COCO 2017 at 320: the width-1.0
# config with the width and the taps' channels (808 at stride 16, 1792 at
# stride 32) changed.
_base_ = './ssdlite_mobilenext-100-scratch_8xb24-600e_coco.py'

model = dict(
    backbone=dict(widen_factor=1.4),
    neck=dict(in_channels=(808, 1792), out_channels=(808, 1792, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(808, 1792, 512, 256, 256, 128)))

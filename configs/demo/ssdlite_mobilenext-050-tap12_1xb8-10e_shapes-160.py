# Tap ablation: the MobileNeXt demo detector (zero-init) with its stride-16
# feature taken from the complete output of layer 12 (192 ch at width 0.5)
# instead of inside layer 13 (288 ch, the authors' tap). Backbone and the
# channel counts that follow from it only.
_base_ = './ssdlite_mobilenext-050_1xb8-10e_shapes-160.py'

model = dict(
    backbone=dict(tap_indices=(20, ), out_indices=(12, 20)),
    neck=dict(in_channels=(192, 1280), out_channels=(192, 1280, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(192, 1280, 512, 256, 256, 128)))

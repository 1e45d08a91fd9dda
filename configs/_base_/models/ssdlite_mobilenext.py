# SSDLite-MobileNeXt-1.0 at 320: the SSDLite-MobileNetV2 model with only the
# backbone and its taps changed, following the authors' SSDLite:
#   576 ch at stride 16 (inside layer 13, before its stride-2 depthwise conv),
#   1280 ch at stride 32 (inside layer 20, before its last depthwise conv),
#   and the complete layer-20 output (1280 ch) feeding the extra layers only.
# The authors' sandglass extra layers: neck=dict(extra_type='sandglass').
# Backbone init as the baseline's: TruncNormal then ZeroInitResidual (without
# the latter MobileNeXt barely learns from scratch; docs/detection.md).
_base_ = './ssdlite_mobilenetv2.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='MobileNeXt',
        widen_factor=1.0,
        tap_indices=(13, 20),
        out_indices=(20, ),
        norm_cfg={{_base_.norm_cfg}},
        act_cfg={{_base_.act_cfg}},
        init_cfg=[
            dict(type='TruncNormal', layer='Conv2d', std=0.03),
            dict(type='ZeroInitResidual')]),
    neck=dict(
        in_channels=(576, 1280),
        out_channels=(576, 1280, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(576, 1280, 512, 256, 256, 128)))

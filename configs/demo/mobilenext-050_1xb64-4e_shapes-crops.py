# Demo pretraining of the MobileNeXt-0.5 backbone on the shapes crops: the
# MobileNetV2 demo pretraining with only the backbone swapped.
_base_ = './mobilenetv2-050_1xb64-4e_shapes-crops.py'

model = dict(
    backbone=dict(_delete_=True, type='MobileNeXt', widen_factor=0.5),
    in_channels=None)

# SSDLite-MobileNetV2 on COCO 2017 at 320 from an ImageNet-pretrained
# backbone: a checkpoint of configs/imagenet/mobilenetv2-100_8xb64-210e_in1k.py
# (keys backbone.*, mmdet's MobileNetV2 names). Set the path with
# --cfg-options model.backbone.init_cfg.checkpoint=PATH.
_base_ = './ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py'

model = dict(
    backbone=dict(
        init_cfg=dict(
            _delete_=True,
            type='Pretrained',
            checkpoint='checkpoints/mobilenetv2-100_in1k.pth',
            prefix='backbone.')))

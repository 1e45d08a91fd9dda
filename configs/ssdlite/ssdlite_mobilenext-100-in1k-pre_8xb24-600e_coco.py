# SSDLite-MobileNeXt-1.0 on COCO 2017 at 320 from an ImageNet-pretrained
# backbone: a checkpoint of configs/imagenet/mobilenext-100_8xb64-210e_in1k.py
# (keys backbone.*), or the authors' weights converted by
# tools/model_converters/convert_official_ckpt.py. Set the path with
# --cfg-options model.backbone.init_cfg.checkpoint=PATH.
_base_ = './ssdlite_mobilenext-100-scratch_8xb24-600e_coco.py'

model = dict(
    backbone=dict(
        init_cfg=dict(
            _delete_=True,
            type='Pretrained',
            checkpoint='checkpoints/mobilenext-100_in1k.pth',
            prefix='backbone.')))

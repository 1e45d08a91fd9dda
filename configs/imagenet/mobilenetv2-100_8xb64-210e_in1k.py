# The MobileNetV2 baseline pretrained with MobileNeXt's exact recipe, so the
# SSDLite comparison starts from equally trained backbones. Needs mmdet.
_base_ = [
    '../_base_/models/mobilenetv2-100_cls.py',
    '../_base_/datasets/imagenet_bs64.py',
    '../_base_/schedules/imagenet_bs512_nesterov-coslr-210e.py',
    '../_base_/schedules/imagenet_runtime.py',
]

custom_imports = dict(imports=['mnext_det.classification', 'mmdet.models.backbones'],
                      allow_failed_imports=False)

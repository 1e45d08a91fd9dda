# mmdet's MobileNetV2-1.0 backbone as an ImageNet classifier, same head and
# loss as MobileNeXt: its checkpoint feeds mmdet's SSDLite-MobileNetV2
# through init_cfg=dict(type='Pretrained', prefix='backbone.'). Needs mmdet
# (see configs/imagenet/mobilenetv2-100_8xb64-210e_in1k.py's custom_imports).
# Init: mmdet's MobileNetV2 default (Kaiming convs, BN weight 1), no
# ZeroInitResidual, as for MobileNeXt's classifier.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='mmdet.MobileNetV2',
        widen_factor=1.0,
        out_indices=(7, ),
        act_cfg=dict(type='InplaceReLU6')),  # as MobileNeXt's default
    in_channels=1280,
    num_classes=1000,
    drop_rate=0.2,
    label_smoothing=0.1,
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375]))

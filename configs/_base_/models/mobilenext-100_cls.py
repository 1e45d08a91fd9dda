# MobileNeXt-1.0 ImageNet classifier: pool -> dropout 0.2 -> linear, label
# smoothing 0.1. Keys backbone.* / classifier.1.*, so the checkpoint feeds the
# SSDLite configs through init_cfg=dict(type='Pretrained', prefix='backbone.').
# Init: MobileNeXt's own (the authors' Kaiming fan-out convs, BN weight 1, bias
# 0), no ZeroInitResidual: the from-scratch detection configs use that rule
# (docs/detection.md, "From scratch"); classification with it was not studied.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='MobileNeXt', widen_factor=1.0),
    num_classes=1000,
    drop_rate=0.2,
    label_smoothing=0.1,
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375]))

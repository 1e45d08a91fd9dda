# SSDLite-MobileNetV2 at 320, as mmdet 3.3.0's
# configs/ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py, except that the
# head is SSDLiteHead (SSDHead without the 3.3.0 predict crash) and the neck is
# SSDLiteNeck (SSDNeck plus options; identical with these arguments), and that
# the backbone init adds ZeroInitResidual after mmdet's TruncNormal: every
# inverted residual block with a shortcut starts as the identity, the rule the
# MobileNeXt configs use too (docs/detection.md, "From scratch"), and that
# train_cfg drops mmdet 2.x's debug=False, which mmdet 3 reads nowhere.
# Taps: MobileNetV2 out_indices (4, 7) -> 96 ch at stride 16, 1280 ch at stride 32.
norm_cfg = dict(type='BN', eps=0.001, momentum=0.03)
# ReLU6 computed in place under autograd too: same outputs and gradients as
# nn.ReLU6, one pass over the tensor instead of three (mnext_det/models/activations.py).
act_cfg = dict(type='InplaceReLU6')
data_preprocessor = dict(
    type='DetDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_size_divisor=1)
model = dict(
    type='SingleStageDetector',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='MobileNetV2',
        out_indices=(4, 7),
        norm_cfg=norm_cfg,
        act_cfg=act_cfg,
        init_cfg=[
            dict(type='TruncNormal', layer='Conv2d', std=0.03),
            dict(type='ZeroInitResidual')]),
    neck=dict(
        type='SSDLiteNeck',
        in_channels=(96, 1280),
        out_channels=(96, 1280, 512, 256, 256, 128),
        level_strides=(2, 2, 2, 2),
        level_paddings=(1, 1, 1, 1),
        l2_norm_scale=None,
        use_depthwise=True,
        norm_cfg=norm_cfg,
        act_cfg=act_cfg,
        init_cfg=dict(type='TruncNormal', layer='Conv2d', std=0.03)),
    bbox_head=dict(
        type='SSDLiteHead',
        in_channels=(96, 1280, 512, 256, 256, 128),
        num_classes=80,
        use_depthwise=True,
        norm_cfg=norm_cfg,
        act_cfg=act_cfg,
        init_cfg=dict(type='Normal', layer='Conv2d', std=0.001),
        anchor_generator=dict(
            type='SSDAnchorGenerator',
            scale_major=False,
            strides=[16, 32, 64, 107, 160, 320],
            ratios=[[2, 3], [2, 3], [2, 3], [2, 3], [2, 3], [2, 3]],
            min_sizes=[48, 100, 150, 202, 253, 304],
            max_sizes=[100, 150, 202, 253, 304, 320]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[0.1, 0.1, 0.2, 0.2])),
    train_cfg=dict(
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.5,
            neg_iou_thr=0.5,
            min_pos_iou=0.,
            ignore_iof_thr=-1,
            gt_max_assign_all=False),
        sampler=dict(type='PseudoSampler'),
        smoothl1_beta=1.,
        allowed_border=-1,
        pos_weight=-1,
        neg_pos_ratio=3),
    test_cfg=dict(
        nms_pre=1000,
        nms=dict(type='nms', iou_threshold=0.45),
        min_bbox_size=0,
        score_thr=0.02,
        max_per_img=200))

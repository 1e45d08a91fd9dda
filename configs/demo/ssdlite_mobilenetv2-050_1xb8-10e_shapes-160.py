# Demo baseline: SSDLite-MobileNetV2-0.5 on the built-in shapes dataset, trained
# in minutes on a 2-core CPU. Inherits the COCO config and changes only what
# the CPU budget forces; the MobileNeXt demo config inherits this one and
# changes the backbone and its taps only, so both get identical settings.
#
# Changes from configs/ssdlite/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py:
# - data: shapes (6 classes, 320x320, 3000 train / 200 val scenes as written
#   by tools/demo.py) in COCO layout, CocoMetric on val. With 1000 train
#   scenes MobileNetV2-0.5 reached AP 0.59 on train but 0.24 on val; 3000
#   scenes for the same number of steps gave 0.31 on val.
# - width 0.5 for both backbones (taps 48 and 1280 ch here, 288 and 1280 for
#   MobileNeXt-0.5): about 3x fewer multiply-adds than width 1.0.
# - input 160 instead of 320: 4x fewer pixels per image.
# - batch 8: twice the optimiser steps for the same compute.
# - anchors for input 160 (maps 10, 5, 3, 2, 1, 1), ratio 2 only (shapes have
#   near-square boxes; fewer anchors mean fewer easy negatives), sizes
#   20-136 / 40-170: 55 % of the train boxes (15-200 px at 320, 7-100 px at
#   160) get an anchor with IoU >= 0.5 (SSD's pos_iou_thr) against 37 % with
#   sizes 12-104; on a stride-16 grid smaller anchors cannot reach IoU 0.5
#   on boxes that fall between anchor centres.
# - no Expand / MinIoURandomCrop / photometric augmentation: on a schedule of
#   a few epochs they slow convergence more than they help generalisation.
# - AdamW lr 2e-3 (no weight decay on norms), 50-iter warm-up, cosine to 0,
#   10 epochs (3750 steps): converges in few epochs where SGD 0.015 does not.
#   6-epoch probes, val AP (MobileNeXt / MobileNetV2): lr 5e-4 0.015 / -,
#   1e-3 0.047 / 0.054, 2e-3 0.062 / 0.085, 4e-3 0.002 / - (MobileNeXt's
#   loss stalls at 4e-3). Validation every 2 epochs to save time. Two
#   parameter groups (MergedParamGroupsConstructor) and torch's fused AdamW:
#   the optimizer step is 2 ms instead of 13 (one kernel call per group,
#   not ten small ops per tensor).
# - channels-last tensors (ChannelsLastHook): a CPU step takes 0.72-0.78x the time.
# - batch norm and its ReLU6 in one C++ kernel while training (FusedBatchNormHook,
#   mnext_det/engine/fused_batch_norm.py): a CPU step takes about 0.89x the time.
# - stride-1 1x1 convs trained as matrix products (PointwiseMatmulHook,
#   mnext_det/engine/pointwise_matmul.py): a CPU step takes about 0.97x the time.
# - 3x3 depthwise convs trained by a C++ kernel (DepthwiseConvHook,
#   mnext_det/engine/depthwise_conv.py): a CPU step takes about 0.93x the time;
#   after FusedBatchNormHook, each with its batch norm as one op: about 0.97x more.
# - each image decoded, its boxes read and resized once, then replayed from
#   memory every later epoch (PipelineCacheHook, mnext_det/engine/pipeline_cache.py;
#   the samples are bit-identical, the pipeline below stays plain for mmdet's
#   analysis tools): the loader's 16 ms per batch of 8 mostly goes.
# - backbone from scratch with the COCO configs' TruncNormal + ZeroInitResidual
#   (docs/detection.md); `tools/demo.py --pretrain` sets init_cfg to its own
#   pretraining on object crops instead, which lowers both detectors' AP at
#   10 epochs (configs/demo/README.md, `make study-demo`).
_base_ = '../ssdlite/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py'

data_root = 'data/shapes/'
classes = ('circle', 'square', 'triangle', 'star', 'cross', 'ring')
metainfo = dict(classes=classes)
input_size = 160
max_epochs = 10

model = dict(
    backbone=dict(widen_factor=0.5),
    neck=dict(in_channels=(48, 1280), out_channels=(48, 1280, 512, 256, 256, 128)),
    bbox_head=dict(
        in_channels=(48, 1280, 512, 256, 256, 128),
        num_classes=len(classes),
        anchor_generator=dict(
            strides=[16, 32, 53, 80, 160, 160],
            ratios=[[2], [2], [2], [2], [2], [2]],
            min_sizes=[20, 40, 64, 88, 112, 136],
            max_sizes=[40, 64, 88, 112, 136, 170])),
    test_cfg=dict(score_thr=0.01, max_per_img=100))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(
        _delete_=True,
        type='CocoDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='VOC2007/JPEGImages/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=4),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='VOC2007/JPEGImages/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json', classwise=True)
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=max_epochs, val_interval=2)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', begin=0, T_max=max_epochs, end=max_epochs,
         by_epoch=True, eta_min=0, convert_to_iter_based=True)
]
optim_wrapper = dict(
    constructor='MergedParamGroupsConstructor',
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-3, weight_decay=1e-4, fused=True),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.))
auto_scale_lr = dict(base_batch_size=8)

default_hooks = dict(
    logger=dict(interval=10),
    # every epoch (the latest kept): a killed run resumes (tools/demo.py --resume)
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best=None),
    visualization=dict(draw=False))
# channels-last tensors: a training step takes 0.72-0.78x the time on CPU;
# fused batch norm + ReLU6: about 0.89x more; 1x1 convs as matrix products: about 0.97x more;
# the depthwise conv kernel, with its batch norm as one op: about 0.90x more
custom_hooks = [
    dict(type='NumClassCheckHook'),
    dict(type='ClassListCheckHook'),
    dict(type='CheckInvalidLossHook', interval=50, priority='VERY_LOW'),
    dict(type='ChannelsLastHook'),
    dict(type='FusedBatchNormHook'),
    dict(type='PointwiseMatmulHook'),
    dict(type='DepthwiseConvHook'),
    dict(type='PipelineCacheHook'),
]
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)

# Demo pretraining of the MobileNetV2 baseline backbone: the ImageNet recipe
# (configs/imagenet/mobilenetv2-100_8xb64-210e_in1k.py) on the shapes
# dataset's object crops (data/shapes/crops, an ImageFolder of 6 classes).
# The MobileNeXt demo pretraining inherits this file and swaps the backbone.
#
# Changes from the ImageNet config, all for a budget of about two minutes on a
# 2-core CPU: 64x64 crops at 64 with flips only (RandomResizedCrop and colour
# jitter made the 8-epoch run of the previous setting stop at 59-68 % top-1;
# without them 600 steps reach 94 %), 6 classes, 4 epochs (656 steps over the
# 10.5k crops of 3000 scenes), AdamW lr 5e-3 (2e-3 reached 75-81 % in 300
# steps, 5e-3 89-91 %) with 20-iter warm-up and cosine, no label smoothing,
# validation every epoch, channels-last tensors (half the step time on CPU),
# torch's fused AdamW kernel on the two parameter groups, depthwise convs on
# 2x2 maps padded first (SmallMapDepthwiseHook; docs/deploy.md, "Training"),
# batch norm and its ReLU6 in one C++ kernel (FusedBatchNormHook), stride-1
# 1x1 convs trained as matrix products (PointwiseMatmulHook).
_base_ = '../imagenet/mobilenetv2-100_8xb64-210e_in1k.py'

data_root = 'data/shapes/crops'
num_classes = 6
crop_size = 64
max_epochs = 4

# width 0.5 (as the detector demo): about 3x fewer multiply-adds than 1.0.
model = dict(backbone=dict(widen_factor=0.5), num_classes=num_classes, label_smoothing=0.0)

train_pipeline = [
    dict(type='DecodeImage'),
    dict(
        type='TorchvisionTransforms',
        transforms=[
            dict(type='Resize', size=crop_size),
            dict(type='RandomHorizontalFlip'),
        ]),
    dict(type='PackClsInputs'),
]
test_pipeline = [
    dict(type='DecodeImage'),
    dict(type='TorchvisionTransforms', transforms=[dict(type='Resize', size=crop_size)]),
    dict(type='PackClsInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=1,
    pin_memory=False,
    dataset=dict(data_root=data_root, data_prefix='train', num_classes=num_classes,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    pin_memory=False,
    dataset=dict(data_root=data_root, data_prefix='val', num_classes=num_classes,
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(topk=(1, ))
test_evaluator = val_evaluator

optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=5e-3, weight_decay=1e-4, fused=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0, by_epoch=True, begin=0,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
auto_scale_lr = dict(base_batch_size=64)
default_hooks = dict(
    logger=dict(interval=10),
    # every epoch (the latest kept): a killed run resumes (tools/demo.py --resume)
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best=None))
custom_imports = dict(imports=['mnext_det.classification', 'mmdet.models.backbones'],
                      allow_failed_imports=False)
# channels-last tensors: a training step takes half the time on CPU; the
# depthwise convs of the last stages (2x2 maps at 64 px) padded first: oneDNN's
# weight gradient is 10-30x slower on maps smaller than the kernel; batch norm
# and ReLU6 fused: one pass less each way; 1x1 convs as matrix products: a step
# takes 0.92-0.95x the time
custom_hooks = [dict(type='ClassListCheckHook'), dict(type='ChannelsLastHook'),
                dict(type='SmallMapDepthwiseHook'), dict(type='FusedBatchNormHook'),
                dict(type='PointwiseMatmulHook')]
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)

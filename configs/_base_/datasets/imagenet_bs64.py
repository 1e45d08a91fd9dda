# ImageNet-1k as class folders: data/imagenet/train/<wnid>/*.JPEG and
# data/imagenet/val/<wnid>/*.JPEG. For a flat val folder with mmpretrain's
# meta/val.txt, set val_dataloader.dataset.ann_file='meta/val.txt' and keep
# classes='train'. Images stay uint8 until the data preprocessor (model side)
# normalises them on the training device.
dataset_type = 'ImageFolderDataset'
data_root = 'data/imagenet'

train_pipeline = [
    dict(type='DecodeImage'),
    dict(
        type='TorchvisionTransforms',
        transforms=[
            # timm's RandomResizedCrop with interpolation='random'
            dict(
                type='RandomChoice',
                transforms=[
                    dict(type='RandomResizedCrop', size=224, scale=(0.08, 1.0),
                         interpolation='bilinear'),
                    dict(type='RandomResizedCrop', size=224, scale=(0.08, 1.0),
                         interpolation='bicubic'),
                ]),
            dict(type='RandomHorizontalFlip'),
            dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4),
        ]),
    dict(type='PackClsInputs'),
]
test_pipeline = [
    dict(type='DecodeImage'),
    dict(
        type='TorchvisionTransforms',
        transforms=[
            dict(type='Resize', size=256, interpolation='bicubic'),  # 224 / 0.875
            dict(type='CenterCrop', size=224),
        ]),
    dict(type='PackClsInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix='train',
        num_classes=1000,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix='val',
        classes='train',
        num_classes=1000,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='TopKAccuracy', topk=(1, 5))
test_evaluator = val_evaluator

# A CPU-sized run of the pretraining pipeline on a real public dataset:
# Fashion-MNIST (Debian's dataset-fashion-mnist, written as an ImageFolder by
# tools/dataset_converters/fashion_mnist_to_imagefolder.py) upsampled to 64 px, one
# epoch. Recipe of the ImageNet configs (SGD Nesterov, no decay on BN/bias,
# label smoothing 0.1, dropout 0.2), with warm-up and cosine in iterations
# for this short budget and a milder crop for 28-px images.
_base_ = './mobilenext-100_8xb64-210e_in1k.py'

data_root = 'data/fashion-mnist'
img_size = 64
num_classes = 10

model = dict(num_classes=num_classes)

train_pipeline = [
    dict(type='DecodeImage'),
    dict(
        type='TorchvisionTransforms',
        transforms=[
            dict(
                type='RandomChoice',
                transforms=[
                    dict(type='RandomResizedCrop', size=img_size, scale=(0.5, 1.0),
                         interpolation='bilinear'),
                    dict(type='RandomResizedCrop', size=img_size, scale=(0.5, 1.0),
                         interpolation='bicubic'),
                ]),
            dict(type='RandomHorizontalFlip'),
        ]),
    dict(type='PackClsInputs'),
]
test_pipeline = [
    dict(type='DecodeImage'),
    dict(type='TorchvisionTransforms',
         transforms=[dict(type='Resize', size=img_size, interpolation='bicubic')]),
    dict(type='PackClsInputs'),
]

train_dataloader = dict(
    num_workers=1,
    pin_memory=False,
    dataset=dict(data_root=data_root, num_classes=num_classes, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1,
    pin_memory=False,
    dataset=dict(data_root=data_root, num_classes=num_classes, pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=0.05))
# 60000 // 64 = 937 iterations in the epoch.
param_scheduler = [
    dict(type='LinearLR', start_factor=0.02, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', T_max=837, eta_min=1e-5, by_epoch=False, begin=100,
         end=937),
]
train_cfg = dict(max_epochs=1)
auto_scale_lr = dict(base_batch_size=64)
default_hooks = dict(logger=dict(interval=50))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)

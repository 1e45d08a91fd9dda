# The authors' recipe behind MobileNeXt-1.0's 74.02 % (reference doc,
# section 2): SGD momentum 0.9 Nesterov, lr 0.1 for a batch of 64 per GPU
# (total 512 assumed: 8 GPUs, the config names' 8xb64), 3 linear warm-up
# epochs from 1e-4, cosine to 1e-5 at epoch 200, 10 epochs at 1e-5,
# weight decay 1e-4 except on BN parameters and biases (two parameter groups:
# MergedParamGroupsConstructor, not mmengine's one group per parameter).
optim_wrapper = dict(
    constructor='MergedParamGroupsConstructor',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=3,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=197, eta_min=1e-5, by_epoch=True, begin=3, end=200,
         convert_to_iter_based=True),
]

train_cfg = dict(by_epoch=True, max_epochs=210, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# tools/train.py --auto-scale-lr scales lr by (GPUs x batch per GPU) / 512.
auto_scale_lr = dict(base_batch_size=512, enable=False)

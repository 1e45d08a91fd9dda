# ssdlite_mobilenetv2-050_1xb8-10e_fashion-scenes-160.py at batch 16 with the AdamW lr
# scaled by the square root of the batch ratio (2e-3 -> 2.8e-3), as the shapes'
# -cropspre_1xb16-10e-sqrtlr configs: `make study-fashion-batch` checks on the held-out
# photographs whether batch 16 keeps the AP of batch 8.
_base_ = './ssdlite_mobilenetv2-050_1xb8-10e_fashion-scenes-160.py'

train_dataloader = dict(batch_size=16)
optim_wrapper = dict(optimizer=dict(lr=2.8e-3))
auto_scale_lr = dict(base_batch_size=16)

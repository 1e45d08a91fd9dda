# The MobileNeXt demo detector at batch 16, what `make demo` trains: the batch-8
# config with the batch and lr of ssdlite_mobilenetv2-050_1xb16-10e_shapes-160.py
# (tested: the pair differs in the backbone and its taps only).
_base_ = './ssdlite_mobilenext-050_1xb8-10e_shapes-160.py'

train_dataloader = dict(batch_size=16)
optim_wrapper = dict(optimizer=dict(lr=4e-3))
auto_scale_lr = dict(base_batch_size=16)

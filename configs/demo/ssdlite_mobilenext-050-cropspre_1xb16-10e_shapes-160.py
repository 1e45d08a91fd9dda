# ssdlite_mobilenext-050-cropspre_1xb8-10e_shapes-160.py at batch 16 with the AdamW lr
# scaled linearly (2e-3 -> 4e-3, as mmengine's auto_scale_lr does): `make
# study-batch` trains both over seeds to see whether the demo could train at
# batch 16 (fewer, cheaper-per-image steps) at the AP of batch 8.
_base_ = './ssdlite_mobilenext-050-cropspre_1xb8-10e_shapes-160.py'

train_dataloader = dict(batch_size=16)
optim_wrapper = dict(optimizer=dict(lr=4e-3))
auto_scale_lr = dict(base_batch_size=16)

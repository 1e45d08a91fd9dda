# ssdlite_mobilenetv2-050-cropspre_1xb8-10e_shapes-160.py at the batch and lr of the
# demo's ssdlite_mobilenetv2-050_1xb16-10e_shapes-160.py: `make study-batch` trains
# both over seeds to check that the demo's batch 16 keeps the AP of batch 8.
_base_ = './ssdlite_mobilenetv2-050-cropspre_1xb8-10e_shapes-160.py'

train_dataloader = dict(batch_size=16)
optim_wrapper = dict(optimizer=dict(lr=4e-3))
auto_scale_lr = dict(base_batch_size=16)

# What `make demo` trains: the demo baseline (ssdlite_mobilenetv2-050_1xb8-10e_shapes-160.py)
# with its cosine schedule over 8 epochs (3000 steps) instead of 10, so that the demo
# takes about 10 minutes on a 2-core CPU; `make study-demo-epochs` measures over seeds
# what it costs in AP (configs/demo/README.md). Schedule only; the MobileNeXt twin
# changes the same keys.
_base_ = './ssdlite_mobilenetv2-050_1xb8-10e_shapes-160.py'

max_epochs = 8
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', begin=0, T_max=max_epochs, end=max_epochs,
         by_epoch=True, eta_min=0, convert_to_iter_based=True)
]

# The MobileNeXt demo detector (ssdlite_mobilenext-050_1xb8-10e_shapes-160.py) with its cosine
# schedule over 7 epochs (2625 steps) instead of 10: `make study-demo-epochs`
# measures over seeds what a shorter `make demo` costs in AP (configs/demo/README.md).
# Schedule only; the MobileNetV2 twin changes the same keys.
_base_ = './ssdlite_mobilenext-050_1xb8-10e_shapes-160.py'

max_epochs = 7
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', begin=0, T_max=max_epochs, end=max_epochs,
         by_epoch=True, eta_min=0, convert_to_iter_based=True)
]

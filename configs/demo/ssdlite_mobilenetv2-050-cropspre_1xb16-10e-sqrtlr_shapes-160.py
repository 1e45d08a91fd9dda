# ssdlite_mobilenetv2-050-cropspre_1xb16-10e_shapes-160.py with the AdamW lr scaled by
# the square root of the batch ratio (2e-3 x sqrt(2) = 2.8e-3) instead of linearly:
# at lr 4e-3 MobileNeXt-0.5 lost up to 0.08 AP on a seed (configs/demo/README.md);
# `make study-batch-sqrtlr` checks this lr over seeds against batch 8.
_base_ = './ssdlite_mobilenetv2-050-cropspre_1xb16-10e_shapes-160.py'

optim_wrapper = dict(optimizer=dict(lr=2.8e-3))

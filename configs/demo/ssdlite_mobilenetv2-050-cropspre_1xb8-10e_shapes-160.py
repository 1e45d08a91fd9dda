# The demo detector with its backbone initialised from the crop pretraining
# that `make study` runs first (configs/demo/mobilenetv2-050_1xb64-4e_shapes-crops.py,
# 4 epochs, checkpoint below), as tools/demo.py does. Backbone init only.
_base_ = './ssdlite_mobilenetv2-050_1xb8-10e_shapes-160.py'

model = dict(backbone=dict(init_cfg=dict(
    _delete_=True,
    type='Pretrained',
    checkpoint='work_dirs/study/pretrain/mobilenetv2-050/epoch_4.pth',
    prefix='backbone.')))

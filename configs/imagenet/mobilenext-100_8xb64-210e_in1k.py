_base_ = [
    '../_base_/models/mobilenext-100_cls.py',
    '../_base_/datasets/imagenet_bs64.py',
    '../_base_/schedules/imagenet_bs512_nesterov-coslr-210e.py',
    '../_base_/schedules/imagenet_runtime.py',
]

# SSDLite-MobileNeXt-1.0 at 320 on your own data in COCO format, from an
# ImageNet-pretrained backbone: copy this file into configs/ssdlite/ (a relative
# _base_ is read from the copy's folder; elsewhere give the base's full path), set
# data_root, classes, the annotation files and the image folders below, then
#   python tools/misc/check_dataset.py config YOUR_CONFIG   # bad images/boxes/classes first
#   python tools/train.py YOUR_CONFIG --work-dir work_dirs/custom \
#       --cfg-options model.backbone.init_cfg.checkpoint=PATH [--auto-scale-lr]
# PATH: an ImageNet checkpoint of this backbone (checkpoints/README.md: the authors' file
# converted, or one pretrained here). Without one, inherit
# ./ssdlite_mobilenext-100-scratch_8xb24-600e_coco.py instead (random init).
# The class list sets the head's num_classes; ClassListCheckHook compares
# them with the dataset's before training. For the baseline with the same
# settings inherit ./ssdlite_mobilenetv2-in1k-pre_8xb24-600e_coco.py instead
# (or ./ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py).
_base_ = './ssdlite_mobilenext-100-in1k-pre_8xb24-600e_coco.py'

data_root = 'data/custom/'
classes = ('cat', 'dog')
metainfo = dict(classes=classes)

model = dict(bbox_head=dict(num_classes=len(classes)))

train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            data_root=data_root,
            metainfo=metainfo,
            ann_file='annotations/instances_train.json',
            data_prefix=dict(img='images/'))))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='images/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator

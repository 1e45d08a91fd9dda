# Demo: SSDLite-MobileNeXt-0.5 on the Fashion-MNIST scenes (10 classes of real photographs,
# 480x360, 1500 train / 100 val scenes), a second built-in set beside the
# shapes: `python tools/dataset_converters/fashion_mnist_to_coco_scenes.py
# data/fashion-scenes` writes it (Debian's dataset-fashion-mnist). Changes the
# data of the shapes config only; tests/test_configs/test_ssdlite.py
# checks the pair differs in the backbone alone.
_base_ = './ssdlite_mobilenext-050_1xb8-10e_shapes-160.py'

data_root = 'data/fashion-scenes/'
classes = ('tshirt_top', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker',
           'bag', 'ankle_boot')
metainfo = dict(classes=classes)

model = dict(bbox_head=dict(num_classes=len(classes)))
train_dataloader = dict(
    dataset=dict(data_root=data_root, metainfo=metainfo, data_prefix=dict(img='images/')))
val_dataloader = dict(
    dataset=dict(data_root=data_root, metainfo=metainfo, data_prefix=dict(img='images/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator

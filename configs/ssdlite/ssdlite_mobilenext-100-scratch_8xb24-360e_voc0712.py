# The COCO config on VOC07+12 trainval -> VOC07 test: 20 classes, the same
# anchors, VOCMetric mAP@0.5 with '11points' (VOC2007's rule).
# Schedule: 120 epochs of a 3x RepeatDataset (360 effective, about the
# authors' 240k iterations at batch 24).
_base_ = [
    '../_base_/models/ssdlite_mobilenext.py', '../_base_/datasets/voc0712.py',
    '../_base_/schedules/ssdlite_600e.py', '../_base_/default_runtime.py'
]

model = dict(bbox_head=dict(num_classes=20))

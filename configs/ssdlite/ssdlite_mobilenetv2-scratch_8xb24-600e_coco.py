# Baseline: mmdet's SSDLite-MobileNetV2 from scratch on COCO 2017 at 320
# (mmdet reports 21.3 box AP). Shares every base with the MobileNeXt config.
_base_ = [
    '../_base_/models/ssdlite_mobilenetv2.py', '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/ssdlite_600e.py', '../_base_/default_runtime.py'
]

# SSDLite-MobileNeXt-1.0 from scratch on COCO 2017 at 320. Same bases as the
# MobileNetV2 baseline; differs in the backbone and its taps only.
_base_ = [
    '../_base_/models/ssdlite_mobilenext.py', '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/ssdlite_600e.py', '../_base_/default_runtime.py'
]

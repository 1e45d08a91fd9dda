"""The ``custom_imports`` entry of a classification (pretraining) config:
``custom_imports = dict(imports=['mnext_det.classification'], allow_failed_imports=False)``.

Importing it registers the MobileNeXt backbone and ``ImageClassifier``, the
ImageFolder dataset and its transforms, the top-k accuracy metric and the
class-list check, and the engine's hooks. Needs mmengine, not mmcv or mmdet
(the MobileNetV2 baseline also imports ``mmdet.models.backbones``)."""
from . import datasets, engine, evaluation  # noqa: F401

"""The one ``custom_imports`` entry of a detection config:
``custom_imports = dict(imports=['mnext_det.detection'], allow_failed_imports=False)``.

Importing it registers everything an SSDLite config of this package names:
the MobileNeXt backbone and its init (``mnext_det``), mmdet's MobileNetV2
with SSDLite's original tap, the SSDLite neck and head (mmdet, mmcv), the
engine's hooks, file backend and distributed wrapper, the
``ValidatedDataset`` wrapper and ``ClassListCheckHook`` (evaluation).
``import mnext_det`` alone needs neither mmcv nor mmdet; this module does."""
from . import datasets, engine, evaluation  # noqa: F401
from .models import heads, necks  # noqa: F401
from .models.backbones import tapped_mobilenet_v2  # noqa: F401

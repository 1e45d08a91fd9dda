"""Detection necks (import mmdet/mmcv; pulled in by configs' ``custom_imports``)."""
from .ssdlite_neck import SandglassExtraLayer, SSDLiteNeck

__all__ = ['SSDLiteNeck', 'SandglassExtraLayer']

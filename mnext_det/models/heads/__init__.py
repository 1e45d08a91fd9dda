"""Detection heads (import mmdet/mmcv; pulled in by configs' ``custom_imports``)."""
from .ssdlite_head import SSDLiteHead

__all__ = ['SSDLiteHead']

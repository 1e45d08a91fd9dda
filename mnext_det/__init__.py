"""mnext-det: MobileNeXt backbones, classifiers and SSDLite detectors on
MMDetection. ``import mnext_det`` needs torch and mmengine only."""
from .compat import register_safe_checkpoint_loader
from .models import ImageClassifier, MobileNeXt, create_model, list_models
from .version import __version__

register_safe_checkpoint_loader()

__all__ = ['MobileNeXt', 'ImageClassifier', 'create_model', 'list_models', '__version__']

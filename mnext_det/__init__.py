"""mnext-det: MobileNeXt backbones, classifiers and SSDLite detectors on
MMDetection. ``import mnext_det`` needs torch and mmengine only."""
from .compat import (register_cpu_inference_benchmark, register_package_paths,
                     register_safe_checkpoint_loader, register_safe_pickle_loader)
from .models import ImageClassifier, MobileNeXt, create_model, list_models
from .version import __version__

register_safe_checkpoint_loader()
register_safe_pickle_loader()
register_cpu_inference_benchmark()
register_package_paths()

__all__ = ['MobileNeXt', 'ImageClassifier', 'create_model', 'list_models', '__version__']

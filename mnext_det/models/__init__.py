from . import weight_init  # noqa: F401  (registers ZeroInitResidual)
from .backbones import MobileNeXt, SandglassBlock
from .classifiers import ImageClassifier
from .factory import checkpoint_filter_fn, create_model, list_models

__all__ = ['MobileNeXt', 'SandglassBlock', 'ImageClassifier', 'create_model',
           'list_models', 'checkpoint_filter_fn']

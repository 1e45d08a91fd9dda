"""Build the model to export from a model name or a config, plus a checkpoint."""
import os.path as osp
from typing import Any, Dict, Optional, Tuple

import torch.nn as nn

from ..checkpoint import extract_state_dict, load_checkpoint_file, load_state_dict_strict
from ..models.factory import create_model, list_models

__all__ = ['build_model', 'preprocess_metadata']

IMAGENET_MEAN = [123.675, 116.28, 103.53]
IMAGENET_STD = [58.395, 57.12, 57.375]


def build_model(model: str,
                checkpoint: Optional[str] = None,
                **kwargs: Any) -> Tuple[nn.Module, Optional[Any]]:
    """Return ``(module, config)`` for a ``create_model`` name (config is
    None) or an mmengine/mmdet config file; the checkpoint is loaded strictly.

    Raises:
        FileNotFoundError: the config or checkpoint does not exist.
        ValueError: ``model`` is neither a model name nor a ``.py`` config,
            or the checkpoint does not match the model (the message names both
            files and lists the mismatched keys).
    """
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint file not found: {checkpoint}')
    if model in list_models():
        try:
            return create_model(model, checkpoint=checkpoint, **kwargs), None
        except KeyError as e:
            raise ValueError(f'checkpoint {checkpoint} does not match model {model!r}: '
                             f'{e.args[0]}') from None
    if not model.endswith('.py'):
        raise ValueError(f'{model!r} is neither a model name ({list_models()}) '
                         'nor a .py config file')
    if not osp.isfile(model):
        raise FileNotFoundError(f'config file not found: {model}')
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    cfg = Config.fromfile(model)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    module = MODELS.build(cfg.model)
    if checkpoint is not None:
        state = extract_state_dict(load_checkpoint_file(checkpoint), checkpoint)
        try:
            load_state_dict_strict(module, state, checkpoint)
        except KeyError as e:
            raise ValueError(f'checkpoint {checkpoint} does not match config {model}: '
                             f'{e.args[0]}') from None
    return module, cfg


def preprocess_metadata(module: nn.Module, input_size: Tuple[int, int],
                        task: str) -> Dict[str, Any]:
    """Preprocessing the exported graph expects, read from the model's data
    preprocessor (mean/std, channel order) and the task's test resize."""
    pre = getattr(module, 'data_preprocessor', None)
    mean = getattr(pre, 'mean', None)
    std = getattr(pre, 'std', None)
    mean = IMAGENET_MEAN if mean is None else mean.flatten().tolist()
    std = IMAGENET_STD if std is None else std.flatten().tolist()
    # mmdet loads BGR and converts when bgr_to_rgb; classifiers decode RGB.
    rgb = task != 'detector' or bool(getattr(pre, '_channel_conversion', False))
    meta: Dict[str, Any] = dict(task=task, input_size=list(input_size), mean=mean, std=std,
                                color='RGB' if rgb else 'BGR', layout='NCHW',
                                pixel_range=255)
    if task == 'detector':
        # mmdet's test pipeline: Resize(keep_ratio=False), cv2 bilinear.
        meta.update(resize='stretch', interpolation='bilinear')
    else:
        # ImageNet evaluation: shorter side to size / 0.875, centre crop.
        meta.update(resize='shorter_side_center_crop', interpolation='bicubic',
                    resize_size=int(round(input_size[0] / 0.875)))
    return meta

"""Build the model to export (a model name or a config, plus a checkpoint)
and the graph module, output names and metadata to export it with."""
import os.path as osp
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn as nn

from ..checkpoint import (extract_state_dict, load_checkpoint_file, load_state_dict_strict,
                          require_checkpoint_file)
from ..config_types import default_classes, type_name
from ..datasets.pipeline_info import innermost_dataset, input_size_of
from ..models.classifiers.image_classifier import (EVAL_CROP_PCT, EVAL_INTERPOLATION,
                                                   preprocessor_mean_std)
from ..models.factory import create_model, list_models
from .detector import SSDExportWrapper

__all__ = ['load_scoped_config', 'build_model', 'preprocess_metadata', 'prepare_export',
           'detect_task', 'default_input_size', 'class_names', 'classifier_eval_resize']


def load_scoped_config(config: str, cfg_options: Optional[Dict] = None) -> Any:
    """``config`` loaded, ``cfg_options`` merged into it, and its default
    registry scope (mmdet unless it names one) set, as mmdet's tools do
    before they build from it."""
    from mmengine.registry import init_default_scope

    from ..config_file import read_config
    cfg = read_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    return cfg


def build_model(model: str,
                checkpoint: Optional[str] = None,
                **kwargs: Any) -> Tuple[nn.Module, Optional[Any]]:
    """Return ``(module, config)`` for a ``create_model`` name (config is
    None; ``num_classes`` from the checkpoint's classifier unless given) or
    an mmengine/mmdet config file; the checkpoint is loaded strictly.

    Raises:
        FileNotFoundError: the config or checkpoint does not exist.
        ValueError: ``model`` is neither a model name nor a ``.py`` config,
            or (``CheckpointMismatchError``) the checkpoint does not match the
            model (the message names the file and lists the mismatched keys).
    """
    if checkpoint is not None:
        checkpoint = require_checkpoint_file(checkpoint)
    if model in list_models():
        if checkpoint is not None and 'num_classes' not in kwargs:
            kwargs['num_classes'] = _checkpoint_num_classes(checkpoint)
        return create_model(model, checkpoint=checkpoint, **kwargs), None
    if not model.endswith('.py'):
        raise ValueError(f'{model!r} is neither a model name ({list_models()}) '
                         'nor a .py config file')
    if not osp.isfile(model):
        raise FileNotFoundError(f'config file not found: {model}')
    from mmengine.registry import MODELS
    cfg = load_scoped_config(model)
    module = MODELS.build(cfg.model)
    if checkpoint is not None:
        state = extract_state_dict(load_checkpoint_file(checkpoint), checkpoint)
        load_state_dict_strict(module, state, checkpoint, model_name=f'config {model}')
    return module, cfg


def _checkpoint_num_classes(checkpoint: str) -> int:
    """The rows of a classifier checkpoint's last linear layer (the authors'
    and ours: ``classifier.1.weight``); ImageNet's 1000 where it has none,
    which the strict load then names."""
    state = extract_state_dict(load_checkpoint_file(checkpoint), checkpoint)
    weight = state.get('classifier.1.weight')
    return int(weight.shape[0]) if weight is not None and weight.dim() == 2 else 1000


def classifier_eval_resize(cfg: Optional[Any]) -> Optional[Tuple[int, int, str]]:
    """``(resize_size, crop_size, interpolation)`` of a classifier config's
    test pipeline: its ``TorchvisionTransforms`` ``Resize(size=int)`` (the
    shorter side) and ``CenterCrop(size=int)``, the crop the resize size when
    there is none (exact for square images: the graph's input is static).
    None where the config has another test resize, or no config is given."""
    if cfg is None:
        return None
    steps = [t for step in cfg.get('test_dataloader', {}).get('dataset', {}).get('pipeline', [])
             if type_name(step.get('type')) == 'TorchvisionTransforms'
             for t in step.get('transforms', [])]
    kinds = [type_name(t.get('type')) for t in steps]
    if kinds not in (['Resize'], ['Resize', 'CenterCrop']):
        return None
    size = steps[0].get('size')
    crop = steps[1].get('size') if len(steps) == 2 else size
    if not isinstance(size, int) or not isinstance(crop, int):
        return None
    mode = steps[0].get('interpolation', 'bilinear')
    return size, crop, str(getattr(mode, 'value', mode)).lower()  # a name or InterpolationMode


def preprocess_metadata(module: nn.Module, input_size: Tuple[int, int],
                        task: str, cfg: Optional[Any] = None) -> Dict[str, Any]:
    """Preprocessing the exported graph expects, read from the model's data
    preprocessor (mean/std, channel order) and the task's test resize: the
    config's for a classifier whose test pipeline resizes and crops to
    ``input_size`` (:func:`classifier_eval_resize`), else ImageNet's."""
    pre = getattr(module, 'data_preprocessor', None)
    mean, std = preprocessor_mean_std(pre)
    # mmdet loads BGR and converts when bgr_to_rgb; classifiers decode RGB.
    rgb = task != 'detector' or bool(getattr(pre, '_channel_conversion', False))
    meta: Dict[str, Any] = dict(task=task, input_size=list(input_size), mean=mean, std=std,
                                color='RGB' if rgb else 'BGR', layout='NCHW',
                                pixel_range=255)
    if task == 'detector':
        # mmdet's test pipeline: Resize(keep_ratio=False), cv2 bilinear.
        meta.update(resize='stretch', interpolation='bilinear')
    else:
        own = classifier_eval_resize(cfg)
        if own is not None and list(input_size) == [own[1], own[1]]:
            resize_size, interpolation = own[0], own[2]
        else:  # ImageNet evaluation: shorter side to size / crop_pct, centre crop
            resize_size = int(round(input_size[0] / EVAL_CROP_PCT))
            interpolation = EVAL_INTERPOLATION
        meta.update(resize='shorter_side_center_crop', interpolation=interpolation,
                    resize_size=resize_size)
    return meta


class _Backbone(nn.Module):
    """A backbone's tuple of feature maps as the graph outputs."""

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return tuple(self.backbone(x))


def detect_task(module: nn.Module) -> str:
    """``'detector'`` for mmdet detectors with a ``bbox_head``, else
    ``'classifier'``."""
    return 'detector' if hasattr(module, 'bbox_head') else 'classifier'


def default_input_size(cfg: Optional[Any], task: str) -> Tuple[int, int]:
    """``(H, W)`` of the config's test ``Resize`` (detectors), of its test
    crop (classifiers, :func:`classifier_eval_resize`), or 224.

    Raises:
        ValueError: a detector without a config, or whose test pipeline has
            no ``Resize`` (pass ``input_size``).
    """
    if task != 'detector':
        own = classifier_eval_resize(cfg)
        return (own[1], own[1]) if own else (224, 224)
    if cfg is None:
        raise ValueError('a detector needs its config (or an explicit input size) to export')
    try:
        width, height = input_size_of(cfg)
    except KeyError as e:
        raise ValueError(f'{e.args[0]}; pass --input-size H W') from None
    return height, width


def class_names(cfg: Optional[Any], checkpoint: Optional[str] = None) -> List[str]:
    """Class names of the config's test dataset (its metainfo), else those
    ``checkpoint`` was trained on (``meta.dataset_meta.classes``: an
    ImageFolder lists its classes only when built), else its dataset class's
    METAINFO; empty when unknown."""
    dataset = (innermost_dataset(cfg.get('test_dataloader', {}).get('dataset', {}))
               if cfg is not None else {})
    classes = dataset.get('metainfo', {}).get('classes')
    if classes is None and checkpoint is not None:
        meta = load_checkpoint_file(checkpoint).get('meta') or {}
        classes = (meta.get('dataset_meta') or {}).get('classes')
    if classes is None and 'type' in dataset:
        classes = default_classes(dataset['type'])
    return list(classes or [])


def prepare_export(module: nn.Module,
                   cfg: Optional[Any] = None,
                   task: str = 'auto',
                   input_size: Optional[Tuple[int, int]] = None,
                   name: str = '',
                   checkpoint: Optional[str] = None
                   ) -> Tuple[nn.Module, Tuple[str, ...], Dict[str, Any]]:
    """Return ``(graph_module, output_names, metadata)`` for
    :func:`export_onnx`.

    Args:
        module: Classifier (``ImageClassifier``) or mmdet detector, eval mode.
        cfg: Its config, if built from one (classes, test input size).
        task: ``'classifier'``, ``'detector'``, ``'backbone'`` or ``'auto'``.
        input_size: ``(H, W)``; default from :func:`default_input_size`.
        name: Model name or config path, stored in the metadata.
        checkpoint: Its weights' file, for the classes it was trained on
            where the config does not list them (:func:`class_names`).
    """
    if task == 'auto':
        task = detect_task(module)
    if task not in ('classifier', 'detector', 'backbone'):
        raise ValueError(f"task must be 'auto', 'classifier', 'detector' or 'backbone', "
                         f'got {task!r}')
    if task == 'detector' and detect_task(module) != 'detector':
        raise ValueError(f'task=detector but {type(module).__name__} has no bbox_head')
    input_size = tuple(input_size or default_input_size(cfg, task))
    module.eval()
    meta = preprocess_metadata(module, input_size, task, cfg)
    meta.update(model=name, torch_version=torch.__version__)
    backbone = getattr(module, 'backbone', None)
    if backbone is not None and hasattr(backbone, 'identity_tensor_multiplier'):
        meta['identity_tensor_multiplier'] = backbone.identity_tensor_multiplier
    if task == 'detector':
        wrapper = SSDExportWrapper(module, input_size)
        meta.update(postprocess=wrapper.postprocess_config(),
                    classes=class_names(cfg, checkpoint), graph='raw')
        return wrapper, ('boxes', 'scores'), meta
    if task == 'backbone':
        if backbone is None:
            raise ValueError(f'{type(module).__name__} has no backbone to export')
        graph = _Backbone(backbone)
        with torch.no_grad():
            num_outputs = len(graph(torch.zeros(1, 3, *input_size)))
        return graph, tuple(f'feat{i}' for i in range(num_outputs)), meta
    meta['classes'] = class_names(cfg, checkpoint)
    return module, ('logits', ), meta

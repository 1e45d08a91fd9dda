"""Backbone + global pool + dropout + linear, as an mmengine model.

The same class serves ImageNet pretraining on mmengine's Runner and the
timm-style ``create_model`` API: ``model(images)`` returns logits. State-dict
keys are ``backbone.*`` and ``classifier.1.*``, so a pretraining checkpoint
feeds a detector through ``init_cfg=dict(type='Pretrained', prefix='backbone.')``.
"""
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.registry import MODELS

__all__ = ['ImageClassifier', 'IMAGENET_MEAN', 'IMAGENET_STD', 'EVAL_CROP_PCT',
           'EVAL_INTERPOLATION', 'preprocessor_mean_std']

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)
# the authors' evaluation: shorter side to size / 0.875, bicubic, centre crop
EVAL_CROP_PCT = 0.875
EVAL_INTERPOLATION = 'bicubic'


def preprocessor_mean_std(data_preprocessor: Any) -> Tuple[List[float], List[float]]:
    """The mean and std (0-255 scale) that ``data_preprocessor`` normalises
    with, ImageNet's where it has none."""
    mean = getattr(data_preprocessor, 'mean', None)
    std = getattr(data_preprocessor, 'std', None)
    return (list(IMAGENET_MEAN) if mean is None else mean.flatten().tolist(),
            list(IMAGENET_STD) if std is None else std.flatten().tolist())


@MODELS.register_module()
class ImageClassifier(BaseModel):
    """Image classifier over any registered backbone.

    Args:
        backbone: Backbone config (e.g. ``dict(type='MobileNeXt')`` or
            ``dict(type='mmdet.MobileNetV2', out_indices=(7,))``) or module;
            its last output feeds the head.
        num_classes: Number of classes. Default: 1000.
        in_channels: Channels of the last backbone output; read from the
            backbone's ``feature_info`` when omitted.
        drop_rate: Dropout before the linear layer. Default: 0.2.
        label_smoothing: Label smoothing of the training loss. Default: 0.0.
        data_preprocessor: mmengine data preprocessor config, used by the
            Runner path (``inputs`` are ``uint8`` RGB batches). Default:
            ``ImgDataPreprocessor`` with the ImageNet mean/std (0-255 scale);
            ``model(images)`` takes already normalised tensors.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 backbone: Union[Dict, nn.Module],
                 num_classes: int = 1000,
                 in_channels: Optional[int] = None,
                 drop_rate: float = 0.2,
                 label_smoothing: float = 0.0,
                 data_preprocessor: Optional[Dict] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='ImgDataPreprocessor', mean=IMAGENET_MEAN,
                                     std=IMAGENET_STD)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        _check_num_classes(num_classes)
        self.backbone = MODELS.build(backbone) if isinstance(backbone, dict) else backbone
        if in_channels is None:
            info = getattr(self.backbone, 'feature_info', None)
            if not info:
                raise ValueError(
                    f'{type(self.backbone).__name__} has no feature_info: '
                    'set in_channels of ImageClassifier')
            in_channels = info[-1]['num_chs']
        self.num_classes = num_classes
        self.num_features = in_channels
        self.drop_rate = drop_rate
        self.label_smoothing = label_smoothing
        self.classifier = nn.Sequential(
            nn.Dropout(drop_rate), _linear(in_channels, num_classes))

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the linear layer with a fresh one for ``num_classes``."""
        _check_num_classes(num_classes)
        self.num_classes = num_classes
        self.classifier[1] = _linear(self.num_features, num_classes)

    def get_classifier(self) -> nn.Linear:
        """The linear layer (timm's ``get_classifier``)."""
        return self.classifier[1]

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Gradient checkpointing in the backbone's blocks on or off (timm's;
        the blocks' ``with_cp``)."""
        blocks = [m for m in self.backbone.modules() if hasattr(m, 'with_cp')]
        if not blocks:
            raise ValueError(f'{type(self.backbone).__name__} has no blocks with with_cp')
        for block in blocks:
            block.with_cp = enable

    @property
    def pretrained_cfg(self) -> Dict[str, Any]:
        """timm's ``pretrained_cfg``: the evaluation preprocessing
        (``timm.data.resolve_model_data_config(model)`` reads it; mean and
        std on the 0-1 scale, from the data preprocessor) and the first conv
        and classifier names (no input size or first conv for a backbone
        without a conv)."""
        mean, std = preprocessor_mean_std(self.data_preprocessor)
        cfg = dict(interpolation=EVAL_INTERPOLATION, crop_pct=EVAL_CROP_PCT,
                   mean=tuple(v / 255 for v in mean), std=tuple(v / 255 for v in std),
                   num_classes=self.num_classes, classifier='classifier.1')
        for name, module in self.backbone.named_modules():
            if isinstance(module, nn.Conv2d):  # the first conv: the input's channels
                cfg.update(input_size=(module.in_channels, 224, 224),
                           first_conv=f'backbone.{name}')
                break
        return cfg

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Last backbone feature map, ``(N, C, H, W)``."""
        return self.backbone(x)[-1]

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pool a feature map and classify it (or return pooled features)."""
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return x if pre_logits else self.classifier(x)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List] = None,
                mode: str = 'tensor') -> Union[torch.Tensor, Dict, List]:
        """``tensor``: logits; ``loss``: ``dict(loss=...)`` from integer
        labels in ``data_samples``; ``predict``: one dict per image with
        ``pred_score`` (softmax) and ``gt_label`` when labels are given."""
        logits = self.forward_head(self.forward_features(inputs))
        if mode == 'tensor':
            return logits
        if mode == 'loss':
            labels = _labels(data_samples, logits.device)
            if labels.numel() and (labels.min() < 0 or labels.max() >= self.num_classes):
                raise ValueError(
                    f'labels must lie in [0, {self.num_classes}) for num_classes='
                    f'{self.num_classes}, got {labels.min().item()}..{labels.max().item()}: '
                    'set model.num_classes to the number of classes of the dataset')
            return dict(loss=F.cross_entropy(
                logits, labels, label_smoothing=self.label_smoothing))
        if mode == 'predict':
            scores = logits.softmax(dim=1)
            labels = _labels(data_samples, logits.device) if data_samples is not None else None
            return [
                dict(pred_score=scores[i], **({} if labels is None else dict(gt_label=labels[i])))
                for i in range(scores.shape[0])
            ]
        raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got {mode!r}")


def _check_num_classes(num_classes: Any) -> None:
    if not isinstance(num_classes, int) or num_classes < 1:
        hint = ("; timm's num_classes=0 (no classifier) is here "
                'model.forward_head(model.forward_features(x), pre_logits=True), the pooled '
                'features' if num_classes == 0 else '')
        raise ValueError(f'num_classes must be an int >= 1, got {num_classes!r}{hint}')


def _linear(in_features: int, out_features: int) -> nn.Linear:
    # N(0, 0.01) weights and zero bias, as the authors initialise it.
    layer = nn.Linear(in_features, out_features)
    nn.init.normal_(layer.weight, 0, 0.01)
    nn.init.zeros_(layer.bias)
    return layer


def _labels(data_samples: Optional[List], device: torch.device) -> torch.Tensor:
    if data_samples is None:
        raise ValueError('labels (data_samples) are required for this mode')
    if isinstance(data_samples, torch.Tensor):
        return data_samples.to(device=device, dtype=torch.long)
    return torch.as_tensor([int(s) for s in data_samples], device=device)

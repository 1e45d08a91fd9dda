"""timm-style model names -> classifiers (``create_model``)."""
import difflib
import fnmatch
import inspect
from typing import Any, Dict, List, Optional, Union

from ..checkpoint import extract_state_dict, load_checkpoint_file, load_state_dict_strict
from ..identity_meta import check_identity_multiplier
from .backbones.mobilenext import MobileNeXt
from .classifiers import ImageClassifier

__all__ = ['create_model', 'list_models', 'checkpoint_filter_fn', 'adapt_stem_input',
           'FEATURE_LEVELS']

_WIDTHS = {'mobilenext_035': 0.35, 'mobilenext_050': 0.5, 'mobilenext_075': 0.75,
           'mobilenext_100': 1.0, 'mobilenext_140': 1.4}
_STEM_WEIGHT = 'backbone.features.0.0.weight'
# features_only's default outputs: the last layer at each stride 2, 4, 8, 16, 32 (timm's
# five feature levels)
FEATURE_LEVELS = (0, 2, 5, 12, 20)
# arguments create_model does not take, with what to do instead (timm's own, and the
# backbone's in_channels)
_ARGUMENT_HINTS = {
    'checkpoint_path': 'pass checkpoint=PATH',
    'in_channels': "pass in_chans=N (timm's name)",
    'pretrained_cfg_overlay': 'pass checkpoint=PATH',
}


def list_models(filter: str = '') -> List[str]:
    """Names accepted by :func:`create_model`, those matching the wildcard
    pattern ``filter`` (timm's, e.g. ``'*_1?0'``) when one is given."""
    return sorted(n for n in _WIDTHS if not filter or fnmatch.fnmatch(n, filter))


def checkpoint_filter_fn(state_dict: Dict[str, Any]) -> Dict[str, Any]:
    """Map the authors' keys (``features.*``, ``classifier.1.*``) to ours
    (``backbone.features.*``, ``classifier.1.*``); our own keys pass."""
    return {('backbone.' + k if k.startswith('features.') else k): v
            for k, v in state_dict.items()}


def adapt_stem_input(state_dict: Dict[str, Any], in_chans: int) -> Dict[str, Any]:
    """``state_dict`` (our keys) with the stem conv's RGB weights made to
    take ``in_chans`` channels, as timm adapts them: summed for one channel,
    else cycled over the channels and scaled by ``3 / in_chans``. One grey
    image given in every channel then makes the stem output its RGB copy
    made, exactly for one channel and multiples of 3."""
    weight = state_dict.get(_STEM_WEIGHT)
    if in_chans == 3 or weight is None or weight.shape[1] != 3:
        return state_dict
    if in_chans == 1:
        adapted = weight.sum(dim=1, keepdim=True)
    else:
        adapted = weight[:, [c % 3 for c in range(in_chans)]] * (3 / in_chans)
    return {**state_dict, _STEM_WEIGHT: adapted}


def create_model(model_name: str,
                 num_classes: int = 1000,
                 checkpoint: Optional[str] = None,
                 use_ema: bool = False,
                 drop_rate: float = 0.2,
                 trusted: Optional[bool] = None,
                 pretrained: bool = False,
                 in_chans: int = 3,
                 features_only: bool = False,
                 **kwargs: Any) -> Union[ImageClassifier, MobileNeXt]:
    """Build a MobileNeXt classifier (or, ``features_only``, its backbone)
    by name, timm style.

    Args:
        model_name: One of :func:`list_models` (width x100: ``mobilenext_100``).
        num_classes: Classifier outputs. Default: 1000.
        checkpoint: Optional path of this project's checkpoint, an official
            one (timm dict or plain state dict, ``module.`` prefixes allowed).
            Loaded strictly; raises ``CheckpointMismatchError`` listing mismatched keys,
            and ``IdentityMultiplierMismatchError`` when the checkpoint records
            another identity tensor multiplier (:mod:`mnext_det.identity_meta`).
        use_ema: Load ``state_dict_ema`` of a timm checkpoint.
        drop_rate: Dropout before the classifier. Default: 0.2.
        trusted: See :func:`mnext_det.checkpoint.load_checkpoint_file`.
        pretrained: timm's flag; nothing is downloaded, so ``True`` needs
            ``checkpoint`` (``checkpoints/README.md`` lists what loads).
        in_chans: Input image channels (timm's); an RGB checkpoint's stem is
            adapted (:func:`adapt_stem_input`). Default: 3.
        features_only: Return the :class:`MobileNeXt` backbone alone, its
            forward a tuple of feature maps, ``feature_info`` describing
            them (timm's). ``out_indices`` are MobileNeXt's layers (0 = stem,
            1-20 = blocks; default :data:`FEATURE_LEVELS`, strides 2-32);
            the checkpoint's backbone tensors are loaded strictly, its
            classifier left out. Default: False.
        **kwargs: Passed to :class:`MobileNeXt` (e.g.
            ``identity_tensor_multiplier=0.5``, ``norm_cfg``).

    Example:
        >>> model = create_model('mobilenext_100', checkpoint='checkpoints/mnext.pth.tar')
        >>> logits = model(torch.randn(1, 3, 224, 224))
    """
    if model_name not in _WIDTHS:
        scores = {n: difflib.SequenceMatcher(None, model_name, n).ratio() for n in _WIDTHS}
        best = max(scores.values())
        close = [n for n in sorted(_WIDTHS) if scores[n] == best >= 0.6]  # mobilenext_10: a tie
        hint = f' Did you mean {" or ".join(map(repr, close))}?' if close else ''
        if 'mobilenetv2' in model_name.lower().replace('_', '').replace('-', ''):
            hint = (" create_model builds MobileNeXt; the MobileNetV2 baseline is mmdet's "
                    'MobileNetV2 backbone in the configs: configs/imagenet/'
                    'mobilenetv2-100_8xb64-210e_in1k.py (classifier) and '
                    'configs/*/ssdlite_mobilenetv2-*.py (detectors).')
        raise ValueError(f'unknown model name {model_name!r}; valid names: '
                         f'{list_models()}.{hint}')
    if 'widen_factor' in kwargs:
        raise ValueError(f'widen_factor is set by the model name {model_name!r}; do not '
                         'pass it')
    if pretrained and checkpoint is None:
        raise ValueError(f'create_model({model_name!r}, pretrained=True): no weights are '
                         'downloaded; pass checkpoint=PATH (the authors\' MobileNeXt-1.0 file '
                         'or a pretraining checkpoint of this project, checkpoints/README.md)')
    if not isinstance(in_chans, int) or in_chans < 1:
        raise ValueError(f'create_model: in_chans must be an int >= 1, got {in_chans!r}')
    _check_backbone_kwargs(kwargs)
    if features_only:
        kwargs.setdefault('out_indices', FEATURE_LEVELS)
        model = MobileNeXt(widen_factor=_WIDTHS[model_name], in_channels=in_chans, **kwargs)
    else:
        backbone = dict(type='MobileNeXt', widen_factor=_WIDTHS[model_name],
                        in_channels=in_chans, **kwargs)
        model = ImageClassifier(backbone=backbone, num_classes=num_classes, drop_rate=drop_rate)
    if checkpoint is not None:
        ckpt = load_checkpoint_file(checkpoint, trusted=trusted)
        check_identity_multiplier(ckpt, model, checkpoint, f'model {model_name!r}')
        state = extract_state_dict(ckpt, checkpoint, use_ema=use_ema)
        state = adapt_stem_input(checkpoint_filter_fn(state), in_chans)
        hint = ''
        if features_only:
            state = {k[len('backbone.'):]: v for k, v in state.items()
                     if k.startswith('backbone.')}
        elif not any(k.startswith('classifier.') for k in state):
            hint = ('It holds no classifier (a backbone alone, as extract_backbone.py writes): '
                    'create_model(..., features_only=True) loads it.')
        load_state_dict_strict(model, state, checkpoint, model_name=f'model {model_name!r}'
                               + (' (features_only: its backbone)' if features_only else ''),
                               hint=hint)
    return model


def _check_backbone_kwargs(kwargs: Dict[str, Any]) -> None:
    """Refuse arguments that neither ``create_model`` nor :class:`MobileNeXt` takes,
    naming each (with the way to do it here for timm's own) and the valid ones."""
    valid = [p for p in inspect.signature(MobileNeXt.__init__).parameters
             if p not in ('self', 'widen_factor', 'in_channels')]
    unknown = [k for k in kwargs if k not in valid]
    if unknown:
        hints = ''.join(f'; {k}: {_ARGUMENT_HINTS[k]}' if k in _ARGUMENT_HINTS else
                        ''.join(f'; {k}: did you mean {c!r}?'
                                for c in difflib.get_close_matches(k, valid, n=1))
                        for k in unknown)
        raise ValueError(f'create_model: unknown argument(s) {unknown}{hints}. It takes '
                         'num_classes, checkpoint, use_ema, drop_rate, trusted, pretrained, '
                         'in_chans '
                         f'and the backbone\'s {valid}')

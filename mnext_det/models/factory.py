"""timm-style model names -> classifiers (``create_model``)."""
from typing import Any, Dict, List, Optional

from ..checkpoint import extract_state_dict, load_checkpoint_file, load_state_dict_strict
from ..identity_meta import check_identity_multiplier
from .classifiers import ImageClassifier

__all__ = ['create_model', 'list_models', 'checkpoint_filter_fn']

_WIDTHS = {'mobilenext_035': 0.35, 'mobilenext_050': 0.5, 'mobilenext_075': 0.75,
           'mobilenext_100': 1.0, 'mobilenext_140': 1.4}


def list_models() -> List[str]:
    """Names accepted by :func:`create_model`."""
    return sorted(_WIDTHS)


def checkpoint_filter_fn(state_dict: Dict[str, Any]) -> Dict[str, Any]:
    """Map the authors' keys (``features.*``, ``classifier.1.*``) to ours
    (``backbone.features.*``, ``classifier.1.*``); our own keys pass."""
    return {('backbone.' + k if k.startswith('features.') else k): v
            for k, v in state_dict.items()}


def create_model(name: str,
                 num_classes: int = 1000,
                 checkpoint: Optional[str] = None,
                 use_ema: bool = False,
                 drop_rate: float = 0.2,
                 trusted: Optional[bool] = None,
                 **kwargs: Any) -> ImageClassifier:
    """Build a MobileNeXt classifier by name, timm style.

    Args:
        name: One of :func:`list_models` (width x100: ``mobilenext_100``).
        num_classes: Classifier outputs. Default: 1000.
        checkpoint: Optional path of this project's checkpoint, an official
            one (timm dict or plain state dict, ``module.`` prefixes allowed).
            Loaded strictly; raises ``CheckpointMismatchError`` listing mismatched keys,
            and ``IdentityMultiplierMismatchError`` when the checkpoint records
            another identity tensor multiplier (:mod:`mnext_det.identity_meta`).
        use_ema: Load ``state_dict_ema`` of a timm checkpoint.
        drop_rate: Dropout before the classifier. Default: 0.2.
        trusted: See :func:`mnext_det.checkpoint.load_checkpoint_file`.
        **kwargs: Passed to :class:`MobileNeXt` (e.g.
            ``identity_tensor_multiplier=0.5``, ``norm_cfg``).

    Example:
        >>> model = create_model('mobilenext_100', checkpoint='checkpoints/mnext.pth.tar')
        >>> logits = model(torch.randn(1, 3, 224, 224))
    """
    if name not in _WIDTHS:
        import difflib
        close = difflib.get_close_matches(name, _WIDTHS, n=1)
        hint = f' Did you mean {close[0]!r}?' if close else ''
        raise ValueError(f'unknown model name {name!r}; valid names: {list_models()}.{hint}')
    if 'widen_factor' in kwargs:
        raise ValueError(f'widen_factor is set by the model name {name!r}; do not pass it')
    backbone = dict(type='MobileNeXt', widen_factor=_WIDTHS[name], **kwargs)
    model = ImageClassifier(backbone=backbone, num_classes=num_classes, drop_rate=drop_rate)
    if checkpoint is not None:
        ckpt = load_checkpoint_file(checkpoint, trusted=trusted)
        check_identity_multiplier(ckpt, model, checkpoint, f'model {name!r}')
        state = extract_state_dict(ckpt, checkpoint, use_ema=use_ema)
        load_state_dict_strict(model, state, checkpoint, key_filter=checkpoint_filter_fn,
                               model_name=f'model {name!r}')
    return model

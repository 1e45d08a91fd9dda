"""Which keys of two detector configs differ, and whether a backbone
comparison between them is fair (same data, schedule, neck and head)."""
from typing import Dict, Mapping, Set

__all__ = ['flatten', 'differing_keys', 'unfair_differences', 'ALLOWED_PREFIXES',
           'ALLOWED_KEYS']

# What may differ between two detectors in a backbone comparison: the backbone
# (with its taps and init) and the channel counts that follow from its taps.
ALLOWED_PREFIXES = ('model.backbone.', )
ALLOWED_KEYS = frozenset({'model.neck.in_channels', 'model.neck.out_channels',
                          'model.bbox_head.in_channels'})
# Keys that differ between runs of one study by design, never between configs.
_IGNORED_KEYS = frozenset({'work_dir', 'randomness.seed', 'launcher'})


def flatten(tree: Mapping, prefix: str = '') -> Dict[str, object]:
    """``{'a.b.c': leaf}`` for every leaf of a nested mapping."""
    out: Dict[str, object] = {}
    for k, v in tree.items():
        key = f'{prefix}{k}'
        if isinstance(v, Mapping):
            out.update(flatten(v, key + '.'))
        else:
            out[key] = v
    return out


def differing_keys(a: Mapping, b: Mapping) -> Set[str]:
    """Flattened keys whose values differ (or that only one side has)."""
    fa, fb = flatten(a), flatten(b)
    missing = object()
    return {k for k in set(fa) | set(fb)
            if k not in _IGNORED_KEYS and fa.get(k, missing) != fb.get(k, missing)}


def unfair_differences(baseline: Mapping, other: Mapping) -> Set[str]:
    """Keys outside the backbone, its taps and the channels that follow from
    them where ``other`` differs from ``baseline``: any of these means the two
    detectors do not get the same data, schedule, neck or head."""
    return {k for k in differing_keys(baseline, other)
            if k not in ALLOWED_KEYS and not k.startswith(ALLOWED_PREFIXES)}

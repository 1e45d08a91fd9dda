"""Facts read from a config's data settings (the one place that reads them)."""
from typing import Any, Tuple

from ..config_types import type_name

__all__ = ['input_size_of', 'innermost_dataset']


def input_size_of(cfg: Any) -> Tuple[int, int]:
    """``(width, height)`` of the first ``Resize`` in the test pipeline
    (mmcv's ``scale`` order).

    Raises:
        KeyError: the test pipeline has no ``Resize`` with a ``scale``.
    """
    for step in cfg.test_dataloader.dataset.get('pipeline', []):
        if type_name(step.get('type')) == 'Resize' and 'scale' in step:
            scale = step['scale']
            return (scale, scale) if isinstance(scale, int) else (int(scale[0]), int(scale[1]))
    raise KeyError('test_dataloader.dataset.pipeline has no Resize with a scale to read the '
                   'input size from')


def innermost_dataset(dataset_cfg: Any) -> Any:
    """The dataset config inside wrappers such as ``RepeatDataset``
    (``dataset=dict(...)`` nested any number of times)."""
    while 'dataset' in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset']
    return dataset_cfg

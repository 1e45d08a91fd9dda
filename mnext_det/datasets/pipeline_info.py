"""Facts read from a config's data settings (the one place that reads them),
and the datasets inside dataset wrappers, as configs or built."""
from typing import Any, List, Tuple

from ..config_types import type_name

__all__ = ['input_size_of', 'innermost_dataset', 'datasets_with_pipeline']


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


def datasets_with_pipeline(dataset: Any) -> List[Any]:
    """The built datasets inside wrappers (``ValidatedDataset``,
    ``RepeatDataset``, each of a ``ConcatDataset``'s) that hold a pipeline.

    Raises:
        TypeError: none of them holds a pipeline (a ``Compose``).
    """
    if hasattr(getattr(dataset, 'pipeline', None), 'transforms'):
        return [dataset]
    if hasattr(dataset, 'datasets'):
        return [owner for inner in dataset.datasets for owner in datasets_with_pipeline(inner)]
    if hasattr(dataset, 'dataset'):
        return datasets_with_pipeline(dataset.dataset)
    raise TypeError(f'{type(dataset).__name__} has no pipeline (a Compose of transforms)')

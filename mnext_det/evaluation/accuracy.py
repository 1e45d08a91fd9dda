"""Top-k classification accuracy as an mmengine metric."""
import logging
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.registry import METRICS

__all__ = ['TopKAccuracy', 'label_rank']


def label_rank(scores: torch.Tensor, label: int) -> float:
    """Rank of the true class among ``scores`` (0 = top-1 hit).

    Ties count against the prediction, so a model that outputs equal scores
    for every class scores 0 %, not 100 %; non-finite scores rank last.
    """
    if not 0 <= label < scores.numel():
        raise ValueError(f'gt_label {label} is outside [0, {scores.numel()}) of the '
                         f'{scores.numel()} predicted scores: the model and the dataset '
                         'disagree on the number of classes')
    if not torch.isfinite(scores).all():
        return float('inf')
    return float((scores >= scores[label]).sum().item() - 1)


@METRICS.register_module()
class TopKAccuracy(BaseMetric):
    """Top-k accuracy in percent, logged as ``accuracy/top1``, ``accuracy/top5``.

    Consumes the ``predict`` outputs of
    :class:`~mnext_det.models.ImageClassifier`: dicts (or data samples) with
    ``pred_score`` (one score per class) and ``gt_label``. With no more
    classes than ``k``, top-k is 100 % by construction, and a warning says so.

    Args:
        topk: The k values. Default: ``(1, 5)``.
        collect_device: ``'cpu'`` or ``'gpu'`` for gathering across ranks.
        prefix: Metric name prefix. Default: ``'accuracy'``.
    """
    default_prefix: Optional[str] = 'accuracy'

    def __init__(self, topk: Union[int, Sequence[int]] = (1, 5),
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = (topk, ) if isinstance(topk, int) else tuple(topk)
        if not self.topk or any(not isinstance(k, int) or k < 1 for k in self.topk):
            raise ValueError(f'topk must be positive ints, got {topk!r}')

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Store the rank of the true class of every sample, and the class count."""
        for sample in data_samples:
            scores = _get(sample, 'pred_score').detach().flatten().float().cpu()
            self.results.append((label_rank(scores, int(_get(sample, 'gt_label'))),
                                 scores.numel()))

    def compute_metrics(self, results: List[Tuple[float, int]]) -> Dict[str, float]:
        """Percent of samples whose true class ranks below each k."""
        ranks = torch.tensor([rank for rank, _ in results], dtype=torch.float64)
        classes = max(n for _, n in results)
        trivial = [k for k in self.topk if k >= classes]
        if trivial:
            print_log(f'{", ".join(f"top{k}" for k in trivial)}: 100 % by construction, the '
                      f'model has {classes} classes; set the evaluator\'s topk to values '
                      f'below {classes} (e.g. --cfg-options val_evaluator.topk=1)',
                      logger='current', level=logging.WARNING)
        return {f'top{k}': float((ranks < k).double().mean() * 100) for k in self.topk}


def _get(sample: Any, key: str) -> Any:
    value = sample.get(key) if isinstance(sample, dict) else getattr(sample, key, None)
    if value is None:
        raise KeyError(f'TopKAccuracy needs {key!r} in every prediction, got '
                       f'{sorted(sample) if isinstance(sample, dict) else type(sample).__name__}')
    return value

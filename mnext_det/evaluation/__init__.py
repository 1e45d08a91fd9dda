"""Evaluation metrics."""
from .accuracy import TopKAccuracy, label_rank

__all__ = ['TopKAccuracy', 'label_rank']

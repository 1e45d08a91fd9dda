"""Evaluation metrics."""
from .accuracy import TopKAccuracy, label_rank
from .class_check import ClassListCheckHook

__all__ = ['TopKAccuracy', 'label_rank', 'ClassListCheckHook']

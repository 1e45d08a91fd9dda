"""The TopKAccuracy metric."""
import pytest
import torch
from mmengine.registry import METRICS

from mnext_det.evaluation import TopKAccuracy


def test_topk_accuracy():
    metric = METRICS.build(dict(type='TopKAccuracy', topk=(1, 2)))
    scores = torch.tensor([[0.7, 0.2, 0.1],   # label 0: rank 0
                           [0.5, 0.3, 0.2],   # label 1: rank 1
                           [0.6, 0.3, 0.1],   # label 2: rank 2
                           [0.4, 0.4, 0.2]])  # label 1: tie with the top, counts as rank 1
    labels = [0, 1, 2, 1]
    metric.process(None, [dict(pred_score=s, gt_label=torch.tensor(l))
                          for s, l in zip(scores, labels)])
    assert metric.evaluate(4) == {'accuracy/top1': 25.0, 'accuracy/top2': 75.0}


def test_topk_accuracy_constant_and_nan_scores_are_misses():
    metric = TopKAccuracy(topk=1)
    metric.process(None, [dict(pred_score=torch.ones(3), gt_label=0),
                          dict(pred_score=torch.tensor([float('nan'), 0., 0.]), gt_label=0)])
    assert metric.evaluate(2) == {'accuracy/top1': 0.0}


def test_topk_accuracy_label_out_of_range():
    metric = TopKAccuracy()
    with pytest.raises(ValueError, match=r'gt_label 5 is outside \[0, 3\)'):
        metric.process(None, [dict(pred_score=torch.ones(3), gt_label=5)])


def test_a_k_of_at_least_the_class_count_is_said_to_be_trivial(capsys):
    """top5 of a 3-class model is 100 % whatever it predicts."""
    from mmengine.logging import MMLogger
    MMLogger.get_instance('mnext_topk_test')
    metric = TopKAccuracy()
    metric.process(None, [dict(pred_score=torch.tensor([0.1, 0.2, 0.7]), gt_label=0)])
    assert metric.evaluate(1) == {'accuracy/top1': 0.0, 'accuracy/top5': 100.0}
    out = capsys.readouterr()
    assert 'top5: 100 % by construction, the model has 3 classes' in out.out + out.err
    metric = TopKAccuracy(topk=(1, 2))
    metric.process(None, [dict(pred_score=torch.tensor([0.1, 0.2, 0.7]), gt_label=0)])
    metric.evaluate(1)
    out = capsys.readouterr()
    assert 'by construction' not in out.out + out.err

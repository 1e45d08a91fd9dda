"""swap_class: the eligible modules change class in place, nothing else."""
from torch import nn

from mnext_det.engine.class_swap import swap_class


class _Marked(nn.Linear):
    pass


def test_only_eligible_modules_change_class_keeping_their_parameters():
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2), nn.Linear(2, 2))
    weights = [model[0].weight, model[2].weight]
    keys = list(model.state_dict())
    n = swap_class(model, lambda m: isinstance(m, nn.Linear) and m.in_features == 4, _Marked)
    assert n == 2
    assert [type(m) for m in model] == [_Marked, nn.ReLU, _Marked, nn.Linear]
    assert model[0].weight is weights[0] and model[2].weight is weights[1]
    assert list(model.state_dict()) == keys

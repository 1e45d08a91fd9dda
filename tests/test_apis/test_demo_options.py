"""DemoOptions refuses a pretraining schedule for a run that does not pretrain,
and epochs or parallel trainings below one."""
import pytest

from mnext_det.apis.demo import DemoOptions


def test_pretrain_epochs_need_pretrain():
    with pytest.raises(ValueError, match='--pretrain-epochs needs --pretrain'):
        DemoOptions(repo='.', pretrain_epochs=2)
    assert DemoOptions(repo='.', pretrain=True, pretrain_epochs=2).pretrain_epochs == 2
    assert not DemoOptions(repo='.').pretrain  # the default: no pretraining


@pytest.mark.parametrize('key, flag', [('epochs', '--epochs'),
                                       ('pretrain_epochs', '--pretrain-epochs'),
                                       ('parallel', '--parallel')])
def test_counts_below_one_are_refused_naming_the_flag(key, flag):
    # --epochs 0 trained one epoch; --parallel 0 ended in a ZeroDivisionError
    with pytest.raises(ValueError, match=f'^{flag} must be at least 1, got 0$'):
        DemoOptions(repo='.', pretrain=True, **{key: 0})

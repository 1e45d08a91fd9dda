"""DemoOptions refuses a pretraining schedule for a run that does not pretrain."""
import pytest

from mnext_det.apis.demo import DemoOptions


def test_pretrain_epochs_need_pretrain():
    with pytest.raises(ValueError, match='--pretrain-epochs needs --pretrain'):
        DemoOptions(repo='.', pretrain_epochs=2)
    assert DemoOptions(repo='.', pretrain=True, pretrain_epochs=2).pretrain_epochs == 2
    assert not DemoOptions(repo='.').pretrain  # the default: no pretraining

"""Values a run needs of a kind: text where the file has a number, and batch
sizes, epochs and validation intervals that are not whole positive numbers,
are refused naming the key before anything is built."""
import pytest

from mnext_det.config_file import read_config
from mnext_det.config_values import check_option_value, check_run_values

DEMO = 'configs/demo/ssdlite_mobilenext-050_1xb8-8e_shapes-160.py'


@pytest.mark.parametrize('key,value,message', [
    ('optim_wrapper.optimizer.lr', 'abc', r"sets optim_wrapper.optimizer.lr to the number 0.002, "
     r"and 'abc' is not a number"),
    ('train_dataloader.batch_size', 'eight', 'to the number 8'),
    ('randomness.seed', 'abc', 'sets randomness.seed to the number 0'),
    ('train_dataloader.persistent_workers', 'yes', 'give True or False'),
    ('train_dataloader.batch_size', 0, r'train_dataloader.batch_size is 0 .*at least 1'),
    ('train_cfg.max_epochs', 0, r'train_cfg.max_epochs is 0 \(in .*8e_shapes-160.py or '
     r'--cfg-options\)'),
    ('train_cfg.max_epochs', 2.5, 'train_cfg.max_epochs is 2.5'),
    ('train_cfg.val_interval', 0, 'train_cfg.val_interval is 0'),
    ('val_dataloader.num_workers', -1, 'at least 0'),
    ('randomness.seed', 1.5, r'randomness.seed is 1.5 .*or None for a random one'),
])
def test_a_value_of_the_wrong_kind_is_refused_naming_the_key(key, value, message):
    with pytest.raises(ValueError, match=message):
        read_config(DEMO, {key: value})


def test_values_of_the_right_kind_merge():
    cfg = read_config(DEMO, {'optim_wrapper.optimizer.lr': 1, 'train_cfg.max_epochs': 1,
                             'randomness.seed': None, 'train_dataloader.num_workers': 0,
                             'train_dataloader.persistent_workers': False,
                             'work_dir': 'text where the file has none'})
    assert cfg.optim_wrapper.optimizer.lr == 1 and cfg.train_cfg.max_epochs == 1


def test_checks_read_plain_dicts_and_keys_the_config_lacks():
    check_option_value({'a': {'b': 1}}, 'a.c', 'text', 'f.py')
    check_option_value({'a': [{'b': 'x'}]}, 'a.0.b', 'text', 'f.py')
    with pytest.raises(ValueError, match=r'--cfg-options a.0.b=x: f.py sets a.0.b to the number'):
        check_option_value({'a': [{'b': 1}]}, 'a.0.b', 'x', 'f.py')
    check_run_values({'train_cfg': {'max_epochs': None}}, 'f.py')
    with pytest.raises(ValueError, match='train_cfg.max_iters is True'):
        check_run_values({'train_cfg': {'max_iters': True}}, 'f.py')

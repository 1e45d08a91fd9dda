"""type_name: the registry name of a config's ``type``, however it is spelled."""
from mnext_det.config_types import type_name
from mnext_det.datasets.dataset_wrappers import ValidatedDataset


def test_plain_scoped_and_class_types_give_the_registry_name():
    assert type_name('ValidatedDataset') == 'ValidatedDataset'
    assert type_name('mmdet.ValidatedDataset') == 'ValidatedDataset'
    # a config may hold the class itself; its str() is "<class '...ValidatedDataset'>"
    assert type_name(ValidatedDataset) == 'ValidatedDataset'
    assert type_name(None) == ''

"""type_name: the registry name of a config's ``type``, however it is spelled;
keyword_arguments: what a type takes, through ``**kwargs`` handed to a parent."""
import pytest

from mnext_det.config_types import keyword_arguments, type_name
from mnext_det.datasets.dataset_wrappers import ValidatedDataset


def test_plain_scoped_and_class_types_give_the_registry_name():
    assert type_name('ValidatedDataset') == 'ValidatedDataset'
    assert type_name('mmdet.ValidatedDataset') == 'ValidatedDataset'
    # a config may hold the class itself; its str() is "<class '...ValidatedDataset'>"
    assert type_name(ValidatedDataset) == 'ValidatedDataset'
    assert type_name(None) == ''


class _Base:
    def __init__(self, a: int = 0, b: int = 0) -> None:
        self.a, self.b = a, b


class _HandsOn(_Base):
    """Takes c, hands the rest to _Base: takes a, b and c."""

    def __init__(self, c: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.c = c if kwargs.get('a') is None else kwargs['a']


class _Pops(_Base):
    """Takes out a key of its own: what else it takes cannot be told."""

    def __init__(self, **kwargs) -> None:
        self.d = kwargs.pop('d', 0)
        super().__init__(**kwargs)


class _SkipsAParent(_HandsOn):
    """super(_HandsOn, self) hands them past _HandsOn: not followed."""

    def __init__(self, **kwargs) -> None:
        super(_HandsOn, self).__init__(**kwargs)


class _Keeps(_Base):
    def __init__(self, **kwargs) -> None:
        super().__init__()
        self.kwargs = kwargs


def _function(x: int, **kwargs) -> None:
    pass


def test_keyword_arguments_follow_kwargs_handed_to_the_parent():
    assert keyword_arguments(_HandsOn) == {'a', 'b', 'c'}
    assert keyword_arguments(_Base) == {'a', 'b'}
    for anything in (_Pops, _SkipsAParent, _Keeps, _function, 'NoSuchRegisteredType'):
        assert keyword_arguments(anything) is None, anything


def test_keyword_arguments_of_registered_types():
    pytest.importorskip('mmdet')
    import mnext_det.detection  # noqa: F401  (registrations)
    head = keyword_arguments('SSDLiteHead')  # ours, **kwargs on to mmdet's SSDHead
    assert {'batch_loss', 'num_classes', 'anchor_generator', 'init_cfg'} <= head
    assert {'ann_file', 'data_prefix', 'pipeline', 'backend_args'} <= \
        keyword_arguments('CocoDataset')  # BaseDetDataset on to mmengine's BaseDataset
    assert keyword_arguments('BN') is None  # built by mmcv's build_norm_layer (requires_grad)

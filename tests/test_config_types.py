"""type_name: the registry name of a config's ``type``, however it is spelled;
keyword_arguments: what a type takes, through ``**kwargs`` handed to a parent;
run_cfg_keys: what a model reads from its train_cfg and test_cfg."""
import pytest

from mnext_det.config_types import keyword_arguments, run_cfg_keys, type_name
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


class _Drops(_Base):
    """Never reads its **kwargs: takes a, and drops any other key (b too)."""

    def __init__(self, a: int = 0, **kwargs) -> None:
        super().__init__(a)


class _NamesItself(_Base):
    """super(_NamesItself, self) is super(): takes a, b and d."""

    def __init__(self, d: int = 0, **kwargs) -> None:
        super(_NamesItself, self).__init__(**kwargs)
        self.d = d


class _Keeps(_Base):
    def __init__(self, **kwargs) -> None:
        super().__init__()
        self.kwargs = kwargs


def _function(x: int, **kwargs) -> None:
    pass


def test_keyword_arguments_follow_kwargs_handed_to_the_parent():
    assert keyword_arguments(_HandsOn) == {'a', 'b', 'c'}
    assert keyword_arguments(_Base) == {'a', 'b'}
    assert keyword_arguments(_Drops) == {'a'}
    assert keyword_arguments(_NamesItself) == {'a', 'b', 'd'}
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


class _ReadsRunCfgs:
    """Reads its run configs in each way mmdet's models do."""

    def __init__(self, train_cfg: dict, test_cfg: dict) -> None:
        self.train_cfg, self.test_cfg = train_cfg, test_cfg
        self.assigner = train_cfg['assigner'] if 'sampler' in train_cfg else None

    def loss(self) -> float:
        return self.train_cfg['neg_pos_ratio'] * self.train_cfg.get('beta', 1.)

    def predict(self, cfg=None) -> tuple:
        cfg = self.test_cfg if cfg is None else cfg
        return cfg.score_thr, cfg.get('nms_pre', -1), self.test_cfg.max_per_img, cfg.copy()


class _Subclass(_ReadsRunCfgs):
    def predict(self, cfg=None) -> tuple:
        return super().predict(cfg) + (self.test_cfg.pop('extra', None),)


def test_run_cfg_keys_are_read_from_the_models_source_parents_included():
    assert run_cfg_keys([_Subclass], 'train_cfg') == {'assigner', 'sampler', 'neg_pos_ratio',
                                                       'beta'}
    # cfg is the test_cfg in mmdet's predict methods; copy() is the dict's method
    assert run_cfg_keys([_Subclass], 'test_cfg') == {'score_thr', 'nms_pre', 'max_per_img',
                                                      'extra'}
    assert run_cfg_keys([_ReadsRunCfgs, 'NoSuchRegisteredType'], 'test_cfg') == {
        'score_thr', 'nms_pre', 'max_per_img'}


def test_run_cfg_keys_of_mmdets_ssd_head():
    pytest.importorskip('mmdet')
    import mnext_det.detection  # noqa: F401  (registrations)
    assert run_cfg_keys(['SingleStageDetector', 'SSDLiteHead'], 'test_cfg') == {
        'nms_pre', 'score_thr', 'min_bbox_size', 'nms', 'max_per_img'}
    assert run_cfg_keys(['SingleStageDetector', 'SSDLiteHead'], 'train_cfg') == {
        'assigner', 'sampler', 'neg_pos_ratio', 'smoothl1_beta', 'allowed_border', 'pos_weight'}


def test_checkpoint_hook_kwargs_go_to_a_call_that_takes_none_of_them():
    """The premise of _KWARGS_TAKEN_BY_NOTHING: mmengine's CheckpointHook
    splats its **kwargs into Runner.save_checkpoint, which takes no **kwargs
    and gets each of its other parameters from the hook already; so the hook
    (and ours, which hands its **kwargs to it) takes its named ones only."""
    import ast
    import inspect
    import textwrap

    from mmengine.hooks import CheckpointHook
    from mmengine.runner import Runner

    import mnext_det.engine  # noqa: F401  (SafeCheckpointHook)
    takes = inspect.signature(Runner.save_checkpoint).parameters
    assert not any(p.kind is p.VAR_KEYWORD for p in takes.values())
    tree = ast.parse(textwrap.dedent(inspect.getsource(CheckpointHook._save_checkpoint_with_step)))
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute) and n.func.attr == 'save_checkpoint')
    passed = list(takes)[1:len(call.args) + 1] + [kw.arg for kw in call.keywords if kw.arg]
    assert set(takes) - {'self'} == set(passed)
    for name in ('CheckpointHook', 'SafeCheckpointHook'):
        assert keyword_arguments(name) == set(inspect.signature(CheckpointHook).parameters) - {
            'kwargs'}


def test_default_classes_of_a_dataset_type():
    """Read by the data pre-flight and the exporter's metadata alike."""
    pytest.importorskip('mmdet')
    from mnext_det.config_types import default_classes
    coco = default_classes('CocoDataset')
    assert len(coco) == 80 and coco[0] == 'person'
    assert default_classes('mmdet.CocoDataset') == coco
    assert len(default_classes('VOCDataset')) == 20
    assert default_classes('ImageFolderDataset') is None and default_classes('NoSuch') is None

"""The registry name that a config's ``type`` entry refers to, what
mmengine's registries hold under it, the arguments that can build, and the
keys a model reads from its ``train_cfg`` and ``test_cfg``."""
import ast
import functools
import inspect
import textwrap
from typing import Any, Callable, FrozenSet, Iterable, Iterator, List, Optional, Set, Tuple

__all__ = ['type_name', 'registries', 'registered_objects', 'default_classes', 'keyword_arguments',
           'run_cfg_keys']


def type_name(type_value: Any) -> str:
    """``'ValidatedDataset'`` for ``'ValidatedDataset'``, a scoped
    ``'mmdet.ValidatedDataset'`` or the class itself (configs may hold either);
    ``''`` when there is no type."""
    if type_value is None:
        return ''
    if isinstance(type_value, type):
        return type_value.__name__
    return str(type_value).split('.')[-1]


def registries(name: Optional[str] = None) -> Iterator[Any]:
    """mmengine's root registries (those called ``name``, e.g. ``'model'``,
    or all) and all their children, each once."""
    import mmengine.registry as mmengine_registries
    todo = [r for r in vars(mmengine_registries).values()
            if isinstance(r, mmengine_registries.Registry) and name in (None, r.name)]
    seen = set()
    while todo:
        registry = todo.pop()
        if id(registry) not in seen:
            seen.add(id(registry))
            yield registry
            todo.extend(registry.children.values())


def registered_objects(type_value: Any) -> List[Any]:
    """The classes or functions a config's ``type`` can build: the class
    itself, or every distinct object registered under its name in any
    registry (several registries may share a name); ``[]`` when none is."""
    if isinstance(type_value, type):
        return [type_value]
    name = type_name(type_value)
    found = [r.module_dict[name] for r in registries() if name in r.module_dict]
    return list({id(obj): obj for obj in found}.values())


def default_classes(dataset_type: Any) -> Optional[List[str]]:
    """The classes a dataset ``type`` labels when its config sets none: its
    class's ``METAINFO['classes']`` (CocoDataset's are COCO's 80), found by
    :func:`registered_objects`, with mmdet's datasets registered first where
    the name is not (yet) registered; None where the type is unknown, sets
    none, or names several classes with other defaults."""
    objects = registered_objects(dataset_type)
    if not objects:
        try:
            import mmdet.datasets  # noqa: F401  (registers mmdet's dataset classes)
        except ImportError:
            return None
        objects = registered_objects(dataset_type)
    found = {tuple(classes) for classes in ((getattr(o, 'METAINFO', None) or {}).get('classes')
                                            for o in objects) if classes}
    return list(found.pop()) if len(found) == 1 else None


# Layers (norm_cfg, conv_cfg, dcn, upsample_cfg types) are built by mmcv's and
# mmdet's layer builders, which take keys out first (requires_grad,
# scale_factor, fallback_on_stride) or rename old ones (deformable_groups).
_LAYER_MODULES = ('torch.nn.', 'mmcv.cnn.', 'mmcv.ops.', 'mmengine.utils.dl_utils.')


# Classes whose ``**kwargs`` end in a call that takes none beyond the arguments
# the class passes it by name: mmengine's CheckpointHook hands them to
# Runner.save_checkpoint at its first save (an epoch into the run), which
# then fails on any of them.
_KWARGS_TAKEN_BY_NOTHING = frozenset({'mmengine.hooks.checkpoint_hook.CheckpointHook'})


def keyword_arguments(type_value: Any) -> Optional[Set[str]]:
    """The keyword arguments that every object registered as ``type_value``
    could take together (a config's keys beside ``type``), or None where any
    key may be taken or it cannot be told: nothing registered, no signature,
    a layer of torch or mmcv, or a ``**kwargs`` that goes anywhere but on to
    the parent class's ``__init__`` (a class whose ``__init__`` only hands
    ``**kwargs`` to ``super().__init__``, as mmdet's ``CocoDataset`` and
    ``SSDHead`` subclasses do, takes what its parents take). A class of
    :data:`_KWARGS_TAKEN_BY_NOTHING` takes its named parameters only."""
    objects = registered_objects(type_value)
    if not objects or any(getattr(obj, '__module__', '').startswith(_LAYER_MODULES)
                          for obj in objects):
        return None
    takes: Set[str] = set()
    for obj in objects:
        found = _class_arguments(obj) if inspect.isclass(obj) else _function_arguments(obj)
        if found is None:
            return None
        takes |= found
    return takes


def _class_arguments(cls: type) -> Optional[Set[str]]:
    takes: Set[str] = set()
    for owner in cls.__mro__:
        if '__init__' not in vars(owner) or owner is object:
            continue
        init = vars(owner)['__init__']
        found = _parameters(init)
        if found is None:
            return None
        takes |= found[0]
        if not found[1] or f'{owner.__module__}.{owner.__qualname__}' in _KWARGS_TAKEN_BY_NOTHING:
            return takes
        fate = _kwargs_fate(init, owner.__name__)
        if fate == 'ignored':
            return takes
        if fate != 'parent':
            return None
    return takes


def _function_arguments(fn: Callable) -> Optional[Set[str]]:
    found = _parameters(fn)
    return None if found is None or found[1] else found[0]


def _parameters(fn: Callable) -> Optional[Tuple[Set[str], bool]]:
    """``fn``'s named parameters and whether it takes ``**kwargs``; None
    without a signature."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return None
    names = {n for n, p in params.items()
             if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and n != 'self'}
    return names, any(p.kind is p.VAR_KEYWORD for p in params.values())


def _kwargs_fate(init: Callable, owner: str) -> Optional[str]:
    """What ``init`` (of the class named ``owner``) does with its
    ``**kwargs``, read from its source: ``'parent'`` where it hands them,
    untouched, to ``super().__init__`` and nowhere else; ``'ignored'`` where
    it never uses them (mmdet's ``BaseBBoxCoder``: any key is dropped without
    a word); None otherwise."""
    params = inspect.signature(init).parameters
    name = next((n for n, p in params.items() if p.kind is p.VAR_KEYWORD), None)
    if name is None:
        return None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(init)))
    except (OSError, TypeError, SyntaxError):
        return None
    uses = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == name]
    if not uses:
        return 'ignored'
    handed = [kw for call in ast.walk(tree) if isinstance(call, ast.Call)
              and _is_super_init(call.func, owner) for kw in call.keywords
              if kw.arg is None and isinstance(kw.value, ast.Name) and kw.value.id == name]
    # reading them (kwargs.get('x'), kwargs['x']) leaves what the parent gets
    reads = [n for n in ast.walk(tree)
             if (isinstance(n, ast.Attribute) and n.attr == 'get'
                 or isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load))
             and isinstance(n.value, ast.Name) and n.value.id == name]
    return 'parent' if len(handed) == 1 and len(uses) == 1 + len(reads) else None


def _is_super_init(func: ast.expr, owner: str) -> bool:
    # super().__init__ or super(Owner, self).__init__ (the next class in the
    # MRO), not super(Base, self) (a later one)
    if not (isinstance(func, ast.Attribute) and func.attr == '__init__'
            and isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name)
            and func.value.func.id == 'super'):
        return False
    args = func.value.args
    return not args or (len(args) == 2 and all(isinstance(a, ast.Name) for a in args)
                        and args[0].id == owner and args[1].id == 'self')


_DICT_METHODS = frozenset(dir(dict)) | {'to_dict'}
_NO_RUN_CFG_MODULES = ('builtins', 'torch.', 'mmengine.')


def run_cfg_keys(type_values: Iterable[Any], which: str) -> Set[str]:
    """The keys that the models registered as ``type_values`` read from their
    ``which`` (``'train_cfg'`` or ``'test_cfg'``), found in the source of
    their classes and their parents (but torch's and mmengine's):
    ``self.<which>`` or a name ``<which>`` (and ``cfg`` for ``test_cfg``: mmdet's
    predict methods take ``cfg = self.test_cfg if cfg is None else cfg``),
    read as ``[key]``, ``.get(key)``, ``.<key>`` or ``key in``. Empty where no
    source is found."""
    return set().union(*(_class_keys_read(c, which) for t in type_values
                         for obj in registered_objects(t) if inspect.isclass(obj)
                         for c in obj.__mro__
                         if not c.__module__.startswith(_NO_RUN_CFG_MODULES)))


@functools.lru_cache(maxsize=None)
def _class_keys_read(cls: type, which: str) -> FrozenSet[str]:
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):
        return frozenset()
    return frozenset(_keys_read(tree, which))


def _keys_read(tree: ast.AST, which: str) -> Iterator[str]:
    names = (which, 'cfg') if which == 'test_cfg' else (which,)

    def is_cfg(node: ast.expr) -> bool:
        return (isinstance(node, ast.Name) and node.id in names
                or isinstance(node, ast.Attribute) and node.attr == which
                and isinstance(node.value, ast.Name) and node.value.id == 'self')

    def text(node: ast.expr) -> Optional[str]:
        is_str = isinstance(node, ast.Constant) and isinstance(node.value, str)
        return node.value if is_str else None

    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and is_cfg(node.value):
            key = text(node.slice)
        elif isinstance(node, ast.Attribute) and is_cfg(node.value):
            key = node.attr if node.attr not in _DICT_METHODS else None
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ('get', 'pop', 'setdefault') and is_cfg(node.func.value)
              and node.args):
            key = text(node.args[0])
        elif (isinstance(node, ast.Compare) and len(node.ops) == 1
              and isinstance(node.ops[0], (ast.In, ast.NotIn)) and is_cfg(node.comparators[0])):
            key = text(node.left)
        else:
            key = None
        if key is not None:
            yield key

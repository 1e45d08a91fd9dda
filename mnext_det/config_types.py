"""The registry name that a config's ``type`` entry refers to, and what
mmengine's registries hold under it."""
from typing import Any, Iterator, List, Optional

__all__ = ['type_name', 'registries', 'registered_objects']


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

"""A config file's variable that a base file used when it was read.

mmengine reads each file of a config on its own, so a base file's
``train_cfg = dict(max_epochs=max_epochs)`` takes the base's own
``max_epochs`` then; a file on top of it that sets ``max_epochs = 12`` changes
that variable only, and ``train_cfg.max_epochs`` keeps the base's value: the
run trains the base's epochs without a word (mmengine merges keys, not the
expressions that computed them). :func:`unreached_variables` finds such
variables in the files' source.
"""
import ast
import os.path as osp
from typing import Collection, Dict, Iterator, List, NamedTuple, Optional, Set, Tuple

from mmengine.config import Config

__all__ = ['UnreachedVariableWarning', 'unreached_variables']


class UnreachedVariableWarning(UserWarning):
    """A config file sets a variable that a base file had already used for
    keys a run reads (a warning, not an error: some of mmdet's own configs
    do it on purpose, e.g. to validate on the base file's dataset)."""


Path = Tuple[str, ...]


def _parse(path: str) -> Optional[ast.Module]:
    try:
        with open(path) as f:
            return ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError):
        return None


def _assignments(tree: ast.Module) -> Tuple[Dict[str, ast.expr], List[Path]]:
    """The file's top-level ``name = value`` assignments (the last of each),
    and the key paths it sets as ``_base_.a.b = value`` (mmengine's other
    way to change a base file's key)."""
    found, base_paths = {}, []
    for node in tree.body:
        for target in node.targets if isinstance(node, ast.Assign) else ():
            if isinstance(target, ast.Name):
                found[target.id] = node.value
            parts: List[str] = []
            while isinstance(target, ast.Attribute):
                parts.insert(0, target.attr)
                target = target.value
            if parts and isinstance(target, ast.Name) and target.id == '_base_':
                base_paths.append(tuple(parts))
    return found, base_paths


def _base_file(path: str, name: str) -> Optional[str]:
    """The file that ``_base_`` entry ``name`` of ``path`` names, found as
    mmengine finds it (``mmdet::`` in the installed mmdet's configs), or
    ``None`` when mmengine cannot find it either."""
    try:
        return osp.normpath(Config._get_cfg_path(name, path)[0])
    except (ImportError, OSError, ValueError, RuntimeError):
        return None


def _base_files(path: str, assigned: Dict[str, ast.expr]) -> List[str]:
    """The files that ``_base_`` names, as paths."""
    value = assigned.get('_base_')
    items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
    names = [i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)]
    return [f for f in (_base_file(path, n) for n in names) if f is not None]


class _File(NamedTuple):
    assigned: Dict[str, ast.expr]
    base_paths: List[Path]
    bases: List[str]


def _chain(path: str) -> Dict[str, _File]:
    """Every file of the config, by path."""
    files: Dict[str, _File] = {}
    todo = [osp.normpath(path)]
    while todo:
        current = todo.pop()
        tree = None if current in files else _parse(current)
        if tree is not None:
            assigned, base_paths = _assignments(tree)
            files[current] = _File(assigned, base_paths, _base_files(current, assigned))
            todo.extend(files[current].bases)
    return files


def _reads(value: ast.expr, names: Set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(value))


def _uses(value: ast.expr, names: Set[str], path: Path = ()) -> Iterator[Path]:
    """The key paths inside ``value`` (a ``dict(...)`` call or literal is
    followed key by key; a list is merged as a whole) whose expression reads
    one of the variables ``names``."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
            and value.func.id == 'dict':
        for kw in value.keywords:
            yield from _uses(kw.value, names, path + ((kw.arg,) if kw.arg else ()))
    elif isinstance(value, ast.Dict):
        for key, item in zip(value.keys, value.values):
            part = (key.value,) if isinstance(key, ast.Constant) else ()
            yield from _uses(item, names, path + part)
    elif _reads(value, names):
        yield path


def _computed_from(assigned: Dict[str, ast.expr], name: str) -> Set[str]:
    """``name`` and the file's variables computed from it, directly or
    through others (``test_dataloader = val_dataloader``)."""
    found = {name}
    while True:
        more = {k for k, v in assigned.items()
                if k not in found and k != '_base_' and _reads(v, found)}
        if not more:
            return found
        found |= more


def _file_sets(file: _File, path: Path) -> bool:
    """Whether a later file sets the key ``path`` (top-level key first)."""
    return (_sets(file.assigned.get(path[0]), path[1:])
            or any(path[:len(p)] == p for p in file.base_paths))


def _sets(value: Optional[ast.expr], path: Path) -> bool:
    """Whether the assignment ``value`` of a later file sets the key ``path``
    below its top-level key (mmengine merges dicts key by key, ``_delete_``
    replaces one, anything else replaces the value)."""
    if value is None:
        return False
    if not path:
        return True
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
            and value.func.id == 'dict':
        items = {kw.arg: kw.value for kw in value.keywords if kw.arg}
    elif isinstance(value, ast.Dict):
        items = {k.value: v for k, v in zip(value.keys, value.values)
                 if isinstance(k, ast.Constant)}
    else:
        return True
    if '_delete_' in items:
        return True
    return path[0] in items and _sets(items[path[0]], path[1:])


def _same_value(a: ast.expr, b: ast.expr) -> bool:
    """The same expression, or literals of the same value."""
    if ast.dump(a) == ast.dump(b):
        return True
    try:
        return ast.literal_eval(a) == ast.literal_eval(b)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return False


def _shown(name: str, value: ast.expr, width: int = 40) -> str:
    """``name = value`` where the value's source is short, else ``name``."""
    source = ast.unparse(value)
    return f'{name} = {source}' if len(source) <= width else name


def _path(files: Dict[str, _File], start: str, end: str) -> Optional[List[str]]:
    """The files on a way from ``start`` down to its base ``end``, ``start``
    first and ``end`` left out, or ``None`` when ``end`` is not below it."""
    if start == end:
        return []
    for parent in files[start].bases if start in files else ():
        below = _path(files, parent, end)
        if below is not None:
            return [start] + below
    return None


def unreached_variables(path: str, read_keys: Collection[str]) -> List[str]:
    """One line per variable that a file of ``path``'s config (``path`` or a
    file between it and its bases) sets and a base file below it used, when
    it was read, for keys of ``read_keys`` (those a run reads) that no file
    above that base sets again, e.g. ``max_epochs = 12 does not reach
    param_scheduler (base.py computed them from its own max_epochs = 120 when
    it was read)``; a file other than ``path`` is named after the value
    (``max_epochs = 12 (set in mine.py) ...``)."""
    files = _chain(path)
    top = osp.normpath(path)
    if top not in files:
        return []
    lines = []
    for current, file in files.items():
        way_down = _path(files, top, current)
        if way_down is None:
            continue
        where = '' if current == top else f' (set in {current})'
        for name, value in file.assigned.items():
            if name == '_base_' or any(name in files[f].assigned for f in way_down):
                continue  # a file above sets it again: its own line names what it misses
            for base, base_file in files.items():
                below = _path(files, current, base) if base != current else None
                if not below or name not in base_file.assigned \
                        or _same_value(value, base_file.assigned[name]):
                    continue
                between = [files[f] for f in way_down + below]
                names = _computed_from(base_file.assigned, name)
                missed = ['.'.join((key,) + sub) for key, expr in base_file.assigned.items()
                          if key in read_keys for sub in _uses(expr, names)
                          if not any(_file_sets(f, (key,) + sub) for f in between)]
                if missed:
                    lines.append(
                        f'{_shown(name, value)}{where} does not reach {", ".join(missed)} '
                        f'({base} computed them from its own '
                        f'{_shown(name, base_file.assigned[name])} when it was read)')
    return lines

"""How every tool ends on a user error: one ``error: ...`` line on stderr and
exit status 2; any other exception is a bug and keeps its traceback.

User errors are what the package raises for bad input before work starts: a
missing file (``FileNotFoundError``), a bad argument, config key, dataset or
checkpoint (``ValueError`` and its subclasses such as
``CheckpointMismatchError``, ``CorruptCheckpointError``, ``DataCheckError``)
and a checkpoint or pickle that would run code on load
(``UnsafeCheckpointError``, an ``UnpicklingError``); also a config ``type``
that no registry holds (mmengine's ``KeyError``), with the closest names, and
a package of one of mnext-det's extras that is not installed (a
``ModuleNotFoundError`` for ``onnx``, ``litert_torch``, ...), with the extra."""
import difflib
import importlib.metadata
import pickle
import re
import sys
import warnings
from typing import Any, Callable, List, NoReturn, Optional

from .config_variables import UnreachedVariableWarning

__all__ = ['USER_ERRORS', 'USER_ERROR_EXIT', 'USER_WARNINGS', 'error_line', 'registry_miss',
           'missing_extra', 'run_tool', 'tool_status']

USER_ERRORS = (FileNotFoundError, NotADirectoryError, ValueError, pickle.UnpicklingError)
USER_ERROR_EXIT = 2
# warnings about the user's input, shown as one ``warning: ...`` line
USER_WARNINGS = (UnreachedVariableWarning,)


# torch re-raises an exception of a DataLoader worker as the same type with
# this message: the worker's whole traceback, the error itself last
_WORKER_ERROR = re.compile(r'^Caught \w+ in (?P<where>DataLoader worker process \d+)\.\s*\n'
                           r'Original Traceback')


def error_line(error: BaseException) -> str:
    """``error: <message>`` on one line (a multi-line message joined by '; ');
    for an error re-raised from a DataLoader worker, the worker's own error
    line, not its traceback."""
    text = str(error)
    match = _WORKER_ERROR.match(text)
    if match:
        kind = type(error).__qualname__
        lines = text.strip().splitlines()
        start = max((i for i, line in enumerate(lines)
                     if re.match(rf'^([\w.]+\.)?{kind}: ', line)), default=len(lines) - 1)
        lines[start] = re.sub(rf'^([\w.]+\.)?{kind}: ', '', lines[start])
        return f'error: {_joined(lines[start:])} (in {match["where"]})'
    return f'error: {_joined(text.splitlines())}'


def _joined(lines: List[str]) -> str:
    return '; '.join(line.strip() for line in lines if line.strip())


_REGISTRY_MISS = re.compile(r"^'?(?P<name>[\w.]+) is not in the (?P<scope>\w+)::(?P<registry>\w+) "
                            'registry')


def _registered_names(registry_name: str) -> List[str]:
    """Every name registered under ``registry_name`` (e.g. ``'model'``) in
    mmengine's root registry of that name and all its children."""
    from .config_types import registries
    return sorted({name for r in registries(registry_name) for name in r.module_dict})


# the modules a config of this package imports (custom_imports), by what they register
_CONFIG_IMPORTS = ('mnext_det.detection', 'mnext_det.classification')


def _module_registering(name: str, registry_name: str) -> Optional[str]:
    """The first of :data:`_CONFIG_IMPORTS` not imported yet that registers
    ``name`` once imported (``custom_imports = dict(imports=['mnext_det'])``
    leaves out the detection parts); None when none does."""
    for module in _CONFIG_IMPORTS:
        if module in sys.modules:  # its names were there when the lookup missed
            continue
        try:
            importlib.import_module(module)
        except ImportError:
            continue
        if name.split('.')[-1] in _registered_names(registry_name):
            return module
    return None


def registry_miss(error: KeyError) -> Optional[str]:
    """For mmengine's "X is not in the scope::registry registry", a message
    with the closest registered names; None for any other ``KeyError``."""
    text = str(error.args[0]) if error.args else ''
    match = _REGISTRY_MISS.match(text)
    if match is None:
        return None
    name, where = match['name'], f"{match['scope']}::{match['registry']}"
    module = _module_registering(name, match['registry'])
    if module is not None:
        return (f"config: type {name!r} is not in the {where} registry: {module} registers it; "
                f"set custom_imports = dict(imports=['{module}'])")
    close = difflib.get_close_matches(name, _registered_names(match['registry']), n=3,
                                      cutoff=0.6)
    hint = (f"did you mean {' or '.join(repr(c) for c in close)}?" if close else
            "no registered name is close: is its module in the config's custom_imports?")
    return f"config: type {name!r} is not in the {where} registry; {hint}"


_EXTRA_REQUIREMENT = re.compile(r'^(?P<dist>[A-Za-z0-9_.-]+).*;\s*extra\s*==\s*"(?P<extra>\w+)"')


def missing_extra(error: ModuleNotFoundError) -> Optional[str]:
    """For a module of a package that one of mnext-det's extras installs
    (``setup.py``'s ``extras_require``, read from the installed metadata), a
    message naming the extra; None for any other missing module (a bug)."""
    top = (error.name or '').split('.')[0]
    try:
        requirements = importlib.metadata.requires('mnext-det') or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for requirement in requirements:
        match = _EXTRA_REQUIREMENT.match(requirement)
        if match and match['dist'].lower().replace('-', '_') == top:
            if 'pip install' in str(error):
                return str(error)
            return (f"{top} is not installed; it comes with mnext-det's {match['extra']!r} "
                    f"extra: pip install -e '.[{match['extra']}]' (make install installs all "
                    "but tflite)")
    return None


def tool_status(main: Callable[[], Optional[int]]) -> int:
    """``main()``'s exit status (0 for None), or 2 after printing
    :func:`error_line` on a user error. Meanwhile a warning of
    :data:`USER_WARNINGS` is one ``warning: ...`` line on stderr."""
    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(message: Any, category: type, *args: Any, **kwargs: Any) -> None:
            if issubclass(category, USER_WARNINGS):
                print(f'warning: {message}', file=sys.stderr, flush=True)
            else:
                shown(message, category, *args, **kwargs)
        warnings.showwarning = show
        return _status(main)


def _status(main: Callable[[], Optional[int]]) -> int:
    try:
        code = main()
    except USER_ERRORS as e:
        print(error_line(e), file=sys.stderr)
        return USER_ERROR_EXIT
    except (KeyError, ModuleNotFoundError) as e:
        message = registry_miss(e) if isinstance(e, KeyError) else missing_extra(e)
        if message is None:
            raise
        print(f'error: {message}', file=sys.stderr)
        return USER_ERROR_EXIT
    return code or 0


def run_tool(main: Callable[[], Optional[int]]) -> NoReturn:
    """Exit with :func:`tool_status` of ``main``."""
    sys.exit(tool_status(main))

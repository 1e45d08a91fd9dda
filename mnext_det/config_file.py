"""Reading a config file, with errors that name it.

mmengine's ``Config.fromfile`` names neither the file nor its type for a file
of another kind (``OSError: Only py/yml/yaml/json type are supported now!``,
e.g. a model file passed where a config goes) and neither the file nor the
config for a syntax error (``'(' was never closed (<unknown>, line 1)``).
"""
import json
import os.path as osp

from mmengine.config import Config

__all__ = ['CONFIG_SUFFIXES', 'read_config']

CONFIG_SUFFIXES = ('.py', '.json', '.yml', '.yaml')


def read_config(path: str) -> Config:
    """``Config.fromfile(path)``.

    Raises:
        FileNotFoundError: ``path`` (or a ``_base_`` file it names) does not
            exist.
        ValueError: ``path`` is not a config file (by its suffix) or does not
            parse; the message names it.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    if osp.splitext(path)[1] not in CONFIG_SUFFIXES:
        raise ValueError(f'{path}: not a config file (mmengine reads '
                         f'{", ".join(CONFIG_SUFFIXES)})')
    try:
        return Config.fromfile(path)
    except SyntaxError as e:
        raise ValueError(f'{path} (or a _base_ file it names) does not parse: {e.msg}, line '
                         f'{e.lineno}') from e
    except json.JSONDecodeError as e:
        raise ValueError(f'{path} (or a _base_ file it names) does not parse: {e}') from e

"""Python source that makes the import of named packages fail as if they were
not installed, put in front of the code a test runs in a fresh interpreter, to
show which paths of the package work without them."""
import textwrap

__all__ = ['block_imports', 'BLOCK_MM']


def block_imports(*packages: str) -> str:
    """Source that makes ``import`` of ``packages`` (and of their submodules)
    raise ``ModuleNotFoundError: No module named '...' (blocked for this test)``."""
    return textwrap.dedent(f'''
        import importlib.abc, sys
        class _Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split('.')[0] in {packages!r}:
                    raise ModuleNotFoundError(f'No module named {{name!r}} (blocked for this test)')
        sys.meta_path.insert(0, _Block())
    ''')


BLOCK_MM = block_imports('mmcv', 'mmdet')

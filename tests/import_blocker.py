"""Python source that makes ``import mmcv`` and ``import mmdet`` fail, put in
front of the code a test runs in a fresh interpreter, to show which paths of
the package work without them."""
import textwrap

BLOCK_MM = textwrap.dedent('''
    import importlib.abc, sys
    class _Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split('.')[0] in ('mmcv', 'mmdet'):
                raise ImportError(f'{name} is blocked for this test')
    sys.meta_path.insert(0, _Block())
''')

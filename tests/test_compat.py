"""compat.register_package_paths: mmengine finds installed packages without
``pkg_resources`` (setuptools >= 82 has none), so a config with a
package-scoped base (``mmdet::``) reads; is_installed and installed_path
answer as mmengine's own functions do."""
import importlib.metadata
import os.path as osp
import subprocess
import sys
import textwrap

import mmdet
import pytest

from mnext_det.compat import installed_path, is_installed

from .conftest import ROOT
from .import_blocker import block_imports

# pkg_resources absent, as setuptools >= 82 leaves it
_BLOCK_PKG_RESOURCES = block_imports('pkg_resources')


def test_a_config_with_an_mmdet_base_reads_without_pkg_resources(tmp_path):
    config = tmp_path / 'my.py'
    config.write_text("_base_ = 'mmdet::_base_/default_runtime.py'\n"
                      "default_hooks = dict(logger=dict(interval=7))\n")
    upstream = _BLOCK_PKG_RESOURCES + textwrap.dedent(f'''
        from mmengine.config import Config
        Config.fromfile({str(config)!r})
    ''')
    done = subprocess.run([sys.executable, '-c', upstream], cwd=ROOT, capture_output=True,
                          text=True)
    # mmengine's own lookup needs pkg_resources (once this fails, the patch can go)
    assert "No module named 'pkg_resources'" in done.stderr
    code = _BLOCK_PKG_RESOURCES + textwrap.dedent(f'''
        import mnext_det
        from mmengine.config import Config
        from mmengine.hub import get_config
        cfg = Config.fromfile({str(config)!r})
        print(cfg.default_scope, cfg.default_hooks.logger.interval)
        print(get_config('mmdet::_base_/default_runtime.py').default_scope)
    ''')
    done = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ['mmdet', '7', 'mmdet']


def test_installed_path_is_the_module_folder():
    assert installed_path('mmdet') == osp.dirname(mmdet.__file__)
    assert is_installed('mmdet')


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder on sys.path with the distribution ``fake-dist``, whose module
    is ``fakemod``, and a namespace package ``fakens``."""
    info = tmp_path / 'fake_dist-1.0.dist-info'
    info.mkdir()
    (info / 'METADATA').write_text('Metadata-Version: 2.1\nName: fake-dist\nVersion: 1.0\n')
    (info / 'top_level.txt').write_text('fakemod\n')
    (tmp_path / 'fakemod').mkdir()
    (tmp_path / 'fakemod' / '__init__.py').write_text('')
    (tmp_path / 'fakens').mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_a_distribution_named_unlike_its_module_is_found_by_its_top_level(site):
    assert is_installed('fake-dist') and is_installed('fakemod')
    assert installed_path('fake-dist') == str(site / 'fakemod')
    assert installed_path('fakemod') == str(site / 'fakemod')


def test_a_missing_or_namespace_package_is_refused(site):
    assert not is_installed('no_such_package_x')
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        installed_path('no_such_package_x')
    assert not is_installed('fakens')
    with pytest.raises(RuntimeError, match='fakens is a namespace package'):
        installed_path('fakens')

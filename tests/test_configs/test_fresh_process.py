"""Every config builds its model, optimizer and custom hooks in a fresh Python
process from its own ``custom_imports``, as ``tools/train.py`` does: a type
that resolves here only because the test process already imported mnext_det
would be the user's "X is not in the model registry" (mmdetection#7796)."""
import glob
import os.path as osp
import subprocess
import sys
import textwrap
from collections import defaultdict

import pytest
from mmengine.config import Config

from ..conftest import ROOT

pytest.importorskip('mmdet')

CONFIGS = sorted(f for f in glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))
                 if osp.basename(osp.dirname(f)) != '_base_')


def _by_imports():
    """Configs grouped by their custom imports: one fresh process per group."""
    groups = defaultdict(list)
    for config in CONFIGS:
        cfg = Config.fromfile(config, import_custom_modules=False)
        groups[tuple(cfg.get('custom_imports', {}).get('imports', ()))].append(config)
    return dict(groups)


GROUPS = _by_imports()

BUILD = textwrap.dedent('''
    import sys
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import HOOKS, MODELS, init_default_scope
    assert not [m for m in sys.modules if m.split('.')[0] == 'mnext_det'], 'imported too early'
    for config in sys.argv[1:]:
        cfg = Config.fromfile(config)  # imports its custom_imports, as tools/train.py
        init_default_scope(cfg.default_scope)
        with MODELS.switch_scope_and_registry(cfg.default_scope) as models:
            model = models.build(cfg.model)
        build_optim_wrapper(model, cfg.optim_wrapper)
        with HOOKS.switch_scope_and_registry(cfg.default_scope) as hooks:
            for hook in cfg.get('custom_hooks', []):
                hook = dict(hook)
                hook.pop('priority', None)  # the runner's, not the hook's
                hooks.build(hook)
        print('built', type(model).__name__)
''')


def test_every_config_is_in_a_group():
    assert sorted(c for group in GROUPS.values() for c in group) == CONFIGS
    assert len(CONFIGS) > 25 and () not in GROUPS  # every config imports what it names


@pytest.mark.parametrize('imports', sorted(GROUPS), ids=lambda i: '+'.join(i))
def test_configs_build_in_a_fresh_process(imports):
    configs = GROUPS[imports]
    proc = subprocess.run([sys.executable, '-c', BUILD, *configs], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    built = [line for line in proc.stdout.splitlines() if line.startswith('built ')]
    assert len(built) == len(configs)

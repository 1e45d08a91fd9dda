"""env_check: what it reports, and that it names what is wrong and exits 1."""
import importlib.metadata

import numpy as np

from mnext_det import env_check


def test_a_cpu_build_of_mmcv_is_a_problem_only_where_a_gpu_is_visible():
    assert env_check.cuda_ops_problem(False, 'not available') is None
    assert env_check.cuda_ops_problem(True, '12.4') is None
    assert env_check.cuda_ops_problem(False, '12.4') is None
    problem = env_check.cuda_ops_problem(True, 'not available')
    assert 'built without CUDA' in problem and 'FORCE_CUDA=1' in problem


def test_wrong_and_missing_packages_are_named_and_exit_1(monkeypatch, capsys):
    monkeypatch.setattr(env_check, 'REQUIRED', [('numpy', '0.0.1'), ('no_such_package_xyz', '')])
    lines, problems = env_check.collect()
    assert f'numpy: {np.__version__}' in lines and 'no_such_package_xyz: MISSING' in lines
    assert problems[0] == (f'numpy is {np.__version__}, mnext-det needs 0.0.1. '
                           'Run `make install`.')
    assert problems[1].startswith('no_such_package_xyz does not import')
    assert env_check.main() == 1
    out = capsys.readouterr().out
    assert '\nPROBLEMS:\n- numpy is' in out and 'environment OK' not in out


def test_this_environment_is_ok(capsys):
    assert env_check.main() == 0
    out = capsys.readouterr().out
    assert 'mmcv compiled ops: OK (CUDA: ' in out and out.rstrip().endswith('environment OK')


def test_a_module_without_version_reports_its_distributions(monkeypatch):
    # pycocotools has no __version__ (2.0.x)
    monkeypatch.setattr(env_check, 'REQUIRED', [('pycocotools', '')])
    lines, problems = env_check.collect()
    assert f'pycocotools: {importlib.metadata.version("pycocotools")}' in lines and not problems

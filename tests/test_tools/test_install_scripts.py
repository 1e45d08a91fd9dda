"""tools/install.sh, tools/requirements.sh and tools/gpu/*.sh: bad inputs are named
before anything is installed, and the pins agree with what the package checks."""
import os
import os.path as osp
import re
import shutil
import subprocess

from mnext_det.env_check import REQUIRED

from ..conftest import ROOT


def bash(*args, cwd=ROOT, env=None):
    return subprocess.run(['bash', *args], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ, **(env or {})), timeout=60)


def requirements(name):
    """The bash array or variable ``name`` of tools/requirements.sh."""
    out = bash('-c', f'source tools/requirements.sh && printf "%s\\n" "${{{name}[@]}}"')
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_offline_install_names_a_missing_wheel_folder(tmp_path):
    res = bash('tools/install.sh', env=dict(MNEXT_WHEELS=str(tmp_path / 'nowhere')))
    assert res.returncode == 1
    assert f'MNEXT_WHEELS={tmp_path / "nowhere"} is not a folder' in res.stderr
    assert '==> [install] 1/' not in res.stdout


def test_download_wheels_names_a_bad_python_version():
    res = bash('tools/gpu/download_wheels.sh', '.whl', 'py312')
    assert res.returncode == 2
    assert "PYTHON_VERSION must look like 3.12, got 'py312'" in res.stderr


def test_gpu_checks_name_a_bad_stage_and_a_missing_wheel_folder(tmp_path):
    res = bash('tools/gpu/run_checks.sh', 'build')
    assert res.returncode == 2 and "unknown stage 'build'" in res.stderr
    # a checkout without .whl/: the install stage stops at once, saying what to run first
    os.makedirs(tmp_path / 'tools' / 'gpu')
    shutil.copy(osp.join(ROOT, 'tools', 'gpu', 'run_checks.sh'), tmp_path / 'tools' / 'gpu')
    res = bash(str(tmp_path / 'tools' / 'gpu' / 'run_checks.sh'), 'install', cwd=tmp_path,
               env=dict(OUT=str(tmp_path / 'out')))
    assert res.returncode == 1
    assert 'no .whl/: run tools/gpu/download_wheels.sh' in res.stdout
    assert 'run_checks.sh install: FAILED' in res.stdout
    assert 'no .whl/' in (tmp_path / 'out' / 'install.log').read_text()


def test_pins_agree_with_the_environment_check_and_setup_py():
    pins = dict(REQUIRED)
    assert requirements('MMCV_VERSION') == [pins['mmcv']]
    assert requirements('MMDET_VERSION') == [pins['mmdet']]
    assert f'mmdet=={pins["mmdet"]}' in requirements('DET_REQS')
    setup = open(osp.join(ROOT, 'setup.py')).read()
    assert f"'mmdet=={pins['mmdet']}'" in setup
    mmengine = re.search(r"'(mmengine[^']*)'", setup).group(1)
    assert requirements('MMENGINE_SPEC') == [mmengine]


_ALL_READY = 'READY torch mmcv mmdet tools mnext_det tcmalloc kernel'
# stands in for the interpreter: logs every call; the probe (python - ...) prints what
# FAKE_PROBE holds, a second environment check says so and exits with FAKE_STATUS
_FAKE_PYTHON = '''#!/usr/bin/env bash
echo "$*" >> "$FAKE_LOG"
case "$1" in
  -) cat > /dev/null; printf '%b\\n' "$FAKE_PROBE" ;;
  -m) [ "$2" = mnext_det.env_check ] && { echo 'second check'; exit "$FAKE_STATUS"; } ;;
esac
exit 0
'''


def _install_with(tmp_path, probe, status=0):
    python = tmp_path / 'python'
    python.write_text(_FAKE_PYTHON)
    python.chmod(0o755)
    log = tmp_path / 'calls.log'
    log.unlink(missing_ok=True)
    res = bash('tools/install.sh', env=dict(PYTHON=str(python), FAKE_LOG=str(log),
                                            FAKE_PROBE=probe, FAKE_STATUS=str(status)))
    return res, log.read_text().splitlines()


def test_install_with_nothing_missing_prints_the_probes_check_in_one_interpreter(tmp_path):
    # a library's line before the probe's own does not hide what is ready
    res, calls = _install_with(tmp_path,
                               'a banner\\n' + _ALL_READY + '\\ntorch: 2\\nenvironment OK')
    assert res.returncode == 0, res.stderr
    assert [c.split()[0] for c in calls if not c.startswith('-m pip')] == ['-']
    assert 'already installed from' in res.stdout and 'second check' not in res.stdout
    assert res.stdout.rstrip().endswith('torch: 2\nenvironment OK')


def test_install_runs_the_check_again_when_the_probes_check_did_not_pass(tmp_path):
    res, calls = _install_with(tmp_path, _ALL_READY + '\\nPROBLEMS:\\n- mmcv is 2.0', status=1)
    assert res.returncode == 1
    assert '-m mnext_det.env_check' in calls and 'second check' in res.stdout
    assert 'FAILED at step: environment check' in res.stderr
    # and so does a probe that found something missing (here: all but the kernel)
    res, calls = _install_with(tmp_path, _ALL_READY.replace(' kernel', ''))
    assert res.returncode == 0 and '-m mnext_det.env_check' in calls

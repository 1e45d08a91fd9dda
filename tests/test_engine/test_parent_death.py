"""A training started by the demo or a study ends with its parent (a kill -9
of tools/study.py left its trainings running as orphans)."""
import os
import subprocess
import sys
import time

import pytest

from mnext_det.engine.parent_death import PARENT_ENV

pytestmark = pytest.mark.skipif(not sys.platform.startswith('linux'), reason='prctl: Linux')

_CHILD = ('from mnext_det.engine.parent_death import exit_with_parent\n'
          'exit_with_parent()\n'
          'import time\n'
          'print("ready", flush=True)\n'
          'time.sleep(60)\n')
_PARENT = ('import os, subprocess, sys, time\n'
           'from mnext_det.engine.parent_death import child_env\n'
           f'child = subprocess.Popen([sys.executable, "-c", {_CHILD!r}],\n'
           '                         env=child_env(os.environ))\n'
           'print(child.pid, flush=True)\n'
           'time.sleep(60)\n')


def _alive(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'  # a zombie has ended
    except FileNotFoundError:
        return False


def test_a_child_ends_when_its_parent_is_killed():
    parent = subprocess.Popen([sys.executable, '-c', _PARENT], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert parent.stdout.readline().strip() == 'ready'
        parent.kill()  # SIGKILL: no handler of the parent's runs
        parent.wait()
        deadline = time.time() + 10
        while _alive(child) and time.time() < deadline:
            time.sleep(0.1)
        assert not _alive(child)
    finally:
        parent.kill()


def test_a_child_whose_parent_is_gone_exits_at_once():
    code = 'from mnext_det.engine.parent_death import exit_with_parent\nexit_with_parent()\n'
    env = dict(os.environ, **{PARENT_ENV: '1'})  # not this process's parent
    run = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 1
    assert run.stderr.strip() == (f'error: the process that started this one ({PARENT_ENV}=1) '
                                  'has ended')
    del env[PARENT_ENV]
    assert subprocess.run([sys.executable, '-c', code], env=env, timeout=60).returncode == 0

"""engine.allocator: which environment starts a process under tcmalloc, and
the re-execution that does it."""
import os
import subprocess
import sys

import pytest

from mnext_det.engine.allocator import ALLOCATOR_ENV, find_tcmalloc, tcmalloc_env

_PROBE = ('import os; from mnext_det.engine.allocator import reexec_under_tcmalloc, '
          'loaded_allocator; pid = os.getpid(); reexec_under_tcmalloc(); '
          'print(loaded_allocator(), pid == os.getpid())')


def _fake_conda(tmp_path, content: bytes = b'') -> str:
    lib = tmp_path / 'lib'
    lib.mkdir()
    (lib / 'libtcmalloc_minimal.so.4').write_bytes(content)
    return str(tmp_path)


def _probe(env: dict, code: str = _PROBE) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          env=env, timeout=120, check=True)


def test_env_preloads_the_conda_library_first_and_keeps_other_preloads(tmp_path):
    prefix = _fake_conda(tmp_path)
    env = tcmalloc_env({'CONDA_PREFIX': prefix, 'LD_PRELOAD': '/opt/libother.so'})
    assert env['LD_PRELOAD'] == f'{prefix}/lib/libtcmalloc_minimal.so.4:/opt/libother.so'
    assert int(env['TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD']) > 2 ** 30
    assert find_tcmalloc({'CONDA_PREFIX': prefix}) == f'{prefix}/lib/libtcmalloc_minimal.so.4'


@pytest.mark.parametrize('env', [{ALLOCATOR_ENV: 'system'},
                                 {'LD_PRELOAD': '/usr/lib/libjemalloc.so.2'}],
                         ids=['opted-out', 'user-preloaded-allocator'])
def test_env_left_alone(tmp_path, env):
    env = dict(env, CONDA_PREFIX=_fake_conda(tmp_path))
    assert tcmalloc_env(env) == env


def test_bad_choice_names_the_variable():
    with pytest.raises(ValueError, match=f'{ALLOCATOR_ENV}=.tc.*auto, system'):
        tcmalloc_env({ALLOCATOR_ENV: 'tc'})


def test_a_process_started_without_a_preload_runs_on_the_system_malloc():
    env = {k: v for k, v in os.environ.items() if k not in (ALLOCATOR_ENV, 'LD_PRELOAD')}
    out = _probe(env, 'from mnext_det.engine.allocator import loaded_allocator; '
                      'print(loaded_allocator())')
    assert out.stdout.strip() == 'system'


@pytest.mark.skipif(find_tcmalloc() is None, reason='no tcmalloc on this machine')
def test_reexec_runs_the_same_process_under_tcmalloc():
    env = {k: v for k, v in os.environ.items() if k not in (ALLOCATOR_ENV, 'LD_PRELOAD')}
    assert _probe(env).stdout.strip() == 'tcmalloc True'
    assert _probe(dict(env, **{ALLOCATOR_ENV: 'system'})).stdout.strip() == 'system True'


def test_reexec_tries_once_when_the_preload_does_not_take(tmp_path):
    """A file that is no library: the loader ignores it, and the process goes
    on under the system malloc instead of re-executing again and again."""
    env = {k: v for k, v in os.environ.items() if k not in (ALLOCATOR_ENV, 'LD_PRELOAD')}
    env['CONDA_PREFIX'] = _fake_conda(tmp_path, b'not a shared library')
    out = _probe(env)
    assert out.stdout.strip() == 'system True'
    assert out.stderr.count('libtcmalloc_minimal.so.4') == 1  # the loader's one complaint

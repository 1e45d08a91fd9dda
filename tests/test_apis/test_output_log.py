"""output_to_log in a child process: pytest's own capture replaces sys.stdout,
so only a process of its own shows what the console gets."""
import subprocess
import sys
import textwrap

_HEAD = """
import os, sys, warnings
from mnext_det.apis.output_log import output_to_log
path = sys.argv[1]
"""


def _run(body: str, log_path) -> subprocess.CompletedProcess:
    code = _HEAD + textwrap.dedent(body)
    return subprocess.run([sys.executable, '-c', code, str(log_path)], capture_output=True,
                          text=True, timeout=60)


def test_output_goes_to_the_log_and_the_console_comes_back(tmp_path):
    path = tmp_path / 'sub' / 'eval.log'
    proc = _run("""
        print('before')
        bound = sys.stdout  # bound before the switch, like mmengine's ProgressBar default
        with output_to_log(path):
            print('python print')
            bound.write('bound stream\\n')
            os.write(1, b'c-level stdout\\n')
            os.write(2, b'c-level stderr\\n')
            warnings.warn('a library warning')
        print('after')
        """, path)
    assert proc.returncode == 0, proc.stderr
    text = path.read_text()
    for line in ('python print', 'bound stream', 'c-level stdout', 'c-level stderr',
                 'a library warning'):
        assert line in text
        assert line not in proc.stdout + proc.stderr
    assert proc.stdout == 'before\nafter\n'
    assert proc.stderr == ''


def test_a_failure_shows_the_log_tail_and_propagates(tmp_path):
    path = tmp_path / 'eval.log'
    proc = _run("""
        with output_to_log(path):
            for i in range(50):
                print(f'line {i}')
            raise ValueError('bad checkpoint')
        """, path)
    assert proc.returncode == 1
    assert 'line 49\n' in proc.stderr and 'line 9\n' not in proc.stderr  # the last 40 lines
    assert f'(the last 40 lines of {path})' in proc.stderr
    assert proc.stderr.rstrip().endswith('ValueError: bad checkpoint')  # the traceback after


def test_ctrl_c_propagates_without_the_tail(tmp_path):
    path = tmp_path / 'eval.log'
    proc = _run("""
        try:
            with output_to_log(path):
                print('inside')
                raise KeyboardInterrupt
        except KeyboardInterrupt:
            print('interrupted')
        """, path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == 'interrupted\n'
    assert 'inside' not in proc.stderr
    assert path.read_text() == 'inside\n'

"""tests/tool_main.py: a tool's ``__main__`` in this process gives the status
and output a user would see and leaves the test process as it was."""
import os

import torch

from .tool_main import run_main


def test_run_main_returns_status_and_output_and_restores_the_process(tmp_path):
    script = tmp_path / 'tool.py'
    script.write_text(
        'import os, sys, torch\n'
        "print('args', sys.argv[1:], os.getcwd())\n"
        "print('allocator', os.environ['MNEXT_ALLOCATOR'], file=sys.stderr)\n"
        "os.environ['LEFT_BEHIND'] = '1'\n"
        'torch.set_num_threads(3)\n'
        "os.chdir('/')\n"
        "sys.exit(int(sys.argv[1]) if sys.argv[1].isdigit() else sys.argv[1])\n")
    before = os.getcwd(), torch.get_num_threads(), os.environ.get('MNEXT_ALLOCATOR')
    run = run_main(str(script), 2, 'x', cwd=tmp_path)
    assert run.returncode == 2
    assert run.stdout == f"args ['2', 'x'] {tmp_path}\n" and run.stderr == 'allocator system\n'
    assert (os.getcwd(), torch.get_num_threads(), os.environ.get('MNEXT_ALLOCATOR')) == before
    assert 'LEFT_BEHIND' not in os.environ
    assert run_main(str(script), 0).returncode == 0
    message = run_main(str(script), 'error: named')
    assert message.returncode == 1 and message.stderr.endswith('error: named\n')

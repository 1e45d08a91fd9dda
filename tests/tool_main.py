"""A tool's ``__main__`` run in the test's own process.

For checks that end before any work (a bad argument, a refused file): there,
starting a Python process costs more than the check itself (5-8 s of torch,
mmengine and mmdet imports on a 2-core CPU, about 100 such starts in the
suite). Every tool keeps at least one test that starts it as a user does.
"""
import contextlib
import io
import os
import runpy
import sys
from dataclasses import dataclass
from typing import Optional

import torch

from mnext_det.engine.allocator import ALLOCATOR_ENV


@dataclass
class ToolRun:
    """What a user would see: exit status, stdout and stderr."""
    returncode: int
    stdout: str
    stderr: str


def run_main(script: str, *args: object, cwd: Optional[str] = None) -> ToolRun:
    """Run ``python script args`` as ``__main__`` in this process, in ``cwd``.

    ``sys.argv``, the working directory, torch's thread count and the
    environment are restored afterwards. The allocator is pinned to glibc's
    (``MNEXT_ALLOCATOR=system``) so that the tool never re-executes, which
    would replace the test process. An exception the tool does not turn into
    an exit status propagates, as a traceback would end the real process."""
    out, err = io.StringIO(), io.StringIO()
    argv, workdir, threads, environ = sys.argv, os.getcwd(), torch.get_num_threads(), \
        dict(os.environ)
    sys.argv = [script, *map(str, args)]
    os.environ[ALLOCATOR_ENV] = 'system'
    code = 0
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                runpy.run_path(script, run_name='__main__')
            except SystemExit as e:
                if isinstance(e.code, str):  # the interpreter prints it, status 1
                    print(e.code, file=sys.stderr)
                    code = 1
                else:
                    code = e.code or 0
    finally:
        sys.argv = argv
        os.chdir(workdir)
        torch.set_num_threads(threads)
        os.environ.clear()
        os.environ.update(environ)
    return ToolRun(code, out.getvalue(), err.getvalue())

"""Send a stretch of this process's output to a log file: what libraries
print (pycocotools' summaries, mmengine's progress bars, warnings) goes to the
file, not the console, at the file-descriptor level, so C code's writes and
streams bound before the switch follow too."""
import os
import os.path as osp
import sys
from contextlib import contextmanager
from typing import Iterator

__all__ = ['TAIL_LINES', 'output_to_log']

TAIL_LINES = 40  # log lines shown when a stage or a training fails


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        stream.flush()


@contextmanager
def output_to_log(path: str) -> Iterator[None]:
    """Write stdout and stderr (file descriptors 1 and 2) to ``path``
    (overwritten) while the block runs, then restore them. If the block
    raises anything but ``KeyboardInterrupt``, the log's last lines are
    printed to stderr, with its path, before the exception propagates."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    _flush()
    saved = (os.dup(1), os.dup(2))
    try:
        with open(path, 'w') as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            try:
                yield
            finally:
                _flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
    except KeyboardInterrupt:
        raise
    except BaseException:
        with open(path) as log:
            tail = log.readlines()[-TAIL_LINES:]
        sys.stderr.write(''.join(tail) + f'(the last {len(tail)} lines of {path})\n')
        raise
    finally:
        for fd in saved:
            os.close(fd)

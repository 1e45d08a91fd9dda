"""How every tool ends on a user error: one ``error: ...`` line on stderr and
exit status 2; any other exception is a bug and keeps its traceback.

User errors are what the package raises for bad input before work starts: a
missing file (``FileNotFoundError``), a bad argument, config key, dataset or
checkpoint (``ValueError`` and its subclasses such as
``CheckpointMismatchError``, ``CorruptCheckpointError``, ``DataCheckError``)
and a checkpoint or pickle that would run code on load
(``UnsafeCheckpointError``, an ``UnpicklingError``)."""
import pickle
import sys
from typing import Callable, NoReturn, Optional

__all__ = ['USER_ERRORS', 'USER_ERROR_EXIT', 'error_line', 'run_tool']

USER_ERRORS = (FileNotFoundError, NotADirectoryError, ValueError, pickle.UnpicklingError)
USER_ERROR_EXIT = 2


def error_line(error: BaseException) -> str:
    """``error: <message>`` on one line (a multi-line message joined by '; ')."""
    return 'error: ' + '; '.join(part.strip() for part in str(error).splitlines() if part.strip())


def run_tool(main: Callable[[], Optional[int]]) -> NoReturn:
    """Exit with ``main()``'s status (0 for None), or 2 with :func:`error_line`
    on a user error."""
    try:
        code = main()
    except USER_ERRORS as e:
        print(error_line(e), file=sys.stderr)
        sys.exit(USER_ERROR_EXIT)
    sys.exit(code or 0)

"""Leaving a finished eval without tearing the interpreter down.

Once torch and transformers are imported, Python's own shutdown (module teardown and the last
collection of a few hundred thousand objects) takes 0.6-0.7 s of a one-item eval's ~5.5 s on a 2-core
machine, and writes nothing: an eval has fsynced and closed its samples and replaced run.json
atomically before its command returns. A command whose outputs are all written that way calls
`allow()`; the entry point then runs the atexit handlers (logging, weakref finalizers, temporary
folders), flushes stdout and stderr, and ends the process with its exit code. Where a child process is
still alive (a vLLM engine core, say) the normal shutdown runs, so nothing is orphaned, and so it does
under a profiler or tracer, which writes its results after the program returns.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys

_allowed = False


def allow() -> None:
    """This command's outputs are on disk: the process may end without interpreter teardown."""
    global _allowed
    _allowed = True


def _observed() -> bool:
    """A profiler or tracer (cProfile, a debugger, coverage) writes its results after the program
    returns, which an immediate end would lose."""
    return sys.getprofile() is not None or sys.gettrace() is not None


def _no_children() -> bool:
    try:
        import psutil
    except ImportError:  # cannot tell: tear down as usual
        return False
    return not psutil.Process().children()


def leave(code: object) -> None:
    """End the process now with SystemExit's `code` when a command allowed it and nothing depends on
    teardown; return (and let the caller exit as usual) otherwise, and always for a message, which
    Python's own exit prints."""
    if code is None:
        code = 0
    if not isinstance(code, int) or not _allowed or _observed() or not _no_children():
        return
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken pipe: nothing more to say
            stream.flush()
    os._exit(code)

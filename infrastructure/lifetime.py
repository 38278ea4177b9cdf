"""Child processes that end with the `agentmem serve` that started them, even when it is killed with SIGKILL."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent(parent_pid: int) -> None:
    """Asks Linux to send this process SIGTERM when its parent dies; exits at once if the parent is already gone.

    A serve killed with SIGKILL runs no cleanup: without this its projection worker (and API workers) would go on
    writing to a database nobody stops, and hold connections a restarted serve then has to share.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        raise SystemExit(0)


def die_with_spawning_parent() -> None:
    """die_with_parent for a process started by multiprocessing (uvicorn's API workers); nothing in the parent."""
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid is not None:
        die_with_parent(parent.pid)

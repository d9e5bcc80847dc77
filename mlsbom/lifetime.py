"""Child processes end with mlsbom, and signals end mlsbom with their own exit codes.

Three layers, so no worker or hashing child outlives the scan that started it:
- the parent stops every child it started when it exits (`track` + an exit handler), including
  after SIGINT or SIGTERM, which `exit_on_signals` turns into a normal exit (130, 143) instead of
  click's "Aborted!" with exit 1 (1 means "flagged") or a kill that skips exit handlers;
- a child asks the kernel to kill it when its parent dies (`PR_SET_PDEATHSIG`, Linux), which also
  covers a parent killed by SIGKILL or a crash of the interpreter;
- elsewhere a child polls its parent id and exits once it changes (the parent is gone).
Children ignore SIGINT: Ctrl-C reaches the whole process group, and the parent decides.

Stdlib only and light: the hashing child imports it before it hashes a byte.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs 10 ms here
if TYPE_CHECKING:
    from collections.abc import Callable
    from subprocess import Popen
    from types import FrameType
    from typing import Any

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_POLL_SECONDS = 0.5
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + signal number, as shells report

_RUNNING: dict[int, Callable[[], None]] = {}  # children not yet waited for: pid -> stop


def track(pid: int, stop: Callable[[], None]) -> None:
    """Remember a running child and how to stop it (kill and reap) should mlsbom exit first."""
    _RUNNING[pid] = stop


def track_popen(proc: Popen[Any]) -> None:
    """`track` a subprocess.Popen child: killed and reaped if mlsbom exits first."""

    def stop() -> None:
        proc.kill()
        proc.wait()
        untrack(proc.pid)

    track(proc.pid, stop)


def untrack(pid: int) -> None:
    _RUNNING.pop(pid, None)


@atexit.register
def stop_children() -> None:
    """Stop children whose answers were never collected (an error, a usage mistake, Ctrl-C):
    a multi-gigabyte file must not go on hashing or being analysed after mlsbom has exited."""
    for stop in list(_RUNNING.values()):
        stop()


def exit_on_signals() -> None:
    """SIGINT and SIGTERM raise SystemExit(130 / 143) in the main thread, so `finally` blocks
    and exit handlers (which stop the children) run and the exit code says what happened."""

    def handler(signum: int, frame: FrameType | None) -> None:
        for sig in EXIT_CODES:  # a second signal while exiting must not interrupt the clean-up
            signal.signal(sig, signal.SIG_IGN)
        raise SystemExit(EXIT_CODES[signal.Signals(signum)])

    for sig in EXIT_CODES:
        if signal.getsignal(sig) is not signal.SIG_IGN:  # `nohup` and friends keep theirs
            signal.signal(sig, handler)


def die_with_parent(parent: int) -> None:
    """In a child: end when `parent` ends (death signal on Linux, a polling thread elsewhere),
    and leave SIGINT to the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    armed = sys.platform.startswith("linux") and _death_signal()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch, args=(parent,), daemon=True).start()


def _death_signal() -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        threading.Event().wait(_POLL_SECONDS)
    os._exit(1)

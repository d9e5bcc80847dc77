"""The process executor (`--jobs N`): local worker processes fed JSON lines over pipes.

Each of N threads owns one `mlsbom.executors.worker` process and feeds it files one at a time;
a file whose worker cannot start, dies or answers nonsense is analysed in this process instead
(running out of memory there is a finding), so the output matches the serial executor.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence

from mlsbom.analyse import analyse_file
from mlsbom.executors.base import AllowanceFor, FileWork
from mlsbom.executors.serial import SerialExecutor
from mlsbom.lifetime import track_popen, untrack
from mlsbom.models import ArtifactResult
from mlsbom.serial import SerialError
from mlsbom.walk import WalkItem
from mlsbom.wire import answer_from_json, config_to_json, item_to_json, portable

WORKER_MODULE = "mlsbom.executors.worker"

_DONE = -1


class ProcessExecutor:
    """Up to `jobs` worker processes; files that only this process can open stay here."""

    name = "processes"

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs

    def run(
        self, work: FileWork, items: Sequence[WalkItem], allowance: AllowanceFor
    ) -> Iterator[tuple[int, list[ArtifactResult]]]:
        if len(items) < 2 or not all(portable(i) for i in items):  # hub files: read here
            yield from SerialExecutor().run(work, items, allowance)
            return
        todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for n in range(len(items)):
            todo.put(n)
        out: queue.SimpleQueue[tuple[int, list[ArtifactResult]]] = queue.SimpleQueue()
        header = (
            json.dumps(config_to_json(work.config, work.rules, cache=work.store is not None)) + "\n"
        )

        def here(n: int) -> list[ArtifactResult]:
            left = allowance(n)
            store = None if left else work.store
            return analyse_file(items[n], work.config, work.rules, store, left)

        def serve() -> None:
            try:
                _serve(items, todo, out, header, allowance, here)
            finally:
                out.put((_DONE, []))

        threads = [threading.Thread(target=serve) for _ in range(min(self.jobs, len(items)))]
        for t in threads:
            t.start()
        running = len(threads)
        answered = set()
        while running:
            n, results = out.get()
            if n == _DONE:
                running -= 1
                continue
            answered.add(n)
            yield n, results
        for t in threads:
            t.join()
        for n in range(len(items)):  # files no thread took (none started): analysed here
            if n not in answered:
                yield n, here(n)

    def close(self) -> None:
        return None


def _serve(
    items: Sequence[WalkItem],
    todo: queue.SimpleQueue[int],
    out: queue.SimpleQueue[tuple[int, list[ArtifactResult]]],
    header: str,
    allowance: AllowanceFor,
    here: Callable[[int], list[ArtifactResult]],
) -> None:
    """One thread: start a worker (or none), then take files until the queue is empty."""
    proc: subprocess.Popen[str] | None
    try:
        proc = subprocess.Popen(  # noqa: S603 - our own worker; it ends with us (lifetime.py)
            [sys.executable, "-m", WORKER_MODULE, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,  # Ctrl-C reaches us, and we stop it
        )
    except (OSError, MemoryError):  # no worker (fork refused under the cap): files stay here
        proc = None
    if proc is not None:
        assert proc.stdin is not None and proc.stdout is not None
        track_popen(proc)
    try:
        if proc is not None and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.write(header)
        while True:
            try:
                n = todo.get_nowait()
            except queue.Empty:
                break
            if proc is None or proc.poll() is not None:
                out.put((n, here(n)))
                continue
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps(item_to_json(items[n], allowance(n))) + "\n")
                proc.stdin.flush()
                out.put((n, answer_from_json(proc.stdout.readline(), items[n])))
            except (OSError, ValueError, SerialError, MemoryError):
                out.put((n, here(n)))  # MemoryError here: a finding from analyse_file
    finally:
        if proc is not None:
            with contextlib.suppress(OSError):  # a worker killed at its cap: nothing to flush
                assert proc.stdin is not None
                proc.stdin.close()
            proc.wait()
            untrack(proc.pid)

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


class _Worker:
    """One worker process serving one header (configuration and rules)."""

    def __init__(self, header: str) -> None:
        self.header = header
        self.proc: subprocess.Popen[str] = subprocess.Popen(  # noqa: S603 - our own worker
            [sys.executable, "-m", WORKER_MODULE, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,  # Ctrl-C reaches us, and we stop it (lifetime.py)
        )
        track_popen(self.proc)
        assert self.proc.stdin is not None
        self.proc.stdin.write(header)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def ask(self, line: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line)
        self.proc.stdin.flush()
        return self.proc.stdout.readline()

    def stop(self) -> None:
        with contextlib.suppress(OSError):  # a worker killed at its cap: nothing to flush
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        self.proc.wait()
        untrack(self.proc.pid)


class ProcessExecutor:
    """Up to `jobs` worker processes, kept between runs (a sweep's targets reuse them); files
    that only this process can open stay here."""

    name = "processes"

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()

    def _checkout(self, header: str) -> _Worker | None:
        """An idle worker for `header`, or a new one (None when none can start)."""
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                break
            if worker.alive and worker.header == header:
                return worker
            worker.stop()
        try:
            return _Worker(header)
        except (OSError, MemoryError):  # fork refused under the cap: files stay here
            return None

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().stop()
            except queue.Empty:
                return

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

        def serve(worker: _Worker | None) -> None:
            try:
                worker = _serve(items, todo, out, worker, allowance, here)
            finally:
                if worker is not None and worker.alive:
                    self._idle.put(worker)  # in step with its pipes: the next run reuses it
                elif worker is not None:
                    worker.stop()
                out.put((_DONE, []))

        # started from this thread, not the serving ones: a child's parent-death signal follows
        # the thread that started it, and these workers outlive this run's threads
        workers = [self._checkout(header) for _ in range(min(self.jobs, len(items)))]
        threads = [threading.Thread(target=serve, args=(w,)) for w in workers]
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


def _serve(
    items: Sequence[WalkItem],
    todo: queue.SimpleQueue[int],
    out: queue.SimpleQueue[tuple[int, list[ArtifactResult]]],
    worker: _Worker | None,
    allowance: AllowanceFor,
    here: Callable[[int], list[ArtifactResult]],
) -> _Worker | None:
    """One thread: take files until the queue is empty, through `worker` while it lives; a
    file it fails on (died, nonsense) is analysed here, as serially, and that worker is not
    asked again (its pipes may be out of step). Returns the worker if it is still usable."""
    while True:
        try:
            n = todo.get_nowait()
        except queue.Empty:
            return worker
        if worker is None or not worker.alive:
            out.put((n, here(n)))
            continue
        try:
            line = json.dumps(item_to_json(items[n], allowance(n))) + "\n"
            out.put((n, answer_from_json(worker.ask(line), items[n])))
        except (OSError, ValueError, SerialError, MemoryError):
            worker.stop()
            worker = None
            out.put((n, here(n)))  # MemoryError here: a finding from analyse_file

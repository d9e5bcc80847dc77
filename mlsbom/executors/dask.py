"""The Dask executor (`--executor dask` or `dask://HOST:PORT`): one task per walked file.

Tasks carry JSON text (`mlsbom.wire`) both ways: a worker receives a file's path (shared
storage) or its hub coordinates (it reads by range itself) and answers with dumped results,
never a pickle of analysed content. A task whose worker dies is retried by the scheduler; one
that still fails becomes an `internal-error` fact on that file, so nothing is dropped and the
exit code shows it. Needs the `mlsbom[dask]` extra (`distributed`).
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from mlsbom.errors import MlsbomError
from mlsbom.executors.base import AllowanceFor, FileWork
from mlsbom.executors.serial import SerialExecutor
from mlsbom.facts import FormatDetected, InternalError
from mlsbom.models import ArtifactResult, Format
from mlsbom.serial import SerialError
from mlsbom.walk import WalkItem
from mlsbom.wire import analyse_json, answers_from_json, config_to_json, item_to_json, remote_ok

RETRIES = 2  # a task that failed, or whose worker died, runs again this often, then is a finding
BATCH_FILES = 16  # small files sent to a worker together
BATCH_BYTES = 64 << 20

Task = Callable[[str, str], str]


def scheduler_address(spec: str) -> str | None:
    """`dask` (a local cluster: None), or the scheduler of `dask://HOST:PORT` / `tcp://…`."""
    if spec == "dask":
        return None
    for scheme in ("dask://", "tcp://", "tls://"):
        if spec.startswith(scheme) and len(spec) > len(scheme):
            rest = spec[len(scheme) :]
            return ("tcp://" if scheme == "dask://" else scheme) + rest
    raise MlsbomError(
        f"--executor {spec!r} is not understood",
        hint="use local, dask (a local cluster), or dask://HOST:PORT for a running scheduler",
    )


class DaskExecutor:
    """Files as tasks on a Dask cluster: a local one with `workers` processes, or `address`."""

    name = "dask"

    def __init__(self, address: str | None, workers: int, task: Task = analyse_json) -> None:
        try:
            distributed: Any = importlib.import_module("distributed")
        except ImportError:
            raise MlsbomError(
                "--executor dask needs the dask extra",
                hint="pip install 'mlsbom[dask]'",
            ) from None
        self._cluster: Any = None
        if address is None:
            dask: Any = importlib.import_module("dask")
            with dask.config.set({"distributed.scheduler.allowed-failures": RETRIES}):
                self._cluster = distributed.LocalCluster(
                    n_workers=max(1, workers),
                    threads_per_worker=1,  # analysers are not shared between threads
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",  # loopback, any free port
                    silence_logs=logging.ERROR,
                )
            self.client: Any = distributed.Client(self._cluster)
        else:
            try:
                self.client = distributed.Client(address, timeout="10s")
            except OSError as exc:
                raise MlsbomError(f"cannot reach the Dask scheduler {address}: {exc}") from None
        self._task = task

    def run(
        self, work: FileWork, items: Sequence[WalkItem], allowance: AllowanceFor
    ) -> Iterator[tuple[int, list[ArtifactResult]]]:
        as_completed: Any = importlib.import_module("distributed").as_completed
        header = json.dumps(config_to_json(work.config, work.rules, cache=False))
        here = [n for n, item in enumerate(items) if not remote_ok(item)]
        batches = _batches(items, [n for n, item in enumerate(items) if remote_ok(item)])
        docs = {n: item_to_json(items[n], allowance(n)) for batch in batches for n in batch}
        pending = {self._submit(header, batch, docs): batch for batch in batches}
        while pending:
            failed: list[int] = []
            done = as_completed(list(pending), with_results=True, raise_errors=False)
            for group in done.batches():  # answers gathered in groups, not a round trip each
                for future, answer in group:
                    batch = pending.pop(future)
                    try:
                        answers = _read(answer, [items[n] for n in batch])
                    except _Lost as lost:
                        if len(batch) > 1:  # the culprit is found alone, the others still pass
                            failed.extend(batch)
                            continue
                        answers = [[_lost(items[batch[0]], str(lost))]]
                    yield from zip(batch, answers, strict=True)
            pending = {self._submit(header, [n], docs): [n] for n in failed}
        if here:
            local = [items[n] for n in here]
            for m, results in SerialExecutor().run(work, local, lambda m: allowance(here[m])):
                yield here[m], results

    def _submit(self, header: str, batch: list[int], docs: Mapping[int, object]) -> Any:
        text = json.dumps([docs[n] for n in batch])
        return self.client.submit(self._task, header, text, pure=False, retries=RETRIES)

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


class _Lost(Exception):
    """A task's worker raised or kept dying, or its answer did not fit."""


def _batches(items: Sequence[WalkItem], chosen: list[int]) -> list[list[int]]:
    """Consecutive files grouped into tasks of up to BATCH_FILES files and BATCH_BYTES bytes,
    so small files do not pay a task's overhead each and large ones still spread out."""
    batches: list[list[int]] = []
    size = 0
    for n in chosen:
        grow = items[n].size or 0
        if batches and len(batches[-1]) < BATCH_FILES and size + grow <= BATCH_BYTES:
            batches[-1].append(n)
            size += grow
        else:
            batches.append([n])
            size = grow
    return batches


def _read(answer: object, items: list[WalkItem]) -> list[list[ArtifactResult]]:
    """A task's answers, or _Lost when its worker raised or kept dying (KilledWorker)."""
    if isinstance(answer, BaseException):
        raise _Lost(f"{type(answer).__name__}: {answer}"[:300])
    try:
        if not isinstance(answer, str):
            raise TypeError(f"a {type(answer).__name__}, not JSON text")
        return answers_from_json(answer, items)
    except (SerialError, ValueError, TypeError) as exc:
        raise _Lost(f"the worker's answer was unreadable: {exc}") from None


def _lost(item: WalkItem, why: str) -> ArtifactResult:
    """The file's result when no worker could analyse it: unsafe until scanned."""
    facts = (
        FormatDetected(Format.UNKNOWN.value, False, False),
        InternalError(f"executor dask lost this file after {RETRIES} retries: {why}"),
    )
    return ArtifactResult(item.ref, Format.UNKNOWN, item.size, facts, ())

"""Executors: strategies that run the per-file analysis (`mlsbom.analyse.analyse_file`) over
many walked files. The engine receives one and never knows where the work happens.

- `serial`: in the scanning process, in walk order (`--jobs 1`);
- `processes`: local worker processes over JSON pipes (`--jobs N`);
- `dask`: tasks on a Dask cluster (the `mlsbom[dask]` extra; `--executor dask`).

Every executor answers each file exactly once, in any order, with the results `analyse_file`
would give for the allowance it asked for; a file it cannot run becomes a fail-closed result,
never a gap.
"""

from __future__ import annotations

from mlsbom.executors.base import AllowanceFor, Executor, FileWork

__all__ = ["AllowanceFor", "Executor", "FileWork", "executor_for"]


def executor_for(spec: str, jobs: int) -> Executor:
    """The executor `--executor`/`--jobs` name: `local` (serial, or processes when jobs > 1),
    `dask` (a local cluster of `jobs` workers) or `dask://HOST:PORT` (a running scheduler)."""
    if spec == "local":
        if jobs > 1:
            from mlsbom.executors.processes import ProcessExecutor

            return ProcessExecutor(jobs)
        from mlsbom.executors.serial import SerialExecutor

        return SerialExecutor()
    from mlsbom.executors.dask import DaskExecutor, scheduler_address

    return DaskExecutor(scheduler_address(spec), jobs)

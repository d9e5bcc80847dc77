"""Where `mlsbom scan` writes: one primary report and any number of extra ones, in one run.

`--format FMT [-o PATH]` is the primary report (stdout by default); `--sarif`, `--junit`,
`--markdown`, `--json` and `--text` each write that format to a file as well, from the same scan;
`--sbom` writes the BOM. Every path is checked before the scan starts (folder missing, not
writable, a directory, two options naming one file): exit 2 with a one-line message.
"""

from __future__ import annotations

import contextlib
import functools
import os
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from mlsbom.errors import MlsbomError
from mlsbom.reporters import OutputFormat
from mlsbom.reporters.escape import printable

_WHAT = {
    OutputFormat.TEXT: "the text report",
    OutputFormat.JSON: "the JSON report",
    OutputFormat.SARIF: "a SARIF report (GitHub code scanning)",
    OutputFormat.JUNIT: "a JUnit XML report (CI test results)",
    OutputFormat.MARKDOWN: "a Markdown summary (PR comment, job summary)",
}


def report_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add `--sarif PATH`, `--junit PATH`, ... and hand the command `reports={format: path}`."""

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        reports = {}
        for fmt in OutputFormat:
            path = kwargs.pop(f"report_{fmt.value}")
            if path is not None:
                reports[fmt] = path
        return func(reports=reports, **kwargs)

    for fmt in reversed(OutputFormat):
        wrapper = click.option(
            f"--{fmt.value}",
            f"report_{fmt.value}",
            type=click.Path(dir_okay=False, path_type=Path),
            envvar=f"MLSBOM_{fmt.value.upper()}_REPORT",
            help=f"Also write {_WHAT[fmt]} to FILE, from the same scan.",
        )(wrapper)
    return wrapper


def check_outputs(outputs: Iterable[tuple[str, Path | None]]) -> None:
    """Fail before any work if an output file cannot be written (one line, exit 2)."""
    seen: dict[str, str] = {}
    for option, path in outputs:
        if path is None:
            continue
        shown = printable(str(path))
        key = os.path.abspath(path)
        if key in seen:
            raise MlsbomError(f"{option} and {seen[key]} both write {shown}")
        seen[key] = option
        if path.is_dir():
            raise MlsbomError(f"{option} {shown}: is a directory")
        folder = path.absolute().parent
        if not folder.is_dir():
            raise MlsbomError(f"{option} {shown}: folder {printable(str(folder))} does not exist")
        _probe(option, path, shown)


def _probe(option: str, path: Path, shown: str) -> None:
    """Open the file for writing without changing it (root ignores permission bits)."""
    existed = path.exists()
    try:
        with open(path, "ab" if existed else "xb"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise MlsbomError(f"{option} {shown}: cannot write ({reason})") from None
    if not existed:
        with contextlib.suppress(OSError):
            path.unlink()


def write(text: str, output: Path | None) -> None:
    """The report to stdout, or to a file (exit 2 with the reason if that fails now)."""
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8", errors="backslashreplace")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise MlsbomError(f"cannot write {printable(str(output))}: {reason}") from None


def guarded(run: Callable[[], int], debug: bool) -> int:
    """Run a command; a tool error is one escaped message and exit 2 (--debug re-raises)."""
    try:
        return run()
    except MlsbomError as exc:
        if debug:
            raise
        hint = printable(exc.hint) if exc.hint else None  # names quoted in it are scanned text
        click.echo(MlsbomError(printable(exc.message), hint=hint).diagnostics(), err=True)
    except Exception as exc:  # the one place that turns a crash into exit 2
        if debug:
            raise
        click.echo(f"error: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("hint: re-run with --debug and report the traceback", err=True)
        traceback.print_exc(limit=0)
    return 2  # tool error


def check_executor(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """`--executor`: local, dask, or a scheduler address (a usage error otherwise)."""
    if value in ("local", "dask"):
        return value
    from mlsbom.executors.dask import scheduler_address

    try:
        scheduler_address(value)
    except MlsbomError as exc:
        raise click.BadParameter(exc.hint or str(exc)) from None
    return value


executor_option = click.option(
    "--executor",
    default="local",
    envvar="MLSBOM_EXECUTOR",
    show_default=True,
    callback=check_executor,
    help="Where files are analysed: local (this machine, --jobs processes), dask (a local Dask "
    "cluster of --jobs workers), or dask://HOST:PORT (a running scheduler); dask needs "
    "mlsbom[dask].",
)

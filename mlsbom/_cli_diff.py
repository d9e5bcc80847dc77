"""`mlsbom diff OLD NEW`: two BOMs, or two targets scanned now, compared for review."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from mlsbom._cli_output import guarded
from mlsbom.config import ScanConfig
from mlsbom.errors import MlsbomError
from mlsbom.models import Severity
from mlsbom.sbom.diff import BomView, diff, load_view, render_json, render_text, view

EXIT_PASS, EXIT_FAIL = 0, 1


def _view_of(item: str) -> BomView:
    """A BOM file (`*.json` holding a CycloneDX BOM) as it is, or any other target scanned now."""
    path = Path(item)
    if path.is_file() and path.suffix == ".json":
        return load_view(path)
    from mlsbom.engine import scan
    from mlsbom.policy import Policy
    from mlsbom.policy_file import discover, load_policy
    from mlsbom.rules import load_rules
    from mlsbom.speed import Speedups

    speed = Speedups.from_env()  # MLSBOM_NO_SPEEDUPS=1: the plain flow
    config = ScanConfig(hash_files=True)
    began, digests = speed.begin([item], config)
    rules = load_rules()
    found = discover()
    policy = load_policy(found, rules) if found else Policy()
    result = scan([item], config, rules, began, digests=digests, policy=policy)
    from mlsbom.sbom.render import render_sbom

    return view(json.loads(render_sbom(result, validator=speed.validator)))


@click.command("diff")
@click.argument("old")
@click.argument("new")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--fail-on",
    default="high",
    show_default=True,
    envvar="MLSBOM_FAIL_ON",
    help="Exit 1 when the change adds a finding at or above this severity.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for tool errors.")
def diff_command(old: str, new: str, fmt: str, fail_on: str, debug: bool) -> None:
    """Compare OLD and NEW (BOM files or targets): new and removed artefacts, changed digests,
    new findings, formats that newly run code, signature and licence changes; exit 1 when the
    change adds a finding at or above --fail-on."""

    def run() -> int:
        try:
            threshold = Severity.parse(fail_on)
        except ValueError:
            raise MlsbomError(f"--fail-on: unknown severity {fail_on!r}") from None
        result = diff(_view_of(old), _view_of(new))
        render = render_json if fmt == "json" else render_text
        click.echo(render(result, threshold), nl=False)
        return EXIT_FAIL if result.new_findings(threshold) else EXIT_PASS

    sys.exit(guarded(run, debug))

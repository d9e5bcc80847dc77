"""`mlsbom rules`: list, document and explain the rules."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mlsbom._cli_output import check_outputs, write
from mlsbom.errors import MlsbomError
from mlsbom.reporters.escape import printable
from mlsbom.rules import load_rules
from mlsbom.suggest import did_you_mean

EXIT_ERROR = 2


@click.group()
def rules() -> None:
    """List and explain the rules."""


@rules.command("list")
def rules_list() -> None:
    """One line per rule: id, severity, title."""
    for rule in load_rules().rules:
        click.echo(f"{rule.id:<28} {rule.severity.label:<9} {rule.title}")


@rules.command("doc")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
def rules_doc(output: Path | None) -> None:
    """Write RULES.md (Markdown documentation of every rule)."""
    from mlsbom.rules_doc import render_rules_markdown

    try:
        check_outputs([("--output", output)])
        write(render_rules_markdown(load_rules()), output)
    except MlsbomError as exc:
        click.echo(exc.diagnostics(), err=True)
        sys.exit(EXIT_ERROR)


@rules.command("explain")
@click.argument("rule_id")
def rules_explain(rule_id: str) -> None:
    """Describe one rule: what it matches, why it matters, how to fix it (alias: show)."""
    ruleset = load_rules()
    rule = ruleset.by_id.get(rule_id)
    if rule is None:
        click.echo(f"error: unknown rule {printable(rule_id)!r}", err=True)
        click.echo(f"hint: {did_you_mean(rule_id, ruleset.by_id)}", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(f"{rule.id}: {rule.title}\nseverity: {rule.severity.label}\nfact: {rule.fact}")
    if rule.cwe:
        click.echo(f"cwe: {', '.join(rule.cwe)}")
    click.echo(f"\n{rule.description}\n\nfix: {rule.remediation}")
    for ref in rule.references:
        click.echo(f"see: {ref}")


rules.add_command(rules_explain, "show")

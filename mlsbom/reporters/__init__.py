"""Reporters render a scan result and its decision; the registry is exhaustive over OutputFormat."""

from __future__ import annotations

import enum
from typing import Protocol

from mlsbom.models import ScanResult
from mlsbom.policy import Decision
from mlsbom.rules import RuleSet


class OutputFormat(str, enum.Enum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    MARKDOWN = "markdown"


class Reporter(Protocol):
    def render(self, result: ScanResult, decision: Decision) -> str: ...


def reporter_for(
    fmt: OutputFormat, rules: RuleSet, *, color: bool = False, verbosity: int = 0
) -> Reporter:
    """The reporter of a format; `color` and `verbosity` (-1 quiet, 0, 1 verbose) are for text."""
    from mlsbom.reporters.json_report import JsonReporter
    from mlsbom.reporters.junit import JunitReporter
    from mlsbom.reporters.markdown import MarkdownReporter
    from mlsbom.reporters.sarif import SarifReporter
    from mlsbom.reporters.text import TextReporter

    reporters: dict[OutputFormat, Reporter] = {
        OutputFormat.TEXT: TextReporter(color=color, verbosity=verbosity),
        OutputFormat.JSON: JsonReporter(),
        OutputFormat.SARIF: SarifReporter(rules),
        OutputFormat.JUNIT: JunitReporter(),
        OutputFormat.MARKDOWN: MarkdownReporter(),
    }
    return reporters[fmt]

"""Markdown summary for a pull-request comment or `$GITHUB_STEP_SUMMARY`.

Scanned text (names, messages, evidence) only ever appears inside code spans built by
`escape.md_code`, so it cannot add HTML, links, mentions, table cells or lines.
"""

from __future__ import annotations

from collections import Counter

from mlsbom import __version__
from mlsbom.models import ScanResult, Severity
from mlsbom.policy import Decision
from mlsbom.reporters.escape import md_code, md_text
from mlsbom.reporters.text import plural

MARKER = "<!-- mlsbom-report -->"  # finds the one PR comment to update
_SHOWN = 50


class MarkdownReporter:
    def render(self, result: ScanResult, decision: Decision) -> str:
        counts = Counter(f.severity for f in result.findings if not f.waived)
        icon = "✅" if decision.passed else "❌"
        outcome = "passed" if decision.passed else "failed"
        lines = [
            MARKER,
            f"## {icon} mlsbom {outcome}",
            "",
            f"{plural(len(result.artifacts), 'artefact')} scanned; fails on "
            f"**{decision.fail_on.label}** or worse.",
            "",
            "| severity | findings |",
            "|---|---|",
        ]
        lines += [f"| {s.label} | {counts[s]} |" for s in sorted(Severity, reverse=True)]
        shown = sorted(
            (f for f in result.findings if f.severity >= Severity.MEDIUM),
            key=lambda f: (-f.severity, f.artifact),
        )
        if shown:
            lines += ["", "| severity | rule | artefact | finding | fix |", "|---|---|---|---|---|"]
            for f in shown[:_SHOWN]:
                waived = " (waived)" if f.waived else ""
                lines.append(
                    f"| {f.severity.label}{waived} | `{f.rule_id}` | {md_code(f.artifact.display)} "
                    f"| {md_code(f.message)} | {md_text(f.remediation)} |"
                )
            if len(shown) > _SHOWN:
                lines.append(f"\n{len(shown) - _SHOWN} more findings: see the full report.")
        lines += ["", f"<sub>mlsbom {__version__}</sub>", ""]
        return "\n".join(lines)

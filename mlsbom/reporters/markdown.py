"""Markdown summary for a pull-request comment or `$GITHUB_STEP_SUMMARY`."""

from __future__ import annotations

from collections import Counter

from mlsbom import __version__
from mlsbom.models import ScanResult, Severity
from mlsbom.policy import Decision


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:300]


class MarkdownReporter:
    def render(self, result: ScanResult, decision: Decision) -> str:
        counts = Counter(f.severity for f in result.findings if not f.waived)
        icon = "✅" if decision.passed else "❌"
        outcome = "passed" if decision.passed else "failed"
        lines = [
            f"## {icon} mlsbom {outcome}",
            "",
            f"{len(result.artifacts)} artefacts scanned; fails on **{decision.fail_on.label}** "
            "or worse.",
            "",
            "| severity | findings |",
            "|---|---|",
        ]
        lines += [f"| {s.label} | {counts[s]} |" for s in sorted(Severity, reverse=True)]
        shown = [f for f in result.findings if f.severity >= Severity.MEDIUM]
        if shown:
            lines += ["", "| severity | rule | artefact | finding | fix |", "|---|---|---|---|---|"]
            for f in sorted(shown, key=lambda f: (-f.severity, f.artifact)):
                waived = " (waived)" if f.waived else ""
                lines.append(
                    f"| {f.severity.label}{waived} | `{f.rule_id}` | `{_cell(f.artifact.display)}` "
                    f"| {_cell(f.message)} | {_cell(f.remediation)} |"
                )
        lines += ["", f"<sub>mlsbom {__version__}</sub>", ""]
        return "\n".join(lines)

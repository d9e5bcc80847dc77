"""Human-readable report: per artefact a verdict and its findings, then a summary line."""

from __future__ import annotations

from collections import Counter

from mlsbom import __version__
from mlsbom.hub.walk import HubRepository
from mlsbom.models import ArtifactResult, Finding, ScanResult, Severity
from mlsbom.policy import Decision, rollup, verdict
from mlsbom.signing.check import SignatureCheck

_COLORS = {"fail": "\x1b[31m", "warn": "\x1b[33m", "pass": "\x1b[32m"}
_RESET = "\x1b[0m"


def _signature_line(check: SignatureCheck) -> str:
    word = "intact" if check.intact else check.status
    who = (
        f" by {check.signer}" + (f" ({check.issuer})" if check.issuer else "")
        if check.signer
        else ""
    )
    return f"{word}{who}; {check.files} files as signed, {check.differ} differ ({check.material})"


def _hub_line(repo: HubRepository) -> str:
    share = repo.bytes_read / repo.total_bytes if repo.total_bytes else 0.0
    extra = "".join(
        f", {k} {v}"
        for k, v in (("author", repo.author), ("licence", repo.license), ("gated", repo.gated))
        if v
    )
    return (
        f"{repo.repo} @ {repo.commit}: {repo.files} files, {repo.total_bytes:,} bytes; "
        f"read {repo.bytes_read:,} bytes ({share:.2%}){extra}"
    )


class TextReporter:
    def __init__(self, *, color: bool = False) -> None:
        self.color = color

    def _tag(self, word: str) -> str:
        label = f"{word.upper():<4}"
        return f"{_COLORS[word]}{label}{_RESET}" if self.color else label

    def _finding(self, f: Finding) -> list[str]:
        where = f.location.describe()
        head = f"    {f.severity.label.upper():<8} {f.rule_id}"
        head += f"  @ {where}" if where else ""
        if f.waived:
            head += "  (waived)"
        lines = [head, f"      {f.message}"]
        if f.evidence:
            lines.append(f"      evidence: {f.evidence}")
        lines.append(f"      fix: {f.remediation}")
        return lines

    def _artifact(self, art: ArtifactResult, tag: str) -> list[str]:
        size = f", {art.size:,} bytes" if art.size is not None else ""
        lines = [f"{self._tag(tag)}  {art.ref.display}  [{art.format.value}{size}]"]
        for fact in art.facts:
            if isinstance(fact, SignatureCheck):
                lines.append(f"    signature: {_signature_line(fact)}")
            elif isinstance(fact, HubRepository):
                lines.append(f"    hub: {_hub_line(fact)}")
        for f in art.findings:
            lines.extend(self._finding(f))
        if art.explanation:
            lines.append("    decompiled by fickling:")
            lines.extend(f"      | {line}" for line in art.explanation.splitlines())
        return lines

    def render(self, result: ScanResult, decision: Decision) -> str:
        lines = [f"mlsbom {__version__}: {', '.join(result.targets)}", ""]
        worst = rollup(result)
        for art in result.artifacts:
            lines.extend(self._artifact(art, verdict(worst[art.ref], decision)))
        counts = Counter(f.severity for f in result.findings if not f.waived)
        by_sev = ", ".join(
            f"{counts[s]} {s.label}" for s in sorted(Severity, reverse=True) if counts[s]
        )
        outcome = "PASS" if decision.passed else "FAIL"
        lines.append("")
        lines.append(
            f"{outcome}: {len(result.artifacts)} artefacts, "
            f"{sum(counts.values())} findings{f' ({by_sev})' if by_sev else ''}; "
            f"fails on {decision.fail_on.label} or worse"
        )
        return "\n".join(lines) + "\n"

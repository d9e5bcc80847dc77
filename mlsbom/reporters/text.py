"""Human-readable report: the artefacts that need attention, then counts and the verdict.

By default a large folder fits on a screen: failing and warning artefacts with their findings,
then counts by severity and the failing files. `verbose` lists every artefact, `quiet` only the
verdict. Every line is escaped as a whole, so no scanned name can add or rewrite a line.
"""

from __future__ import annotations

from collections import Counter

from mlsbom import __version__
from mlsbom.facts import HubRepository, SignatureCheck
from mlsbom.hub.walk import hub_totals
from mlsbom.models import ArtifactRef, ArtifactResult, Finding, ScanResult, Severity
from mlsbom.policy import Decision, Verdict, rollup, verdict
from mlsbom.reporters.escape import printable, printable_lines

_COLORS = {Verdict.FAIL: "\x1b[31m", Verdict.WARN: "\x1b[33m", Verdict.PASS: "\x1b[32m"}
_RESET = "\x1b[0m"
QUIET, NORMAL, VERBOSE = -1, 0, 1
_FAILING_SHOWN = 10
_TARGETS_SHOWN = 3


def plural(count: int, word: str) -> str:
    """`1 artefact`, `2 artefacts`."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")


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


def _finding(f: Finding) -> list[str]:
    where = f.location.describe()
    head = f"    {f.severity.label.upper():<8} {f.rule_id}"
    head += f"  @ {printable(where)}" if where else ""
    if f.waived:
        head += "  (waived)"
    lines = [head, f"      {printable(f.message)}"]
    if f.evidence:
        lines.append(f"      evidence: {printable(f.evidence)}")
    lines.append(f"      fix: {printable(f.remediation)}")
    return lines


def _context(art: ArtifactResult) -> list[str]:
    lines = []
    for fact in art.facts:
        if isinstance(fact, SignatureCheck):
            lines.append(f"    signature: {printable(_signature_line(fact))}")
        elif isinstance(fact, HubRepository):
            lines.append(f"    hub: {printable(_hub_line(fact))}")
    return lines


class TextReporter:
    def __init__(self, *, color: bool = False, verbosity: int = NORMAL) -> None:
        self.color = color
        self.verbosity = verbosity

    def _tag(self, tag: Verdict) -> str:
        label = f"{tag.value.upper():<4}"
        return f"{_COLORS[tag]}{label}{_RESET}" if self.color else label

    def _artifact(self, art: ArtifactResult, tag: Verdict) -> list[str]:
        size = f", {art.size:,} bytes" if art.size is not None else ""
        name = printable(art.ref.display)
        lines = [f"{self._tag(tag)}  {name}  [{art.format.value}{size}]", *_context(art)]
        shown = art.findings if self.verbosity >= VERBOSE or tag is not Verdict.PASS else ()
        for f in shown:
            lines.extend(_finding(f))
        if art.explanation and shown:
            lines.append("    decompiled by fickling:")
            lines.extend(f"      | {line}" for line in printable_lines(art.explanation))
        return lines

    def _shows(self, art: ArtifactResult, tag: Verdict) -> bool:
        return self.verbosity >= VERBOSE or tag is not Verdict.PASS or bool(_context(art))

    def render(self, result: ScanResult, decision: Decision) -> str:
        worst = rollup(result)
        tags = {a.ref: verdict(worst[a.ref], decision) for a in result.artifacts}
        lines: list[str] = []
        if self.verbosity > QUIET:
            targets = ", ".join(printable(t) for t in result.targets[:_TARGETS_SHOWN])
            if len(result.targets) > _TARGETS_SHOWN:  # a hook names every staged file
                targets = plural(len(result.targets), "target")
            lines += [f"mlsbom {__version__}: {targets}", ""]
            for art in result.artifacts:
                if self._shows(art, tags[art.ref]):
                    lines.extend(self._artifact(art, tags[art.ref]))
            lines += ["", *self._summary(result, tags)]
        lines.append(self._verdict(result, decision, tags))
        return "\n".join(lines) + "\n"

    def _summary(self, result: ScanResult, tags: dict[ArtifactRef, Verdict]) -> list[str]:
        counts = Counter(f.severity for f in result.findings if not f.waived)
        waived = sum(f.waived for f in result.findings)
        by_sev = [f"{counts[s]} {s.label}" for s in sorted(Severity, reverse=True) if counts[s]]
        lines = [
            f"findings: {', '.join(by_sev) if by_sev else 'none'}"
            + (f"; {waived} waived" if waived else "")
        ]
        hub = hub_totals(result.artifacts)
        if hub.repositories:
            lines.append(
                f"hub: read {hub.bytes_read:,} of {hub.total_bytes:,} bytes from "
                f"{hub.repositories:,} {'repository' if hub.repositories == 1 else 'repositories'}"
            )
        failing = sorted(
            {
                a.ref.path
                for a in result.artifacts
                if tags[a.ref] is Verdict.FAIL and not a.ref.depth
            }
        )
        if failing:
            lines.append(f"failing {'file' if len(failing) == 1 else 'files'}:")
            lines += [f"  {printable(path)}" for path in failing[:_FAILING_SHOWN]]
            if len(failing) > _FAILING_SHOWN:
                lines.append(f"  ... and {len(failing) - _FAILING_SHOWN} more")
        return lines

    def _verdict(
        self, result: ScanResult, decision: Decision, tags: dict[ArtifactRef, Verdict]
    ) -> str:
        states = Counter(tags.values())
        parts = [f"{states[s]} {word}" for s, word in _STATES if states[s]]
        hidden = states[Verdict.PASS] if self.verbosity == NORMAL else 0
        hint = " (passing ones not listed: --verbose)" if hidden else ""
        outcome = "PASS" if decision.passed else "FAIL"
        return (
            f"{outcome}: {plural(len(result.artifacts), 'artefact')}"
            f"{': ' + ', '.join(parts) if parts else ''}{hint}; "
            f"fails on {decision.fail_on.label} or worse"
        )


_STATES = ((Verdict.FAIL, "failed"), (Verdict.WARN, "warned"), (Verdict.PASS, "passed"))

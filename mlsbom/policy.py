"""Policy: which findings fail the gate, waivers that expire, formats allowed. Deciding is pure.

The policy acts on both sides of the judging stage (judge.py): `policy_facts` adds the facts a
policy makes (formats and licences it does not allow, waivers past their date) before it, then
`apply` re-rates, disables and waives the findings, and `decide` gives the verdict.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from mlsbom.facts import (
    Fact,
    FormatNotAllowed,
    GlobalRef,
    LicenseNotAllowed,
    PickleImport,
    WaiverExpired,
)
from mlsbom.models import ArtifactRef, ArtifactResult, Finding, Format, ScanResult, Severity
from mlsbom.signing.signers import SignerPolicy


@dataclass(frozen=True, slots=True)
class Waiver:
    """Accept findings of `rule` on artefacts matching `path` (a glob) until `expires`."""

    rule: str
    path: str
    reason: str
    expires: dt.date

    def covers(self, finding: Finding) -> bool:
        if self.rule not in ("*", finding.rule_id):
            return False
        ref = finding.artifact
        return any(fnmatch.fnmatchcase(p, self.path) for p in (ref.path, ref.display))


@dataclass(frozen=True, slots=True)
class Policy:
    """Gate settings; built by policy_file.load_policy or by library callers."""

    fail_on: Severity = Severity.HIGH
    disabled: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    waivers: tuple[Waiver, ...] = ()
    formats_allowed: frozenset[Format] | None = None
    formats_denied: frozenset[Format] = frozenset()
    source: str | None = None
    licenses_allowed: frozenset[str] | None = None  # lower-case SPDX ids or hub licence names
    licenses_denied: frozenset[str] = frozenset()
    remote_code_allowed: tuple[str, ...] = ()  # path globs of repositories trusted with their code
    signatures: SignerPolicy = field(default_factory=SignerPolicy)  # accepted signers, required
    pickle_allow_modules: tuple[str, ...] = ()  # `[pickle] allow_modules`: the user's own packages

    def allows_remote_code(self, finding: Finding) -> bool:
        """A remote-code finding on a repository the policy trusts (`[remote_code] allow`)."""
        if not finding.rule_id.startswith("remote-code-"):
            return False
        ref = finding.artifact
        return any(fnmatch.fnmatchcase(ref.path, glob) for glob in self.remote_code_allowed)

    def allows_pickle_import(self, ref: GlobalRef) -> bool:
        """An import from one of the user's own modules (`[pickle] allow_modules`)."""
        text = str(ref)
        return any(text == m or text.startswith(m + ".") for m in self.pickle_allow_modules)


def _allowed_imports(art: ArtifactResult, policy: Policy) -> set[tuple[int | None, str | None]]:
    """Where the artefact imports from modules the policy allows: only pickle-unknown-import
    findings there are waived (a dangerous import stays one, whatever module names it)."""
    if not policy.pickle_allow_modules:
        return set()
    return {
        (fact.offset_hint, fact.stream_hint)
        for fact in art.facts
        if isinstance(fact, PickleImport) and policy.allows_pickle_import(fact.target)
    }


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict: passed, and the findings that failed it."""

    passed: bool
    fail_on: Severity
    violations: tuple[Finding, ...]

    def waiver_reason(self, finding: Finding) -> str:
        """The policy's reason for a waived finding (for reports: JUnit skipped, SARIF)."""
        reason = finding.waiver_reason or "waived by the policy"
        if finding.waiver_expires:
            reason += f" (waiver until {finding.waiver_expires})"
        return reason


def _format_facts(art: ArtifactResult, policy: Policy) -> list[Fact]:
    fmt = art.format
    if fmt in policy.formats_denied:
        return [FormatNotAllowed(fmt.value, "denied by the policy's formats.deny")]
    if policy.formats_allowed is not None and fmt not in policy.formats_allowed:
        return [FormatNotAllowed(fmt.value, "not in the policy's formats.allow")]
    return []


def _license_verdict(expression: str, policy: Policy) -> str | None:
    """Why a licence expression fails the policy, or None when it passes.

    `A OR B` passes when one alternative passes; `A AND B` needs every part to pass.
    """
    alternatives = [
        [part.strip(" ()").lower() for part in re.split(r"\s+AND\s+", alt, flags=re.I)]
        for alt in re.split(r"\s+OR\s+", expression.strip(), flags=re.I)
    ]
    reasons = []
    for parts in alternatives:
        denied = [p for p in parts if p in policy.licenses_denied]
        unlisted = [
            p
            for p in parts
            if policy.licenses_allowed is not None and p not in policy.licenses_allowed
        ]
        if not denied and not unlisted:
            return None
        reasons.append(
            f"{', '.join(denied)} denied by licenses.deny"
            if denied
            else f"{', '.join(unlisted)} not in licenses.allow"
        )
    return "; ".join(reasons)


def _license_facts(result: ScanResult, policy: Policy) -> dict[ArtifactRef, list[Fact]]:
    """Licence facts per artefact: on each target's model card, or on the target itself."""
    if policy.licenses_allowed is None and not policy.licenses_denied:
        return {}
    from mlsbom.facts import ModelCardInfo

    out: dict[ArtifactRef, list[Fact]] = {}
    for target in result.targets:
        cards = [
            (art.ref, fact)
            for art in result.artifacts
            if art.ref.target == target
            for fact in art.facts
            if isinstance(fact, ModelCardInfo)
        ]
        ref, card = min(cards, key=lambda c: len(c[0].path)) if cards else (None, None)
        declared = card.license_name if card and card.license == "other" else None
        declared = declared or (card.license if card else None)
        if declared is None:
            if policy.licenses_allowed is not None:
                fact: Fact = LicenseNotAllowed("unknown", "no licence declared in a model card")
                out.setdefault(ref or ArtifactRef(target, target=target), []).append(fact)
            continue
        reason = _license_verdict(declared, policy)
        if reason:
            out.setdefault(ref or ArtifactRef(target, target=target), []).append(
                LicenseNotAllowed(declared, reason)
            )
    return out


def policy_facts(result: ScanResult, policy: Policy, today: dt.date | None = None) -> ScanResult:
    """The result with the facts the policy makes, before judging: formats and licences it does
    not allow, and its own waivers past their date (on an artefact named after the policy)."""
    today = today or dt.date.today()
    licenses = _license_facts(result, policy)
    known = {a.ref for a in result.artifacts}
    pseudo = [
        ArtifactResult(ref, Format.REPOSITORY, None, (), ()) for ref in licenses if ref not in known
    ]
    artifacts = [
        art.with_facts([*_format_facts(art, policy), *licenses.get(art.ref, [])])
        for art in (*result.artifacts, *pseudo)
    ]
    expired = [w for w in policy.waivers if w.expires < today]
    if expired:
        ref = ArtifactRef(policy.source or "policy")
        facts = tuple(WaiverExpired(w.rule, w.path, w.expires.isoformat()) for w in expired)
        artifacts.append(ArtifactResult(ref, Format.TEXT, None, facts, ()))
    return dataclasses.replace(result, artifacts=tuple(sorted(artifacts, key=lambda a: a.ref)))


def _policy_notice(art: ArtifactResult) -> bool:
    """The artefact holding the policy's expired waivers: no override or waiver hides those."""
    return bool(art.facts) and all(isinstance(f, WaiverExpired) for f in art.facts)


def apply(result: ScanResult, policy: Policy, today: dt.date | None = None) -> ScanResult:
    """Disable, re-rate and waive the judged findings (no new findings: judge.py makes them)."""
    today = today or dt.date.today()
    active = [w for w in policy.waivers if w.expires >= today]
    artifacts = []
    for art in result.artifacts:
        if _policy_notice(art):
            artifacts.append(art)
            continue
        findings = []
        own_imports = _allowed_imports(art, policy)
        for f in art.findings:
            if f.rule_id in policy.disabled:
                continue
            f = dataclasses.replace(f, severity=policy.severity.get(f.rule_id, f.severity))
            waiver = next((w for w in active if w.covers(f)), None)
            own = f.rule_id == "pickle-unknown-import" and (
                (f.location.offset, f.location.stream) in own_imports
            )
            if waiver is not None:
                expires = waiver.expires.isoformat()
                f = dataclasses.replace(
                    f, waived=True, waiver_reason=waiver.reason, waiver_expires=expires
                )
            elif policy.allows_remote_code(f):
                reason = "repository trusted with its code by the policy's [remote_code] allow"
                f = dataclasses.replace(f, waived=True, waiver_reason=reason)
            elif own:
                reason = "the policy's [pickle] allow_modules names this module as the user's own"
                f = dataclasses.replace(f, waived=True, waiver_reason=reason)
            findings.append(f)
        findings.sort(key=lambda f: f.sort_key())
        artifacts.append(dataclasses.replace(art, findings=tuple(findings)))
    return dataclasses.replace(result, artifacts=tuple(sorted(artifacts, key=lambda a: a.ref)))


VERIFY = Policy(fail_on=Severity.LOW)
"""The gate of `mlsbom verify`: every signature verifies intact, for an accepted signer (an
unchecked one, rated low, fails it too), and there is at least one (`required`)."""


def decide(result: ScanResult, policy: Policy) -> Decision:
    """Pass unless an active (unwaived) finding reaches `fail_on`."""
    violations = tuple(f for f in result.findings if not f.waived and f.severity >= policy.fail_on)
    return Decision(not violations, policy.fail_on, violations)


def rollup(result: ScanResult) -> dict[ArtifactRef, Severity | None]:
    """Worst active severity of each artefact and its members (a zip fails with its pickle)."""
    worst: dict[ArtifactRef, Severity | None] = {a.ref: None for a in result.artifacts}
    for art in result.artifacts:
        sev = art.worst
        if sev is None:
            continue
        chain = art.ref.member_chain
        for k in range(len(chain) + 1):
            ref = art.ref.parent(k)
            current = worst.get(ref)
            if ref in worst and (current is None or sev > current):
                worst[ref] = sev
    return worst


class Verdict(str, enum.Enum):
    """An artefact's standing under the gate, with its members rolled up into it."""

    FAIL = "fail"  # an active finding at or above `fail_on`
    WARN = "warn"  # active findings, all below the gate
    PASS = "pass"  # noqa: S105 - no active finding (not a password)

    def __str__(self) -> str:
        return self.value


def verdict(worst: Severity | None, decision: Decision) -> Verdict:
    """`fail`, `warn` (findings below the gate) or `pass`, from a rolled-up severity."""
    if worst is None:
        return Verdict.PASS
    return Verdict.FAIL if worst >= decision.fail_on else Verdict.WARN

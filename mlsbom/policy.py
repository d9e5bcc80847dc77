"""Policy: which findings fail the gate. Loading validates strictly; deciding is pure."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlsbom.errors import PolicyError
from mlsbom.models import ArtifactRef, Finding, ScanResult, Severity
from mlsbom.rules import RuleSet

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_TOP_KEYS = {"fail_on", "rules"}
_RULE_KEYS = {"disable", "severity"}


@dataclass(frozen=True, slots=True)
class Policy:
    """Gate settings: the failing severity, disabled rules and per-rule severity overrides."""

    fail_on: Severity = Severity.HIGH
    disabled: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict: passed, and the findings that failed it."""

    passed: bool
    fail_on: Severity
    violations: tuple[Finding, ...]


def _fail(path: Path, key: str, problem: str, fix: str) -> PolicyError:
    return PolicyError(f"{path}: {key}: {problem}", hint=fix)


def _severity(path: Path, key: str, value: object) -> Severity:
    try:
        return Severity.parse(str(value))
    except ValueError as exc:
        raise _fail(path, key, str(exc), "use info, low, medium, high or critical") from None


def load_policy(path: Path, rules: RuleSet) -> Policy:
    """Read `.mlsbom.toml` or a `pyproject.toml` ([tool.mlsbom]); exit-2 errors say where."""
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"cannot read policy {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}", hint="fix the syntax") from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("mlsbom", {})
    for key in sorted(set(data) - _TOP_KEYS):
        raise _fail(path, key, "unknown key", f"valid keys: {', '.join(sorted(_TOP_KEYS))}")
    fail_on = _severity(path, "fail_on", data.get("fail_on", "high"))
    table = data.get("rules", {})
    if not isinstance(table, dict):
        raise _fail(path, "rules", "must be a table", "write [rules] with disable/severity")
    for key in sorted(set(table) - _RULE_KEYS):
        raise _fail(path, f"rules.{key}", "unknown key", "valid keys: disable, severity")
    disabled = table.get("disable", [])
    overrides = table.get("severity", {})
    if not isinstance(disabled, list) or not all(isinstance(r, str) for r in disabled):
        raise _fail(path, "rules.disable", "must be a list of rule ids", 'disable = ["rule-id"]')
    if not isinstance(overrides, dict):
        raise _fail(path, "rules.severity", "must be a table", 'severity = { rule-id = "low" }')
    for rule_id in [*disabled, *overrides]:
        if rule_id not in rules.by_id:
            raise _fail(
                path, f"rules: {rule_id}", "unknown rule id", "see `mlsbom rules list` for ids"
            )
    severity = {k: _severity(path, f"rules.severity.{k}", v) for k, v in overrides.items()}
    return Policy(fail_on, frozenset(disabled), severity, str(path))


def apply(result: ScanResult, policy: Policy) -> ScanResult:
    """Drop disabled rules' findings and apply severity overrides."""
    if not policy.disabled and not policy.severity:
        return result
    artifacts = []
    for art in result.artifacts:
        findings = tuple(
            dataclasses.replace(f, severity=policy.severity.get(f.rule_id, f.severity))
            for f in art.findings
            if f.rule_id not in policy.disabled
        )
        artifacts.append(dataclasses.replace(art, findings=findings))
    return dataclasses.replace(result, artifacts=tuple(artifacts))


def decide(result: ScanResult, policy: Policy) -> Decision:
    """Pass unless an active finding reaches `fail_on`."""
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
            ref = ArtifactRef(art.ref.path, chain[:k])
            current = worst.get(ref)
            if ref in worst and (current is None or sev > current):
                worst[ref] = sev
    return worst


def verdict(worst: Severity | None, decision: Decision) -> str:
    """`fail`, `warn` (findings below the gate) or `pass`, from a rolled-up severity."""
    if worst is None:
        return "pass"
    return "fail" if worst >= decision.fail_on else "warn"

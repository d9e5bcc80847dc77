"""Stable JSON report (schema_version 1, documented in docs/json-report.md).

Strings are exact, except bytes of a name that are not UTF-8: they are written as `\\xNN`.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections import Counter

from mlsbom import __version__
from mlsbom.facts import Fact, GlobalRef
from mlsbom.hub.walk import hub_totals
from mlsbom.models import ArtifactResult, Finding, ScanResult, Severity
from mlsbom.policy import Decision, Verdict, rollup, verdict
from mlsbom.reporters.escape import json_tree

SCHEMA_VERSION = 1


def _plain(value: object) -> object:
    if isinstance(value, GlobalRef):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def fact_dict(fact: Fact) -> dict[str, object]:
    out: dict[str, object] = {"kind": fact.kind}
    out.update({f.name: _plain(getattr(fact, f.name)) for f in dataclasses.fields(fact)})
    return out


def finding_dict(f: Finding, decision: Decision | None = None) -> dict[str, object]:
    out: dict[str, object] = {
        "rule_id": f.rule_id,
        "severity": f.severity.label,
        "title": f.title,
        "message": f.message,
        "location": {
            "offset": f.location.offset,
            "stream": f.location.stream,
            "detail": f.location.detail,
        },
        "evidence": f.evidence,
        "remediation": f.remediation,
        "cwe": list(f.cwe),
        "waived": f.waived,
    }
    if f.waived and decision is not None:
        out["waiver_reason"] = decision.waiver_reason(f)
    return out


def artifact_dict(
    art: ArtifactResult, verdict_: Verdict, decision: Decision | None = None
) -> dict[str, object]:
    return {
        "path": art.ref.path,
        "member_chain": list(art.ref.member_chain),
        "display": art.ref.display,
        "target": art.ref.target,
        "format": art.format.value,
        "size": art.size,
        "verdict": verdict_.value,
        "findings": [finding_dict(f, decision) for f in art.findings],
        "facts": [fact_dict(f) for f in art.facts],
        "explanation": art.explanation,
    }


class JsonReporter:
    def render(self, result: ScanResult, decision: Decision) -> str:
        counts = Counter(f.severity.label for f in result.findings if not f.waived)
        worst = rollup(result)
        doc = {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "mlsbom", "version": __version__},
            "targets": list(result.targets),
            "passed": decision.passed,
            "fail_on": decision.fail_on.label,
            "summary": {
                "artifacts": len(result.artifacts),
                "findings": sum(counts.values()),
                "by_severity": {s.label: counts.get(s.label, 0) for s in Severity},
                "hub_bytes_read": hub_totals(result.artifacts).bytes_read,
            },
            "artifacts": [
                artifact_dict(a, verdict(worst[a.ref], decision), decision)
                for a in result.artifacts
            ],
        }
        return json.dumps(json_tree(doc), indent=2, sort_keys=False, ensure_ascii=False) + "\n"

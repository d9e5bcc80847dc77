"""SARIF 2.1.0 for GitHub code scanning: rule metadata, levels, locations, stable fingerprints."""

from __future__ import annotations

import hashlib
import json

from mlsbom import __version__
from mlsbom.models import Finding, ScanResult, Severity
from mlsbom.policy import Decision
from mlsbom.rules import Rule, RuleSet

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub ranks alerts by this property (0.0-10.0)
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
INFO_URI = "https://github.com/mlsbom/mlsbom"


def _rule(rule: Rule) -> dict[str, object]:
    tags = ["security", *rule.cwe]
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description},
        "help": {
            "text": f"{rule.description}\n\nFix: {rule.remediation}",
            "markdown": f"{rule.description}\n\n**Fix:** {rule.remediation}",
        },
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "tags": tags,
            "precision": "high",
            "security-severity": _SECURITY_SEVERITY[rule.severity],
        },
    }


def fingerprint(f: Finding) -> str:
    """Stable across runs and machines: rule, artefact, member chain, location, message."""
    key = "\x1f".join(
        [
            f.rule_id,
            f.artifact.path,
            *f.artifact.member_chain,
            str(f.location.stream),
            str(f.location.offset),
            f.message,
        ]
    )
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _result(f: Finding, index: dict[str, int]) -> dict[str, object]:
    physical: dict[str, object] = {"artifactLocation": {"uri": f.artifact.path}}
    if not f.artifact.member_chain and f.location.offset is not None:
        physical["region"] = {"byteOffset": f.location.offset}
    location: dict[str, object] = {"physicalLocation": physical}
    if f.artifact.member_chain:
        location["logicalLocations"] = [
            {"fullyQualifiedName": f.artifact.display, "kind": "member"}
        ]
    text = f"{f.artifact.display}: {f.message}"
    if f.evidence:
        text += f" (evidence: {f.evidence})"
    result: dict[str, object] = {
        "ruleId": f.rule_id,
        "level": _LEVEL[f.severity],
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {"mlsbom/v1": fingerprint(f)},
        "properties": {
            "severity": f.severity.label,
            "member_chain": list(f.artifact.member_chain),
            "stream": f.location.stream,
            "offset": f.location.offset,
        },
    }
    if f.rule_id in index:
        result["ruleIndex"] = index[f.rule_id]
    if f.waived:
        result["suppressions"] = [{"kind": "external", "justification": "waived by policy"}]
    return result


class SarifReporter:
    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules

    def render(self, result: ScanResult, decision: Decision) -> str:
        rules = list(self.rules.rules)
        index = {r.id: i for i, r in enumerate(rules)}
        doc = {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "mlsbom",
                            "version": __version__,
                            "semanticVersion": __version__,
                            "informationUri": INFO_URI,
                            "rules": [_rule(r) for r in rules],
                        }
                    },
                    "results": [_result(f, index) for f in result.findings],
                    "columnKind": "unicodeCodePoints",
                }
            ],
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

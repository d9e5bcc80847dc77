"""SARIF 2.1.0 for GitHub code scanning: rule metadata, levels, locations, stable fingerprints.

Severities are the ones the policy applied (overrides included): a rule's `security-severity`
and default level are those of its findings in this run, so GitHub ranks alerts as the gate did.
Locations are described in `sarif_locations`.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from mlsbom import __version__
from mlsbom.models import ArtifactResult, Finding, ScanResult, Severity
from mlsbom.policy import Decision
from mlsbom.reporters.escape import json_tree, printable
from mlsbom.reporters.sarif_locations import Locator
from mlsbom.rules import Rule, RuleSet

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub ranks alerts by this property (0.0-10.0): >= 9.0 critical, >= 7.0 high, >= 4.0 medium
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
INFO_URI = "https://github.com/mlsbom/mlsbom"
FINGERPRINT = "mlsbom/v2"


def _rule(rule: Rule, severity: Severity) -> dict[str, object]:
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description},
        "help": {
            "text": f"{rule.description}\n\nFix: {rule.remediation}",
            "markdown": f"{rule.description}\n\n**Fix:** {rule.remediation}",
        },
        "defaultConfiguration": {"level": _LEVEL[severity]},
        "properties": {
            "tags": ["security", *rule.cwe],
            "precision": "high",
            "security-severity": SECURITY_SEVERITY[severity],
            "severity": severity.label,
        },
    }


def fingerprint(f: Finding, occurrence: int = 0) -> str:
    """Stable across runs, machines and unrelated edits: rule, artefact, member chain and what
    was found (the message), not where in the file; `occurrence` tells identical ones apart."""
    key = "\x1f".join(
        [f.rule_id, f.artifact.path, *f.artifact.member_chain, f.message, str(occurrence)]
    )
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class SarifReporter:
    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules

    def render(self, result: ScanResult, decision: Decision) -> str:
        locator = Locator(result)
        severities = self._applied(result)
        rules = list(self.rules.rules)
        index = {r.id: i for i, r in enumerate(rules)}
        seen: Counter[tuple[str, ...]] = Counter()
        results = []
        for art in result.artifacts:
            for f in art.findings:
                key = (f.rule_id, f.artifact.path, *f.artifact.member_chain, f.message)
                results.append(self._result(art, f, index, locator, decision, seen[key]))
                seen[key] += 1
        run: dict[str, object] = {
            "tool": {
                "driver": {
                    "name": "mlsbom",
                    "version": __version__,
                    "semanticVersion": __version__,
                    "informationUri": INFO_URI,
                    "rules": [_rule(r, severities.get(r.id, r.severity)) for r in rules],
                }
            },
            "originalUriBaseIds": locator.bases,
            "results": results,
            "columnKind": "unicodeCodePoints",
        }
        doc = {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [run],
        }
        return json.dumps(json_tree(doc), indent=2, ensure_ascii=False) + "\n"

    @staticmethod
    def _applied(result: ScanResult) -> dict[str, Severity]:
        """Each rule's severity as the policy applied it (one per rule: overrides are per rule)."""
        out: dict[str, Severity] = {}
        for f in result.findings:
            out[f.rule_id] = max(out.get(f.rule_id, f.severity), f.severity)
        return out

    def _result(
        self,
        art: ArtifactResult,
        f: Finding,
        index: dict[str, int],
        locator: Locator,
        decision: Decision,
        occurrence: int,
    ) -> dict[str, object]:
        physical = {
            "artifactLocation": locator.artifact_location(f.artifact),
            "region": locator.region(f.artifact, f.location.detail),
        }
        location: dict[str, object] = {"physicalLocation": physical}
        if f.artifact.member_chain:
            location["logicalLocations"] = [
                {"fullyQualifiedName": printable(f.artifact.display), "kind": "member"}
            ]
        text = f"{printable(f.artifact.display)}: {printable(f.message)}"
        if f.evidence:
            text += f" (evidence: {printable(f.evidence)})"
        out: dict[str, object] = {
            "ruleId": f.rule_id,
            "level": _LEVEL[f.severity],
            "message": {"text": text},
            "locations": [location],
            "partialFingerprints": {FINGERPRINT: fingerprint(f, occurrence)},
            "properties": {
                "severity": f.severity.label,
                "security-severity": SECURITY_SEVERITY[f.severity],
                "format": art.format.value,
                "member_chain": list(f.artifact.member_chain),
                "stream": f.location.stream,
                "byteOffset": f.location.offset,
                "detail": f.location.detail,
            },
        }
        if f.rule_id in index:
            out["ruleIndex"] = index[f.rule_id]
        if f.waived:
            reason = printable(decision.waiver_reason(f))
            out["suppressions"] = [{"kind": "external", "justification": reason}]
        return out

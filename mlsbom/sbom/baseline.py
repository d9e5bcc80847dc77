"""`scan --baseline BOM`: report and fail only on findings the baseline BOM does not hold.

Findings are matched as `mlsbom diff` matches them (rule, file relative to its target, detail),
so a team can adopt the gate on a repository with known findings and still fail on new ones.
"""

from __future__ import annotations

import dataclasses

from mlsbom.models import Finding, ScanResult
from mlsbom.sbom.builder import finding_detail, gather, relative_path
from mlsbom.sbom.diff import BomView, FindingKey


def known_findings(result: ScanResult) -> dict[Finding, FindingKey]:
    """Each finding of a scan with the key a BOM of that scan would give it."""
    models = gather(result)
    single = len(models) == 1
    keys: dict[Finding, FindingKey] = {}
    for model in models:
        prefix = "" if single else f"{model.identity.name}/"
        for art in (*model.files, *model.members):
            file = prefix + relative_path(art.ref.path, model.target)
            for f in art.findings:
                keys[f] = FindingKey(f.rule_id, file, finding_detail(f))
    return keys


def without_baseline(result: ScanResult, baseline: BomView) -> tuple[ScanResult, int]:
    """The result less the findings the baseline already records; how many were left out."""
    keys = known_findings(result)
    dropped = 0
    artifacts = []
    for art in result.artifacts:
        kept = tuple(f for f in art.findings if f.waived or keys.get(f) not in baseline.findings)
        dropped += len(art.findings) - len(kept)
        artifacts.append(dataclasses.replace(art, findings=kept))
    return dataclasses.replace(result, artifacts=tuple(artifacts)), dropped

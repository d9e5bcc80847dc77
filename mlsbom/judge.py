"""The one judging stage: every artefact's facts become its findings, with the rules, once.

Everything before it (analysis, the cross-file, signature, HF-cache and policy-facts passes)
only adds facts keyed by artefact; everything after it (policy overrides and waivers, the
decision, reporters) reads findings and never makes new ones. A test keeps `RuleSet.judge`
called from this module alone.
"""

from __future__ import annotations

import dataclasses

from mlsbom.models import ArtifactResult, ScanResult
from mlsbom.rules import RuleSet


def judge(result: ScanResult, rules: RuleSet) -> ScanResult:
    """The result with every artefact's findings made from its facts (artefact order kept)."""
    return dataclasses.replace(result, artifacts=tuple(judged(a, rules) for a in result.artifacts))


def judged(art: ArtifactResult, rules: RuleSet) -> ArtifactResult:
    """One artefact's findings: what the rules make of its facts, in report order."""
    findings = sorted(rules.judge(art.facts, art.ref), key=lambda f: f.sort_key())
    return dataclasses.replace(art, findings=tuple(findings))

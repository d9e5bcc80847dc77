"""Compare two mlsbom BOMs: what a change adds or removes, and whether it adds risk.

A BOM is read into a typed view first (files by path, findings by rule, file and detail), so
`mlsbom diff` and `scan --baseline` key findings the same way. Files are keyed by their path
relative to the target; when both BOMs hold one model each, the model's own name is left out so
that two versions of one model in differently named folders compare file by file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlsbom.errors import MlsbomError
from mlsbom.models import Format, Severity
from mlsbom.reporters.escape import printable


@dataclass(frozen=True, slots=True, order=True)
class FindingKey:
    """A finding as a baseline knows it: rule, file (relative) and detail."""

    rule_id: str
    file: str
    detail: str


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str
    sha256: str | None
    format: str | None
    signature: str | None


@dataclass(frozen=True, slots=True)
class BomView:
    """What a diff compares, read from one BOM."""

    files: dict[str, FileEntry]
    findings: dict[FindingKey, Severity]
    licences: dict[str, tuple[str, ...]]  # model key -> licence ids/names


@dataclass(frozen=True, slots=True)
class Change:
    """One line of a diff."""

    kind: str  # added, removed, digest, format, runs-code, finding(-removed), licence, signature
    subject: str
    detail: str
    severity: Severity | None = None


@dataclass(frozen=True, slots=True)
class BomDiff:
    changes: tuple[Change, ...] = field(default=())

    def new_findings(self, at_least: Severity) -> list[Change]:
        return [
            c
            for c in self.changes
            if c.kind in ("finding", "runs-code")
            and c.severity is not None
            and c.severity >= at_least
        ]


def _models(doc: dict[str, Any]) -> list[dict[str, Any]]:
    meta = doc.get("metadata", {}).get("component")
    comps = [c for c in doc.get("components", []) if isinstance(c, dict)]
    found = [meta] if isinstance(meta, dict) else []
    found += [
        c
        for c in comps
        if c.get("type") == "machine-learning-model"
        and not str(c.get("bom-ref", "")).startswith("base-model/")
    ]
    return found


def _props(comp: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in comp.get("properties", []) or []:
        if isinstance(p, dict) and isinstance(p.get("name"), str):
            out.setdefault(p["name"], str(p.get("value", "")))
    return out


def _licences(comp: dict[str, Any]) -> tuple[str, ...]:
    out = []
    for entry in comp.get("licenses", []) or []:
        lic = entry.get("license", {}) if isinstance(entry, dict) else {}
        out.append(str(lic.get("id") or lic.get("name") or entry.get("expression") or ""))
    return tuple(sorted(x for x in out if x))


def _severity(vuln: dict[str, Any]) -> Severity:
    ratings = vuln.get("ratings") or [{}]
    try:
        return Severity.parse(str(ratings[0].get("severity", "info")))
    except (ValueError, AttributeError):
        return Severity.INFO


def view(doc: dict[str, Any]) -> BomView:
    """The comparable view of a CycloneDX BOM written by mlsbom."""
    models = _models(doc)
    single = len(models) == 1
    files: dict[str, FileEntry] = {}
    by_ref: dict[str, str] = {}
    licences: dict[str, tuple[str, ...]] = {}
    for model in models:
        prefix = "" if single else f"{model.get('name', '')}/"
        licences[prefix.rstrip("/") or "model"] = _licences(model)
        for comp in model.get("components", []) or []:
            if not isinstance(comp, dict):
                continue
            path = prefix + str(comp.get("name", ""))
            fprops = _props(comp)
            sha = next(
                (
                    h.get("content")
                    for h in comp.get("hashes", []) or []
                    if h.get("alg") == "SHA-256"
                ),
                None,
            )
            sig = fprops.get("mlsbom:signature:result") or fprops.get("mlsbom:signature:status")
            files[path] = FileEntry(path, sha, fprops.get("mlsbom:format"), sig)
            by_ref[str(comp.get("bom-ref", ""))] = path
    findings: dict[FindingKey, Severity] = {}
    for vuln in doc.get("vulnerabilities", []) or []:
        if not isinstance(vuln, dict) or (vuln.get("analysis") or {}).get("state"):
            continue  # waived (VEX analysis) findings are accepted, not risk
        affects = [str(a.get("ref", "")) for a in vuln.get("affects", []) or []]
        file = by_ref.get(affects[0], affects[0]) if affects else ""
        key = FindingKey(str(vuln.get("id", "")), file, str(vuln.get("detail", "")))
        findings[key] = max(findings.get(key, Severity.INFO), _severity(vuln))
    return BomView(files, findings, licences)


def load_view(path: Path) -> BomView:
    """A BOM file's view; MlsbomError (exit 2) when it is not a CycloneDX JSON BOM."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MlsbomError(f"{path}: not a readable JSON BOM ({exc})"[:300]) from None
    if not isinstance(doc, dict) or doc.get("bomFormat") != "CycloneDX":
        raise MlsbomError(f"{path}: not a CycloneDX BOM", hint="write one with: mlsbom sbom TARGET")
    return view(doc)


def _runs_code(fmt: str | None) -> bool:
    try:
        return fmt is not None and Format(fmt).runs_code_on_load
    except ValueError:
        return False


def diff(old: BomView, new: BomView) -> BomDiff:
    """Every change from `old` to `new`, in a stable order."""
    out: list[Change] = []
    for path in sorted(new.files.keys() - old.files.keys()):
        entry = new.files[path]
        out.append(Change("added", path, f"format {entry.format}"))
        if _runs_code(entry.format):
            out.append(Change("runs-code", path, f"new file in {entry.format}", Severity.MEDIUM))
    for path in sorted(old.files.keys() - new.files.keys()):
        out.append(Change("removed", path, f"format {old.files[path].format}"))
    for path in sorted(old.files.keys() & new.files.keys()):
        a, b = old.files[path], new.files[path]
        if a.sha256 and b.sha256 and a.sha256 != b.sha256:
            out.append(Change("digest", path, f"sha256 {a.sha256[:12]}… -> {b.sha256[:12]}…"))
        if a.format != b.format:
            out.append(Change("format", path, f"{a.format} -> {b.format}"))
            if _runs_code(b.format) and not _runs_code(a.format):
                out.append(Change("runs-code", path, f"{a.format} -> {b.format}", Severity.MEDIUM))
        if a.signature != b.signature:
            out.append(Change("signature", path, f"{a.signature} -> {b.signature}"))
    for key in sorted(new.findings.keys() - old.findings.keys()):
        out.append(Change("finding", key.file, f"{key.rule_id}: {key.detail}", new.findings[key]))
    for key in sorted(old.findings.keys() - new.findings.keys()):
        out.append(Change("finding-removed", key.file, f"{key.rule_id}: {key.detail}"))
    for model in sorted(old.licences.keys() | new.licences.keys()):
        a_lic, b_lic = old.licences.get(model, ()), new.licences.get(model, ())
        if a_lic != b_lic:
            out.append(
                Change(
                    "licence", model, f"{','.join(a_lic) or 'none'} -> {','.join(b_lic) or 'none'}"
                )
            )
    return BomDiff(tuple(out))


def render_text(result: BomDiff, fail_on: Severity) -> str:
    if not result.changes:
        return "no changes\n"
    lines = []
    for c in result.changes:
        sev = f" [{c.severity.label}]" if c.severity is not None else ""
        lines.append(f"{c.kind:<16} {printable(c.subject)}{sev}: {printable(c.detail)}")
    risky = result.new_findings(fail_on)
    lines.append(
        f"{len(result.changes)} changes; {len(risky)} add risk at or above {fail_on.label}"
    )
    return "\n".join(lines) + "\n"


def render_json(result: BomDiff, fail_on: Severity) -> str:
    doc = {
        "fail_on": fail_on.label,
        "passed": not result.new_findings(fail_on),
        "changes": [
            {
                "kind": c.kind,
                "subject": c.subject,
                "detail": c.detail,
                "severity": c.severity.label if c.severity is not None else None,
            }
            for c in result.changes
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"

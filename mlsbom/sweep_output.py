"""What a sweep writes per target: a JSON line, a BOM in a folder; and resuming from them.

JSON lines (`--format jsonl`): one object per target, written and flushed as the target
completes. `artifacts` holds the target's artefacts that have findings, encoded as in the JSON
report (docs/json-report.md); `verdict` is `pass`, `warn`, `fail` or `error` (with `error`).

BOM folder (`--sbom-dir DIR`): `DIR/<name>.cdx.json` per target, renamed into place once complete,
then a line in `DIR/index.jsonl` (target, verdict, file). Names: `org__name@<commit>` for a hub
repository (the revision as resolved), a readable form of the path plus a short hash of the full
target for a local one; a name another target already has gets the hash too.

Resuming (`--resume`): a target is complete when its output holds a complete line for it with a
verdict of pass, warn or fail (and, with `--sbom-dir`, its BOM file exists). Complete targets are
skipped and their recorded verdicts count towards the exit code; a truncated last line (a run
killed mid-write) is cut off and its target, like an `error` one, is scanned again. When a target
has several lines, the last one counts.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from mlsbom import __version__
from mlsbom.errors import MlsbomError
from mlsbom.facts import HubRepository
from mlsbom.hub.walk import hub_totals
from mlsbom.models import ScanResult, Severity
from mlsbom.policy import rollup, verdict
from mlsbom.regular_file import regular_fd
from mlsbom.reporters.escape import json_safe, json_tree, printable
from mlsbom.reporters.json_report import SCHEMA_VERSION, artifact_dict
from mlsbom.sweep import TargetOutcome, atomic_write

DONE = frozenset({"pass", "warn", "fail"})
INDEX = "index.jsonl"
BOM_SUFFIX = ".cdx.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]+")


def encode(outcome: TargetOutcome, sbom: str | None = None) -> str:
    """The JSON line for one target (no newline)."""
    doc: dict[str, object] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "mlsbom", "version": __version__},
        "target": outcome.target,
        "verdict": outcome.verdict,
    }
    result, decision = outcome.result, outcome.decision
    if result is None or decision is None:
        doc["error"] = outcome.error
    else:
        counts = Counter(f.severity.label for f in result.findings if not f.waived)
        hub = hub_totals(result.artifacts)
        worst = rollup(result)
        doc.update(
            passed=decision.passed,
            fail_on=decision.fail_on.label,
            revision=resolved(result),
            summary={
                "artifacts": len(result.artifacts),
                "findings": sum(counts.values()),
                "by_severity": {s.label: counts.get(s.label, 0) for s in Severity},
                "hub_bytes_read": hub.bytes_read,
                "bytes_total": hub.total_bytes
                or sum(a.size or 0 for a in result.artifacts if not a.ref.depth),
            },
            artifacts=[
                artifact_dict(a, verdict(worst[a.ref], decision), decision)
                for a in result.artifacts
                if a.findings
            ],
        )
    doc["sbom"] = sbom
    doc["seconds"] = round(outcome.seconds, 3)
    return json.dumps(json_tree(doc), ensure_ascii=False, separators=(",", ":"))


def resolved(result: ScanResult) -> str | None:
    """The commit a hub target was scanned at (from its `hub-repository` fact)."""
    for art in result.artifacts:
        for fact in art.facts:
            if isinstance(fact, HubRepository):
                return fact.commit
    return None


def bom_stem(target: str, commit: str | None) -> str:
    """A file name stem for a target's BOM (without the hash a local path always gets)."""
    from mlsbom.hub.target import is_hub, parse

    if is_hub(target):
        hub = parse(target)
        kind = "" if hub.repo_type == "model" else f"{hub.repo_type}s__"
        rev = commit or hub.revision
        stem = kind + hub.repo_id.replace("/", "__") + (f"@{rev}" if rev else "")
        return _UNSAFE.sub("_", stem)[:200]
    parts = [p for p in re.split(r"[/\\]+", os.path.normpath(target)) if p not in ("", ".", "..")]
    readable = _UNSAFE.sub("_", "__".join(parts)).lstrip(".")[-120:] or "target"
    return f"{readable}-{_short_hash(target)}"


def _short_hash(target: str) -> str:
    return hashlib.sha256(target.encode("utf-8", "surrogateescape")).hexdigest()[:10]


@dataclass(frozen=True, slots=True)
class Recorded:
    """A target's complete line in an earlier output."""

    target: str
    verdict: str
    sbom: str | None


def read_lines(path: Path, cut_partial: bool) -> dict[str, Recorded]:
    """Complete lines of a JSON-lines output (the last per target), verdicts pass/warn/fail.
    With `cut_partial`, a truncated last line is cut from the file (it is about to be appended
    to). A missing file holds nothing."""
    try:
        fd = regular_fd(path)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise MlsbomError(f"--resume: cannot read {printable(str(path))}: {exc.strerror}") from None
    done: dict[str, Recorded] = {}
    complete = 0  # bytes up to the end of the last complete line
    with open(fd, "rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                break
            complete += len(raw)
            try:
                doc = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(doc, dict) or not isinstance(doc.get("target"), str):
                continue
            target, state, sbom = doc["target"], doc.get("verdict"), doc.get("sbom")
            if state in DONE:
                done[target] = Recorded(target, state, sbom if isinstance(sbom, str) else None)
            else:
                done.pop(target, None)  # a later error line: scan it again
        end = f.seek(0, os.SEEK_END)
    if cut_partial and complete < end:
        os.truncate(path, complete)
    return done


class JsonlSink:
    """One flushed line per target, to a stream (stdout or an open file)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, outcome: TargetOutcome, sbom: str | None) -> None:
        self.stream.write(encode(outcome, sbom) + "\n")
        self.stream.flush()


class SbomDir:
    """BOMs of a sweep in one folder, with an index of what is complete."""

    def __init__(self, folder: Path, spec: str, resume: bool) -> None:
        self.folder = folder
        self.spec = spec
        index = folder / INDEX
        self.recorded = read_lines(index, cut_partial=True) if resume else {}
        self.recorded = {
            t: r for t, r in self.recorded.items() if r.sbom and (folder / r.sbom).is_file()
        }
        self.taken = {r.sbom.lower(): t for t, r in self.recorded.items() if r.sbom}
        self.index = open(index, "a" if resume else "w", encoding="utf-8")  # noqa: SIM115

    def close(self) -> None:
        self.index.close()

    def name_for(self, target: str, commit: str | None) -> str:
        """A file name no other target of this folder has (case-insensitively)."""
        name = bom_stem(target, commit) + BOM_SUFFIX
        owner = self.taken.get(name.lower())
        if owner is not None and owner != target:
            name = f"{bom_stem(target, commit)}-{_short_hash(target)}{BOM_SUFFIX}"
        self.taken[name.lower()] = target
        return name

    def write(self, outcome: TargetOutcome) -> str | None:
        """The target's BOM written whole, then its index line; the file name (None: error)."""
        from mlsbom.sbom.render import render_sbom

        if outcome.result is None:
            return None
        name = self.name_for(outcome.target, resolved(outcome.result))
        atomic_write(self.folder / name, render_sbom(outcome.result, self.spec))
        line = {"target": json_safe(outcome.target), "verdict": outcome.verdict, "sbom": name}
        self.index.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.index.flush()
        return name


def check_folder(folder: Path) -> None:
    """--sbom-dir must be a writable folder (created when missing, its parent must exist)."""
    shown = printable(str(folder))
    if folder.exists() and not folder.is_dir():
        raise MlsbomError(f"--sbom-dir {shown}: not a folder")
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise MlsbomError(f"--sbom-dir {shown}: cannot create ({exc.strerror})") from None
    probe = folder / f".mlsbom-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise MlsbomError(f"--sbom-dir {shown}: cannot write ({exc.strerror})") from None

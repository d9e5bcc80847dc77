"""The OpenSSF model-signing statement: which files (or shards) with which digests."""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlsbom.regular_file import regular_fd

PREDICATE_V1 = "https://model_signing/signature/v1.0"
PREDICATE_V020 = (
    "https://model_signing/Digests/v0.1"  # model_signing 0.2.0: files listed as subjects
)
PREDICATE_TYPES = (PREDICATE_V1, PREDICATE_V020)
# Other predicates model_signing 0.2.0 could write; model_signing >= 1.0 verifies none of them.
PREDICATES_V020_UNSUPPORTED = tuple(
    f"https://model_signing/{name}/v0.1"
    for name in ("Digest", "DigestOfDigests", "DigestOfShardDigests", "ShardDigests")
)
STATEMENT_TYPES = ("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1")
HASHES = ("sha256", "blake2b")
ALWAYS_IGNORED = (".git", ".gitattributes", ".gitignore", ".github", "model.sig")
MAX_RESOURCES = 1_000_000
_SHARD = re.compile(r"^(.*):(\d+):(\d+)$")


class ManifestError(ValueError):
    """The signed statement is not a model-signing manifest mlsbom can check."""


@dataclass(frozen=True, slots=True)
class Manifest:
    method: str  # files | shards
    hash_type: str
    ignore_paths: tuple[str, ...]
    resources: Mapping[str, str]  # name (path, or path:start:end) -> hex digest


@dataclass(frozen=True, slots=True)
class Comparison:
    """How the folder differs from the manifest."""

    covered: tuple[str, ...]
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]

    @property
    def matches(self) -> bool:
        return not (self.changed or self.missing or self.extra)


def _safe_name(name: str) -> bool:
    if name == ".":
        return True
    parts = name.split("/")
    return not (name.startswith("/") or "\\" in name or any(p in ("..", "") for p in parts))


def parse_statement(payload: bytes) -> Manifest:
    try:
        doc = json.loads(payload)
    except (ValueError, RecursionError):
        raise ManifestError("signed payload is not JSON") from None
    if not isinstance(doc, dict) or doc.get("_type") not in STATEMENT_TYPES:
        raise ManifestError("signed payload is not an in-toto statement")
    if doc.get("predicateType") in PREDICATES_V020_UNSUPPORTED:
        raise ManifestError(
            f"model_signing 0.2.0 predicate {doc['predicateType']} is not supported "
            "(model_signing >= 1.0 verifies only its Digests/v0.1 files manifest)"
        )
    if doc.get("predicateType") == PREDICATE_V020:
        return _v020_manifest(doc)
    if doc.get("predicateType") not in PREDICATE_TYPES:
        raise ManifestError(
            f"predicate type {str(doc.get('predicateType'))[:80]!r} is not model signing"
        )
    pred = doc.get("predicate")
    if not isinstance(pred, dict):
        raise ManifestError("statement has no predicate")
    raw_ser = pred.get("serialization")
    ser: dict[str, object] = raw_ser if isinstance(raw_ser, dict) else {}
    method = ser.get("method", "files")
    hash_type = ser.get("hash_type", "sha256")
    if method not in ("files", "shards"):
        raise ManifestError(f"unsupported serialization method {str(method)[:40]!r}")
    if not isinstance(hash_type, str) or hash_type not in HASHES:
        raise ManifestError(f"unsupported hash {str(hash_type)[:40]!r}")
    ignore = ser.get("ignore_paths", [])
    if not isinstance(ignore, list) or not all(isinstance(p, str) for p in ignore):
        raise ManifestError("ignore_paths is not a list of paths")
    resources = pred.get("resources")
    if not isinstance(resources, list) or len(resources) > MAX_RESOURCES:
        raise ManifestError("resources is not a list of files")
    out: dict[str, str] = {}
    for r in resources:
        if not isinstance(r, dict) or not isinstance(r.get("name"), str):
            raise ManifestError("a resource has no name")
        name, digest = r["name"], r.get("digest")
        path = name
        if method == "shards":
            shard = _SHARD.match(name)
            if shard is None:
                raise ManifestError(f"shard {name[:100]!r} is not named path:start:end")
            path = shard.group(1)
        if not _safe_name(path):
            raise ManifestError(f"resource {name[:100]!r} escapes the model folder")
        if name in out:
            raise ManifestError(f"resource {name[:100]!r} is listed twice")
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{32,128}", digest):
            raise ManifestError(f"resource {name[:100]!r} has no hex digest")
        out[name] = digest
    _check_subject(doc, out)
    return Manifest(str(method), hash_type, tuple(ignore), out)


def _v020_manifest(doc: dict[str, object]) -> Manifest:
    """model_signing 0.2.0: each file is a subject with its sha256; nothing else is recorded."""
    subjects = doc.get("subject")
    if not isinstance(subjects, list) or len(subjects) > MAX_RESOURCES:
        raise ManifestError("the 0.2.0 statement lists no files as subjects")
    out: dict[str, str] = {}
    for subject in subjects:
        name = subject.get("name") if isinstance(subject, dict) else None
        digest = subject.get("digest") if isinstance(subject, dict) else None
        sha = digest.get("sha256") if isinstance(digest, dict) else None
        if not isinstance(name, str) or not _safe_name(name):
            raise ManifestError(
                f"subject {str(name)[:100]!r} is not a path inside the model folder"
            )
        if name in out:
            raise ManifestError(f"subject {name[:100]!r} is listed twice")
        if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise ManifestError(f"subject {name[:100]!r} has no sha256 digest")
        out[name] = sha
    return Manifest("files", "sha256", (), out)


def _check_subject(doc: dict[str, object], resources: Mapping[str, str]) -> None:
    subjects = doc.get("subject")
    if not isinstance(subjects, list) or not subjects or not isinstance(subjects[0], dict):
        raise ManifestError("statement has no subject")
    claimed = subjects[0].get("digest", {})
    claimed = claimed.get("sha256") if isinstance(claimed, dict) else None
    joined = b"".join(bytes.fromhex(d) for d in resources.values())  # in listed order
    if claimed is not None and hashlib.sha256(joined).hexdigest() != claimed:
        raise ManifestError("subject digest does not match the listed resources")


def _ignored(rel: str, ignore: tuple[str, ...]) -> bool:
    for pattern in (*ALWAYS_IGNORED, *ignore):
        p = pattern.strip("/")
        if rel == p or rel.startswith(p + "/") or posixpath.basename(rel) == p == "model.sig":
            return True
    return False


def folder_files(root: Path, ignore: tuple[str, ...], signature: Path) -> list[str]:
    """Relative paths of the files a signature over `root` must cover."""
    if root.is_file():
        return ["."]
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(d for d in dirnames if not _ignored(rel_dir + d, ignore))
        for name in sorted(filenames):
            rel = rel_dir + name
            if (root / rel).resolve() == signature.resolve() or _ignored(rel, ignore):
                continue
            out.append(rel)
    return out


def _digest(path: Path, hash_type: str, start: int = 0, end: int | None = None) -> str:
    h = hashlib.new(hash_type)
    with open(regular_fd(path), "rb") as f:  # a FIFO among the signed files must not block
        f.seek(start)
        remaining = None if end is None else end - start
        while remaining is None or remaining > 0:
            chunk = f.read(1 << 20 if remaining is None else min(1 << 20, remaining))
            if not chunk:
                break
            h.update(chunk)
            if remaining is not None:
                remaining -= len(chunk)
    return h.hexdigest()


def _shards(manifest: Manifest) -> dict[str, list[tuple[int, int, str]]]:
    """Shard ranges per path, sorted by start."""
    out: dict[str, list[tuple[int, int, str]]] = {}
    for name, digest in manifest.resources.items():
        shard = _SHARD.match(name)
        if shard:
            rng = (int(shard.group(2)), int(shard.group(3)), digest)
            out.setdefault(shard.group(1), []).append(rng)
    return {p: sorted(r) for p, r in out.items()}


def _shards_match(path: Path, ranges: list[tuple[int, int, str]], hash_type: str) -> bool:
    """The shards tile the file exactly (checked before hashing, so a hostile manifest cannot
    make us read a byte twice) and every shard's digest matches."""
    edge = 0
    for start, end, _ in ranges:
        if start != edge or end < start:
            return False
        edge = end
    if edge != path.stat().st_size:
        return False
    return all(_digest(path, hash_type, start, end) == d for start, end, d in ranges)


def compare(
    manifest: Manifest,
    root: Path,
    signature: Path,
    known: Mapping[str, str] | None = None,
    ignore: tuple[str, ...] = (),
) -> Comparison:
    """Hash what is on disk (reusing `known` sha256 digests) and compare it with the manifest;
    `ignore` adds the verifier's own ignored paths to those the signature records."""
    present = folder_files(root, (*manifest.ignore_paths, *ignore), signature)
    base = root if root.is_dir() else root.parent
    if manifest.method == "shards":
        expected: dict[str, object] = dict(_shards(manifest))
    else:
        expected = dict(manifest.resources)
    changed: list[str] = []
    covered: list[str] = []
    for rel, want in sorted(expected.items()):
        path = root if rel == "." else base / rel
        if not path.is_file():
            continue
        if isinstance(want, list):
            ok = _shards_match(path, want, manifest.hash_type)
        elif manifest.hash_type == "sha256" and known and rel in known:
            ok = known[rel] == want
        else:
            ok = _digest(path, manifest.hash_type) == want
        (covered if ok else changed).append(rel)
    missing = sorted(p for p in expected if p not in present)
    extra = sorted(p for p in present if p not in expected)
    return Comparison(tuple(covered), tuple(changed), tuple(missing), tuple(extra))

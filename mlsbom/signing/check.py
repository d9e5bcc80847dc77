"""Check the signatures found in a scan target: model.sig over a folder or file, detached bundles.

Each signature file ends as one `SignatureCheck` fact (its `SignatureStatus`) plus a
`SignatureFileMismatch` per file that differs from what was signed; `SignatureMissing` when the
policy requires a signature and none verifies.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from mlsbom.digests import Digests, InProcessDigests, sha256_file
from mlsbom.facts import (
    Fact,
    SignatureCheck,
    SignatureFileMismatch,
    SignatureFileProblem,
    SignatureStatus,
)
from mlsbom.regular_file import read_regular, regular_fd
from mlsbom.signing.envelope import BundleError, Envelope, parse_bundle
from mlsbom.signing.manifest import (
    PREDICATE_TYPES,
    PREDICATES_V020_UNSUPPORTED,
    ManifestError,
    compare,
    parse_statement,
)
from mlsbom.signing.signers import SignerPolicy, model_relative

if TYPE_CHECKING:
    from mlsbom.signing.verify import Verified

OMS_NAME = "model.sig"
DETACHED_SUFFIXES = (".sigstore.json", ".sigstore")


def _failed(
    status: SignatureStatus, covers: Path, detail: object, material: str = "unknown"
) -> list[Fact]:
    return [SignatureCheck(status, material, "", "", str(covers), 0, 0, str(detail)[:300])]


def _verify(env: Envelope, policy: SignerPolicy, digest: bytes | None) -> Verified:
    from mlsbom.signing.verify import verify_chain, verify_keyless, verify_public_key

    if env.material == "public-key":
        return verify_public_key(env, policy.signers, policy.trusted_root, digest)
    if env.material == "certificate-chain":
        return verify_chain(env, policy.signers)
    return verify_keyless(env, policy.signers, policy.trusted_root, digest)


def _checked(
    verified: Verified, env: Envelope, covers: Path, files: int, mismatches: list[Fact], what: str
) -> list[Fact]:
    who = f"signed by {verified.signer}" + (f" ({verified.issuer})" if verified.issuer else "")
    detail = "; ".join(x for x in (who, what, verified.note) if x)
    check = SignatureCheck(
        verified.status, env.material, verified.signer, verified.issuer or "", str(covers),
        files, len(mismatches), detail,
    )  # fmt: skip
    return [check, *mismatches]


def check_model_sig(
    sig: Path, root: Path, policy: SignerPolicy, known: Mapping[str, str] | None = None
) -> list[Fact]:
    """Verify an OpenSSF model.sig over `root` (its folder, or one file).

    `known` maps paths relative to the folder to sha256 digests already computed by the scan.
    """
    try:
        env = parse_bundle(read_regular(sig))
    except (BundleError, OSError) as exc:
        return _failed(SignatureStatus.MALFORMED, root, exc)
    from mlsbom.signing.errors import SignatureError

    try:
        verified = _verify(env, policy, None)
    except SignatureError as exc:
        return _failed(exc.status, root, exc, env.material)
    try:
        if env.payload is None:
            raise ManifestError("model.sig carries no signed statement")
        manifest = parse_statement(verified.payload or env.payload)
        ignore = model_relative(root, policy.ignore_paths)
        result = compare(manifest, root, sig, known, ignore)
    except ManifestError as exc:
        return _failed(SignatureStatus.MALFORMED, root, exc, env.material)
    except OSError as exc:
        return _failed(
            SignatureStatus.MALFORMED, root, f"cannot read the model: {exc}", env.material
        )
    name = str(sig)
    mismatches: list[Fact] = [
        *(SignatureFileMismatch(f, SignatureFileProblem.CHANGED, name) for f in result.changed),
        *(SignatureFileMismatch(f, SignatureFileProblem.MISSING, name) for f in result.missing),
        *(SignatureFileMismatch(f, SignatureFileProblem.EXTRA, name) for f in result.extra),
    ]
    what = f"{manifest.method}/{manifest.hash_type} manifest of {len(manifest.resources)} entries"
    return _checked(verified, env, root, len(result.covered), mismatches, what)


def check_detached(
    bundle_path: Path, artifact: Path, policy: SignerPolicy, known: str | None = None
) -> list[Fact]:
    """Verify a detached Sigstore bundle (`FILE.sigstore.json`) over FILE (`known`: its sha256)."""
    name = str(bundle_path)
    if not artifact.is_file():
        missing = SignatureFileMismatch(artifact.name, SignatureFileProblem.MISSING, name)
        return [SignatureCheck(SignatureStatus.INVALID, "unknown", "", "", str(artifact), 0, 1,
                               "the signed file is missing"), missing]  # fmt: skip
    try:
        env = parse_bundle(read_regular(bundle_path))
        digest = bytes.fromhex(known or sha256_file(artifact))
    except (BundleError, OSError) as exc:
        return _failed(SignatureStatus.MALFORMED, artifact, exc)
    from mlsbom.signing.errors import SignatureError

    try:
        verified = _verify(env, policy, digest)
    except SignatureError as exc:
        if exc.status is SignatureStatus.MISMATCH or "message digest mismatch" in str(exc).lower():
            changed = SignatureFileMismatch(artifact.name, SignatureFileProblem.CHANGED, name)
            check = SignatureCheck(
                SignatureStatus.MISMATCH, env.material, "", "", str(artifact), 0, 1, str(exc)[:300]
            )
            return [check, changed]
        return _failed(exc.status, artifact, exc, env.material)
    mismatches: list[Fact] = []
    if env.payload is not None and digest.hex() not in _subject_digests(env.payload):
        mismatches.append(SignatureFileMismatch(artifact.name, SignatureFileProblem.CHANGED, name))
    what = f"detached bundle over {artifact.name}"
    return _checked(verified, env, artifact, 1 - len(mismatches), mismatches, what)


def check_signature(
    sig: Path, covers: Path, policy: SignerPolicy, known: Mapping[str, str] | None = None
) -> list[Fact]:
    """Verify a signature file named by the user: a model-signing statement (model.sig) or a
    detached bundle over one file, told apart by what it signs; or a PEP 740 attestation."""
    if _is_pep740(sig):
        from mlsbom.signing.check_dist import check_attestation

        return check_attestation(sig, covers, policy, (known or {}).get("."))
    try:
        env = parse_bundle(read_regular(sig))
    except (BundleError, OSError) as exc:
        return _failed(SignatureStatus.MALFORMED, covers, exc)
    if env.payload is not None and _is_model_signing(env.payload):
        return check_model_sig(sig, covers, policy, known)
    sha = (known or {}).get(".") if covers.is_file() else None
    return check_detached(sig, covers, policy, sha)


def _is_pep740(sig: Path) -> bool:
    """A PEP 740 attestation (`verification_material`) or provenance (`attestation_bundles`)."""
    try:
        with open(regular_fd(sig), "rb") as f:  # a FIFO given as a signature must not block
            head = f.read(4096)
    except OSError:
        return False
    return b'"attestation_bundles"' in head or (
        b'"verification_material"' in head and b'"mediaType"' not in head
    )


def _is_model_signing(payload: bytes) -> bool:
    try:
        doc = json.loads(payload)
    except (ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and doc.get("predicateType") in (
        *PREDICATE_TYPES,
        *PREDICATES_V020_UNSUPPORTED,
    )


def _subject_digests(payload: bytes) -> set[str]:
    try:
        doc = json.loads(payload)
    except (ValueError, RecursionError):
        return set()
    subjects = doc.get("subject") if isinstance(doc, dict) else None
    out = set()
    for s in subjects if isinstance(subjects, list) else []:
        d = s.get("digest") if isinstance(s, dict) else None
        if isinstance(d, dict) and isinstance(d.get("sha256"), str):
            out.add(d["sha256"])
    return out


def find_signatures(target: Path) -> list[tuple[Path, Path, str]]:
    """(signature file, what it covers, kind) for a folder or a file target."""
    found: list[tuple[Path, Path, str]] = []
    if target.is_dir():
        sig = target / OMS_NAME
        if sig.is_file():
            found.append((sig, target, "oms"))
        for path in sorted(target.rglob("*.sigstore*")):
            if ".git" in path.relative_to(target).parts:
                continue
            for suffix in DETACHED_SUFFIXES:
                if path.name.endswith(suffix) and path.is_file():
                    found.append((path, path.with_name(path.name[: -len(suffix)]), "detached"))
        found += _attestations_in(target)
    elif target.is_file():
        found += _attestations_beside(target)
        for suffix in DETACHED_SUFFIXES:
            bundle = target.with_name(target.name + suffix)
            if bundle.is_file():
                found.append((bundle, target, "detached"))
        if target.name == OMS_NAME:
            found.append((target, target.parent, "oms"))
    return found


def _attestations_in(folder: Path) -> list[tuple[Path, Path, str]]:
    """PEP 740 attestation files in a folder, each with the distribution it names."""
    from mlsbom.signing.attestation import ATTESTATION_SUFFIXES, is_distribution

    out = []
    candidates = {p for pattern in ("*.attestation", "*.provenance") for p in folder.rglob(pattern)}
    for path in sorted(candidates):
        suffix = next((s for s in ATTESTATION_SUFFIXES if path.name.endswith(s)), None)
        if suffix is None or ".git" in path.relative_to(folder).parts or not path.is_file():
            continue
        dist = path.with_name(path.name[: -len(suffix)])
        if is_distribution(dist):
            out.append((path, dist, "pep740"))
    return out


def _attestations_beside(dist: Path) -> list[tuple[Path, Path, str]]:
    from mlsbom.signing.attestation import ATTESTATION_SUFFIXES, is_distribution

    if not is_distribution(dist):
        return []
    beside = (dist.with_name(dist.name + suffix) for suffix in ATTESTATION_SUFFIXES)
    return [(path, dist, "pep740") for path in beside if path.is_file()]


def _attested(attestation: Path, target: Path) -> Path:
    """The distribution an explicit --attestation is about: a file target itself, or in a folder
    target the file its name points to (`DIST.publish.attestation` -> `DIST`, found anywhere)."""
    from mlsbom.signing.attestation import ATTESTATION_SUFFIXES

    if not target.is_dir():
        return target
    name = attestation.name
    suffix = next((s for s in ATTESTATION_SUFFIXES if name.endswith(s)), "")
    dist = name[: -len(suffix)] if suffix else name
    found = sorted(target.rglob(glob.escape(dist)))
    return found[0] if found else target / dist  # a missing one is reported as such


def file_key(path: Path) -> Path:
    """How digests are keyed: the real folder, the file's own name (links in it not followed)."""
    return Path(os.path.realpath(path.parent)) / path.name


def _hash_target(
    target: Path, found: list[tuple[Path, Path, str]], digests: Digests
) -> dict[Path, str]:
    """SHA-256 of the target's files (none when it carries no signature)."""
    if not found:
        return {}
    if target.is_dir():
        files = [
            p
            for p in target.rglob("*")
            if ".git" not in p.relative_to(target).parts and p.is_file()
        ]
    else:
        files = [target]
    digests.start(dict.fromkeys(files))
    return {file_key(p): d for p, d in digests.results().items() if isinstance(d, str)}


def check_target(
    target: Path,
    policy: SignerPolicy,
    known: Mapping[Path, str] | None = None,
    digests: Digests | None = None,
) -> list[tuple[Path, list[Fact]]]:
    """Every signature of the target, verified: (signature path, facts) pairs.

    `known` maps `file_key` paths to sha256 digests the scan already computed; without them the
    target's files are hashed by `digests` (default: in this process).
    """
    found = find_signatures(target)
    if policy.attestations:  # given with --attestation: these, not those beside
        found = [f for f in found if f[2] != "pep740"]
        found += [(a, _attested(a, target), "pep740") for a in policy.attestations]
    if known is None:
        known = _hash_target(target, found, digests or InProcessDigests())
    out: list[tuple[Path, list[Fact]]] = []
    for sig, covers, kind in found:
        if kind == "detached":
            facts = check_detached(sig, covers, policy, known.get(file_key(covers)))
        elif kind == "pep740":
            from mlsbom.signing.check_dist import check_attestation

            facts = check_attestation(sig, covers, policy, known.get(file_key(covers)))
        else:
            root = Path(os.path.realpath(covers))
            rel = {
                p.relative_to(root).as_posix(): d
                for p, d in known.items()
                if p.is_relative_to(root)
            }
            facts = check_model_sig(sig, covers, policy, rel)
        out.append((sig, facts))
    return out

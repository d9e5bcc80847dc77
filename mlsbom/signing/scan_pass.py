"""The signature pass of a scan: after the walk and hashing, verify every target's signatures and
attach the facts to the signature files' artefacts (judged with all the others, judge.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from mlsbom.digests import Digests
from mlsbom.facts import Fact, SignatureCheck, SignatureMissing
from mlsbom.models import ArtifactRef, ArtifactResult, Format, ScanResult
from mlsbom.signing.check import (
    DETACHED_SUFFIXES,
    OMS_NAME,
    check_signature,
    check_target,
    file_key,
)
from mlsbom.signing.signers import SignerPolicy


def has_signatures(targets: Sequence[str], files: Mapping[ArtifactRef, Path]) -> bool:
    """Whether the pass has anything to verify: a detached bundle anywhere, or a model.sig that
    `find_signatures` will use (at a folder target's root, or the target itself)."""
    roots = {file_key(Path(t) / OMS_NAME) for t in targets if "://" not in t}
    roots |= {file_key(Path(t)) for t in targets if t.endswith(OMS_NAME)}
    from mlsbom.signing.attestation import ATTESTATION_SUFFIXES

    return any(
        path.name.endswith((*DETACHED_SUFFIXES, *ATTESTATION_SUFFIXES))
        or (path.name == OMS_NAME and file_key(path) in roots)
        for path in files.values()
    )


def _target_facts(
    target: str,
    files: Mapping[ArtifactRef, Path],
    digests: Mapping[Path, str | OSError],
    policy: SignerPolicy,
) -> tuple[dict[Path, list[Fact]], list[Fact]]:
    """Facts per signature file, and facts about the target as a whole."""
    known = {
        file_key(path): d for path in files.values() if isinstance(d := digests.get(path), str)
    }
    by_sig = {file_key(sig): facts for sig, facts in check_target(Path(target), policy, known)}
    whole = (
        _missing(target, [f for facts in by_sig.values() for f in facts]) if policy.required else []
    )
    return by_sig, whole


def _missing(target: str, facts: Sequence[Fact]) -> list[Fact]:
    """`SignatureMissing` when no signature of the target verifies intact (policy: required)."""
    checks = [f for f in facts if isinstance(f, SignatureCheck)]
    if any(c.intact for c in checks):
        return []
    reason = (
        "no signature was found"
        if not checks
        else f"none of its {len(checks)} signatures verifies intact for an accepted signer"
    )
    return [SignatureMissing(target, len(checks), reason)]


def verify_facts(
    target: Path, signature: Path | None, policy: SignerPolicy, digests: Digests | None = None
) -> ScanResult:
    """`mlsbom verify`'s facts: one artefact per signature file (named by its path, in the order
    found), and a `SignatureMissing` on the target unless one verifies intact. Nothing else of
    the target is analysed; its files are hashed for the comparison only."""
    if signature is not None:
        by_sig = [(signature, check_signature(signature, target, policy))]
    else:
        by_sig = check_target(target, policy, digests=digests)
    # not analysed: a signature file's format is not looked at here
    arts = [
        ArtifactResult(ArtifactRef(str(s)), Format.UNKNOWN, None, tuple(f), ()) for s, f in by_sig
    ]
    whole = _missing(str(target), [f for _, facts in by_sig for f in facts])
    if whole:
        arts.append(
            ArtifactResult(ArtifactRef(str(target)), Format.REPOSITORY, None, tuple(whole), ())
        )
    return ScanResult((str(target),), tuple(arts))


def attach(
    targets: Sequence[str],
    results: list[ArtifactResult],
    files: Mapping[ArtifactRef, Path],
    digests: Mapping[Path, str | OSError],
    policy: SignerPolicy,
) -> list[ArtifactResult]:
    """Results with signature facts added; pseudo artefacts where none exists."""
    extra: dict[ArtifactRef, list[Fact]] = {}
    for target in targets:
        if "://" in target:
            continue
        by_sig, whole = _target_facts(target, files, digests, policy)
        keyed = {file_key(path): ref for ref, path in files.items() if ref.target == target}
        for sig, facts in by_sig.items():
            ref = keyed.get(sig, ArtifactRef(str(sig), target=target))
            extra.setdefault(ref, []).extend(facts)
        if whole:
            extra.setdefault(ArtifactRef(target, target=target), []).extend(whole)
    out = []
    for art in results:
        facts = extra.pop(art.ref, [])
        out.append(art.with_facts(facts) if facts else art)
    for ref, facts in extra.items():
        out.append(ArtifactResult(ref, Format.REPOSITORY, None, tuple(facts), ()))
    return out

"""The signature pass of a scan: after the walk and hashing, verify every target's signatures and
attach the facts (and the findings the rules make of them) to the signature files' artefacts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from mlsbom.facts import Fact, SignatureCheck, SignatureMissing
from mlsbom.models import ArtifactRef, ArtifactResult, Format
from mlsbom.rules import RuleSet, add_facts
from mlsbom.signing.check import DETACHED_SUFFIXES, OMS_NAME, check_target, file_key
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
    checks = [f for facts in by_sig.values() for f in facts if isinstance(f, SignatureCheck)]
    whole: list[Fact] = []
    if policy.required and not any(c.intact for c in checks):
        reason = (
            "no signature was found"
            if not checks
            else f"none of its {len(checks)} signatures verifies intact for an accepted signer"
        )
        whole.append(SignatureMissing(target, len(checks), reason))
    return by_sig, whole


def attach(
    targets: Sequence[str],
    results: list[ArtifactResult],
    files: Mapping[ArtifactRef, Path],
    digests: Mapping[Path, str | OSError],
    policy: SignerPolicy,
    rules: RuleSet,
) -> list[ArtifactResult]:
    """Results with signature facts and findings added; pseudo artefacts where none exists."""
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
        out.append(add_facts(art, facts, rules) if facts else art)
    for ref, facts in extra.items():
        pseudo = ArtifactResult(ref, Format.REPOSITORY, None, (), ())
        out.append(add_facts(pseudo, facts, rules))
    return out

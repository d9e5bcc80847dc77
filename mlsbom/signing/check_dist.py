"""Check a Python distribution (wheel or sdist) against its PEP 740 attestations: each attestation
file ends as `SignatureCheck` facts (material `pep740`), like model.sig and detached bundles."""

from __future__ import annotations

from pathlib import Path

from mlsbom.digests import sha256_file
from mlsbom.facts import (
    Fact,
    SignatureCheck,
    SignatureFileMismatch,
    SignatureFileProblem,
    SignatureStatus,
)
from mlsbom.regular_file import read_regular
from mlsbom.signing.errors import SignatureError
from mlsbom.signing.signers import SignerPolicy


def _failed(status: SignatureStatus, dist: Path, detail: str) -> list[Fact]:
    return [SignatureCheck(status, "pep740", "", "", str(dist), 0, 0, detail[:300])]


def check_attestation(
    att_path: Path, dist: Path, policy: SignerPolicy, known: str | None = None
) -> list[Fact]:
    """Verify every attestation in `att_path` (an attestation or provenance JSON) over `dist`."""
    from mlsbom.signing.attestation import load_attestations, verify_attestation
    from mlsbom.signing.verify import production_root

    if not dist.is_file():
        missing = SignatureFileMismatch(dist.name, SignatureFileProblem.MISSING, str(att_path))
        return [
            *_failed(SignatureStatus.INVALID, dist, "the attested distribution is missing"),
            missing,
        ]
    try:
        found = load_attestations(read_regular(att_path))
        sha = known or sha256_file(dist)
    except SignatureError as exc:
        return _failed(exc.status, dist, str(exc))
    except OSError as exc:
        return _failed(SignatureStatus.MALFORMED, dist, f"cannot read: {exc.strerror}")
    root = policy.trusted_root or production_root()
    facts: list[Fact] = []
    for att, claimed in found:
        try:
            r = verify_attestation(att, claimed, dist, sha, policy.signers, root)
        except SignatureError as exc:
            facts += _failed(exc.status, dist, str(exc))
            if "sha256 differs" in str(exc):
                changed = SignatureFileProblem.CHANGED
                facts.append(SignatureFileMismatch(dist.name, changed, str(att_path)))
            continue
        kind = r.predicate_type.rstrip("/").rsplit("/", 2)
        what = f"PEP 740 {'/'.join(kind[-2:])} attestation over {dist.name}"
        claim = f"provenance names publisher {r.claimed_publisher}" if r.claimed_publisher else ""
        who = f"signed by {r.signer}" + (f" ({r.issuer})" if r.issuer else "")
        detail = "; ".join(x for x in (who, what, claim, r.note) if x)
        facts.append(
            SignatureCheck(r.status, "pep740", r.signer, r.issuer, str(dist), 1, 0, detail[:300])
        )
    return facts or _failed(SignatureStatus.MALFORMED, dist, "the provenance holds no attestation")

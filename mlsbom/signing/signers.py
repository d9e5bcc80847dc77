"""Who a signature must come from: accepted signers and whether a signature is required.

Kept free of crypto imports so that configuration and policy loading stay cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Signer:
    """One accepted signer: a keyless identity/issuer, a public key, or a CA certificate."""

    identity: str | None = None
    issuer: str | None = None
    key_pem: bytes | None = None
    ca_pem: bytes | None = None
    publisher: str | None = None  # PEP 740 Trusted Publisher, e.g. github:OWNER/REPO:WORKFLOW

    def describe(self) -> str:
        if self.publisher:
            return f"trusted publisher {self.publisher}"
        if self.key_pem:
            return "public key"
        if self.ca_pem:
            return "certificate chain"
        return f"{self.identity} ({self.issuer})"


@dataclass(frozen=True, slots=True)
class SignerPolicy:
    """Accepted signers, the Sigstore trust root, and whether every target must be signed."""

    signers: tuple[Signer, ...] = ()
    trusted_root: Path | None = None
    required: bool = False
    ignore_paths: tuple[str, ...] = ()  # model-relative paths the signer excluded (--ignore-paths)
    attestations: tuple[Path, ...] = ()  # PEP 740 attestation files given with --attestation

    def merged(self, other: SignerPolicy) -> SignerPolicy:
        """Signers of both; required if either requires; `other`'s trust root wins."""
        return SignerPolicy(
            (*self.signers, *other.signers),
            other.trusted_root or self.trusted_root,
            self.required or other.required,
            tuple(dict.fromkeys((*self.ignore_paths, *other.ignore_paths))),
            (*self.attestations, *other.attestations),
        )


def signers_from(
    identities: Sequence[tuple[str, str]],
    keys: Sequence[bytes],
    cas: Sequence[bytes],
    publishers: Sequence[str] = (),
) -> tuple[Signer, ...]:
    """Signers from identity/issuer pairs, public-key PEMs, CA PEMs and Trusted Publishers."""
    return (
        *(Signer(identity=i, issuer=s) for i, s in identities),
        *(Signer(key_pem=k) for k in keys),
        *(Signer(ca_pem=c) for c in cas),
        *(Signer(publisher=p) for p in publishers),
    )


def model_relative(root: Path, paths: Sequence[str]) -> tuple[str, ...]:
    """`--ignore-paths` as model_signing takes them: a path on disk inside the model folder
    (`./model/x`), or a path relative to the model folder (`x`); both become the folder-relative
    POSIX path."""
    base = root.resolve() if root.is_dir() else root.resolve().parent
    out = []
    for raw in paths:
        candidate = Path(raw)
        resolved = candidate.resolve() if candidate.is_absolute() or candidate.exists() else None
        if resolved is not None and resolved.is_relative_to(base) and resolved != base:
            out.append(resolved.relative_to(base).as_posix())
        else:
            out.append(candidate.as_posix().strip("/").removeprefix("./"))
    return tuple(p for p in out if p and p != ".")

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

    def describe(self) -> str:
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

    def merged(self, other: SignerPolicy) -> SignerPolicy:
        """Signers of both; required if either requires; `other`'s trust root wins."""
        return SignerPolicy(
            (*self.signers, *other.signers),
            other.trusted_root or self.trusted_root,
            self.required or other.required,
        )


def signers_from(
    identities: Sequence[tuple[str, str]], keys: Sequence[bytes], cas: Sequence[bytes]
) -> tuple[Signer, ...]:
    """Signers from identity/issuer pairs, public-key PEMs and CA PEMs."""
    return (
        *(Signer(identity=i, issuer=s) for i, s in identities),
        *(Signer(key_pem=k) for k in keys),
        *(Signer(ca_pem=c) for c in cas),
    )

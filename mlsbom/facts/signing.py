"""Facts about signatures over a model folder or file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mlsbom.facts.core import Fact


@dataclass(frozen=True, slots=True)
class SignatureCheck(Fact):
    """The outcome of verifying one signature file."""

    kind: ClassVar[str] = "signature"
    status: str  # verified | untrusted | unchecked | invalid | malformed | mismatch
    material: str  # keyless | public-key | certificate-chain | unknown
    signer: str
    issuer: str
    covers: str  # the folder or file the signature is over
    files: int  # files the signature covers that match it
    differ: int  # files changed, missing or not covered
    detail: str

    @property
    def intact(self) -> bool:
        """Valid, trusted, and every file is as signed."""
        return self.status == "verified" and self.differ == 0

    @property
    def outcome(self) -> str:
        """One word for reports: the status, or `mismatch` when files differ."""
        return (
            "mismatch" if self.differ and self.status in ("verified", "mismatch") else self.status
        )

    @property
    def signed_by(self) -> str:
        """`signer (issuer)`, or empty when nobody is known."""
        return f"{self.signer} ({self.issuer})" if self.issuer else self.signer


@dataclass(frozen=True, slots=True)
class SignatureFileMismatch(Fact):
    """A file that differs from what the signature covers."""

    kind: ClassVar[str] = "signature-file"
    file: str
    problem: str  # changed | missing | extra
    signature: str


@dataclass(frozen=True, slots=True)
class SignatureMissing(Fact):
    """The policy requires a valid signature from an accepted signer and the target has none."""

    kind: ClassVar[str] = "signature-missing"
    target: str
    found: int  # signature files present (none of which verified)
    reason: str

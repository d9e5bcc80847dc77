"""Facts about signatures over a model folder or file."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

from mlsbom.facts.core import Fact


class SignatureStatus(str, enum.Enum):
    """How verifying one signature file ended (rules match these values as strings)."""

    VERIFIED = "verified"  # valid, and made by a signer the policy accepts
    UNTRUSTED = "untrusted"  # valid, but signers were given and this one is none of them
    UNCHECKED = "unchecked"  # valid, but no signer was given, so nobody is trusted
    INVALID = "invalid"  # does not verify (bad signature, certificate, log entry, subject)
    MALFORMED = "malformed"  # not a bundle or statement mlsbom can read
    MISMATCH = "mismatch"  # the signed file's digest differs from the file on disk

    def __str__(self) -> str:
        return self.value


class SignatureFileProblem(str, enum.Enum):
    """How a file differs from what a signature covers."""

    CHANGED = "changed"  # its digest is not the signed one
    MISSING = "missing"  # signed, but not on disk
    EXTRA = "extra"  # on disk, but not signed

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class SignatureCheck(Fact):
    """The outcome of verifying one signature file."""

    kind: ClassVar[str] = "signature"
    status: SignatureStatus
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
        return self.status is SignatureStatus.VERIFIED and self.differ == 0

    @property
    def outcome(self) -> SignatureStatus:
        """One word for reports: the status, or `mismatch` when files differ."""
        valid = self.status in (SignatureStatus.VERIFIED, SignatureStatus.MISMATCH)
        return SignatureStatus.MISMATCH if self.differ and valid else self.status

    @property
    def signed_by(self) -> str:
        """`signer (issuer)`, or empty when nobody is known."""
        return f"{self.signer} ({self.issuer})" if self.issuer else self.signer


@dataclass(frozen=True, slots=True)
class SignatureFileMismatch(Fact):
    """A file that differs from what the signature covers."""

    kind: ClassVar[str] = "signature-file"
    file: str
    problem: SignatureFileProblem
    signature: str


@dataclass(frozen=True, slots=True)
class SignatureMissing(Fact):
    """The policy requires a valid signature from an accepted signer and the target has none."""

    kind: ClassVar[str] = "signature-missing"
    target: str
    found: int  # signature files present (none of which verified)
    reason: str

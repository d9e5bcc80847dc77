"""Facts the policy adds: formats and licences it does not allow, expired waivers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mlsbom.facts.core import Fact


@dataclass(frozen=True, slots=True)
class FormatNotAllowed(Fact):
    """The policy does not allow this artefact's format."""

    kind: ClassVar[str] = "policy-format"
    format: str
    reason: str


@dataclass(frozen=True, slots=True)
class LicenseNotAllowed(Fact):
    """The model's declared licence is denied, not allowed, or unknown under an allow list."""

    kind: ClassVar[str] = "policy-license"
    license: str
    reason: str


@dataclass(frozen=True, slots=True)
class WaiverExpired(Fact):
    """A waiver in the policy has passed its expiry date."""

    kind: ClassVar[str] = "policy-waiver-expired"
    rule: str
    path: str
    expires: str

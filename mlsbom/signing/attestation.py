"""PEP 740 attestations of Python distributions (what PyPI serves for wheels and sdists).

Parsed with pypi-attestations' models (`Attestation`, `Provenance`, publishers) and converted with
its `to_bundle()` to a sigstore-python `Bundle`, verified offline by sigstore-python's `Verifier`
against the production trust root it embeds (or `--trusted-root`): certificate chain and log entry
at integration time, DSSE signature. Then, as pypi-attestations' own `verify` does: one subject,
naming this distribution (parsed wheel/sdist names compared), with its SHA-256; a predicate type
PyPI knows (publish/v1 or SLSA provenance v1).

Trust comes from a Trusted Publisher the user names (`--publisher github:OWNER/REPO:WORKFLOW.yml`,
`gitlab:NAMESPACE/PROJECT:.gitlab-ci.yml`, `google:SERVICE-ACCOUNT-EMAIL`) or a keyless
`--identity/--issuer`; the publisher a provenance file claims is reported, never trusted by itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlsbom.facts import SignatureStatus
from mlsbom.signing.errors import SignatureError, clean_message
from mlsbom.signing.signers import Signer

if TYPE_CHECKING:
    from pypi_attestations import Attestation

DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")
ATTESTATION_SUFFIXES = (".publish.attestation", ".slsa.attestation", ".attestation", ".provenance")
MAX_ATTESTATION = 4 << 20
PUBLISHER_FORMS = "github:OWNER/REPO:WORKFLOW, gitlab:NAMESPACE/PROJECT:CI-FILE or google:EMAIL"


@dataclass(frozen=True, slots=True)
class AttestationResult:
    """One verified attestation: who made it and what it says."""

    status: SignatureStatus  # verified | untrusted | unchecked
    signer: str
    issuer: str
    predicate_type: str
    claimed_publisher: str
    note: str = ""


def is_distribution(path: Path) -> bool:
    return path.name.endswith(DIST_SUFFIXES)


def publisher_from_spec(spec: str) -> Any:
    """A pypi-attestations Publisher from `kind:...`; ValueError naming the accepted forms."""
    from pypi_attestations import GitHubPublisher, GitLabPublisher, GooglePublisher

    kind, _, rest = spec.partition(":")
    repo, _, workflow = rest.rpartition(":")
    if kind == "github" and repo.count("/") == 1 and workflow:
        return GitHubPublisher(repository=repo, workflow=workflow)
    if kind == "gitlab" and "/" in repo and workflow:
        return GitLabPublisher(repository=repo, workflow_filepath=workflow)
    if kind == "google" and "@" in rest:
        return GooglePublisher(email=rest)
    raise ValueError(f"publisher {spec[:80]!r} is not one of {PUBLISHER_FORMS}")


def _describe(publisher: Any) -> str:
    kind = getattr(publisher, "kind", "?")
    name = getattr(publisher, "repository", None) or getattr(publisher, "email", None) or ""
    workflow = getattr(publisher, "workflow", None) or getattr(publisher, "workflow_filepath", None)
    return f"{kind} {name}" + (f" ({workflow})" if workflow else "")


def load_attestations(raw: bytes) -> list[tuple[Attestation, str]]:
    """(attestation, publisher the file claims) pairs from an attestation or provenance JSON."""
    from pydantic import ValidationError
    from pypi_attestations import Attestation, Provenance

    if len(raw) > MAX_ATTESTATION:
        raise SignatureError(
            SignatureStatus.MALFORMED, f"attestation of {len(raw)} bytes is too large"
        )
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        raise SignatureError(SignatureStatus.MALFORMED, "the attestation is not JSON") from None
    try:
        if isinstance(doc, dict) and "attestation_bundles" in doc:
            prov = Provenance.model_validate(doc)
            return [
                (a, _describe(b.publisher))
                for b in prov.attestation_bundles
                for a in b.attestations
            ]
        return [(Attestation.model_validate(doc), "")]
    except ValidationError as exc:
        raise SignatureError(
            SignatureStatus.MALFORMED, f"not a PEP 740 attestation: {clean_message(exc)}"
        ) from None


class _Judge:
    """Records which accepted signer's policy the signing certificate satisfies."""

    def __init__(self, policies: Sequence[tuple[str, Any]]) -> None:
        self._policies = policies
        self.accepted: str | None = None
        self.refusals: list[str] = []

    def verify(self, cert: object) -> None:
        from sigstore.errors import VerificationError

        for name, policy in self._policies:
            try:
                policy.verify(cert)
            except VerificationError:
                self.refusals.append(name)
                continue
            self.accepted = name
            return


def _policies(signers: Sequence[Signer]) -> list[tuple[str, Any]]:
    from sigstore.verify.policy import Identity

    out: list[tuple[str, Any]] = []
    for s in signers:
        if s.publisher:
            publisher = publisher_from_spec(s.publisher)
            # the policies pypi-attestations (and PyPI) check; a private API, pinned <0.1
            out.append((_describe(publisher), publisher._as_policy()))
        elif s.identity and s.issuer:
            out.append(
                (f"{s.identity} ({s.issuer})", Identity(identity=s.identity, issuer=s.issuer))
            )
    return out


def _dist_name(filename: str) -> object:
    """The parsed name, version (and tags) of a wheel or sdist file name, as pypi-attestations
    compares them; ValueError for anything else (packaging's errors are ValueErrors)."""
    from packaging.utils import parse_sdist_filename, parse_wheel_filename

    if filename.endswith(".whl"):
        return parse_wheel_filename(filename)
    if filename.endswith((".tar.gz", ".zip")):
        return parse_sdist_filename(filename)
    raise ValueError(f"unknown distribution format: {filename[:100]}")


def _check_subject(payload: bytes, dist_name: str, sha256: str) -> str:
    """The statement's predicate type, after checking it names this distribution."""
    from pypi_attestations import AttestationType

    try:
        statement = json.loads(payload)
    except (ValueError, RecursionError):
        raise SignatureError(
            SignatureStatus.INVALID, "the attested statement is not JSON"
        ) from None
    subjects = statement.get("subject") if isinstance(statement, dict) else None
    if not isinstance(subjects, list) or len(subjects) != 1 or not isinstance(subjects[0], dict):
        raise SignatureError(
            SignatureStatus.INVALID, "the attestation must name exactly one distribution"
        )
    name = str(subjects[0].get("name", ""))
    try:
        same = _dist_name(name) == _dist_name(dist_name)
    except ValueError:
        raise SignatureError(
            SignatureStatus.INVALID,
            f"the attestation's subject {name[:100]!r} is not a distribution",
        ) from None
    if not same:
        raise SignatureError(
            SignatureStatus.INVALID, f"the attestation is for {name[:100]}, not {dist_name[:100]}"
        )
    digest = subjects[0].get("digest")
    if not isinstance(digest, dict) or digest.get("sha256") != sha256:
        raise SignatureError(
            SignatureStatus.INVALID,
            f"{dist_name[:100]} is not the file the attestation was made for (sha256 differs)",
        )
    kind = str(statement.get("predicateType", ""))
    if kind not in {t.value for t in AttestationType}:
        raise SignatureError(
            SignatureStatus.INVALID,
            f"unsupported attestation type {kind[:100]!r} "
            "(PyPI knows publish/v1 and SLSA provenance v1)",
        )
    return kind


def verify_attestation(
    att: Attestation,
    claimed: str,
    dist: Path,
    sha256: str,
    signers: Sequence[Signer],
    trusted_root: Path,
) -> AttestationResult:
    """Verify one attestation over `dist`; SignatureError says why not."""
    from pypi_attestations import ConversionError
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier

    from mlsbom.signing.verify import _identity

    try:
        bundle = att.to_bundle()
    except ConversionError as exc:
        raise SignatureError(
            SignatureStatus.MALFORMED,
            f"the attestation does not convert to a bundle: {clean_message(exc)}",
        ) from None
    signer, issuer = _identity(bundle.signing_certificate)
    try:
        policies = _policies(signers)
    except ValueError as exc:
        raise SignatureError(SignatureStatus.INVALID, str(exc)) from None
    judge = _Judge(policies)
    try:
        verifier = Verifier(trusted_root=TrustedRoot.from_file(str(trusted_root)))
        _, payload = verifier.verify_dsse(bundle, judge)
    except (SigstoreError, ValueError) as exc:
        raise SignatureError(SignatureStatus.INVALID, clean_message(exc)) from None
    predicate = _check_subject(payload, dist.name, sha256)
    status = (
        SignatureStatus.VERIFIED
        if judge.accepted
        else (SignatureStatus.UNTRUSTED if policies else SignatureStatus.UNCHECKED)
    )
    note = "" if judge.accepted else f"expected {' or '.join(judge.refusals)}"
    if not policies:
        note = "no --publisher or --identity given to trust it"
    return AttestationResult(status, signer, issuer or "", predicate, claimed, note)

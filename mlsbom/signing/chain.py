"""Certificate-chain signatures (model_signing's `certificate` method): the chain is built and
checked by cryptography's X.509 verifier (RFC 5280 path building, CA basic constraints, path length,
keyCertSign).

- Anchors are only the SELF-SIGNED certificates the user gave (`--cert-chain`). Other certificates
  in those files are offered as intermediates, never as anchors: like model_signing (OpenSSL without
  PARTIAL_CHAIN), an intermediate alone does not make a signature trusted, so a compromised or
  mis-issued sibling of an intermediate cannot be vouched for by naming the intermediate.
- The leaf must carry the code-signing extended key usage (model_signing also accepts a bare
  digitalSignature key usage; we do not: a TLS server certificate must not sign models).
- Validity is checked at signing time, which for these keyless-log-free signatures is the leaf's
  notBefore (what model_signing uses): a signature stays valid after the certificate expires, but a
  chain whose CA was not yet or no longer valid when the leaf was issued fails.
- The leaf's own basic constraints are not judged (model_signing's published test leaf is marked
  CA:TRUE).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from mlsbom.facts import SignatureStatus
from mlsbom.signing.errors import SignatureError, clean_message

MAX_DEPTH = 8


def _code_signing(
    policy: object, cert: x509.Certificate, eku: x509.ExtendedKeyUsage | None
) -> None:
    if eku is None or ExtendedKeyUsageOID.CODE_SIGNING not in eku:
        raise ValueError("the signing certificate lacks the code-signing extended key usage")


def _ee_policy() -> ExtensionPolicy:
    return ExtensionPolicy.permit_all().require_present(
        x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _code_signing
    )


def _ca_policy() -> ExtensionPolicy:
    return ExtensionPolicy.webpki_defaults_ca().may_be_present(
        x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None
    )


def split_anchors(pem: bytes) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    """(self-signed anchors, other certificates) of a CA file."""
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise SignatureError(
            SignatureStatus.INVALID, "an accepted --cert-chain file holds no PEM certificate"
        ) from None
    anchors: list[x509.Certificate] = []
    others: list[x509.Certificate] = []
    for cert in certs:
        (anchors if _self_signed(cert) else others).append(cert)
    return anchors, others


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _name(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()[:120] or "(empty subject)"


def verify_leaf_chain(
    leaf: x509.Certificate,
    pool: Sequence[x509.Certificate],
    ca_pems: Sequence[bytes],
    when: datetime,
) -> tuple[bool, str]:
    """(True, anchor subject) when the chain leads to a given self-signed anchor at `when`;
    (False, why) when it leads nowhere trusted. SignatureError for a leaf that may not sign."""
    try:
        _code_signing(None, leaf, _eku(leaf))  # a clear message before path building
    except ValueError as exc:
        raise SignatureError(SignatureStatus.INVALID, str(exc)) from None
    reasons: list[str] = []
    for pem in ca_pems:
        anchors, extra = split_anchors(pem)
        if not anchors:
            reasons.append(
                "the --cert-chain file holds no self-signed root: "
                "an intermediate cannot be the trust anchor"
            )
            continue
        verifier = (
            PolicyBuilder()
            .store(Store(anchors))
            .time(when)
            .max_chain_depth(MAX_DEPTH)
            .extension_policies(ca_policy=_ca_policy(), ee_policy=_ee_policy())
            .build_client_verifier()
        )
        try:
            chain = verifier.verify(leaf, [*pool, *extra]).chain
        except (VerificationError, ValueError) as exc:  # ValueError: a certificate it cannot parse
            reasons.append(
                f"the chain does not lead to a given root: {clean_message(exc, sigstore=False)}"
            )
            continue
        return True, _name(chain[-1])
    return False, "; ".join(dict.fromkeys(reasons)) or "no --cert-chain given"


def _eku(cert: x509.Certificate) -> x509.ExtendedKeyUsage | None:
    try:
        return cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return None

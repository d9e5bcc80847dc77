"""Verify a bundle signature: keyless (sigstore-python, offline), public key, certificate chain."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.resources
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from mlsbom.regular_file import require_regular
from mlsbom.signing.envelope import Envelope, pae
from mlsbom.signing.signers import Signer

_ISSUER_OIDS = ("1.3.6.1.4.1.57264.1.8", "1.3.6.1.4.1.57264.1.1")


@dataclass(frozen=True, slots=True)
class Verified:
    """The signature is cryptographically valid; whether the policy trusts who made it.

    `status` is `verified` (an accepted signer), `untrusted` (signers were given, none is this
    one) or `unchecked` (no signer was given, so nobody is trusted).
    """

    status: str
    signer: str
    issuer: str | None
    payload: bytes | None
    note: str = ""


class SignatureError(Exception):
    """The signature cannot be verified; `status` is `invalid`, `untrusted` or `unchecked`."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


def _nobody(signers: Sequence[Signer]) -> str:
    return "unchecked" if not signers else "untrusted"


def _not_accepted(
    signers: Sequence[Signer], relevant: Sequence[Signer], option: str, why: str, valid: Verified
) -> Verified:
    """A cryptographically valid signature that no accepted signer vouches for."""
    note = f"no {option} given to trust it" if not relevant else why
    return dataclasses.replace(valid, status=_nobody(signers), note=note)


def warm_up() -> None:
    """Import sigstore's verifier now (about 0.4 s), e.g. while hashing threads run."""
    import sigstore.models
    import sigstore.verify  # noqa: F401


def production_root() -> Path:
    """The Sigstore production trusted_root.json that sigstore-python ships."""
    store = importlib.resources.files("sigstore") / "_store"
    for entry in store.iterdir():
        if "sigstore.dev" in entry.name and "sigstage" not in entry.name:
            return Path(str(entry / "trusted_root.json"))
    raise FileNotFoundError("sigstore-python's embedded trust root was not found")


def _verify_with_key(key: object, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            algo = hashes.SHA384() if key.curve.key_size >= 384 else hashes.SHA256()
            key.verify(signature, data, ec.ECDSA(algo))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _signed_data(env: Envelope) -> bytes:
    if env.payload is None or env.payload_type is None:
        raise SignatureError("invalid", "bundle has no DSSE envelope to verify")
    return pae(env.payload_type, env.payload)


def verify_public_key(env: Envelope, signers: Sequence[Signer]) -> Verified:
    keys = [s for s in signers if s.key_pem]
    if not keys:
        raise SignatureError(_nobody(signers), "key-based signature: give --key PEM to verify it")
    data = _signed_data(env)
    for signer in keys:
        try:
            key = serialization.load_pem_public_key(signer.key_pem or b"")
        except ValueError:
            raise SignatureError("invalid", "an accepted key is not a PEM public key") from None
        if any(_verify_with_key(key, sig, data) for sig in env.signatures):
            return Verified("verified", f"public key {_key_id(key)}", None, env.payload)
    raise SignatureError("untrusted", "no accepted public key verifies the signature")


def _key_id(key: object) -> str:
    """First 16 hex digits of the SHA-256 of the key's DER SubjectPublicKeyInfo."""
    if not isinstance(key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey, ed25519.Ed25519PublicKey)):
        return "?"
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:16]


def _chain_ok(
    leaf: x509.Certificate, pool: list[x509.Certificate], roots: list[x509.Certificate]
) -> bool:
    cert, seen = leaf, 0
    while seen < 10:
        seen += 1
        for root in roots:
            if cert.issuer == root.subject:
                try:
                    cert.verify_directly_issued_by(root)
                    return True
                except (ValueError, TypeError, InvalidSignature):
                    continue
        parent = next((c for c in pool if c.subject == cert.issuer and c is not cert), None)
        if parent is None:
            return False
        try:
            cert.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature):
            return False
        cert = parent
    return False


def verify_chain(env: Envelope, signers: Sequence[Signer]) -> Verified:
    cas = [s for s in signers if s.ca_pem]
    try:
        certs = [x509.load_der_x509_certificate(der) for der in env.chain]
    except ValueError:
        raise SignatureError("invalid", "a certificate in the chain does not parse") from None
    leaf, pool = certs[0], certs[1:]
    when = leaf.not_valid_before_utc
    for c in certs:
        if not c.not_valid_before_utc <= when <= c.not_valid_after_utc:
            raise SignatureError(
                "invalid", f"certificate {c.subject.rfc4514_string()} not valid then"
            )
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        signs = usage.digital_signature
    except x509.ExtensionNotFound:
        signs = False
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        signs = signs or x509.oid.ExtendedKeyUsageOID.CODE_SIGNING in eku
    except x509.ExtensionNotFound:
        pass
    if not signs:
        raise SignatureError(
            "invalid", "leaf certificate may not sign (no digitalSignature/codeSigning)"
        )
    data = _signed_data(env)
    if not any(_verify_with_key(leaf.public_key(), sig, data) for sig in env.signatures):
        raise SignatureError("invalid", "signature does not verify with the leaf certificate")
    who, by = leaf.subject.rfc4514_string(), leaf.issuer.rfc4514_string()
    for signer in cas:
        try:
            roots = x509.load_pem_x509_certificates(signer.ca_pem or b"")
        except ValueError:
            raise SignatureError(
                "invalid", "an accepted CA file holds no PEM certificate"
            ) from None
        if _chain_ok(leaf, pool, roots):
            return Verified("verified", who, by, env.payload)
    why = "the chain does not lead to an accepted CA certificate"
    return _not_accepted(signers, cas, "--cert-chain", why, Verified("", who, by, env.payload))


def _identity(cert: x509.Certificate) -> tuple[str, str | None]:
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [*san.get_values_for_type(x509.RFC822Name), *san.get_values_for_type(
            x509.UniformResourceIdentifier)]  # fmt: skip
    except x509.ExtensionNotFound:
        pass
    issuer = None
    for ext in cert.extensions:
        if ext.oid.dotted_string in _ISSUER_OIDS and isinstance(
            ext.value, x509.UnrecognizedExtension
        ):
            raw = ext.value.value
            issuer = (raw[2:] if raw[:1] == b"\x0c" else raw).decode("utf-8", "replace")
            break
    return (names[0] if names else cert.subject.rfc4514_string()), issuer


class _IdentityJudge:
    """A sigstore policy that records which accepted identity matches instead of failing.

    Verification then always checks the cryptography, and trust is decided afterwards, so a
    valid signature by someone else is told apart from an invalid one in a single pass.
    """

    def __init__(self, signers: Sequence[Signer]) -> None:
        from sigstore.verify.policy import Identity

        self._policies = [
            Identity(identity=s.identity, issuer=s.issuer)
            for s in signers
            if s.identity and s.issuer
        ]
        self.accepted = False

    def verify(self, cert: object) -> None:
        from sigstore.errors import VerificationError

        for policy in self._policies:
            try:
                policy.verify(cert)  # type: ignore[arg-type]
            except VerificationError:
                continue
            self.accepted = True
            return


def verify_keyless(
    env: Envelope,
    signers: Sequence[Signer],
    trusted_root: Path | None,
    artifact_digest: bytes | None,
) -> Verified:
    from sigstore.errors import Error as SigstoreError
    from sigstore.hashes import Hashed
    from sigstore.models import Bundle, TrustedRoot
    from sigstore.verify import Verifier
    from sigstore_models.common.v1 import HashAlgorithm

    try:
        bundle = Bundle.from_json(env.raw)
    except (SigstoreError, ValueError) as exc:
        raise SignatureError("invalid", f"sigstore rejects the bundle: {exc}") from None
    signer, issuer = _identity(bundle.signing_certificate)
    try:
        path = trusted_root or production_root()
        require_regular(path)  # a FIFO or /dev/zero must not block or exhaust us
        root = TrustedRoot.from_file(str(path))
    except (SigstoreError, ValueError, OSError) as exc:
        raise SignatureError("invalid", f"the trusted root does not load: {exc}") from None
    verifier = Verifier(trusted_root=root)
    judge = _IdentityJudge(signers)
    try:
        if env.payload is not None:
            verifier.verify_dsse(bundle, judge)
        elif artifact_digest is not None:
            hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=artifact_digest)
            verifier.verify_artifact(hashed, bundle, judge)
        else:
            raise SignatureError("invalid", "nothing to verify the message signature against")
    except SigstoreError as exc:
        raise SignatureError("invalid", f"{exc}") from None
    if judge.accepted:
        return Verified("verified", signer, issuer, env.payload)
    why = "not an accepted --identity/--issuer"
    valid = Verified("", signer, issuer, env.payload)
    return _not_accepted(signers, signers, "--identity/--issuer", why, valid)

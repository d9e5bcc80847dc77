"""Verify a bundle signature: keyless (sigstore-python, offline), public key, certificate chain."""

from __future__ import annotations

import dataclasses
import importlib.resources
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from mlsbom.facts import SignatureStatus
from mlsbom.regular_file import require_regular
from mlsbom.signing.envelope import Envelope, signed_forms
from mlsbom.signing.errors import SignatureError, clean_message
from mlsbom.signing.signers import Signer

_ISSUER_OIDS = ("1.3.6.1.4.1.57264.1.8", "1.3.6.1.4.1.57264.1.1")


@dataclass(frozen=True, slots=True)
class Verified:
    """The signature is cryptographically valid; whether the policy trusts who made it.

    `status` is `verified` (an accepted signer), `untrusted` (signers were given, none is this
    one) or `unchecked` (no signer was given, so nobody is trusted).
    """

    status: SignatureStatus
    signer: str
    issuer: str | None
    payload: bytes | None
    note: str = ""


def _nobody(signers: Sequence[Signer]) -> SignatureStatus:
    return SignatureStatus.UNCHECKED if not signers else SignatureStatus.UNTRUSTED


def _not_accepted(
    signers: Sequence[Signer], relevant: Sequence[Signer], option: str, why: str, valid: Verified
) -> Verified:
    """A cryptographically valid signature that no accepted signer vouches for."""
    note = f"no {option} given to trust it" if not relevant else why
    return dataclasses.replace(valid, status=_nobody(signers), note=note)


def production_root() -> Path:
    """The Sigstore production trusted_root.json that sigstore-python ships."""
    store = importlib.resources.files("sigstore") / "_store"
    for entry in store.iterdir():
        if "sigstore.dev" in entry.name and "sigstage" not in entry.name:
            return Path(str(entry / "trusted_root.json"))
    raise FileNotFoundError("sigstore-python's embedded trust root was not found")


def verify_public_key(
    env: Envelope, signers: Sequence[Signer], trusted_root: Path | None, digest: bytes | None
) -> Verified:
    """A managed-key signature (DSSE or message signature) against the `--key`s given."""
    from mlsbom.signing.key_bundle import verify_key_bundle

    keys = [s.key_pem for s in signers if s.key_pem]
    if not keys:
        hint = f" (key hint {env.key_hint})" if env.key_hint else ""
        raise SignatureError(
            _nobody(signers), f"signed with a managed key{hint}: give --key PEM to verify it"
        )
    root = trusted_root or production_root()
    signer, payload = verify_key_bundle(env, keys, root, digest)
    return Verified(SignatureStatus.VERIFIED, signer, None, payload)


def verify_chain(env: Envelope, signers: Sequence[Signer]) -> Verified:
    """A certificate-chain signature (model_signing `certificate`), see `chain`."""
    from mlsbom.signing.chain import verify_leaf_chain
    from mlsbom.signing.key_bundle import verifies

    try:
        certs = [x509.load_der_x509_certificate(der) for der in env.chain]
    except ValueError:
        raise SignatureError(
            SignatureStatus.INVALID, "a certificate in the chain does not parse"
        ) from None
    leaf, pool = certs[0], certs[1:]
    key = leaf.public_key()
    if not isinstance(key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey, ed25519.Ed25519PublicKey)):
        raise SignatureError(
            SignatureStatus.INVALID, f"the signing certificate holds a {type(key).__name__}"
        )
    if not any(
        verifies(key, sig, data, hash_name)
        for data, hash_name in signed_forms(env)
        for sig in env.signatures
    ):
        raise SignatureError(
            SignatureStatus.INVALID, "the signature does not verify with the signing certificate"
        )
    who, by = leaf.subject.rfc4514_string(), leaf.issuer.rfc4514_string()
    cas = [s.ca_pem for s in signers if s.ca_pem]
    if not cas:
        valid = Verified(_nobody(signers), who, by, env.payload)
        return _not_accepted(signers, [], "--cert-chain", "", valid)
    ok, why = verify_leaf_chain(leaf, pool, cas, leaf.not_valid_before_utc)
    if ok:
        return Verified(SignatureStatus.VERIFIED, who, by, env.payload, note=f"chain ends at {why}")
    return _not_accepted(
        signers, signers, "--cert-chain", why, Verified(_nobody(signers), who, by, env.payload)
    )


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
        raise SignatureError(
            SignatureStatus.INVALID, f"sigstore rejects the bundle: {clean_message(exc)}"
        ) from None
    signer, issuer = _identity(bundle.signing_certificate)
    try:
        path = trusted_root or production_root()
        require_regular(path)  # a FIFO or /dev/zero must not block or exhaust us
        root = TrustedRoot.from_file(str(path))
    except (SigstoreError, ValueError, OSError) as exc:
        raise SignatureError(
            SignatureStatus.INVALID, f"the trusted root does not load: {clean_message(exc)}"
        ) from None
    verifier = Verifier(trusted_root=root)
    judge = _IdentityJudge(signers)
    try:
        if env.payload is not None:
            verifier.verify_dsse(bundle, judge)
        elif artifact_digest is not None:
            hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=artifact_digest)
            verifier.verify_artifact(hashed, bundle, judge)
        else:
            raise SignatureError(
                SignatureStatus.INVALID, "nothing to verify the message signature against"
            )
    except SigstoreError as exc:
        raise SignatureError(SignatureStatus.INVALID, clean_message(exc)) from None
    if judge.accepted:
        return Verified(SignatureStatus.VERIFIED, signer, issuer, env.payload)
    wanted = [f"{s.identity} ({s.issuer})" for s in signers if s.identity and s.issuer]
    why = f"expected {' or '.join(wanted)}" if wanted else "not an accepted --identity/--issuer"
    valid = Verified(_nobody(signers), signer, issuer, env.payload)
    return _not_accepted(signers, signers, "--identity/--issuer", why, valid)

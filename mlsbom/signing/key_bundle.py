"""Bundles signed with a managed key (verification material: a public-key hint, no certificate).

Two shapes exist in the wild: Sigstore message signatures over an artefact's digest, usually with a
hashedrekord entry in Rekor (cosign/sigstore `--key`), and DSSE envelopes without a log entry
(model_signing's `key` method; v0.2.0 of it signed a different pre-authentication encoding, see
`envelope.signed_forms`). The key is the trust anchor: the signature must verify with a key the user
gave; a log entry, when the bundle carries one, must be consistent with the signature, key and
digest and be proven by the trusted root's log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from mlsbom.facts import SignatureStatus
from mlsbom.signing.envelope import Envelope, signed_forms
from mlsbom.signing.errors import SignatureError, clean_message

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey


@dataclass(frozen=True, slots=True)
class KeySignature:
    """What was signed with the key: a message digest, or DSSE forms."""

    signature: bytes
    digest: bytes | None  # message signatures: the sha256 the bundle claims
    tlog: tuple[dict[str, object], ...]


def key_id(key: PublicKey) -> str:
    """First 16 hex digits of the SHA-256 of the key's DER SubjectPublicKeyInfo."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:16]


def load_key(pem: bytes) -> PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise SignatureError(
            SignatureStatus.INVALID, "an accepted --key is not a PEM public key"
        ) from None
    if not isinstance(key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey, ed25519.Ed25519PublicKey)):
        raise SignatureError(
            SignatureStatus.INVALID,
            f"an accepted --key is a {type(key).__name__}, not EC, RSA or Ed25519",
        )
    return key


def verifies(key: PublicKey, signature: bytes, data: bytes, hash_name: str | None = None) -> bool:
    """Whether `signature` over `data` verifies; `hash_name` forces the hash (EC keys)."""
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            algo: hashes.HashAlgorithm = (
                hashes.SHA384() if key.curve.key_size >= 384 else hashes.SHA256()
            )
            if hash_name == "sha256":
                algo = hashes.SHA256()
            key.verify(signature, data, ec.ECDSA(algo))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def _verifies_digest(key: PublicKey, signature: bytes, digest: bytes) -> bool:
    """A message signature: the key signed the artefact's SHA-256 (prehashed)."""
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        else:
            return False  # Ed25519 signs the message itself, never a digest
    except InvalidSignature:
        return False
    return True


def _message_signature(env: Envelope) -> KeySignature:
    doc = json.loads(env.raw)
    ms = doc.get("messageSignature")
    if not isinstance(ms, dict):
        raise SignatureError(SignatureStatus.INVALID, "the bundle has no message signature")
    try:
        sig = base64.b64decode(str(ms.get("signature", "")), validate=True)
        md = ms.get("messageDigest") or {}
        digest = (
            base64.b64decode(str(md.get("digest", "")), validate=True)
            if isinstance(md, dict)
            else b""
        )
    except (binascii.Error, ValueError):
        raise SignatureError(
            SignatureStatus.INVALID, "the message signature is not valid base64"
        ) from None
    if isinstance(md, dict) and md.get("algorithm", "SHA2_256") != "SHA2_256":
        raise SignatureError(
            SignatureStatus.INVALID,
            f"message digest algorithm {str(md.get('algorithm'))[:30]} is not SHA2_256",
        )
    return KeySignature(sig, digest or None, _tlog_entries(doc))


def _tlog_entries(doc: dict[str, object]) -> tuple[dict[str, object], ...]:
    vm = doc.get("verificationMaterial")
    entries = vm.get("tlogEntries") if isinstance(vm, dict) else None
    return tuple(e for e in entries if isinstance(e, dict)) if isinstance(entries, list) else ()


def _proven_body(entry: dict[str, object], trusted_root: Path, kind: str) -> dict[str, Any]:
    """The entry's body, once its inclusion proof, checkpoint and signed entry timestamp verify
    against the trusted root's log."""
    from sigstore._internal.trust import KeyringPurpose
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import TransparencyLogEntry, TrustedRoot
    from sigstore_models.rekor.v1 import TransparencyLogEntry as RawEntry

    try:
        raw = RawEntry.model_validate_json(json.dumps(entry))
        found = f"{raw.kind_version.kind}/{raw.kind_version.version}"
        if found != kind:
            raise SignatureError(
                SignatureStatus.INVALID,
                f"log entry kind {found[:40]} is not supported here (expected {kind})",
            )
        root = TrustedRoot.from_file(str(trusted_root))
        TransparencyLogEntry(raw)._verify(root.rekor_keyring(KeyringPurpose.VERIFY))
        body = json.loads(raw.canonicalized_body)
    except SigstoreError as exc:
        raise SignatureError(
            SignatureStatus.INVALID, f"the log entry does not verify: {clean_message(exc)}"
        ) from None
    except ValueError as exc:
        raise SignatureError(
            SignatureStatus.INVALID, f"the log entry is malformed: {clean_message(exc)}"
        ) from None
    spec = body.get("spec") if isinstance(body, dict) else None
    if not isinstance(spec, dict):
        raise SignatureError(SignatureStatus.INVALID, "the log entry has no spec")
    return spec


def _logged_key(b64_pem: object) -> object:
    try:
        return serialization.load_pem_public_key(base64.b64decode(str(b64_pem)))
    except (ValueError, binascii.Error):
        return None


def _check_hashedrekord(
    entry: dict[str, object], key: PublicKey, sig: bytes, digest: bytes, trusted_root: Path
) -> None:
    """The log entry is proven by the trusted root's log; it records this key, signature, digest."""
    spec = _proven_body(entry, trusted_root, "hashedrekord/0.0.1")
    logged_sig = spec.get("signature")
    data = spec.get("data")
    logged_hash = data.get("hash") if isinstance(data, dict) else None
    if not isinstance(logged_sig, dict) or not isinstance(logged_sig.get("publicKey"), dict):
        raise SignatureError(
            SignatureStatus.INVALID, "the log entry records no signature and public key"
        )
    if _logged_key(logged_sig["publicKey"].get("content")) != key:
        raise SignatureError(
            SignatureStatus.INVALID,
            "the log entry records a different public key than the one that verifies",
        )
    if logged_sig.get("content") != base64.b64encode(sig).decode():
        raise SignatureError(
            SignatureStatus.INVALID, "the log entry records a different signature than the bundle's"
        )
    if not isinstance(logged_hash, dict) or logged_hash.get("value") != digest.hex():
        raise SignatureError(
            SignatureStatus.INVALID,
            "the log entry records a different artefact digest than the bundle's",
        )


def _check_dsse_entry(entry: dict[str, object], key: PublicKey, env: Envelope, root: Path) -> None:
    """A dsse/0.0.1 entry records this payload's hash and this key's signature of the envelope."""
    spec = _proven_body(entry, root, "dsse/0.0.1")
    payload_hash = spec.get("payloadHash")
    if (
        not isinstance(payload_hash, dict)
        or payload_hash.get("value") != hashlib.sha256(env.payload or b"").hexdigest()
    ):
        raise SignatureError(
            SignatureStatus.INVALID, "the log entry records a different payload than the bundle's"
        )
    ours = {base64.b64encode(s).decode() for s in env.signatures}
    logged = spec.get("signatures")
    pairs = [x for x in logged if isinstance(x, dict)] if isinstance(logged, list) else []
    if not any(x.get("signature") in ours and _logged_key(x.get("verifier")) == key for x in pairs):
        raise SignatureError(
            SignatureStatus.INVALID,
            "the log entry records no signature of this envelope by the given key",
        )


def verify_key_bundle(
    env: Envelope,
    keys_pem: Sequence[bytes],
    trusted_root: Path,
    artifact_digest: bytes | None,
) -> tuple[str, bytes | None]:
    """(`public key <id>`, signed payload) when a given key verifies; SignatureError otherwise."""
    keys = [load_key(pem) for pem in keys_pem]
    hint = f" (the bundle names key hint {env.key_hint})" if env.key_hint else ""
    ids = ", ".join(key_id(k) for k in keys)
    if env.payload is None:
        signed = _message_signature(env)
        if (
            artifact_digest is not None
            and signed.digest is not None
            and signed.digest != artifact_digest
        ):
            raise SignatureError(
                SignatureStatus.MISMATCH,
                "the file is not the one signed (its sha256 differs from the bundle's)",
            )
        digest = artifact_digest  # never the bundle's own claim: the file on disk is what counts
        if digest is None:
            raise SignatureError(
                SignatureStatus.INVALID, "a message signature needs the signed file to check"
            )
        key = next((k for k in keys if _verifies_digest(k, signed.signature, digest)), None)
        if key is None:
            raise SignatureError(
                SignatureStatus.UNTRUSTED,
                f"the signature does not verify with the given key {ids}{hint}",
            )
        for entry in signed.tlog:
            _check_hashedrekord(entry, key, signed.signature, digest, trusted_root)
        return f"public key {key_id(key)}", None
    for key in keys:
        for data, hash_name in signed_forms(env):
            if any(verifies(key, sig, data, hash_name) for sig in env.signatures):
                for entry in _tlog_entries(json.loads(env.raw)):
                    _check_dsse_entry(entry, key, env, trusted_root)
                return f"public key {key_id(key)}", env.payload
    raise SignatureError(
        SignatureStatus.UNTRUSTED, f"the signature does not verify with the given key {ids}{hint}"
    )

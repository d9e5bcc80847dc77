"""Sigstore bundle JSON: what verification material it carries and its DSSE envelope, bounded."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

MAX_BUNDLE = 16 << 20
BUNDLE_MEDIA_TYPES = (
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
)


class BundleError(ValueError):
    """The file is not a Sigstore bundle mlsbom can verify."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed bundle: its raw JSON, material kind, and the DSSE payload if any."""

    raw: bytes
    material: str  # keyless | public-key | certificate-chain
    payload_type: str | None
    payload: bytes | None
    signatures: tuple[bytes, ...]
    chain: tuple[bytes, ...]  # DER certificates of an x509CertificateChain
    key_hint: str | None


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise BundleError(f"{what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BundleError(f"{what} is not valid base64") from None


def parse_bundle(raw: bytes) -> Envelope:
    """Parse and check the shape of a bundle; raise BundleError with a reason."""
    if len(raw) > MAX_BUNDLE:
        raise BundleError(f"bundle of {len(raw)} bytes is larger than {MAX_BUNDLE}")
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        raise BundleError("bundle is not valid JSON") from None
    if not isinstance(doc, dict):
        raise BundleError("bundle is not a JSON object")
    media = doc.get("mediaType")
    if media not in BUNDLE_MEDIA_TYPES:
        raise BundleError(f"unknown bundle media type {str(media)[:100]!r}")
    vm = doc.get("verificationMaterial")
    if not isinstance(vm, dict):
        raise BundleError("bundle has no verificationMaterial")
    chain: tuple[bytes, ...] = ()
    key_hint = None
    if "certificate" in vm:
        material = "keyless"
    elif isinstance(vm.get("x509CertificateChain"), dict):
        certs = vm["x509CertificateChain"].get("certificates")
        if not isinstance(certs, list) or not certs or len(certs) > 10:
            raise BundleError("x509CertificateChain has no usable certificates")
        material = "keyless" if vm.get("tlogEntries") else "certificate-chain"
        chain = tuple(
            _b64(c.get("rawBytes") if isinstance(c, dict) else None, "certificate") for c in certs
        )
    elif isinstance(vm.get("publicKey"), dict):
        material = "public-key"
        hint = vm["publicKey"].get("hint")
        key_hint = hint if isinstance(hint, str) else None
    else:
        raise BundleError("verificationMaterial has no certificate, chain or public key")
    dsse = doc.get("dsseEnvelope")
    if dsse is None:
        if "messageSignature" not in doc:
            raise BundleError("bundle has neither a DSSE envelope nor a message signature")
        return Envelope(raw, material, None, None, (), chain, key_hint)
    if not isinstance(dsse, dict):
        raise BundleError("dsseEnvelope is not an object")
    payload = _b64(dsse.get("payload"), "DSSE payload")
    sigs = dsse.get("signatures")
    if not isinstance(sigs, list) or not sigs or len(sigs) > 16:
        raise BundleError("DSSE envelope has no signatures")
    signatures = tuple(_b64(s.get("sig") if isinstance(s, dict) else None, "sig") for s in sigs)
    payload_type = dsse.get("payloadType")
    if not isinstance(payload_type, str):
        raise BundleError("DSSE payloadType missing")
    return Envelope(raw, material, payload_type, payload, signatures, chain, key_hint)


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding: what the signature covers."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def pae_v020(payload_type: str, payload: bytes) -> bytes:
    """The encoding model_signing v0.2.0 signed by mistake: `DSSEV1` and the payload's Python repr
    (`b'...'`) formatted into a string. model_signing >= 1.0 verifies it as a fallback
    (`sign_sigstore_pb.pae_compat`), always with ECDSA over SHA-256."""
    t = payload_type
    return f"DSSEV1 {len(t)} {t} {len(payload)} {payload!r}".encode()


def signed_forms(env: Envelope) -> list[tuple[bytes, str | None]]:
    """What a key may have signed for this DSSE envelope: (data, forced hash), standard first."""
    if env.payload is None or env.payload_type is None:
        return []
    return [
        (pae(env.payload_type, env.payload), None),
        (pae_v020(env.payload_type, env.payload), "sha256"),
    ]

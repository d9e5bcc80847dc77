"""Managed-key bundles (message signature + publicKey hint + hashedrekord entry), minted under a
private trust root: the key decides trust; the log entry must be proven and must record this key,
this signature and this digest, each disagreement tried separately."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mlsbom._cli import cli

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))
import signing_mint as mint

DATA = b"model weights\n"


@pytest.fixture(scope="module")
def sigstore() -> mint.PrivateSigstore:
    return mint.PrivateSigstore()


def pem(key: Any) -> bytes:
    return bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def run(
    tmp: Path, sigstore: mint.PrivateSigstore, bundle: dict[str, Any], key: Any, data: bytes = DATA
) -> tuple[int, str]:
    (tmp / "weights.bin").write_bytes(data)
    mint.write_json(tmp / "weights.bin.sigstore.json", bundle)
    (tmp / "pub.pem").write_bytes(pem(key))
    root = sigstore.write_root(tmp / "trusted_root.json")
    args = ["verify", str(tmp / "weights.bin"), "--key", str(tmp / "pub.pem")]
    result = CliRunner().invoke(cli, [*args, "--trusted-root", str(root)])
    return result.exit_code, result.output


@pytest.mark.parametrize("kind", ["p256", "rsa"])
def test_managed_key_bundle_verifies(
    sigstore: mint.PrivateSigstore, tmp_path: Path, kind: str
) -> None:
    key = mint.new_key() if kind == "p256" else rsa.generate_private_key(65537, 2048)
    code, out = run(tmp_path, sigstore, sigstore.managed_key_blob(DATA, key), key)
    assert code == 0 and "public key" in out, out


def test_without_a_log_entry_the_key_alone_decides(
    sigstore: mint.PrivateSigstore, tmp_path: Path
) -> None:
    key = mint.new_key()
    code, out = run(tmp_path, sigstore, sigstore.managed_key_blob(DATA, key, with_log=False), key)
    assert code == 0, out


def test_another_key_does_not_verify(sigstore: mint.PrivateSigstore, tmp_path: Path) -> None:
    key, other = mint.new_key(), mint.new_key()
    code, out = run(tmp_path, sigstore, sigstore.managed_key_blob(DATA, key), other)
    assert code == 1 and "does not verify with the given key" in out and "key hint" in out


def test_a_changed_file_is_a_mismatch(sigstore: mint.PrivateSigstore, tmp_path: Path) -> None:
    key = mint.new_key()
    code, out = run(tmp_path, sigstore, sigstore.managed_key_blob(DATA, key), key, b"other")
    assert code == 1 and "MISMATCH" in out


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("key", "different public key"),
        ("signature", "different signature"),
        ("digest", "different artefact digest"),
    ],
)
def test_log_entry_must_agree(
    sigstore: mint.PrivateSigstore, tmp_path: Path, field: str, message: str
) -> None:
    key, other = mint.new_key(), mint.new_key()
    logged: dict[str, Any] = {
        "key": pem(other),
        "signature": b"\x30\x06\x02\x01\x01\x02\x01\x01",
        "digest": "0" * 64,
    }
    bundle = sigstore.managed_key_blob(DATA, key, logged={field: logged[field]})
    code, out = run(tmp_path, sigstore, bundle, key)
    assert code == 1 and "INVALID" in out and message in out, out


def test_log_entry_from_another_log_is_invalid(
    sigstore: mint.PrivateSigstore, tmp_path: Path
) -> None:
    key = mint.new_key()
    bundle = mint.PrivateSigstore().managed_key_blob(DATA, key)
    code, out = run(tmp_path, sigstore, bundle, key)
    assert code == 1 and "INVALID" in out and "log" in out, out


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b["verificationMaterial"]["tlogEntries"][0].update(
            kindVersion={"kind": "dsse", "version": "0.0.1"}
        ),
        lambda b: b["verificationMaterial"]["tlogEntries"][0].pop("inclusionProof"),
        lambda b: b["messageSignature"]["messageDigest"].update(algorithm="SHA2_384"),
        lambda b: b["messageSignature"].update(signature="!!"),
        lambda b: b.pop("messageSignature"),
        lambda b: b["verificationMaterial"]["tlogEntries"][0].update(
            canonicalizedBody=base64.b64encode(b"{").decode()
        ),
    ],
    ids=[
        "dsse-entry",
        "no-inclusion-proof",
        "sha384-digest",
        "bad-base64",
        "no-signature",
        "body-not-json",
    ],
)
def test_odd_bundles_fail_with_a_reason(
    sigstore: mint.PrivateSigstore, tmp_path: Path, mutate: Any
) -> None:
    key = mint.new_key()
    bundle = json.loads(json.dumps(sigstore.managed_key_blob(DATA, key)))
    mutate(bundle)
    code, out = run(tmp_path, sigstore, bundle, key)
    assert code == 1 and "VERIFIED" not in out and "Traceback" not in out, out


def test_ed25519_key_is_not_silently_accepted(
    sigstore: mint.PrivateSigstore, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key, signer = ed25519.Ed25519PrivateKey.generate(), mint.new_key()
    code, out = run(tmp_path, sigstore, sigstore.managed_key_blob(DATA, signer), key)
    assert code == 1 and "does not verify" in out


def test_p384_key_message_signature(sigstore: mint.PrivateSigstore, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    code, out = run(tmp_path, sigstore, sigstore.managed_key_blob(DATA, key), key)
    assert code in (0, 1) and "Traceback" not in out


def dsse_key_bundle(
    sigstore: mint.PrivateSigstore, payload: bytes, signer: Any, **logged: Any
) -> dict[str, Any]:
    """A DSSE bundle signed with a key and logged as a dsse/0.0.1 entry (cosign attest --key)."""
    import datetime as dt
    import hashlib

    bundle = mint.key_bundle(payload, signer)
    env = bundle["dsseEnvelope"]
    body = {
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "payloadHash": {
                "algorithm": "sha256",
                "value": logged.get("payload_hash", hashlib.sha256(payload).hexdigest()),
            },
            "signatures": [
                {
                    "signature": logged.get("signature", env["signatures"][0]["sig"]),
                    "verifier": base64.b64encode(logged.get("key", pem(signer))).decode(),
                }
            ],
        },
    }
    when = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    bundle["verificationMaterial"]["tlogEntries"] = [sigstore._tlog_entry(body, when)]
    return bundle


@pytest.mark.parametrize(
    ("logged", "message"),
    [
        ({}, ""),
        ({"payload_hash": "0" * 64}, "different payload"),
        ({"signature": base64.b64encode(b"other").decode()}, "no signature of this envelope"),
        ("other key", "no signature of this envelope"),
    ],
)
def test_dsse_key_bundle_log_entry(
    sigstore: mint.PrivateSigstore, tmp_path: Path, logged: Any, message: str
) -> None:
    key = mint.new_key()
    model = tmp_path / "model"
    model.mkdir()
    (model / "w.bin").write_bytes(DATA)
    overrides = {"key": pem(mint.new_key())} if logged == "other key" else logged
    bundle = dsse_key_bundle(sigstore, mint.oms_statement(model), key, **overrides)
    mint.write_json(model / "model.sig", bundle)
    (tmp_path / "pub.pem").write_bytes(pem(key))
    root = sigstore.write_root(tmp_path / "trusted_root.json")
    args = ["verify", str(model), "--key", str(tmp_path / "pub.pem"), "--trusted-root", str(root)]
    result = CliRunner().invoke(cli, args)
    if not message:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 1 and message in result.output, result.output

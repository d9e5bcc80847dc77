"""PEP 740 attestations minted under a private trust root: every subject rule pypi-attestations
applies, several ways each (wrong name, wrong digest, two subjects, a name that is no distribution,
an unknown attestation type), and who signed against who was expected."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mlsbom._cli import cli

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))
import signing_mint as mint

ALICE = ("alice@example.com", "https://issuer.example")
PUBLISH = "https://docs.pypi.org/attestations/publish/v1"
DIST = "acme_model-1.0-py3-none-any.whl"


@pytest.fixture(scope="module")
def sigstore() -> mint.PrivateSigstore:
    return mint.PrivateSigstore()


def attest(sigstore: mint.PrivateSigstore, folder: Path, statement: dict[str, Any]) -> Path:
    from pypi_attestations import Attestation
    from sigstore.models import Bundle

    bundle = sigstore.keyless_dsse(json.dumps(statement).encode(), *ALICE)
    att = Attestation.from_bundle(Bundle.from_json(json.dumps(bundle)))
    path = folder / f"{DIST}.publish.attestation"
    path.write_text(att.model_dump_json())
    return path


def statement(data: bytes, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": DIST, "digest": {"sha256": hashlib.sha256(data).hexdigest()}}],
        "predicateType": PUBLISH,
        "predicate": {},
    }
    doc.update(changes)
    return doc


def verify(folder: Path, sigstore: mint.PrivateSigstore, *extra: str) -> tuple[int, str]:
    root = sigstore.write_root(folder / "trusted_root.json")
    args = ["verify", str(folder / DIST), "--trusted-root", str(root), *extra]
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.output


def trusted(*extra: str) -> list[str]:
    return ["--identity", ALICE[0], "--issuer", ALICE[1], *extra]


def test_minted_attestation_verifies(sigstore: mint.PrivateSigstore, tmp_path: Path) -> None:
    data = b"PK\x03\x04 wheel bytes"
    (tmp_path / DIST).write_bytes(data)
    attest(sigstore, tmp_path, statement(data))
    code, out = verify(tmp_path, sigstore, *trusted())
    assert code == 0 and "publish/v1" in out, out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"predicateType": "https://example.com/custom/v1"}, "unsupported attestation type"),
        ({"predicateType": "https://slsa.dev/provenance/v0.2"}, "unsupported attestation type"),
        ({"subject": []}, "exactly one distribution"),
        ({"subject": "x"}, "exactly one distribution"),
        ("two subjects", "exactly one distribution"),
        ({"subject": [{"name": "other_pkg-1.0.tar.gz", "digest": {}}]}, "is for other_pkg"),
        ({"subject": [{"name": "acme_model-2.0-py3-none-any.whl", "digest": {}}]}, "is for"),
        ({"subject": [{"name": "model.safetensors", "digest": {}}]}, "is not a distribution"),
        ("wrong digest", "not the file the attestation was made for"),
        ("no digest", "not the file the attestation was made for"),
    ],
)
def test_subject_rules(
    sigstore: mint.PrivateSigstore, tmp_path: Path, change: Any, message: str
) -> None:
    data = b"PK\x03\x04 wheel bytes"
    (tmp_path / DIST).write_bytes(data)
    doc = statement(data)
    if change == "two subjects":
        doc["subject"] = doc["subject"] * 2
    elif change == "wrong digest":
        doc["subject"][0]["digest"]["sha256"] = "0" * 64
    elif change == "no digest":
        doc["subject"][0]["digest"] = {"sha512": "0" * 128}
    else:
        doc.update(change)
    attest(sigstore, tmp_path, doc)
    code, out = verify(tmp_path, sigstore, *trusted())
    assert code == 1 and message in out, out
    assert "Traceback" not in out


def test_normalised_wheel_name_matches(sigstore: mint.PrivateSigstore, tmp_path: Path) -> None:
    """pypi-attestations compares parsed names: `Acme.Model` and `acme_model` are one project."""
    data = b"PK\x03\x04 wheel bytes"
    (tmp_path / DIST).write_bytes(data)
    doc = statement(data)
    doc["subject"][0]["name"] = "Acme.Model-1.0-py3-none-any.whl"
    attest(sigstore, tmp_path, doc)
    code, out = verify(tmp_path, sigstore, *trusted())
    assert code == 0, out


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (["--identity", "bob@example.com", "--issuer", ALICE[1]], "UNTRUSTED", "expected bob@"),
        (["--identity", ALICE[0], "--issuer", "https://other.example"], "UNTRUSTED", "expected"),
        (
            ["--publisher", "github:acme/model:release.yml"],
            "UNTRUSTED",
            "expected GitHub acme/model",
        ),
        ([], "UNCHECKED", "no --publisher or --identity given"),
    ],
)
def test_identity_found_versus_expected(
    sigstore: mint.PrivateSigstore, tmp_path: Path, args: list[str], status: str, says: str
) -> None:
    data = b"PK\x03\x04 wheel bytes"
    (tmp_path / DIST).write_bytes(data)
    attest(sigstore, tmp_path, statement(data))
    code, out = verify(tmp_path, sigstore, *args)
    assert code == 1 and status in out and says in out and "alice@example.com" in out, out


def test_attestation_from_another_sigstore_is_invalid(
    sigstore: mint.PrivateSigstore, tmp_path: Path
) -> None:
    data = b"PK\x03\x04 wheel bytes"
    (tmp_path / DIST).write_bytes(data)
    attest(mint.PrivateSigstore(), tmp_path, statement(data))
    code, out = verify(tmp_path, sigstore, *trusted())
    assert code == 1 and "INVALID" in out and "not issued by a CA of the trusted root" in out


@pytest.mark.parametrize(
    "body",
    [b"", b"{}", b"[]", b'{"version": 1}', b'{"attestation_bundles": [{}]}', b"{" * 5000, b"\xff"],
)
def test_broken_attestation_files_are_malformed(
    sigstore: mint.PrivateSigstore, tmp_path: Path, body: bytes
) -> None:
    (tmp_path / DIST).write_bytes(b"wheel")
    (tmp_path / f"{DIST}.publish.attestation").write_bytes(body)
    code, out = verify(tmp_path, sigstore, *trusted())
    assert code == 1 and "MALFORMED" in out, out

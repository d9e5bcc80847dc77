"""Interop: real signatures made by other tools (fixtures/signing_cases.py) verify or fail as they
must.

sigstore-conformance bundle-verify cases, every released model_signing format (0.2.0 to 1.1.0; key,
certificate, keyless), and PEP 740 attestations from pypi-attestations' assets. All offline:
production trust root embedded in sigstore-python, or the case's own trusted_root.json.
"""

from __future__ import annotations

import base64
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlsbom._cli import cli

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
sys.path.insert(0, str(FIXTURES))

import signing_cases as cases  # noqa: E402

# sigstore-python 4.5.1 (which mlsbom verifies keyless bundles with) rejects these happy paths too;
# see docs/signing-interop.md.
SIGSTORE_PYTHON_GAPS = {"intoto-with-custom-trust-root", "trust-root-tsa-validity-end-inclusive"}


def verify(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["verify", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("case", cases.all_cases(), ids=lambda c: f"{c.group}:{c.name}")
def test_interop_case(case: cases.Case) -> None:
    code, out = verify(*case.args())
    if case.name in SIGSTORE_PYTHON_GAPS:
        pytest.xfail("sigstore-python 4.5.1 rejects this case as well")
    assert code == (0 if case.expect else 1), out
    assert "Traceback" not in out and "b'" not in out


def test_every_conformance_case_is_measured() -> None:
    names = {c.name for c in cases.conformance_cases()}
    assert len(names) >= 70
    assert {"managed-key-happy-path", "managed-key-wrong-key_fail", "happy-path-v0.1"} <= names


@pytest.mark.parametrize(
    "version", [v for v in cases.MT_VERSIONS if (cases.MT / f"{v}-certificate").is_dir()]
)
def test_model_signing_vectors_detect_a_changed_file(version: str, tmp_path: Path) -> None:
    folder = shutil.copytree(cases.MT / f"{version}-certificate", tmp_path / "m")
    (folder / "signme-2").write_bytes(b"tampered")
    ca = cases.MT / "keys" / "certificate" / "ca-cert.pem"
    code, out = verify(str(folder), "--cert-chain", str(ca), "--ignore-paths", "ignore-me")
    assert code == 1 and "changed  signme-2" in out


def test_v020_key_signature_over_a_changed_folder_fails(tmp_path: Path) -> None:
    folder = shutil.copytree(cases.GEN / "v0.2.0-key", tmp_path / "m")
    (folder / "sub" / "weights.bin").write_bytes(b"other weights")
    (folder / "new.txt").write_text("not signed")
    code, out = verify(str(folder), "--key", str(cases.GEN / "keys" / "signing-key-pub.pem"))
    assert code == 1 and "changed  sub/weights.bin" in out and "extra    new.txt" in out


def test_managed_key_wrong_key_fails_because_the_key_does_not_verify(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = other.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "other.pem").write_bytes(pem)
    case = cases.CONFORMANCE / "managed-key-happy-path"
    code, out = verify(
        str(cases.CONFORMANCE / "a.txt"), "--signature", str(case / "bundle.sigstore.json"),
        "--key", str(tmp_path / "other.pem"),
    )  # fmt: skip
    assert code == 1 and "does not verify with the given key" in out and "key hint" in out


def test_managed_key_over_a_changed_file_is_a_mismatch(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("changed")
    case = cases.CONFORMANCE / "managed-key-happy-path"
    code, out = verify(
        str(tmp_path / "a.txt"), "--signature", str(case / "bundle.sigstore.json"),
        "--key", str(case / "key.pub"),
    )  # fmt: skip
    assert code == 1 and "MISMATCH" in out


def test_managed_key_log_entry_must_match_the_signature(tmp_path: Path) -> None:
    import json

    case = cases.CONFORMANCE / "managed-key-happy-path"
    doc = json.loads((case / "bundle.sigstore.json").read_text())
    entry = doc["verificationMaterial"]["tlogEntries"][0]
    entry["integratedTime"] = str(int(entry["integratedTime"]) + 1)  # the SET no longer verifies
    (tmp_path / "b.json").write_text(json.dumps(doc))
    code, out = verify(
        str(cases.CONFORMANCE / "a.txt"), "--signature", str(tmp_path / "b.json"),
        "--key", str(case / "key.pub"),
    )  # fmt: skip
    assert code == 1 and "signed entry timestamp" in out


def test_attestation_found_beside_a_wheel_in_a_scan(tmp_path: Path) -> None:
    dist = "pypi_attestations-0.0.19.tar.gz"
    shutil.copy(cases.PEP740 / dist, tmp_path / dist)
    shutil.copy(
        cases.PEP740 / (dist + ".publish.attestation"), tmp_path / (dist + ".publish.attestation")
    )
    publisher = "github:trailofbits/pypi-attestations:release.yml"
    code, out = verify(str(tmp_path / dist), "--publisher", publisher)
    assert code == 0, out
    (tmp_path / dist).write_bytes(b"tampered")
    code, out = verify(str(tmp_path / dist), "--publisher", publisher)
    assert code == 1 and "not the file the attestation was made for" in out


def test_attestation_given_explicitly(tmp_path: Path) -> None:
    dist = "gitlab_oidc_project-0.0.3.tar.gz"
    shutil.copy(cases.PEP740 / dist, tmp_path / dist)
    att = cases.PEP740 / (dist + ".publish.attestation")
    publisher = "gitlab:facutuesca/gitlab-oidc-project:.gitlab-ci.yml"
    code, out = verify(str(tmp_path / dist), "--attestation", str(att), "--publisher", publisher)
    assert code == 0, out
    code, out = verify(str(tmp_path / dist), "--attestation", str(att))
    assert code == 1 and "UNCHECKED" in out and "no --publisher or --identity" in out


def test_wrong_publisher_names_what_was_expected() -> None:
    case = next(c for c in cases.pep740_cases() if c.name == "GitHub, wrong workflow")
    code, out = verify(*case.args())
    assert code == 1 and "UNTRUSTED" in out and "expected GitHub" in out and "wrong.yml" in out


@pytest.mark.parametrize(
    "spec", ["github:owner-only", "bitbucket:a/b:c", "google:not-an-email", "gitlab:x:"]
)
def test_bad_publisher_is_a_usage_error(spec: str) -> None:
    code, out = verify(str(cases.PEP740 / "gcb_attestation_test-0.0.0.tar.gz"), "--publisher", spec)
    assert code == 2 and "--publisher" in out


def scan(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["scan", *args])
    return result.exit_code, result.output + (result.stderr or "")


def test_policy_ignore_paths_and_publisher(tmp_path: Path) -> None:
    model = shutil.copytree(cases.MT / "v1.0.1-elliptic-key", tmp_path / "model")
    key = cases.MT / "keys" / "certificate" / "signing-key-pub.pem"
    shutil.copy(key, tmp_path / "pub.pem")
    dist = "pypi_attestations-0.0.19.tar.gz"
    for name in (dist, dist + ".provenance"):
        shutil.copy(cases.PEP740 / name, model / name)
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[signatures]\nrequired = true\nignore_paths = ["ignore-me", "'
        + dist
        + '", "'
        + dist
        + '.provenance"]\n[[signatures.signers]]\nkey = "pub.pem"\n'
        '[[signatures.signers]]\npublisher = "github:trailofbits/pypi-attestations:release.yml"\n'
    )
    code, out = verify(str(model), "--policy", str(policy))
    assert code == 0, out
    assert out.count("VERIFIED") == 2 and "[pep740]" in out
    policy.write_text(policy.read_text().replace('"ignore-me", ', ""))
    code, out = verify(str(model), "--policy", str(policy))
    assert code == 1 and "extra    ignore-me" in out


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ('[signatures]\nignore_paths = "x"\n', "signatures.ignore_paths"),
        ('[signatures]\nignore_paths = ["../x"]\n', "signatures.ignore_paths"),
        ('[signatures]\nignore_paths = ["/etc"]\n', "signatures.ignore_paths"),
        ('[[signatures.signers]]\npublisher = "github:nope"\n', "signatures.signers[0].publisher"),
        ("[[signatures.signers]]\npublisher = 3\n", "signatures.signers[0].publisher"),
    ],
)
def test_bad_signing_policy_exits_2(tmp_path: Path, body: str, where: str) -> None:
    (tmp_path / "policy.toml").write_text(body)
    (tmp_path / "m").mkdir()
    code, out = scan(str(tmp_path / "m"), "--policy", str(tmp_path / "policy.toml"))
    assert code == 2 and where in out


def test_scan_checks_a_wheel_attestation(tmp_path: Path) -> None:
    dist = "circleci_sign_publish_example-0.0.1.dev137-py3-none-any.whl"
    for name in (dist, dist + ".publish.attestation"):
        shutil.copy(cases.PEP740 / name, tmp_path / name)
    circle = next(c for c in cases.pep740_cases() if c.name.startswith("CircleCI"))
    assert circle.identity is not None
    args = ["--identity", circle.identity[0], "--issuer", circle.identity[1], "--format", "json"]
    code, out = scan(str(tmp_path), "--require-signature", *args)
    assert code == 0, out
    (tmp_path / dist).write_bytes((tmp_path / dist).read_bytes() + b"\0")
    code, out = scan(str(tmp_path), "--require-signature", *args)
    assert code == 1, out


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), which=st.sampled_from(["attestation", "provenance", "managed-key"]))
def test_mutated_attestations_and_key_bundles_never_crash(
    tmp_path: Path, data: st.DataObject, which: str
) -> None:
    from mlsbom.facts import SignatureCheck
    from mlsbom.signing.check import check_signature
    from mlsbom.signing.signers import Signer, SignerPolicy

    if which == "managed-key":
        src = cases.CONFORMANCE / "managed-key-happy-path"
        target, sig = cases.CONFORMANCE / "a.txt", src / "bundle.sigstore.json"
        signers = (Signer(key_pem=(src / "key.pub").read_bytes()),)
    else:
        dist = "pypi_attestations-0.0.19.tar.gz"
        target = cases.PEP740 / dist
        sig = cases.PEP740 / (
            dist + (".publish.attestation" if which == "attestation" else ".provenance")
        )
        signers = (Signer(publisher="github:trailofbits/pypi-attestations:release.yml"),)
    raw = bytearray(sig.read_bytes())
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    mutated = tmp_path / sig.name
    mutated.write_bytes(bytes(raw))
    facts = check_signature(mutated, target, SignerPolicy(signers))
    checks = [f for f in facts if isinstance(f, SignatureCheck)]
    assert checks
    for c in checks:
        assert "b'" not in c.detail and "Traceback" not in c.detail


def test_explicit_attestation_for_a_folder_target(tmp_path: Path) -> None:
    dist = "gcb_attestation_test-0.0.0.tar.gz"
    (tmp_path / "dists").mkdir()
    shutil.copy(cases.PEP740 / dist, tmp_path / "dists" / dist)
    att = cases.PEP740 / (dist + ".provenance")
    google = "google:919436158236-compute@developer.gserviceaccount.com"
    code, out = verify(str(tmp_path), "--attestation", str(att), "--publisher", google)
    assert code == 0 and "[pep740]" in out, out
    (tmp_path / "dists" / dist).unlink()
    code, out = verify(str(tmp_path), "--attestation", str(att), "--publisher", google)
    assert code == 1 and "the attested distribution is missing" in out


def _resigned_payload(sig: Path, change: Callable[[dict[str, Any]], None], out: Path) -> Path:
    bundle = json.loads(sig.read_text())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    change(statement)
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    out.write_text(json.dumps(bundle))
    return out


@pytest.mark.parametrize("kind", ["key", "key-p256", "certificate"])
def test_v020_payload_changed_after_signing_is_invalid(kind: str, tmp_path: Path) -> None:
    folder = shutil.copytree(cases.GEN / f"v0.2.0-{kind}", tmp_path / "m")

    def swap(statement: dict[str, Any]) -> None:
        statement["subject"][0]["digest"]["sha256"] = "0" * 64

    _resigned_payload(folder / "model.sig", swap, folder / "model.sig")
    keys = cases.GEN / "keys"
    trust = (
        ["--cert-chain", str(keys / "ca-cert.pem")]
        if kind == "certificate"
        else [
            "--key",
            str(
                keys / ("signing-key-p256-pub.pem" if kind == "key-p256" else "signing-key-pub.pem")
            ),
        ]
    )
    code, out = verify(str(folder), *trust)
    assert code == 1 and "VERIFIED" not in out


@pytest.mark.parametrize(
    "predicate", ["ShardDigests", "DigestOfDigests", "DigestOfShardDigests", "Digest"]
)
def test_other_v020_predicates_say_they_are_unsupported(predicate: str, tmp_path: Path) -> None:
    import signing_mint as mint

    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "w.bin").write_bytes(b"weights")
    key = mint.new_key()
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "w.bin", "digest": {"sha256": "0" * 64}}],
        "predicateType": f"https://model_signing/{predicate}/v0.1",
        "predicate": {},
    }
    bundle = mint.key_bundle(json.dumps(statement).encode(), key)
    mint.write_json(folder / "model.sig", bundle)
    (tmp_path / "pub.pem").write_bytes(mint.public_pem(key))
    code, out = verify(str(folder), "--key", str(tmp_path / "pub.pem"))
    assert code == 1 and "MALFORMED" in out and f"{predicate}/v0.1 is not supported" in out


@pytest.mark.parametrize("form", ["relative", "on-disk", "absolute", "folder"])
def test_ignore_paths_forms(form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = shutil.copytree(cases.MT / "v1.0.1-certificate", tmp_path / "model")
    ca = str(cases.MT / "keys" / "certificate" / "ca-cert.pem")
    monkeypatch.chdir(tmp_path)
    if form == "folder":
        (model / "ignore-me").unlink()
        (model / "ignore-me").mkdir()
        (model / "ignore-me" / "notes.txt").write_text("unsigned notes")
    ignore = {
        "relative": "ignore-me",
        "on-disk": "model/ignore-me",
        "absolute": str(model / "ignore-me"),
        "folder": "ignore-me/",
    }[form]
    code, out = verify(str(model), "--cert-chain", ca, "--ignore-paths", ignore)
    assert code == 0, out
    code, out = verify(str(model), "--cert-chain", ca)
    assert code == 1 and "extra" in out


def test_scan_with_an_explicit_attestation(tmp_path: Path) -> None:
    dist = "gcb_attestation_test-0.0.0.tar.gz"
    shutil.copy(cases.PEP740 / dist, tmp_path / dist)
    att = str(cases.PEP740 / (dist + ".provenance"))
    google = "google:919436158236-compute@developer.gserviceaccount.com"
    base = [str(tmp_path / dist), "--attestation", att, "--require-signature", "--format", "json"]
    code, out = scan(*base, "--publisher", google)
    assert code == 0, out
    code, out = scan(*base, "--publisher", "google:someone@example.com")
    assert code == 1 and "signature-untrusted" in out

"""Signature verification: OpenSSF model.sig (keyless, key, certificate chain; files and shards),
detached Sigstore bundles, the scan's signature pass, policy, and hostile signature files.

Keyless signatures are minted with a private trust root (fixtures/signing_mint.py); nothing
touches the network. Real vectors made by other tools: tests/signing/test_interop.py.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlsbom._cli import cli
from mlsbom.facts import SignatureCheck, SignatureFileMismatch
from mlsbom.signing.check import check_model_sig
from mlsbom.signing.signers import Signer, SignerPolicy

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
sys.path.insert(0, str(FIXTURES))

import signing_mint as mint  # noqa: E402

ALICE = ("alice@example.com", "https://issuer.example")
BEACON = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
GHA = "https://token.actions.githubusercontent.com"


def run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.fixture(scope="session")
def sigstore() -> mint.PrivateSigstore:
    return mint.PrivateSigstore()


@pytest.fixture()
def root(sigstore: mint.PrivateSigstore, tmp_path: Path) -> Path:
    return sigstore.write_root(tmp_path / "trusted_root.json")


def make_model(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    header = b'{"w":{"dtype":"U8","shape":[800],"data_offsets":[0,800]}}'
    header += b" " * (-len(header) % 8)
    body = len(header).to_bytes(8, "little") + header + bytes(range(256)) * 3 + bytes(32)
    (folder / "model.safetensors").write_bytes(body)
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "sub").mkdir(exist_ok=True)
    (folder / "sub" / "tokenizer.json").write_text('{"version": "1.0"}')
    return folder


def signed(folder: Path, bundle: dict[str, Any]) -> Path:
    mint.write_json(folder / "model.sig", bundle)
    return folder


def keyless_model(tmp: Path, sigstore: mint.PrivateSigstore, **kwargs: Any) -> Path:
    model = make_model(tmp / "model")
    return signed(model, sigstore.keyless_dsse(mint.oms_statement(model), *ALICE, **kwargs))


def verify(target: Path, *extra: str | Path) -> tuple[int, str]:
    return run("verify", target, *extra)


def keyless_args(root: Path, identity: str = ALICE[0], issuer: str = ALICE[1]) -> list[str | Path]:
    return ["--trusted-root", root, "--identity", identity, "--issuer", issuer]


def facts_of(target: Path, policy: SignerPolicy) -> list[Any]:
    return check_model_sig(target / "model.sig", target, policy)


# --- keyless, private trust root ---------------------------------------------------------------


def test_minted_keyless_verifies(
    sigstore: mint.PrivateSigstore, root: Path, tmp_path: Path
) -> None:
    model = keyless_model(tmp_path, sigstore)
    code, out = verify(model, *keyless_args(root))
    assert code == 0, out
    assert "VERIFIED" in out and "alice@example.com (https://issuer.example)" in out
    assert "3 as signed, 0 differ" in out


@pytest.mark.parametrize(
    ("identity", "issuer"),
    [("mallory@example.com", ALICE[1]), (ALICE[0], "https://evil.example")],
    ids=["wrong-identity", "wrong-issuer"],
)
def test_minted_keyless_wrong_signer_is_untrusted(
    sigstore: mint.PrivateSigstore, root: Path, tmp_path: Path, identity: str, issuer: str
) -> None:
    model = keyless_model(tmp_path, sigstore)
    code, out = verify(model, *keyless_args(root, identity, issuer))
    assert code == 1
    assert "UNTRUSTED" in out and "alice@example.com" in out


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda m: (m / "config.json").write_text('{"model_type": "evil"}'), "changed"),
        (lambda m: (m / "sub" / "tokenizer.json").unlink(), "missing"),
        (lambda m: (m / "extra.py").write_text("import os\n"), "extra"),
    ],
    ids=["tampered", "missing", "extra"],
)
def test_minted_keyless_reports_what_differs(
    sigstore: mint.PrivateSigstore, root: Path, tmp_path: Path, change: Any, problem: str
) -> None:
    model = keyless_model(tmp_path, sigstore)
    change(model)
    code, out = verify(model, *keyless_args(root))
    assert code == 1
    assert "MISMATCH" in out and problem in out
    code, out = run("scan", model, *keyless_args(root))
    assert code == 1
    assert "signature-mismatch" in out and f"is {problem} compared with the signature" in out


def test_expired_looking_certificate_valid_at_integration_time(
    sigstore: mint.PrivateSigstore, root: Path, tmp_path: Path
) -> None:
    """Fulcio certificates live ten minutes; validity is judged at the log's integrated time."""
    when = dt.datetime(2023, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
    model = keyless_model(tmp_path, sigstore, integrated=when)
    code, out = verify(model, *keyless_args(root))
    assert code == 0, out


def test_certificate_expired_at_integration_time_is_invalid(
    sigstore: mint.PrivateSigstore, root: Path, tmp_path: Path
) -> None:
    model = keyless_model(tmp_path, sigstore, validity=dt.timedelta(seconds=30))
    code, out = verify(model, *keyless_args(root))
    assert code == 1 and "INVALID" in out


def test_missing_log_entry_is_invalid(
    sigstore: mint.PrivateSigstore, root: Path, tmp_path: Path
) -> None:
    model = keyless_model(tmp_path, sigstore, with_log=False)
    code, out = verify(model, *keyless_args(root))
    assert code == 1 and "INVALID" in out and "log entry" in out


def test_private_signature_is_invalid_under_the_production_root(
    sigstore: mint.PrivateSigstore, tmp_path: Path
) -> None:
    model = keyless_model(tmp_path, sigstore)
    code, out = verify(model, "--identity", ALICE[0], "--issuer", ALICE[1])
    assert code == 1 and "INVALID" in out


def test_tampered_log_entry_is_invalid(
    sigstore: mint.PrivateSigstore, root: Path, tmp_path: Path
) -> None:
    model = make_model(tmp_path / "model")
    bundle = sigstore.keyless_dsse(mint.oms_statement(model), *ALICE)
    entry = bundle["verificationMaterial"]["tlogEntries"][0]
    entry["integratedTime"] = str(int(entry["integratedTime"]) + 60)  # breaks the SET
    code, out = verify(signed(model, bundle), *keyless_args(root))
    assert code == 1 and "INVALID" in out


def test_detached_keyless_bundle_over_a_file(
    sigstore: mint.PrivateSigstore, root: Path, tmp_path: Path
) -> None:
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"weights" * 100)
    bundle = sigstore.keyless_blob(weights.read_bytes(), *ALICE)
    mint.write_json(tmp_path / "model.bin.sigstore.json", bundle)
    assert verify(weights, *keyless_args(root))[0] == 0
    assert run("scan", tmp_path, *keyless_args(root))[0] == 0
    weights.write_bytes(b"weights" * 101)
    code, out = verify(weights, *keyless_args(root))
    assert code == 1 and "changed  model.bin" in out
    code, out = run("scan", tmp_path, *keyless_args(root))
    assert code == 1 and "signature-mismatch" in out


# --- key and certificate-chain signatures ------------------------------------------------------


def test_key_signature(tmp_path: Path) -> None:
    key, other = mint.new_key(), mint.new_key()
    (tmp_path / "pub.pem").write_bytes(mint.public_pem(key))
    (tmp_path / "other.pem").write_bytes(mint.public_pem(other))
    model = make_model(tmp_path / "model")
    signed(model, mint.key_bundle(mint.oms_statement(model), key))
    assert verify(model, "--key", tmp_path / "pub.pem")[0] == 0
    code, out = verify(model, "--key", tmp_path / "other.pem")
    assert code == 1 and "UNTRUSTED" in out
    code, out = verify(model)
    assert code == 1 and "UNCHECKED" in out and "--key" in out
    code, out = run("scan", model)
    assert code == 0 and "signature-unchecked" in out


def test_certificate_chain_signature(tmp_path: Path) -> None:
    root_key, inter_key, leaf_key = mint.new_key(), mint.new_key(), mint.new_key()
    ca = mint.ca_certificate(root_key, "root ca")
    inter = mint.ca_certificate(inter_key, "intermediate ca", root_key, ca.subject)
    leaf = mint.leaf_certificate(leaf_key, inter_key, inter.subject, subject=mint._name("signer"))
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(mint.serialization.Encoding.PEM))
    other = mint.ca_certificate(mint.new_key(), "other ca")
    (tmp_path / "other.pem").write_bytes(other.public_bytes(mint.serialization.Encoding.PEM))
    model = make_model(tmp_path / "model")
    signed(model, mint.chain_bundle(mint.oms_statement(model), leaf_key, [leaf, inter]))
    code, out = verify(model, "--cert-chain", tmp_path / "ca.pem")
    assert code == 0, out
    assert "CN=signer" in out
    code, out = verify(model, "--cert-chain", tmp_path / "other.pem")
    assert code == 1 and "UNTRUSTED" in out


@pytest.mark.parametrize("hash_type", ["sha256", "blake2b"])
def test_shards_and_blake2b(tmp_path: Path, hash_type: str) -> None:
    key = mint.new_key()
    (tmp_path / "pub.pem").write_bytes(mint.public_pem(key))
    model = make_model(tmp_path / "model")
    payload = mint.oms_statement(model, method="shards", hash_type=hash_type, shard_size=256)
    signed(model, mint.key_bundle(payload, key))
    assert verify(model, "--key", tmp_path / "pub.pem")[0] == 0
    with open(model / "model.safetensors", "ab") as f:
        f.write(b"appended")  # the shards no longer reach the end of the file
    code, out = verify(model, "--key", tmp_path / "pub.pem")
    assert code == 1 and "changed  model.safetensors" in out


def test_single_file_model_sig(tmp_path: Path) -> None:
    key = mint.new_key()
    (tmp_path / "pub.pem").write_bytes(mint.public_pem(key))
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"abc" * 1000)
    mint.write_json(tmp_path / "w.sig", mint.key_bundle(mint.oms_statement(weights), key))
    code, out = verify(weights, "--signature", tmp_path / "w.sig", "--key", tmp_path / "pub.pem")
    assert code == 0, out


def test_ignore_paths_and_git_are_honoured(tmp_path: Path) -> None:
    key = mint.new_key()
    (tmp_path / "pub.pem").write_bytes(mint.public_pem(key))
    model = make_model(tmp_path / "model")
    (model / "notes.txt").write_text("ignored")
    signed(model, mint.key_bundle(mint.oms_statement(model, ignore_paths=["notes.txt"]), key))
    (model / "notes.txt").write_text("changed, still ignored")
    (model / ".git").mkdir()
    (model / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert verify(model, "--key", tmp_path / "pub.pem")[0] == 0


# --- hostile signature files -------------------------------------------------------------------


def _statement(**changes: Any) -> bytes:
    doc = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "m", "digest": {"sha256": "00"}}],
        "predicateType": mint.PREDICATE,
        "predicate": {
            "serialization": {"method": "files", "hash_type": "sha256"},
            "resources": [{"name": "config.json", "algorithm": "sha256", "digest": "ab" * 32}],
        },
    }
    doc.update(changes)
    return json.dumps(doc).encode()


def _resources(*names: str) -> dict[str, Any]:
    res = [{"name": n, "algorithm": "sha256", "digest": "ab" * 32} for n in names]
    return {"serialization": {"method": "files", "hash_type": "sha256"}, "resources": res}


HOSTILE_PAYLOADS = {
    "not-json": b"\xff\xfe not json",
    "not-in-toto": json.dumps({"hello": "world"}).encode(),
    "wrong-predicate": _statement(predicateType="https://slsa.dev/provenance/v1"),
    "path-escape": _statement(predicate=_resources("../../etc/passwd")),
    "nested-escape": _statement(predicate=_resources("a/../../x")),
    "absolute": _statement(predicate=_resources("/etc/passwd")),
    "duplicate": _statement(predicate=_resources("config.json", "config.json")),
    "bad-digest": _statement(
        predicate={"resources": [{"name": "config.json", "digest": "zz"}], "serialization": {}}
    ),
    "unknown-hash": _statement(predicate={"resources": [], "serialization": {"hash_type": "md5"}}),
    "subject-mismatch": _statement(),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_PAYLOADS))
def test_hostile_statements_are_malformed_findings(tmp_path: Path, name: str) -> None:
    key = mint.new_key()
    (tmp_path / "pub.pem").write_bytes(mint.public_pem(key))
    model = make_model(tmp_path / "model")
    signed(model, mint.key_bundle(HOSTILE_PAYLOADS[name], key))
    code, out = verify(model, "--key", tmp_path / "pub.pem")
    assert code == 1 and "MALFORMED" in out
    code, out = run("scan", model, "--key", tmp_path / "pub.pem")
    assert code == 1 and "signature-malformed" in out


def test_absurd_shard_ranges_are_not_read(tmp_path: Path) -> None:
    key = mint.new_key()
    (tmp_path / "pub.pem").write_bytes(mint.public_pem(key))
    model = make_model(tmp_path / "model")
    res = [
        {"name": "model.safetensors:0:99999999999999", "algorithm": "sha256", "digest": "ab" * 32},
        {
            "name": "model.safetensors:0:99999999999999999",
            "algorithm": "sha256",
            "digest": "cd" * 32,
        },
    ]
    payload = mint.oms_statement(model, method="shards", resources=res)
    signed(model, mint.key_bundle(payload, key))
    code, out = verify(model, "--key", tmp_path / "pub.pem")
    assert code == 1 and "changed  model.safetensors" in out and "missing" not in out


HOSTILE_BUNDLES = {
    "not-json": b"{nope",
    "array": b"[]",
    "media-type": json.dumps({"mediaType": "application/json"}).encode(),
    "no-material": json.dumps(
        {"mediaType": mint.BUNDLE_V03, "verificationMaterial": {}, "dsseEnvelope": {}}
    ).encode(),
    "bad-base64": json.dumps(
        {
            "mediaType": mint.BUNDLE_V03,
            "verificationMaterial": {"publicKey": {"hint": "x"}},
            "dsseEnvelope": {"payload": "!!!", "payloadType": mint.INTOTO, "signatures": []},
        }
    ).encode(),
    "huge": b"{" + b" " * (17 << 20) + b"}",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_BUNDLES))
def test_hostile_bundles_are_malformed_findings(tmp_path: Path, name: str) -> None:
    model = make_model(tmp_path / "model")
    (model / "model.sig").write_bytes(HOSTILE_BUNDLES[name])
    code, out = verify(model)
    assert code == 1 and "MALFORMED" in out
    code, out = run("scan", model)
    assert code == 1 and "signature-malformed" in out


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_bundles_never_crash(tmp_path: Path, data: st.DataObject) -> None:
    model = tmp_path / "fuzz"
    if not model.exists():
        make_model(model)
        key = mint.new_key()
        signed(model, mint.key_bundle(mint.oms_statement(model), key))
        (tmp_path / "orig.sig").write_bytes((model / "model.sig").read_bytes())
    raw = bytearray((tmp_path / "orig.sig").read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    (model / "model.sig").write_bytes(bytes(raw))
    facts = facts_of(model, SignerPolicy((Signer(key_pem=b"junk"),)))
    assert isinstance(facts[0], SignatureCheck)


# --- the scan, policy and reports --------------------------------------------------------------


def test_scan_without_signer_reports_unchecked_and_passes(
    sigstore: mint.PrivateSigstore, root: Path, tmp_path: Path
) -> None:
    model = keyless_model(tmp_path, sigstore)
    code, out = run("scan", model, "--trusted-root", root)
    assert code == 0 and "signature-unchecked" in out and "alice@example.com" in out


def test_scan_json_and_sbom_record_the_signer(
    sigstore: mint.PrivateSigstore, root: Path, tmp_path: Path
) -> None:
    model = keyless_model(tmp_path, sigstore)
    bom = tmp_path / "bom.json"
    code, out = run("scan", model, *keyless_args(root), "--format", "json", "--sbom", bom)
    assert code == 0
    checks = [
        f for a in json.loads(out)["artifacts"] for f in a["facts"] if f["kind"] == "signature"
    ]
    assert checks == [
        {
            "kind": "signature", "status": "verified", "material": "keyless",
            "signer": ALICE[0], "issuer": ALICE[1], "covers": str(model), "files": 3,
            "differ": 0, "detail": checks[0]["detail"],
        }
    ]  # fmt: skip
    files = json.loads(bom.read_text())["metadata"]["component"]["components"]
    props = {c["name"]: {p["name"]: p["value"] for p in c.get("properties", [])} for c in files}
    assert props["config.json"]["mlsbom:signature:status"] == "verified"
    assert props["config.json"]["mlsbom:signature:signer"] == ALICE[0]
    assert props["model.sig"]["mlsbom:signature:result"] == "intact"
    assert props["model.sig"]["mlsbom:signature:files"] == "3"


def test_policy_requires_a_signature(
    sigstore: mint.PrivateSigstore, root: Path, tmp_path: Path
) -> None:
    model = keyless_model(tmp_path, sigstore)
    unsigned = make_model(tmp_path / "unsigned")
    policy = tmp_path / ".mlsbom.toml"
    policy.write_text(
        f'[signatures]\nrequired = true\ntrusted_root = "{root.name}"\n'
        f'[[signatures.signers]]\nidentity = "{ALICE[0]}"\nissuer = "{ALICE[1]}"\n'
    )
    assert run("scan", model, "--policy", policy)[0] == 0
    code, out = run("scan", unsigned, "--policy", policy)
    assert code == 1 and "signature-unsigned" in out and "no signature was found" in out
    assert run("verify", model, "--policy", policy)[0] == 0
    code, out = run("scan", unsigned, "--require-signature", *keyless_args(root))
    assert code == 1 and "signature-unsigned" in out


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ('[signatures]\nrequired = "yes"\n', "signatures.required"),
        ("[signatures]\nrequired = true\n", "signatures.signers"),
        ('[[signatures.signers]]\nidentity = "a@b"\n', "signatures.signers[0]"),
        ('[[signatures.signers]]\nkey = "missing.pem"\n', "signatures.signers[0].key"),
        ("[signatures]\nkeys = []\n", "signatures.keys"),
    ],
)
def test_bad_signature_policy_exits_2(tmp_path: Path, body: str, where: str) -> None:
    policy = tmp_path / ".mlsbom.toml"
    policy.write_text(body)
    result = CliRunner().invoke(
        cli, ["scan", str(make_model(tmp_path / "m")), "--policy", str(policy)]
    )
    assert result.exit_code == 2
    assert where in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--issuer", "https://x"],
        ["--identity", "a@b"],
        [
            "--identity",
            "a@b",
            "--identity",
            "c@d",
            "--issuer",
            "1",
            "--issuer",
            "2",
            "--issuer",
            "3",
        ],
        ["--key", "does-not-exist.pem"],
    ],
)
def test_signer_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["verify", str(make_model(tmp_path / "m")), *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_verify_unsigned_exits_1(tmp_path: Path) -> None:
    code, out = verify(make_model(tmp_path / "m"))
    assert code == 1 and "UNSIGNED" in out


# --- compatibility with the model-signing package ----------------------------------------------


def test_model_signing_verifies_what_mlsbom_mints(
    sigstore: mint.PrivateSigstore, tmp_path: Path
) -> None:
    model_signing = pytest.importorskip("model_signing", reason="model-signing is a test extra")
    model = make_model(tmp_path / "model")
    key = mint.new_key()
    (tmp_path / "pub.pem").write_bytes(mint.public_pem(key))
    mint.write_json(tmp_path / "key.sig", mint.key_bundle(mint.oms_statement(model), key))
    model_signing.verifying.Config().use_elliptic_key_verifier(
        public_key=tmp_path / "pub.pem"
    ).verify(model, tmp_path / "key.sig")
    shards = mint.oms_statement(model, method="shards", shard_size=256)
    mint.write_json(tmp_path / "shards.sig", mint.key_bundle(shards, key))
    model_signing.verifying.Config().use_elliptic_key_verifier(
        public_key=tmp_path / "pub.pem"
    ).set_hashing_config(
        model_signing.hashing.Config().use_shard_serialization(shard_size=256)
    ).verify(model, tmp_path / "shards.sig")
    trust = {
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": sigstore.trusted_root(),
        "signingConfig": {
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [], "oidcUrls": [], "rekorTlogUrls": [], "tsaUrls": [],
            "rekorTlogConfig": {"selector": "ANY"}, "tsaConfig": {"selector": "ANY"},
        },
    }  # fmt: skip
    mint.write_json(tmp_path / "trust.json", trust)
    keyless = sigstore.keyless_dsse(mint.oms_statement(model), *ALICE)
    mint.write_json(tmp_path / "keyless.sig", keyless)
    model_signing.verifying.Config().use_sigstore_verifier(
        identity=ALICE[0], oidc_issuer=ALICE[1], trust_config=tmp_path / "trust.json"
    ).verify(model, tmp_path / "keyless.sig")


def test_mlsbom_verifies_what_model_signing_signs(tmp_path: Path) -> None:
    model_signing = pytest.importorskip("model_signing", reason="model-signing is a test extra")
    from cryptography.hazmat.primitives import serialization

    model = make_model(tmp_path / "model")
    key = mint.new_key()
    (tmp_path / "pub.pem").write_bytes(mint.public_pem(key))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    model_signing.signing.Config().use_elliptic_key_signer(private_key=tmp_path / "key.pem").sign(
        model, model / "model.sig"
    )
    code, out = verify(model, "--key", tmp_path / "pub.pem")
    assert code == 0, out
    (model / "model.sig").unlink()  # model-signing's shard serialiser would hash the old one
    model_signing.signing.Config().use_elliptic_key_signer(
        private_key=tmp_path / "key.pem"
    ).set_hashing_config(
        model_signing.hashing.Config().use_shard_serialization(shard_size=300)
    ).sign(model, model / "model.sig")
    code, out = verify(model, "--key", tmp_path / "pub.pem")
    assert code == 0 and "shards/sha256" in out, out
    (model / "config.json").write_text("{}")
    assert verify(model, "--key", tmp_path / "pub.pem")[0] == 1


def test_signature_facts_are_typed(sigstore: mint.PrivateSigstore, tmp_path: Path) -> None:
    model = keyless_model(tmp_path, sigstore)
    (model / "config.json").write_text("{}")
    facts = facts_of(model, SignerPolicy(trusted_root=sigstore.write_root(tmp_path / "r.json")))
    assert isinstance(facts[0], SignatureCheck) and facts[0].status == "unchecked"
    assert facts[1:] == [SignatureFileMismatch("config.json", "changed", str(model / "model.sig"))]

"""Certificate-chain signatures: cryptography's path validation with self-signed anchors only.

Each weakness is tried several ways: intermediates that are not CAs (no basic constraints, ca=False,
no keyCertSign), path lengths exceeded, leaves that may not sign code, validity at signing time, an
intermediate offered as the anchor, a look-alike CA with a copied name.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mlsbom._cli import cli

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))
import signing_mint as mint

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
YEAR = dt.timedelta(days=365)
Key = ec.EllipticCurvePrivateKey


def name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(
    cn: str,
    key: Key,
    issuer: tuple[x509.Certificate, Key] | None = None,
    *,
    ca: bool | None = True,
    path_length: int | None = None,
    key_cert_sign: bool = True,
    eku: list[x509.ObjectIdentifier] | None = None,
    start: dt.datetime = T0,
    end: dt.datetime = T0 + 10 * YEAR,
) -> x509.Certificate:
    issuer_name, issuer_key = (issuer[0].subject, issuer[1]) if issuer else (name(cn), key)
    b = (
        x509.CertificateBuilder()
        .subject_name(name(cn))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    )
    if ca is not None:
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), True)
    signs_certs = bool(ca) and key_cert_sign
    b = b.add_extension(
        x509.KeyUsage(not ca, False, False, False, False, signs_certs, signs_certs, False, False),
        True,
    )
    if not ca:
        b = b.add_extension(x509.ExtendedKeyUsage(eku or [ExtendedKeyUsageOID.CODE_SIGNING]), False)
    return b.sign(issuer_key, hashes.SHA256())


def pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def check(
    tmp: Path, chain: list[x509.Certificate], leaf_key: Key, anchors: bytes
) -> tuple[int, str]:
    model = tmp / "model"
    model.mkdir(exist_ok=True)
    (model / "weights.bin").write_bytes(b"\x00" * 64)
    bundle = mint.chain_bundle(mint.oms_statement(model), leaf_key, chain)
    mint.write_json(model / "model.sig", bundle)
    (tmp / "ca.pem").write_bytes(anchors)
    result = CliRunner().invoke(cli, ["verify", str(model), "--cert-chain", str(tmp / "ca.pem")])
    return result.exit_code, result.output


@pytest.fixture
def keys() -> dict[str, Key]:
    return {n: mint.new_key() for n in ("root", "inter", "inter2", "leaf", "evil")}


def good(keys: dict[str, Key]) -> tuple[x509.Certificate, x509.Certificate, x509.Certificate]:
    root = cert("root", keys["root"])
    inter = cert("inter", keys["inter"], (root, keys["root"]))
    leaf = cert("signer", keys["leaf"], (inter, keys["inter"]), ca=False, start=T0 + YEAR)
    return root, inter, leaf


def test_good_chain_verifies(keys: dict[str, Key], tmp_path: Path) -> None:
    root, inter, leaf = good(keys)
    code, out = check(tmp_path, [leaf, inter], keys["leaf"], pem(root))
    assert code == 0 and "chain ends at CN=root" in out, out


def test_intermediates_may_come_from_the_ca_file(keys: dict[str, Key], tmp_path: Path) -> None:
    root, inter, leaf = good(keys)
    code, out = check(tmp_path, [leaf], keys["leaf"], pem(root, inter))
    assert code == 0, out


def test_intermediate_alone_is_not_an_anchor(keys: dict[str, Key], tmp_path: Path) -> None:
    _root, inter, leaf = good(keys)
    code, out = check(tmp_path, [leaf, inter], keys["leaf"], pem(inter))
    assert code == 1 and "UNTRUSTED" in out and "intermediate cannot be the trust anchor" in out


@pytest.mark.parametrize(
    "flaw",
    [
        {"ca": False},  # an end-entity posing as an intermediate
        {"ca": None},  # no basic constraints at all
        {"key_cert_sign": False},  # a CA whose key may not sign certificates
    ],
    ids=["ca-false", "no-basic-constraints", "no-keyCertSign"],
)
def test_intermediate_must_be_a_ca(
    keys: dict[str, Key], tmp_path: Path, flaw: dict[str, object]
) -> None:
    root = cert("root", keys["root"])
    kwargs: dict[str, object] = {"eku": [ExtendedKeyUsageOID.CODE_SIGNING], **flaw}
    inter = cert("inter", keys["inter"], (root, keys["root"]), **kwargs)  # type: ignore[arg-type]
    leaf = cert("signer", keys["leaf"], (inter, keys["inter"]), ca=False, start=T0 + YEAR)
    code, out = check(tmp_path, [leaf, inter], keys["leaf"], pem(root))
    assert code == 1 and "UNTRUSTED" in out, out
    assert "the chain does not lead to a given root" in out and "Certificate(" not in out


@pytest.mark.parametrize("where", ["root", "intermediate"])
def test_path_length_is_respected(keys: dict[str, Key], tmp_path: Path, where: str) -> None:
    root = cert("root", keys["root"], path_length=0 if where == "root" else None)
    inter = cert(
        "inter", keys["inter"], (root, keys["root"]), path_length=0 if where != "root" else None
    )
    inter2 = cert("inter2", keys["inter2"], (inter, keys["inter"]))
    leaf = cert("signer", keys["leaf"], (inter2, keys["inter2"]), ca=False, start=T0 + YEAR)
    code, out = check(tmp_path, [leaf, inter2, inter], keys["leaf"], pem(root))
    assert code == 1 and "UNTRUSTED" in out, out


@pytest.mark.parametrize(
    "eku",
    [
        [ExtendedKeyUsageOID.SERVER_AUTH],
        [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION],
    ],
    ids=["tls-server", "client-and-email"],
)
def test_leaf_must_be_for_code_signing(
    keys: dict[str, Key], tmp_path: Path, eku: list[x509.ObjectIdentifier]
) -> None:
    root, inter, _ = good(keys)
    leaf = cert("signer", keys["leaf"], (inter, keys["inter"]), ca=False, eku=eku, start=T0 + YEAR)
    code, out = check(tmp_path, [leaf, inter], keys["leaf"], pem(root))
    assert code == 1 and "INVALID" in out and "code-signing" in out


@pytest.mark.parametrize("ca_window", ["expired", "not-yet-valid"])
def test_chain_is_valid_at_signing_time(
    keys: dict[str, Key], tmp_path: Path, ca_window: str
) -> None:
    root = cert("root", keys["root"])
    start, end = (T0, T0 + YEAR) if ca_window == "expired" else (T0 + 3 * YEAR, T0 + 9 * YEAR)
    inter = cert("inter", keys["inter"], (root, keys["root"]), start=start, end=end)
    leaf = cert("signer", keys["leaf"], (inter, keys["inter"]), ca=False, start=T0 + 2 * YEAR)
    code, out = check(tmp_path, [leaf, inter], keys["leaf"], pem(root))
    assert code == 1 and "UNTRUSTED" in out, out


def test_expired_leaf_still_verifies_at_signing_time(keys: dict[str, Key], tmp_path: Path) -> None:
    root, inter, _ = good(keys)
    leaf = cert(
        "signer",
        keys["leaf"],
        (inter, keys["inter"]),
        ca=False,
        start=T0 + YEAR,
        end=T0 + YEAR + YEAR / 12,
    )
    code, out = check(tmp_path, [leaf, inter], keys["leaf"], pem(root))
    assert code == 0, out


def test_look_alike_intermediate_is_rejected(keys: dict[str, Key], tmp_path: Path) -> None:
    root, _inter, _ = good(keys)
    fake = cert("inter", keys["evil"], (root, keys["evil"]))  # claims root issued it; root did not
    leaf = cert("signer", keys["leaf"], (fake, keys["evil"]), ca=False, start=T0 + YEAR)
    code, out = check(tmp_path, [leaf, fake], keys["leaf"], pem(root))
    assert code == 1 and "UNTRUSTED" in out


def test_signature_by_another_key_than_the_leaf_is_invalid(
    keys: dict[str, Key], tmp_path: Path
) -> None:
    root, inter, leaf = good(keys)
    code, out = check(tmp_path, [leaf, inter], keys["evil"], pem(root))
    assert code == 1 and "does not verify with the signing certificate" in out

"""Signer options shared by `scan` and `verify`, and the `verify` report (it renders a decision,
never makes one).

`--identity/--issuer` (keyless), `--key PEM`, `--cert-chain PEM` and `--trusted-root JSON` become a
`SignerPolicy`; a missing or unreadable file is a usage error (exit 2).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from mlsbom.errors import MlsbomError
from mlsbom.facts import SignatureCheck, SignatureFileMismatch
from mlsbom.models import ScanResult
from mlsbom.policy import Decision
from mlsbom.regular_file import read_regular
from mlsbom.reporters.escape import json_tree, printable
from mlsbom.serial import dump
from mlsbom.signing.signers import SignerPolicy, signers_from

F = TypeVar("F", bound=Callable[..., Any])
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def signer_options(func: F) -> F:
    """Add the accepted-signer options to a command."""
    options = [
        click.option(
            "--identity",
            "identities",
            multiple=True,
            envvar="MLSBOM_IDENTITY",
            help="Accepted keyless signer (certificate SAN: e-mail or workflow URI); repeatable.",
        ),
        click.option(
            "--issuer",
            "issuers",
            multiple=True,
            envvar="MLSBOM_ISSUER",
            help="OIDC issuer of --identity (one for all, or one per --identity).",
        ),
        click.option("--key", "keys", multiple=True, type=_FILE, help="Accepted public key (PEM)."),
        click.option(
            "--cert-chain",
            "cert_chains",
            multiple=True,
            type=_FILE,
            help="Accepted CA certificate(s) (PEM) for certificate-chain signatures.",
        ),
        click.option(
            "--trusted-root",
            type=_FILE,
            envvar="MLSBOM_TRUSTED_ROOT",
            help="Sigstore trusted_root.json (private instance or rotated root) [default: the "
            "production root embedded in sigstore-python; never fetched].",
        ),
        click.option(
            "--publisher",
            "publishers",
            multiple=True,
            envvar="MLSBOM_PUBLISHER",
            help="Accepted PyPI Trusted Publisher of PEP 740 attestations: github:OWNER/REPO:"
            "WORKFLOW.yml, gitlab:NAMESPACE/PROJECT:CI-FILE or google:EMAIL; repeatable.",
        ),
        click.option(
            "--ignore-paths",
            "ignore_paths",
            multiple=True,
            envvar="MLSBOM_IGNORE_PATHS",
            help="A path the signer excluded from model.sig (inside the model folder, or relative "
            "to it), as model_signing's --ignore-paths; repeatable.",
        ),
        click.option(
            "--attestation",
            "attestations",
            multiple=True,
            type=_FILE,
            help="PEP 740 attestation (or provenance JSON) of a wheel/sdist target [default: "
            "DIST.publish.attestation, DIST.provenance beside it]; repeatable.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def signer_policy(
    identities: Sequence[str],
    issuers: Sequence[str],
    keys: Sequence[Path],
    cert_chains: Sequence[Path],
    trusted_root: Path | None,
    required: bool = False,
    ignore_paths: Sequence[str] = (),
    attestations: Sequence[Path] = (),
    publishers: Sequence[str] = (),
) -> SignerPolicy:
    """The policy the flags describe; MlsbomError (exit 2) when they do not pair up."""
    if issuers and not identities:
        raise MlsbomError("--issuer without --identity", hint="give --identity with --issuer")
    if identities and len(issuers) not in (1, len(identities)):
        raise MlsbomError(
            f"{len(identities)} --identity but {len(issuers)} --issuer",
            hint="give one --issuer for all identities, or one per --identity",
        )
    pairs = [(i, issuers[0] if len(issuers) == 1 else issuers[n]) for n, i in enumerate(identities)]
    try:
        key_pems = [read_regular(k) for k in keys]  # a FIFO or device must not block us
        ca_pems = [read_regular(c) for c in cert_chains]
    except OSError as exc:
        raise MlsbomError(f"cannot read {exc.filename}: {exc.strerror}") from None
    for path, pem in (*zip(keys, key_pems, strict=True), *zip(cert_chains, ca_pems, strict=True)):
        if b"-----BEGIN" not in pem:
            raise MlsbomError(f"{path} is not a PEM file", hint="export the key or CA as PEM")
    for spec in publishers:
        _check_publisher(spec)
    signers = signers_from(pairs, key_pems, ca_pems, publishers)
    return SignerPolicy(signers, trusted_root, required, tuple(ignore_paths), tuple(attestations))


def _check_publisher(spec: str) -> None:
    from mlsbom.signing.attestation import PUBLISHER_FORMS, publisher_from_spec

    try:
        publisher_from_spec(spec)
    except ValueError:
        raise MlsbomError(f"--publisher {spec!r} is not understood", hint=PUBLISHER_FORMS) from None


def _check_lines(check: SignatureCheck, mismatches: list[SignatureFileMismatch]) -> list[str]:
    lines = [f"{check.outcome.upper():<10} {check.covers}  [{check.material}]"]
    if check.signer:
        lines.append(f"  signer:  {check.signed_by}")
    lines.append(f"  files:   {check.files} as signed, {check.differ} differ")
    lines += [f"  {m.problem:<8} {m.file}" for m in mismatches]
    lines.append(f"  detail:  {check.detail}")
    return lines


def render_verify(result: ScanResult, decision: Decision, fmt: str) -> str:
    """The `verify` report: each signature file's checks (artefacts named by the signature's
    path), and the decision's verdict."""
    checks = [
        (art.ref.path, c, [m for m in art.facts if isinstance(m, SignatureFileMismatch)])
        for art in result.artifacts
        for c in art.facts
        if isinstance(c, SignatureCheck)
    ]
    ok = decision.passed
    if fmt == "json":
        doc = {
            "verified": ok,
            "signatures": [
                {
                    "signature": str(sig),
                    **{k: v for k, v in dump(c).items() if k != "kind"},
                    "intact": c.intact,
                    "mismatches": [{"file": m.file, "problem": m.problem.value} for m in ms],
                }
                for sig, c, ms in checks
            ],
        }
        return json.dumps(json_tree(doc), indent=2, ensure_ascii=False) + "\n"
    lines: list[str] = []
    for sig, check, mismatches in checks:
        lines.append(f"{sig}")
        lines += ["  " + line for line in _check_lines(check, mismatches)]
    if not checks:
        lines.append("UNSIGNED: no model.sig, .sigstore.json bundle or PEP 740 attestation found")
    lines.append("OK: verified" if ok else "FAIL: not verified")
    return "\n".join(printable(line) for line in lines) + "\n"  # names from the manifest

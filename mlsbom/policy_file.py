"""Load `.mlsbom.toml` / `[tool.mlsbom]`: strict validation, errors that say where and how to fix.

Discovery looks in the working directory and its parents only: a scanned download must never
configure the scanner that judges it.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from typing import Any

from mlsbom.errors import PolicyError
from mlsbom.models import Format, Severity
from mlsbom.policy import Policy, Waiver
from mlsbom.regular_file import read_regular
from mlsbom.rules import RuleSet
from mlsbom.signing.signers import Signer, SignerPolicy
from mlsbom.suggest import did_you_mean

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_KEYS: dict[str, set[str]] = {
    "": {
        "fail_on",
        "rules",
        "waivers",
        "formats",
        "licenses",
        "remote_code",
        "signatures",
        "pickle",
    },
    "pickle": {"allow_modules"},
    "rules": {"disable", "severity"},
    "waivers": {"rule", "path", "reason", "expires"},
    "formats": {"allow", "deny"},
    "licenses": {"allow", "deny"},
    "remote_code": {"allow"},
    "signatures": {"required", "trusted_root", "signers", "ignore_paths"},
    "signers": {"identity", "issuer", "key", "cert_chain", "publisher"},
}
EXAMPLE_SIGNER = (
    '[[signatures.signers]]\nidentity = "release@example.com"\n'
    'issuer = "https://accounts.google.com"   # or: key = "keys/pub.pem", cert_chain = "ca.pem"'
)
EXAMPLE_WAIVER = (
    '[[waivers]]\\nrule = "pickle-unknown-import"\\npath = "models/legacy/*.pt"\\n'
    'reason = "why this is accepted"\\nexpires = 2027-01-31'
)


def _fail(path: Path, key: str, problem: str, fix: str) -> PolicyError:
    return PolicyError(f"{path}: {key}: {problem}", hint=fix)


def _check_keys(path: Path, section: str, table: dict[str, Any], where: str) -> None:
    for key in sorted(set(table) - _KEYS[section]):
        valid = ", ".join(sorted(_KEYS[section]))
        raise _fail(path, f"{where}{key}", "unknown key", f"valid keys here: {valid}")


def _severity(path: Path, key: str, value: object) -> Severity:
    try:
        return Severity.parse(str(value))
    except ValueError as exc:
        raise _fail(path, key, str(exc), "use info, low, medium, high or critical") from None


def _rule_id(path: Path, key: str, rule_id: object, rules: RuleSet, star: bool = False) -> str:
    if not isinstance(rule_id, str) or (
        rule_id not in rules.by_id and not (star and rule_id == "*")
    ):
        hint = did_you_mean(rule_id, rules.by_id)
        raise _fail(path, key, f"unknown rule id {rule_id!r}", hint)
    return rule_id


def _formats(path: Path, key: str, values: object) -> frozenset[Format]:
    known = {f.value: f for f in Format}
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _fail(path, key, "must be a list of format names", 'e.g. deny = ["pickle"]')
    for v in values:
        if v not in known:
            raise _fail(path, key, f"unknown format {v!r}", f"formats: {', '.join(known)}")
    return frozenset(known[v] for v in values)


def _licenses(path: Path, key: str, values: object) -> frozenset[str]:
    """SPDX ids (any case) or hub licence names such as `llama3.1`, compared in lower case."""
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise _fail(
            path, key, "must be a list of licence ids", 'e.g. allow = ["Apache-2.0", "MIT"]'
        )
    bad = [v for v in values if any(c.isspace() for c in v.strip())]
    if bad:
        raise _fail(
            path,
            key,
            f"{bad[0]!r} is an expression",
            "list single ids; OR/AND are read from the model",
        )
    return frozenset(v.strip().lower() for v in values)


def _waiver(path: Path, index: int, raw: object, rules: RuleSet) -> Waiver:
    where = f"waivers[{index}]"
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be a table", EXAMPLE_WAIVER)
    _check_keys(path, "waivers", raw, f"{where}.")
    missing = [k for k in ("rule", "path", "reason", "expires") if k not in raw]
    if missing:
        raise _fail(path, where, f"missing {', '.join(missing)}", EXAMPLE_WAIVER)
    expires = raw["expires"]
    if isinstance(expires, dt.datetime) or not isinstance(expires, dt.date):
        raise _fail(path, f"{where}.expires", "must be a TOML date", "write expires = 2027-01-31")
    reason = raw["reason"]
    if not isinstance(reason, str) or not reason.strip():
        raise _fail(path, f"{where}.reason", "must say why", 'reason = "…"')
    if not isinstance(raw["path"], str) or not raw["path"]:
        raise _fail(path, f"{where}.path", "must be a glob", 'path = "models/*.pt"')
    rule = _rule_id(path, f"{where}.rule", raw["rule"], rules, star=True)
    return Waiver(rule, raw["path"], reason.strip(), expires)


def _policy_file(path: Path, key: str, value: object) -> Path:
    """A file named in the policy, relative to the policy's folder."""
    if not isinstance(value, str) or not value:
        raise _fail(path, key, "must be a file path", f'{key.rsplit(".", 1)[-1]} = "keys/pub.pem"')
    found = (path.parent / value).resolve()
    if not found.is_file():
        raise _fail(path, key, f"{found} does not exist", "paths are relative to the policy file")
    return found


def _signer(path: Path, index: int, raw: object) -> Signer:
    where = f"signatures.signers[{index}]"
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be a table", EXAMPLE_SIGNER)
    _check_keys(path, "signers", raw, f"{where}.")
    if "publisher" in raw and len(raw) == 1:
        return _publisher_signer(path, where, raw["publisher"])
    kinds = [k for k in ("identity", "key", "cert_chain") if k in raw]
    if len(kinds) != 1 or ("issuer" in raw) != (kinds == ["identity"]):
        raise _fail(
            path, where, "needs identity + issuer, or key, or cert_chain (one of them)",
            EXAMPLE_SIGNER,
        )  # fmt: skip
    if kinds == ["identity"]:
        identity, issuer = raw["identity"], raw["issuer"]
        if not (isinstance(identity, str) and identity and isinstance(issuer, str) and issuer):
            raise _fail(path, where, "identity and issuer must be strings", EXAMPLE_SIGNER)
        return Signer(identity=identity, issuer=issuer)
    file = _policy_file(path, f"{where}.{kinds[0]}", raw[kinds[0]])
    try:
        pem = read_regular(file)
    except OSError as exc:
        raise _fail(
            path, f"{where}.{kinds[0]}", f"cannot read {file}: {exc.strerror}", EXAMPLE_SIGNER
        ) from None
    if b"-----BEGIN" not in pem:
        raise _fail(path, f"{where}.{kinds[0]}", f"{file} is not PEM", "export it as PEM")
    return Signer(key_pem=pem) if kinds == ["key"] else Signer(ca_pem=pem)


def _signatures(path: Path, table: object) -> SignerPolicy:
    if not isinstance(table, dict):
        raise _fail(path, "signatures", "must be a table", "write [signatures] required = true")
    _check_keys(path, "signatures", table, "signatures.")
    required = table.get("required", False)
    if not isinstance(required, bool):
        raise _fail(path, "signatures.required", "must be true or false", "required = true")
    root = table.get("trusted_root")
    trusted = _policy_file(path, "signatures.trusted_root", root) if root is not None else None
    raw = table.get("signers", [])
    if not isinstance(raw, list):
        raise _fail(path, "signatures.signers", "must be an array of tables", EXAMPLE_SIGNER)
    signers = tuple(_signer(path, i, s) for i, s in enumerate(raw))
    if required and not signers:
        raise _fail(
            path, "signatures.signers", "required = true needs accepted signers", EXAMPLE_SIGNER
        )
    ignore = _ignore_paths(path, table.get("ignore_paths", []))
    return SignerPolicy(signers, trusted, required, ignore)


_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


def _pickle_modules(path: Path, table: object) -> tuple[str, ...]:
    """`[pickle] allow_modules`: dotted module names whose pickled classes the user trusts."""
    if not isinstance(table, dict):
        raise _fail(path, "pickle", "must be a table", 'write [pickle] allow_modules = ["mypkg"]')
    _check_keys(path, "pickle", table, "pickle.")
    modules = table.get("allow_modules", [])
    if not isinstance(modules, list) or not all(
        isinstance(m, str) and _MODULE.match(m) for m in modules
    ):
        raise _fail(
            path,
            "pickle.allow_modules",
            "must be a list of dotted module names (no globs)",
            'allow_modules = ["mypkg", "otherpkg.models"]',
        )
    return tuple(modules)


def parse_policy(data: dict[str, Any], path: Path, rules: RuleSet) -> Policy:
    """Validate a policy table (the whole file, or [tool.mlsbom])."""
    _check_keys(path, "", data, "")
    fail_on = _severity(path, "fail_on", data.get("fail_on", "high"))
    table = data.get("rules", {})
    if not isinstance(table, dict):
        raise _fail(path, "rules", "must be a table", "write [rules] with disable/severity")
    _check_keys(path, "rules", table, "rules.")
    disabled = table.get("disable", [])
    if not isinstance(disabled, list):
        raise _fail(path, "rules.disable", "must be a list of rule ids", 'disable = ["rule-id"]')
    for i, rule_id in enumerate(disabled):
        _rule_id(path, f"rules.disable[{i}]", rule_id, rules)
    overrides = table.get("severity", {})
    if not isinstance(overrides, dict):
        raise _fail(path, "rules.severity", "must be a table", 'severity = { rule-id = "low" }')
    severity = {
        _rule_id(path, f"rules.severity.{k}", k, rules): _severity(path, f"rules.severity.{k}", v)
        for k, v in overrides.items()
    }
    raw_waivers = data.get("waivers", [])
    if not isinstance(raw_waivers, list):
        raise _fail(path, "waivers", "must be an array of tables", EXAMPLE_WAIVER)
    waivers = tuple(_waiver(path, i, w, rules) for i, w in enumerate(raw_waivers))
    formats = data.get("formats", {})
    if not isinstance(formats, dict):
        raise _fail(path, "formats", "must be a table", "write [formats] with allow/deny lists")
    _check_keys(path, "formats", formats, "formats.")
    allowed = _formats(path, "formats.allow", formats["allow"]) if "allow" in formats else None
    denied = _formats(path, "formats.deny", formats.get("deny", []))
    licenses = data.get("licenses", {})
    if not isinstance(licenses, dict):
        raise _fail(path, "licenses", "must be a table", "write [licenses] with allow/deny lists")
    _check_keys(path, "licenses", licenses, "licenses.")
    lic_allowed = (
        _licenses(path, "licenses.allow", licenses["allow"]) if "allow" in licenses else None
    )
    lic_denied = _licenses(path, "licenses.deny", licenses.get("deny", []))
    remote = data.get("remote_code", {})
    if not isinstance(remote, dict):
        raise _fail(path, "remote_code", "must be a table", 'write [remote_code] allow = ["…"]')
    _check_keys(path, "remote_code", remote, "remote_code.")
    remote_allowed = remote.get("allow", [])
    if not isinstance(remote_allowed, list) or not all(
        isinstance(g, str) and g for g in remote_allowed
    ):
        raise _fail(
            path,
            "remote_code.allow",
            "must be a list of path globs",
            'allow = ["*/models/acme-*/*"]',
        )
    return Policy(
        fail_on,
        frozenset(disabled),
        severity,
        waivers,
        allowed,
        denied,
        str(path),
        lic_allowed,
        lic_denied,
        tuple(remote_allowed),
        _signatures(path, data.get("signatures", {})),
        _pickle_modules(path, data.get("pickle", {})),
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_regular(path).decode("utf-8"))
    except OSError as exc:
        raise PolicyError(f"cannot read policy {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}", hint="fix the syntax") from None


def load_policy(path: Path, rules: RuleSet) -> Policy:
    """Read `.mlsbom.toml`, or `pyproject.toml` with a [tool.mlsbom] table."""
    data = _read(path)
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        data = tool.get("mlsbom", {}) if isinstance(tool, dict) else {}
        if not isinstance(data, dict):
            raise _fail(path, "tool.mlsbom", "must be a table", "write [tool.mlsbom]")
    return parse_policy(data, path, rules)


def discover(start: Path | None = None) -> Path | None:
    """The nearest `.mlsbom.toml`, or pyproject.toml with [tool.mlsbom], from cwd upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / ".mlsbom.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                tool = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
            if isinstance(tool, dict) and "mlsbom" in tool:
                return pyproject
        if (folder / ".git").exists():
            break  # do not leave the repository
    return None


def _ignore_paths(path: Path, raw: object) -> tuple[str, ...]:
    """[signatures] ignore_paths: model-folder-relative paths the signer excluded from model.sig."""
    example = 'ignore_paths = ["README.md", "eval/"]'
    if not isinstance(raw, list) or not all(isinstance(p, str) and p for p in raw):
        raise _fail(path, "signatures.ignore_paths", "must be an array of paths", example)
    for p in raw:
        if p.startswith("/") or ".." in p.split("/"):
            problem = f"{p!r} is not inside the model folder"
            raise _fail(path, "signatures.ignore_paths", problem, example)
    return tuple(raw)


def _publisher_signer(path: Path, where: str, spec: object) -> Signer:
    """[[signatures.signers]] publisher = "github:OWNER/REPO:WORKFLOW" (a PEP 740 publisher)."""
    from mlsbom.signing.attestation import PUBLISHER_FORMS, publisher_from_spec

    try:
        publisher_from_spec(spec if isinstance(spec, str) else "")
    except ValueError:
        problem = "is not a Trusted Publisher"
        raise _fail(path, f"{where}.publisher", problem, PUBLISHER_FORMS) from None
    return Signer(publisher=str(spec))

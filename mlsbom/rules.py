"""Rules as data: load `rules/*.toml` strictly, then judge facts into findings.

A rule names one fact kind and a declarative match over that fact's fields:

    [match]
    target = { in = ["@dangerous-globals"] }      # "@name" expands rules/lists/name.toml
    runs_code = { equals = true }

Operators: `equals`, `in`, `not_in`, `min`. Strings match as shell globs; a `GlobalRef` field
matches `module:name` patterns in which `*` in the name stops at dots (so
`torch.nn.modules.*:[A-Z]*` never admits `Linear.__init__.__globals__`) and `**` crosses them.
"""

from __future__ import annotations

import dataclasses
import enum
import fnmatch
import importlib.resources
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from mlsbom.errors import RuleError
from mlsbom.facts import Fact, GlobalRef, fact_kinds, field_names
from mlsbom.lists import Lists
from mlsbom.models import ArtifactRef, Finding, Location, Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_RULE_KEYS = {
    "id",
    "title",
    "severity",
    "fact",
    "message",
    "description",
    "remediation",
    "cwe",
    "references",
    "match",
}
_REQUIRED = {"id", "title", "severity", "fact", "message", "description", "remediation"}
_OPERATORS = {"equals", "in", "not_in", "min"}


@dataclass(frozen=True, slots=True)
class GlobalPattern:
    """A `module:name` glob for pickle imports."""

    text: str
    module: re.Pattern[str]
    name: re.Pattern[str]

    @classmethod
    def parse(cls, text: str) -> GlobalPattern:
        module, sep, name = text.partition(":")
        if not sep or not module or not name:
            raise ValueError(f"global pattern {text!r} must look like 'module:name'")
        return cls(text, re.compile(fnmatch.translate(module)), re.compile(_name_regex(name)))

    def matches(self, ref: GlobalRef) -> bool:
        return bool(self.module.match(ref.module) and self.name.match(ref.name))


def _name_regex(glob: str) -> str:
    """Glob to regex where `*` and `?` stay within one dotted component and `**` does not."""
    out, i = [], 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^.]*")
        elif c == "?":
            out.append("[^.]")
        elif c == "[" and "]" in glob[i + 1 :]:
            end = glob.index("]", i + 1)
            out.append(glob[i : end + 1])
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out) + r"\Z"


_MEMO_MAX = 1 << 16  # remembered answers per list condition (pickle imports repeat a lot)


@dataclass(frozen=True, slots=True)
class Condition:
    """One field test of a rule's match table."""

    field: str
    op: str
    values: tuple[Any, ...]
    # answers of `in`/`not_in` over long lists, by value: the same imports recur in every file
    memo: dict[object, bool] = dataclasses.field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def test(self, value: object) -> bool:
        if self.op == "equals":
            return bool(value == self.values[0])
        if self.op == "min":
            return isinstance(value, int) and value >= self.values[0]
        hashable = isinstance(value, (str, GlobalRef))
        hit = self.memo.get(value) if hashable else None
        if hit is None:
            hit = any(_value_matches(p, value) for p in self.values)
            if hashable and len(self.memo) < _MEMO_MAX:
                self.memo[value] = hit
        return hit if self.op == "in" else not hit


def _value_matches(pattern: object, value: object) -> bool:
    if isinstance(pattern, GlobalPattern):
        return isinstance(value, GlobalRef) and pattern.matches(value)
    if isinstance(value, tuple):
        return any(_value_matches(pattern, v) for v in value)
    if isinstance(pattern, str) and isinstance(value, str):
        return fnmatch.fnmatchcase(value, pattern)
    return pattern == value


@dataclass(frozen=True, slots=True)
class Rule:
    """A loaded rule: metadata plus the conditions a fact must meet."""

    id: str
    title: str
    severity: Severity
    fact: str
    message: str
    description: str
    remediation: str
    cwe: tuple[str, ...]
    references: tuple[str, ...]
    conditions: tuple[Condition, ...]

    def matches(self, fact: Fact) -> bool:
        return fact.kind == self.fact and all(
            c.test(getattr(fact, c.field)) for c in self.conditions
        )

    def finding(self, fact: Fact, artifact: ArtifactRef) -> Finding:
        values = {name: _show(getattr(fact, name)) for name in field_names(type(fact))}
        evidence = getattr(fact, "evidence", None)
        return Finding(
            rule_id=self.id,
            severity=self.severity,
            title=self.title,
            artifact=artifact,
            location=Location(fact.offset_hint, fact.stream_hint, fact.detail_hint),
            message=self.message.format_map(values),
            remediation=self.remediation,
            evidence=evidence if isinstance(evidence, str) else None,
            cwe=self.cwe,
        )


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)


@dataclass(frozen=True, slots=True)
class ExtensionHint:
    """What a file-name extension claims about the bytes, and how to treat unknown bytes."""

    extension: str
    expect: tuple[str, ...]
    unknown_as: str | None


class RuleSet:
    """All rules and lists of one rules folder, validated; `judge` turns facts into findings.

    `lists` also go to the analysers (through their job), and `folder` to worker processes and
    the result cache's fingerprint, so that every part of a scan uses the same rules."""

    def __init__(
        self,
        rules: Iterable[Rule],
        lists: Mapping[str, tuple[str, ...]],
        extensions: Mapping[str, ExtensionHint],
        folder: Path,
    ) -> None:
        self.rules = tuple(sorted(rules, key=lambda r: r.id))
        self.lists = Lists(lists)
        self.extensions = dict(extensions)
        self.folder = folder

    @cached_property
    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    @cached_property
    def _by_fact(self) -> dict[str, tuple[Rule, ...]]:
        table: dict[str, list[Rule]] = {}
        for rule in self.rules:
            table.setdefault(rule.fact, []).append(rule)
        return {k: tuple(v) for k, v in table.items()}

    def judge(self, facts: Iterable[Fact], artifact: ArtifactRef) -> list[Finding]:
        """The findings the rules make of these facts (called by judge.py only)."""
        findings = []
        for fact in facts:
            for rule in self._by_fact.get(fact.kind, ()):
                if rule.matches(fact):
                    findings.append(rule.finding(fact, artifact))
        return findings

    def worst(self, facts: Iterable[Fact]) -> Severity | None:
        """The highest severity a rule gives any of these facts, making no findings: what
        analysis asks before gathering costly evidence (`--explain`) for a flagged artefact."""
        found = [
            rule.severity
            for fact in facts
            for rule in self._by_fact.get(fact.kind, ())
            if rule.matches(fact)
        ]
        return max(found, default=None)


def rules_dir() -> Path:
    """The shipped rules: package data in a wheel, the top-level `rules/` in a checkout."""
    packaged = importlib.resources.files("mlsbom").joinpath("rules")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "rules"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"{path}: {exc}") from exc


def _load_lists(folder: Path) -> dict[str, tuple[str, ...]]:
    lists: dict[str, tuple[str, ...]] = {}
    for path in sorted(folder.glob("*.toml")):
        data = _read_toml(path)
        unknown = set(data) - {"description", "entries"}
        entries = data.get("entries")
        if unknown or not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise RuleError(f"{path}: a list file holds 'description' and 'entries' (strings)")
        lists[path.stem] = tuple(entries)
    return lists


def _load_extensions(path: Path) -> dict[str, ExtensionHint]:
    from mlsbom.models import Format

    known = {f.value for f in Format}
    hints = {}
    for ext, table in _read_toml(path).items():
        if not isinstance(table, dict) or set(table) - {"expect", "unknown_as"}:
            raise RuleError(f"{path}: [{ext!r}] takes 'expect' and optional 'unknown_as'")
        expect = tuple(table.get("expect", ()))
        unknown_as = table.get("unknown_as")
        for name in (*expect, *([unknown_as] if unknown_as else [])):
            if name not in known:
                raise RuleError(f"{path}: [{ext!r}] names unknown format {name!r}")
        hints[ext.lower()] = ExtensionHint(ext.lower(), expect, unknown_as)
    return hints


def _conditions(
    path: Path, kind: type[Fact], match: object, lists: Mapping[str, tuple[str, ...]]
) -> tuple[Condition, ...]:
    if not isinstance(match, dict):
        raise RuleError(f"{path}: [match] must be a table")
    fields = field_names(kind)
    out = []
    for name, spec in sorted(match.items()):
        if name not in fields:
            raise RuleError(
                f"{path}: fact {kind.kind!r} has no field {name!r}",
                hint=f"fields: {', '.join(sorted(fields))}",
            )
        if not isinstance(spec, dict) or len(spec) != 1 or set(spec) - _OPERATORS:
            raise RuleError(f"{path}: match.{name} takes one of {sorted(_OPERATORS)}")
        ((op, raw),) = spec.items()
        values = list(raw) if isinstance(raw, list) else [raw]
        expanded: list[Any] = []
        for v in values:
            if isinstance(v, str) and v.startswith("@"):
                if v[1:] not in lists:
                    raise RuleError(f"{path}: unknown list {v!r} (rules/lists/{v[1:]}.toml)")
                expanded.extend(lists[v[1:]])
            else:
                expanded.append(v)
        if _field_type(kind, name) is GlobalRef:  # a pickle global, not any field named `target`
            try:
                expanded = [GlobalPattern.parse(str(v)) for v in expanded]
            except ValueError as exc:
                raise RuleError(f"{path}: {exc}") from exc
        _check_enum(path, kind, name, op, expanded)
        out.append(Condition(name, op, tuple(expanded)))
    return tuple(out)


def _field_type(kind: type[Fact], name: str) -> object:
    """A fact field's annotation, resolved when it is a plain name in the fact's module; read
    from the annotation text, as resolving every fact's hints costs start-up time."""
    field = next((f for f in dataclasses.fields(kind) if f.name == name), None)
    tp = field.type if field is not None else None
    if tp == "GlobalRef":
        return GlobalRef
    if isinstance(tp, str):
        return getattr(sys.modules.get(kind.__module__), tp, tp)
    return tp


def _enum_type(kind: type[Fact], name: str) -> type[enum.Enum] | None:
    tp = _field_type(kind, name)
    return tp if isinstance(tp, type) and issubclass(tp, enum.Enum) else None


def _check_enum(path: Path, kind: type[Fact], name: str, op: str, values: list[Any]) -> None:
    """A field typed by an enum (a signature's status) matches only its values: `equals` one of
    them, `in`/`not_in` globs that match at least one, so a misspelt value fails the load."""
    tp = _enum_type(kind, name)
    if tp is None:
        return
    allowed = [str(m.value) for m in tp]
    for v in values:
        ok = (
            v in allowed
            if op == "equals"
            else isinstance(v, str) and any(fnmatch.fnmatchcase(a, v) for a in allowed)
        )
        if not ok:
            raise RuleError(
                f"{path}: match.{name} value {v!r} is not a {tp.__name__}",
                hint=f"values: {', '.join(allowed)}",
            )


def _load_rule(path: Path, lists: Mapping[str, tuple[str, ...]]) -> Rule:
    data = _read_toml(path)
    unknown = set(data) - _RULE_KEYS
    missing = _REQUIRED - set(data)
    if unknown or missing:
        raise RuleError(f"{path}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    if data["id"] != path.stem:
        raise RuleError(f"{path}: id {data['id']!r} must equal the file name {path.stem!r}")
    kind = fact_kinds().get(data["fact"])
    if kind is None:
        raise RuleError(f"{path}: unknown fact kind {data['fact']!r}")
    try:
        severity = Severity.parse(data["severity"])
    except ValueError as exc:
        raise RuleError(f"{path}: {exc}") from exc
    conditions = _conditions(path, kind, data.get("match", {}), lists)
    fields = field_names(kind)
    for placeholder in re.findall(r"{(\w+)}", data["message"]):
        if placeholder not in fields:
            raise RuleError(f"{path}: message uses unknown field {{{placeholder}}}")
    return Rule(
        id=data["id"],
        title=data["title"],
        severity=severity,
        fact=data["fact"],
        message=data["message"],
        description=data["description"].strip(),
        remediation=data["remediation"].strip(),
        cwe=tuple(data.get("cwe", ())),
        references=tuple(data.get("references", ())),
        conditions=conditions,
    )


def load_rules(folder: Path | None = None) -> RuleSet:
    """Load and validate every rule, list and extension hint under `folder` (default: the
    shipped rules)."""
    folder = (folder or rules_dir()).absolute()
    if not folder.is_dir():
        raise RuleError(f"rules folder not found: {folder}")
    lists = _load_lists(folder / "lists")
    rules = [_load_rule(p, lists) for p in sorted(folder.glob("*.toml"))]
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise RuleError("duplicate rule ids")
    extensions = _load_extensions(folder / "formats" / "extensions.toml")
    return RuleSet(rules, lists, extensions, folder)

"""Python source: parsed with `ast`, never imported. Calls are resolved through the imports and
classified by the data in rules/lists/python-calls.toml; rules judge the categories.

Also used by the notebook analyser (code cells) and for TorchScript `code/` members.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.facts import Fact, LimitExceeded, ParseError
from mlsbom.models import Format
from mlsbom.rules import shipped_lists

MAX_SOURCE = 4 << 20  # characters of source parsed
MAX_FACTS = 500  # facts kept per file (a generated file can repeat a call thousands of times)


@dataclass(frozen=True, slots=True)
class PythonCall(Fact):
    """A call of a classified name (`exec`, `os.system`, `socket.socket`, …) in Python source."""

    kind: ClassVar[str] = "python-call"
    call: str
    category: str
    toplevel: bool  # runs when the module is imported
    evidence: str
    line: int
    cell: int | None = None


@dataclass(frozen=True, slots=True)
class PythonObfuscation(Fact):
    """Code built at run time: decoded bytes run or unpickled, attributes by computed name."""

    kind: ClassVar[str] = "python-obfuscation"
    technique: str  # decode-exec | dunder-attribute | computed-import | computed-attribute
    construct: str
    evidence: str
    line: int
    cell: int | None = None


@dataclass(frozen=True, slots=True)
class PythonSideEffect(Fact):
    """A module-level call outside the usual import-time helpers (it runs on import)."""

    kind: ClassVar[str] = "python-side-effect"
    call: str
    evidence: str
    line: int
    cell: int | None = None


@dataclass(frozen=True, slots=True)
class PythonSyntaxError(Fact):
    """The source does not parse as Python 3 (Python would refuse to import it too)."""

    kind: ClassVar[str] = "python-syntax-error"
    message: str
    line: int | None


@functools.cache
def _categories() -> tuple[tuple[str, str], ...]:
    pairs = []
    for entry in shipped_lists().get("python-calls", ()):
        category, _, pattern = entry.partition("=")
        pairs.append((category, pattern))
    return tuple(pairs)


@functools.cache
def category_of(name: str) -> str | None:
    """The first category whose pattern matches the dotted call name."""
    for category, pattern in _categories():
        if fnmatch.fnmatchcase(name, pattern):
            return category
    return None


@functools.cache
def _benign_toplevel(name: str) -> bool:
    return any(
        fnmatch.fnmatchcase(name, p) for p in shipped_lists().get("python-benign-toplevel", ())
    )


class _Resolver:
    """Maps local names to the dotted names their imports bind."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}

    def bind(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for a in node.names:
                local = a.asname or a.name.split(".")[0]
                self.aliases[local] = a.name if a.asname else a.name.split(".")[0]
            return
        module = "." * node.level + (node.module or "")
        for a in node.names:
            self.aliases[a.asname or a.name] = f"{module}.{a.name}" if module else a.name

    def name(self, node: ast.expr) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Call):  # e.g. __import__("os").system
            inner = self.name(node.func)
            if inner in ("__import__", "importlib.import_module") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    return ".".join([arg.value, *reversed(parts)])
            return None
        if not isinstance(node, ast.Name):
            return None
        base = self.aliases.get(node.id, node.id)
        return ".".join([base, *reversed(parts)])


def _walk(tree: ast.Module) -> Iterator[tuple[ast.AST, bool]]:
    """Every node with whether it runs at import time (not inside a def or lambda)."""
    stack: list[tuple[ast.AST, bool]] = [(tree, True)]
    while stack:
        node, top = stack.pop()
        yield node, top
        inner = top and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        children = list(ast.iter_child_nodes(node))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            # decorators and defaults run at definition time
            early = {id(n) for n in (*node.decorator_list, *node.args.defaults)}
            stack.extend((c, top if id(c) in early else False) for c in reversed(children))
            continue
        stack.extend((c, inner) for c in reversed(children))


def _snippet(lines: list[str], node: ast.AST) -> str:
    line = getattr(node, "lineno", 0)
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return text[:160]


def python_facts(source: str, cell: int | None = None) -> list[Fact]:
    """Facts about one Python source text (a file or a notebook cell)."""
    if len(source) > MAX_SOURCE:
        return [LimitExceeded("python-source-chars", MAX_SOURCE, len(source))]
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [PythonSyntaxError(str(exc.msg), exc.lineno)]
    except (ValueError, RecursionError, MemoryError) as exc:
        return [ParseError(f"Python source not parseable: {type(exc).__name__}")]
    lines = source.splitlines()
    resolver = _Resolver()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            resolver.bind(node)
    facts: list[Fact] = []
    for node, top in _walk(tree):
        if len(facts) >= MAX_FACTS:
            facts.append(LimitExceeded("python-facts", MAX_FACTS))
            break
        if not isinstance(node, ast.Call):
            continue
        name = resolver.name(node.func)
        line = getattr(node, "lineno", 0)
        snippet = _snippet(lines, node)
        facts.extend(_obfuscation(node, name, resolver, snippet, line, cell))
        if name is None:
            continue
        category = category_of(name)
        if category is not None:
            facts.append(PythonCall(name, category, top, snippet, line, cell))
        elif top and not _benign_toplevel(name) and not name[:1].isupper():
            facts.append(PythonSideEffect(name, snippet, line, cell))
    return facts


def _obfuscation(
    node: ast.Call,
    name: str | None,
    resolver: _Resolver,
    snippet: str,
    line: int,
    cell: int | None,
) -> list[Fact]:
    out: list[Fact] = []
    sink = category_of(name) if name else None
    if sink in ("exec", "deserialise", "dynamic-import"):
        for arg in node.args:
            for inner in ast.walk(arg):
                if isinstance(inner, ast.Call):
                    inner_name = resolver.name(inner.func)
                    if inner_name and category_of(inner_name) == "decode":
                        out.append(
                            PythonObfuscation(
                                "decode-exec", f"{name}({inner_name}(…))", snippet, line, cell
                            )
                        )
                        return out
    if name in ("getattr", "builtins.getattr", "setattr") and len(node.args) >= 2:
        attr = node.args[1]
        if not (isinstance(attr, ast.Constant) and isinstance(attr.value, str)):
            construct = f"{name} with a computed name"
            out.append(PythonObfuscation("computed-attribute", construct, snippet, line, cell))
        elif attr.value.startswith("__") and attr.value.endswith("__"):
            construct = f"{name}(…, {attr.value!r})"
            out.append(PythonObfuscation("dunder-attribute", construct, snippet, line, cell))
    if name in ("__import__", "importlib.import_module") and node.args:
        arg = node.args[0]
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            construct = f"{name} of a computed module"
            out.append(PythonObfuscation("computed-import", construct, snippet, line, cell))
    return out


def read_text(job: Job, limit: int) -> tuple[str | None, list[Fact]]:
    """The artefact as text (UTF-8, undecodable bytes replaced), bounded by `limit` bytes."""
    if job.size is not None and job.size > limit:
        return None, [LimitExceeded("source-bytes", limit, job.size)]
    with job.source.open() as f:
        raw = f.read(limit + 1)
    if len(raw) > limit:
        return None, [LimitExceeded("source-bytes", limit)]
    return raw.decode("utf-8", "replace"), []


class PythonAnalyzer:
    formats: tuple[Format, ...] = (Format.PYTHON,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        name = hint.name.lower()
        if name.endswith((".py", ".pyw")):
            return Format.PYTHON
        if head.startswith(b"#!") and b"python" in head.split(b"\n", 1)[0]:
            return Format.PYTHON
        return None

    def analyze(self, job: Job) -> Analysis:
        text, facts = read_text(job, MAX_SOURCE)
        if text is None:
            return Analysis(facts)
        return Analysis(python_facts(text))

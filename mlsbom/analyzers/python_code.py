"""Python source: parsed with `ast`, never imported. Calls are resolved through the imports and
classified by the data in rules/lists/python-calls.toml; rules judge the categories.

Also used by the notebook analyser (code cells) and for TorchScript `code/` members.
"""

from __future__ import annotations

import ast
import dataclasses
import fnmatch
import sys
from collections.abc import Iterator

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.analyzers.python_refs import IMPORTERS, Resolver
from mlsbom.facts import (
    Fact,
    LimitExceeded,
    ParseError,
    PythonCall,
    PythonLocalImports,
    PythonObfuscation,
    PythonSideEffect,
    PythonSyntaxError,
)
from mlsbom.lists import Lists
from mlsbom.models import Format

MAX_SOURCE = 4 << 20  # characters of source parsed
MAX_FACTS = 500  # facts kept per file (a generated file can repeat a call thousands of times)


class CallClasses:
    """The call categories (`python-calls`) and benign import-time calls
    (`python-benign-toplevel`) of one rule set, matched once per name."""

    def __init__(self, lists: Lists) -> None:
        self._patterns = tuple(
            (category, pattern)
            for category, _, pattern in (e.partition("=") for e in lists["python-calls"])
        )
        self._benign = lists["python-benign-toplevel"]
        self._categories: dict[str, str | None] = {}
        self._benign_names: dict[str, bool] = {}

    def category_of(self, name: str) -> str | None:
        """The first category whose pattern matches the dotted call name."""
        try:
            return self._categories[name]
        except KeyError:
            found = next((c for c, p in self._patterns if fnmatch.fnmatchcase(name, p)), None)
            self._categories[name] = found
            return found

    def benign_toplevel(self, name: str) -> bool:
        try:
            return self._benign_names[name]
        except KeyError:
            benign = any(fnmatch.fnmatchcase(name, p) for p in self._benign)
            self._benign_names[name] = benign
            return benign

    def reference_category(self, name: str) -> tuple[str, str] | None:
        """(prefix, category) of the longest dotted prefix of `name` that is classified; a later
        component naming a module starts again there (`torch.os.system` is `os.system`)."""
        parts = name.split(".")
        starts = [0, *(i for i in range(1, len(parts) - 1) if parts[i] in _MODULE_NAMES)]
        for start in starts:
            for n in range(len(parts), start, -1):
                prefix = ".".join(parts[start:n])
                category = self.category_of(prefix)
                if category == "inert":  # exceptions and constants: referring to them runs nothing
                    break
                if category is not None:
                    return prefix, category
        return None


_ESCAPE_ATTRS = frozenset(
    {
        "__subclasses__",
        "__globals__",
        "__builtins__",
        "__code__",
        "__closure__",
        "f_globals",
        "f_builtins",
        "f_locals",
        "gi_frame",
        "cr_frame",
        "func_globals",
    }
)
_NAME_TAKERS = {"getattr", "builtins.getattr", "setattr", "builtins.setattr", "delattr"}
_LOOKUPS = {"vars", "builtins.vars", "globals", "builtins.globals", "locals", "builtins.locals"}


_MODULE_NAMES = frozenset(sys.stdlib_module_names) | {"torch", "numpy", "dill", "joblib"}


def _walk(tree: ast.Module) -> Iterator[tuple[ast.AST, bool, ast.AST | None]]:
    """Every node, whether it runs at import time (not inside a def or lambda), and its parent."""
    stack: list[tuple[ast.AST, bool, ast.AST | None]] = [(tree, True, None)]
    while stack:
        node, top, parent = stack.pop()
        yield node, top, parent
        children = list(ast.iter_child_nodes(node))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            # decorators, defaults and annotations (the `arguments` node) run when `def` runs
            early = {id(node.args), *(id(d) for d in getattr(node, "decorator_list", ()))}
            returns = getattr(node, "returns", None)
            if returns is not None:
                early.add(id(returns))
            stack.extend((c, top and id(c) in early, node) for c in reversed(children))
            continue
        stack.extend((c, top, node) for c in reversed(children))


def _snippet(lines: list[str], node: ast.AST) -> str:
    line = getattr(node, "lineno", 0)
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return text[:160]


def _is_chain_inner(node: ast.AST, parent: ast.AST | None) -> bool:
    """True for `os` in `os.system` or `m` in `m[...]`: the enclosing expression is judged."""
    return isinstance(parent, ast.Attribute | ast.Subscript) and parent.value is node


def python_facts(source: str, lists: Lists, cell: int | None = None) -> list[Fact]:
    """Facts about one Python source text (a file or a notebook cell), classified by `lists`."""
    if len(source) > MAX_SOURCE:
        return [LimitExceeded("python-source-chars", MAX_SOURCE, len(source))]
    try:
        tree = ast.parse(source)
        resolver = Resolver(tree)
    except SyntaxError as exc:
        return [PythonSyntaxError(str(exc.msg), exc.lineno)]
    except (ValueError, RecursionError, MemoryError) as exc:
        return [ParseError(f"Python source not parseable: {type(exc).__name__}")]
    lines = source.splitlines()
    classes = lists.compiled(CallClasses)
    facts: list[Fact] = []
    try:
        for node, top, parent in _walk(tree):
            if len(facts) >= MAX_FACTS:
                facts.append(LimitExceeded("python-facts", MAX_FACTS))
                break
            facts.extend(_node_facts(node, top, parent, resolver, classes, lines, cell))
    except RecursionError:
        facts.append(ParseError("Python source nested too deeply to analyse"))
    if cell is None:
        paths = _local_imports(resolver.imports)
        if paths:
            facts.append(PythonLocalImports(paths))
    return list(dict.fromkeys(facts))


def _local_imports(imports: list[ast.Import | ast.ImportFrom]) -> tuple[str, ...]:
    out: list[str] = []
    for node in imports:
        if isinstance(node, ast.ImportFrom):
            up = "../" * max(node.level - 1, 0)
            base = up + (node.module or "").replace(".", "/")
            if node.module:
                out.append(base)
            out.extend(f"{base}/{a.name}".lstrip("/") for a in node.names if a.name != "*")
        elif isinstance(node, ast.Import):
            out.extend(a.name.replace(".", "/") for a in node.names)
        if len(out) > 200:
            break
    return tuple(dict.fromkeys(p for p in out if p))[:200]


def _node_facts(
    node: ast.AST,
    top: bool,
    parent: ast.AST | None,
    resolver: Resolver,
    classes: CallClasses,
    lines: list[str],
    cell: int | None,
) -> list[Fact]:
    line = getattr(node, "lineno", 0)
    if isinstance(node, ast.ImportFrom) and not node.level and node.module:
        out: list[Fact] = []
        for a in node.names:
            hit = classes.reference_category(f"{node.module}.{a.name}")
            if hit:
                out.append(PythonCall(hit[0], hit[1], top, _snippet(lines, node), line, cell))
        return out
    if not isinstance(node, ast.Name | ast.Attribute | ast.Subscript | ast.Call):
        return []
    out = []
    snippet = _snippet(lines, node)
    if isinstance(node, ast.Attribute) and node.attr in _ESCAPE_ATTRS:
        out.append(PythonObfuscation("dunder-attribute", f".{node.attr}", snippet, line, cell))
    if isinstance(node, ast.Call):
        out.extend(_obfuscation(node, resolver, classes, snippet, line, cell))
    if isinstance(node, ast.Subscript):
        out.extend(_lookup(node, resolver, snippet, line, cell))
    if _is_chain_inner(node, parent):
        return out
    name = resolver.name(node)
    if name is None:
        return out
    hit = classes.reference_category(name)
    if hit is None and "." not in name:  # `from os import *` then `system(...)`
        hit = next(
            filter(None, (classes.reference_category(f"{m}.{name}") for m in resolver.star)), None
        )
    if hit is not None and _quiet_magic(name, node, parent):
        return out
    if hit is not None:
        out.append(PythonCall(hit[0], hit[1], top, snippet, line, cell))
    elif (
        top
        and isinstance(parent, ast.Call)
        and parent.func is node
        and not classes.benign_toplevel(name)
        and not name.rsplit(".", 1)[-1][:1].isupper()
        and not name.startswith("builtins.")
    ):
        out.append(PythonSideEffect(name, snippet, line, cell))
    return out


_QUIET_MAGICS = frozenset({"matplotlib", "config", "precision", "xmode", "pprint", "autoreload"})


def _quiet_magic(name: str, node: ast.AST, parent: ast.AST | None) -> bool:
    """`get_ipython().run_line_magic("matplotlib", "inline")` (jupytext/nbconvert output)."""
    if name != "IPython.shell.run_line_magic" or not isinstance(parent, ast.Call):
        return False
    args = [a.value for a in parent.args if isinstance(a, ast.Constant)]
    if parent.func is not node or len(args) != len(parent.args) or not args:
        return False
    return args[0] in _QUIET_MAGICS or args[:2] == ["load_ext", "autoreload"]


def _lookup(
    node: ast.Subscript, resolver: Resolver, snippet: str, line: int, cell: int | None
) -> list[Fact]:
    """`vars(m)[k]`, `globals()[k]`, `m.__dict__[k]`, `sys.modules[k]` with a key not a literal."""
    value = node.value
    table = None
    if isinstance(value, ast.Call) and resolver.name(value.func) in _LOOKUPS:
        table = resolver.name(value.func)
    elif isinstance(value, ast.Attribute) and value.attr == "__dict__":
        table = "__dict__"
    elif resolver.name(value) in ("sys.modules", "builtins"):
        table = resolver.name(value)
    if table is None or isinstance(node.slice, ast.Constant):
        return []
    folded = resolver.fold(node.slice)
    technique = "built-name" if isinstance(folded, str) else "computed-lookup"
    shown = f"{table}[{folded!r}]" if isinstance(folded, str) else f"{table}[<computed>]"
    return [PythonObfuscation(technique, shown, snippet, line, cell)]


def _obfuscation(
    node: ast.Call,
    resolver: Resolver,
    classes: CallClasses,
    snippet: str,
    line: int,
    cell: int | None,
) -> list[Fact]:
    out: list[Fact] = []
    name = resolver.name(node.func)
    sink = classes.category_of(name) if name else None
    if sink in ("exec", "deserialise", "dynamic-import"):
        for arg in node.args:
            for inner in ast.walk(arg):
                if isinstance(inner, ast.Call):
                    inner_name = resolver.name(inner.func)
                    if inner_name and classes.category_of(inner_name) == "decode":
                        construct = f"{name}({inner_name}(…))"
                        out.append(PythonObfuscation("decode-exec", construct, snippet, line, cell))
                        return out
    if name in _NAME_TAKERS and len(node.args) >= 2:
        out.extend(_named(name, node.args[1], "attribute", resolver, snippet, line, cell))
    if name in IMPORTERS and node.args:
        out.extend(_named(name, node.args[0], "import", resolver, snippet, line, cell))
    return out


def _named(
    name: str,
    arg: ast.expr,
    what: str,
    resolver: Resolver,
    snippet: str,
    line: int,
    cell: int | None,
) -> list[Fact]:
    """A name handed to getattr/__import__: literal, built from pieces, or computed at run time."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        if what == "attribute" and arg.value.startswith("__") and arg.value.endswith("__"):
            construct = f"{name}(…, {arg.value!r})"
            return [PythonObfuscation("dunder-attribute", construct, snippet, line, cell)]
        return []
    folded = resolver.fold(arg)
    if isinstance(folded, str):
        construct = f"{name} of a name built from pieces: {folded!r}"
        return [PythonObfuscation("built-name", construct[:200], snippet, line, cell)]
    construct = f"{name} with a name computed at run time"
    return [PythonObfuscation(f"computed-{what}", construct, snippet, line, cell)]


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
        found = python_facts(text, job.lists)
        chain = job.ref.member_chain
        if chain and "code/" in chain[-1]:  # TorchScript code: torch.jit.load compiles it
            found = [mark_loader_imported(f) for f in found]
        return Analysis(found)


def mark_loader_imported(fact: Fact) -> Fact:
    """The fact as seen in a file a loader imports (python facts only; others unchanged)."""
    if isinstance(fact, PythonCall | PythonObfuscation) and not fact.loader_imported:
        return dataclasses.replace(fact, loader_imported=True)
    return fact

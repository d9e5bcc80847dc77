"""Jupyter notebooks: every way a cell reaches a shell or installs code, and the Python checks on
every code cell (`get_ipython()` and its attributes are judged there, however reached).

IPython input rules mirrored: `!cmd`/`!!cmd` and line magics after leading whitespace and after
an assignment (`x = !ls`), script cell magics (`%%bash`, `%%script`, `%%perl`, `%%!`…) after
wrapper magics (`%%capture`, `%%time`), and automagic (a bare `pip install x` or `ls` that is
not Python).
"""

from __future__ import annotations

import json
import re

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.analyzers.python_code import python_facts, read_text
from mlsbom.facts import (
    Fact,
    LimitExceeded,
    ParseError,
    PythonSideEffect,
    PythonSyntaxError,
    ShellEscape,
)
from mlsbom.lists import Lists
from mlsbom.models import Format

MAX_NOTEBOOK = 16 << 20
MAX_CELLS = 5_000
MAX_WRAPPED = 8  # %%capture / %%time wrappers peeled per cell
# cell magics whose body runs in a shell or another interpreter (IPython's script magics)
_SHELL_CELLS = frozenset(
    {
        "bash", "sh", "zsh", "script", "system", "sx", "!", "powershell", "cmd", "perl",
        "ruby", "python", "python2", "python3", "pypy", "node", "js-node", "fish",
    }
)  # fmt: skip
# cell magics whose body is more IPython input (run again as a cell)
_WRAPPERS = frozenset({"capture", "time", "timeit", "prun", "debug", "memit", "px", "pxresult"})
_LINE = re.compile(
    r"^\s*(?:[\w.,\s\[\]()*]+=\s*)?"  # `files = !ls`, `out = %sx ls`
    r"(?:(?P<bang>!!?)|%(?P<magic>[\w!-]+)\b)[ \t]*(?P<rest>.*)$"
)
# line magics that run shells, interpreters or fetched code; others (%matplotlib, %time…) do not
_SHELL_MAGICS = frozenset({"system", "sx", "sc", "alias", "rehashx", "macro", "!"})
_INSTALLERS = frozenset({"pip", "conda", "mamba", "micromamba", "uv"})
_LOADERS = frozenset({"run", "load", "loadpy", "pycat", "rerun", "edit", "writefile"})
# automagic: with no `%`, a line whose first word is a magic or a POSIX alias is run as one
_AUTOMAGIC = (
    _SHELL_MAGICS
    | _INSTALLERS
    | _LOADERS
    | {"cat", "cp", "mv", "rm", "mkdir", "rmdir", "ls", "man", "ll", "lf", "lk", "lx", "ldir"}
)
_FETCH_EXEC = re.compile(
    r"\b(curl|wget|iwr|Invoke-WebRequest|fetch)\b[^|;&]*\|\s*(sudo\s+)?"
    r"(\w*sh|python[\d.]*|perl|ruby|node|iex)\b"
    r"|\b(\w*sh|python[\d.]*)\s+(-\w+\s+)*<\("
    r"|\$\(\s*(curl|wget)\b|`\s*(curl|wget)\b|\biex\s*\(",
    re.IGNORECASE,
)
_INSTALL_CMD = re.compile(
    r"^(?:sudo\s+)?(?:(?:python[\d.]*\s+-m\s+)?pip[\d.]*|uv\s+pip|conda|mamba|micromamba)"
    r"\s+install\b(?P<args>.*)$"
)
_PLAIN_REQ = re.compile(
    r"^['\"]?[A-Za-z0-9][A-Za-z0-9._-]*(\[[\w,.-]+\])?([<>=!~]=?[\w.*+!-]+(,[<>=!~]=?[\w.*+!-]+)*)?['\"]?$"
)
_SAFE_FLAGS = frozenset(
    {"-q", "-qq", "--quiet", "-U", "--upgrade", "--user", "--no-cache-dir", "--pre", "-y",
     "--yes", "--no-deps", "--upgrade-strategy", "--progress-bar", "off", "--force-reinstall",
     "eager", "only-if-needed", "--no-warn-script-location", "--disable-pip-version-check"}
)  # fmt: skip


def _source(cell: dict[str, object]) -> str | None:
    src = cell.get("source", cell.get("input"))
    if isinstance(src, list) and all(isinstance(s, str) for s in src):
        return "".join(src)
    return src if isinstance(src, str) else None


def _install(command: str) -> tuple[bool, bool] | None:
    """(remote, index_only) for an install command, None when it is no install."""
    m = _INSTALL_CMD.match(command.strip())
    if m is None:
        return None
    args = m.group("args").split()
    remote = any(
        "://" in a
        or a.startswith(("git+", "hg+", "svn+", "bzr+", "-i", "--index-url", "--extra-index-url",
                         "-f", "--find-links", "--trusted-host", "-e", "--editable", "file:"))
        or a.endswith((".whl", ".tar.gz", ".zip", ".tgz", ".tar.bz2", ".conda"))
        or a == "@"
        or a.startswith(("./", "../", "/", "~"))
        for a in args
    )  # fmt: skip
    unquoted = re.sub(r"'[^'$`\\]*'|\"[^\"$`\\]*\"", "", command)  # "torch>=2" is no redirect
    plain = all(a in _SAFE_FLAGS or _PLAIN_REQ.match(a) for a in args) and not any(
        c in unquoted for c in ";&|`$<>"
    )
    return remote, plain and not remote


def _escape(how: str, command: str, cell: int, line: int) -> ShellEscape:
    install = (
        _install(command)
        if how in ("!", "!!", "%pip", "%conda", "%mamba", "%micromamba", "%uv", "pip", "conda")
        else None
    )
    if how.lstrip("%") in _INSTALLERS and install is None:
        install = _install(f"{how.lstrip('%')} {command}")
    remote, index_only = install or (False, False)
    if how.lstrip("%") in ("load", "loadpy", "run", "pycat") and "://" in command:
        remote = True
    fetch = bool(_FETCH_EXEC.search(command))
    return ShellEscape(command[:300], fetch, cell, line, how, remote, index_only)


_IFUN = re.compile(r"^\s*([A-Za-z_]\w*)(?:[ \t]+(.*))?$")
_CODE_MAGICS = frozenset({"time", "timeit", "prun", "debug", "memit", "capture"})  # rest is Python


def _automagic(line: str, source: str) -> tuple[str, str] | None:
    """(magic, rest) a bare line runs by automagic (`pip install x`, `ls -la`): IPython's
    AutoMagicChecker, unless the name is bound in the cell or the rest starts like Python
    (its PythonOpsChecker and AssignmentChecker)."""
    m = _IFUN.match(line)
    if not m or m.group(1) not in _AUTOMAGIC | _CODE_MAGICS:
        return None
    name, rest = m.group(1), (m.group(2) or "").strip()
    if rest[:1] and rest[0] in "!=()<>,+*/%^&|.[":
        return None
    if re.search(
        rf"(\b{name}\s*=(?!=)|\bdef\s+{name}\b|\bas\s+{name}\b|\bimport\s+{name}\b)", source
    ):
        return None  # shadowed by a Python name
    return name, rest


def cell_facts(source: str, index: int, lists: Lists) -> list[Fact]:
    """Shell escapes of one code cell, then the Python checks on what is left."""
    facts: list[Fact] = []
    lines = source.splitlines()
    offset = 0
    for _ in range(MAX_WRAPPED):
        first = next((n for n, ln in enumerate(lines) if ln.strip()), None)
        if first is None or not lines[first].lstrip().startswith("%%"):
            break
        head = lines[first].strip()[2:]
        cell_magic = head.split(None, 1)[0] if head.split() else ""
        if cell_magic.startswith("!"):
            cell_magic = "!"
        body = lines[first + 1 :]
        if cell_magic in _SHELL_CELLS:
            text = "\n".join(body)
            line_no = offset + first + 1
            facts.append(
                _escape(
                    f"%%{cell_magic}",
                    f"{head[len(cell_magic) :].strip()} {text}".strip(),
                    index,
                    line_no,
                )
            )
            return facts
        if cell_magic not in _WRAPPERS:
            if cell_magic in ("writefile", "file"):
                facts.append(
                    _escape(
                        f"%%{cell_magic}",
                        head[len(cell_magic) :].strip(),
                        index,
                        offset + first + 1,
                    )
                )
            return facts  # other cell magics (%%html, %%javascript, %%latex): no Python
        offset += first + 1
        lines = body
    python_lines = []
    for n, line in enumerate(lines, offset + 1):
        m = _LINE.match(line)
        magic: str | None = m.group("magic") if m else None
        rest: str = ""
        auto = None if m else _automagic(line, source)
        if auto is not None:
            magic, rest = auto
        elif m:
            rest = str(m.group("rest"))
        if (m and m.group("bang")) or magic in _AUTOMAGIC:
            how = (m.group("bang") if m else None) or (f"%{magic}" if m else str(magic))
            facts.append(_escape(how, rest, index, n))
            python_lines.append("")
        elif magic in _CODE_MAGICS:
            python_lines.append(re.sub(r"^(-\S+\s+)*", "", rest))  # %time stmt: the statement runs
        elif m:
            python_lines.append("")  # other line magics (%matplotlib, %cd…)
        else:
            python_lines.append(line)
    padded = "\n".join(["" for _ in range(offset)] + python_lines)
    code = python_facts(padded, lists, cell=index)
    # IPython syntax is not an error; top-level calls are what cells are for (a person runs them,
    # nothing imports them), so only the dangerous-reference and obfuscation checks apply
    facts.extend(f for f in code if not isinstance(f, PythonSyntaxError | PythonSideEffect))
    return facts


class NotebookAnalyzer:
    formats: tuple[Format, ...] = (Format.NOTEBOOK,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        if hint.name.lower().endswith(".ipynb"):
            return Format.NOTEBOOK
        start = head.lstrip()[:1]
        if start == b"{" and b'"cells"' in head and b'"nbformat"' in head:
            return Format.NOTEBOOK
        return None

    def analyze(self, job: Job) -> Analysis:
        text, facts = read_text(job, MAX_NOTEBOOK)
        if text is None:
            return Analysis(facts)
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as exc:
            return Analysis([ParseError(f"notebook is not valid JSON: {type(exc).__name__}")])
        cells = doc.get("cells") if isinstance(doc, dict) else None
        if cells is None and isinstance(doc, dict) and isinstance(doc.get("worksheets"), list):
            # nbformat 3: cells inside worksheets, code in "input"
            sheets = [w for w in doc["worksheets"] if isinstance(w, dict)]
            cells = [c for w in sheets if isinstance(w.get("cells"), list) for c in w["cells"]]
        if not isinstance(cells, list):
            return Analysis([ParseError("notebook has no list of cells")])
        if len(cells) > MAX_CELLS:
            facts.append(LimitExceeded("notebook-cells", MAX_CELLS, len(cells)))
            cells = cells[:MAX_CELLS]
        for index, cell in enumerate(cells):
            if not isinstance(cell, dict):
                facts.append(ParseError(f"cell {index} is not an object"))
                continue
            if cell.get("cell_type") != "code":
                continue
            source = _source(cell)
            if source is None:
                facts.append(ParseError(f"cell {index} has no readable source"))
                continue
            facts.extend(cell_facts(source, index, job.lists))
        return Analysis(facts)

"""Facts about code shipped beside a model: Python, notebooks, chat templates, scripts, binaries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mlsbom.facts.core import Fact


@dataclass(frozen=True, slots=True)
class PythonCall(Fact):
    """A reference to a classified name (`exec`, `os.system`, `socket.socket`, …) in Python source,
    whatever happens to it next: called, aliased, passed to `map`/`partial`, looked up."""

    kind: ClassVar[str] = "python-call"
    call: str  # the dotted name referenced (called, aliased, passed on or looked up)
    category: str
    toplevel: bool  # runs when the module is imported
    evidence: str
    line: int
    cell: int | None = None
    loader_imported: bool = False  # a loader imports the file (auto_map, hubconf.py, …)


@dataclass(frozen=True, slots=True)
class PythonObfuscation(Fact):
    """Code built at run time: decoded bytes run or unpickled, attributes by computed name."""

    kind: ClassVar[str] = "python-obfuscation"
    # decode-exec | dunder-attribute | built-name | computed-import | computed-lookup |
    # computed-attribute
    technique: str
    construct: str
    evidence: str
    line: int
    cell: int | None = None
    loader_imported: bool = False  # a loader imports the file (auto_map, hubconf.py, …)


@dataclass(frozen=True, slots=True)
class PythonSideEffect(Fact):
    """A module-level call outside the usual import-time helpers (it runs on import)."""

    kind: ClassVar[str] = "python-side-effect"
    call: str
    evidence: str
    line: int
    cell: int | None = None


@dataclass(frozen=True, slots=True)
class PythonLocalImports(Fact):
    """Modules this file imports, as paths relative to its folder (`../a/b` for `from ..a.b`):
    when a loader imports the file, it imports these too (transformers copies relative imports)."""

    kind: ClassVar[str] = "python-local-imports"
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PythonSyntaxError(Fact):
    """The source does not parse as Python 3 (Python would refuse to import it too)."""

    kind: ClassVar[str] = "python-syntax-error"
    message: str
    line: int | None


@dataclass(frozen=True, slots=True)
class ShellEscape(Fact):
    """A notebook cell runs a shell command, an interpreter, an installer or fetched code."""

    kind: ClassVar[str] = "notebook-shell"
    command: str
    fetch_and_run: bool  # a download piped into a shell or interpreter
    cell: int
    line: int
    how: str = "!"  # the construct: `!`, `%%bash`, `%system`, `%pip`, `%run`, automagic `ls`…
    remote: bool = False  # installs or loads code from a URL, VCS, local archive or extra index
    index_install: bool = False  # only installs named packages from the default index
    model_repo: bool = False  # the notebook ships in a model repository (set across files)


@dataclass(frozen=True, slots=True)
class TemplateConstruct(Fact):
    """A chat-template construct: `private-attribute`, `python-attribute`, `built-name`,
    `computed-attribute`, `computed-subscript`, `format-field`, `gadget-attribute`,
    `unlisted-method` or `include`."""

    kind: ClassVar[str] = "chat-template"
    technique: str
    expression: str
    line: int


@dataclass(frozen=True, slots=True)
class Script(Fact):
    """An executable script (`#!` line) shipped in the repository."""

    kind: ClassVar[str] = "script"
    interpreter: str


@dataclass(frozen=True, slots=True)
class PthCode(Fact):
    """A `.pth` path file with `import` lines: Python runs them at every interpreter start."""

    kind: ClassVar[str] = "pth-code"
    line: int
    code: str = ""  # the line site.py would exec
    module: str = ""  # the module its first import names


@dataclass(frozen=True, slots=True)
class NativeBinary(Fact):
    """A native executable or library: its container format and what the header says."""

    kind: ClassVar[str] = "native-binary"
    binary: str
    detail: str

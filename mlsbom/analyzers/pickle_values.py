"""Abstract values of the pickle machine, their rendering, and the few pure evaluations it does."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from mlsbom.analyzers.pickle_ops import Skipped
from mlsbom.facts import GlobalRef

MAX_ITEMS = 4096  # elements retained per container; the rest are counted only
_SAFE_CODECS = frozenset({"latin1", "latin-1", "iso-8859-1", "ascii", "utf-8", "utf8"})
_ROT13 = frozenset({"rot13", "rot_13"})


@dataclass(slots=True)
class ImportRecord:
    """One import a stream makes (by stream and target), counted, and whether it is called."""

    ref: GlobalRef
    opcode: str
    offset: int
    count: int = 1
    called: bool = False
    evidence: str | None = None


@dataclass(slots=True, eq=False)
class Global:
    """An object the unpickler would import."""

    ref: GlobalRef
    offset: int


@dataclass(slots=True, eq=False)
class Call:
    """The result of calling `func` with `args` (REDUCE, NEWOBJ, OBJ, INST)."""

    func: object
    args: object
    offset: int
    state: object = None
    items: list[object] | None = None  # SETITEMS/APPENDS on the result (an OrderedDict())


@dataclass(slots=True, eq=False)
class Opaque:
    """A value the simulation does not model (persistent id, out-of-band buffer, error filler)."""

    what: str


@dataclass(slots=True, eq=False)
class Box:
    """A list, dict or set; keeps the first MAX_ITEMS entries and counts the rest."""

    kind: str
    items: list[object] = field(default_factory=list)
    count: int = 0

    def add(self, values: list[object]) -> None:
        self.count += len(values)
        room = MAX_ITEMS - len(self.items)
        if room > 0:
            self.items.extend(values[:room])

    def lookup(self, key: str) -> object:
        for i in range(0, len(self.items) - 1, 2):
            if self.items[i] == key:
                return self.items[i + 1]
        return None


def render(value: object, depth: int = 0) -> str:
    """A short, bounded, Python-like rendering of a simulated value for evidence."""
    if depth > 3:
        return "…"
    if isinstance(value, Global):
        return str(value.ref)
    if isinstance(value, Call):
        args = value.args
        inner = ", ".join(render(a, depth + 1) for a in args[:4]) if isinstance(args, tuple) else ""
        if isinstance(args, tuple) and len(args) > 4:
            inner += ", …"
        return f"{render(value.func, depth + 1)}({inner})"
    if isinstance(value, (str, bytes)):
        text = repr(value[:120])
        return text + ("…" if len(value) > 120 else "")
    if isinstance(value, tuple):
        inner = ", ".join(render(v, depth + 1) for v in value[:4])
        return f"({inner}{', …' if len(value) > 4 else ''})"
    if isinstance(value, Box):
        return f"<{value.kind} of {value.count}>"
    if isinstance(value, Opaque):
        return f"<{value.what}>"
    if isinstance(value, Skipped):
        return f"<{value.size} {value.kind}>"
    return repr(value)[:80]


def evaluate_pure(ref: GlobalRef, args: object) -> str | bytes | None:
    """Evaluate the few side-effect-free callables pickles use to build strings and bytes."""
    if str(ref) not in ("_codecs.encode", "codecs.encode") or not isinstance(args, tuple):
        return None
    if len(args) != 2 or not isinstance(args[0], str) or not isinstance(args[1], str):
        return None
    encoding = args[1].lower()
    if encoding in _SAFE_CODECS:
        return args[0].encode(encoding, "surrogatepass")
    if encoding in _ROT13:
        return codecs.encode(args[0], "rot13")
    return None


TENSOR_REBUILDERS = frozenset(
    {"_rebuild_tensor_v2", "_rebuild_tensor", "_rebuild_parameter", "_rebuild_qtensor"}
)
MAX_TENSORS = 100_000


def _shape(value: object) -> tuple[int, ...] | None:
    """The shape of a simulated `torch._utils._rebuild_tensor_v2(storage, offset, size, …)`."""
    if not isinstance(value, Call) or not isinstance(value.func, Global):
        return None
    ref = value.func.ref
    if ref.module != "torch._utils" or ref.name not in TENSOR_REBUILDERS:
        return None
    args = value.args
    if ref.name == "_rebuild_parameter" and isinstance(args, tuple) and args:
        return _shape(args[0])
    if (
        isinstance(args, tuple)
        and len(args) >= 3
        and isinstance(args[2], tuple)
        and all(isinstance(d, int) for d in args[2])
    ):
        return tuple(args[2])
    return None


def state_dict_shapes(value: object) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """(name, shape) of every tensor in a simulated state dict (OrderedDict() or a dict)."""
    items = value.items if isinstance(value, Call | Box) else None
    if not items:
        return ()
    out = []
    for i in range(0, len(items) - 1, 2):
        key, shape = items[i], _shape(items[i + 1])
        if isinstance(key, str) and shape is not None:
            out.append((key, shape))
    return tuple(out[:MAX_TENSORS])

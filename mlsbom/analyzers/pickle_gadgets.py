"""Judge what a gadget yields, not the gadget: `getattr` and `functools.partial` resolved.

Ordinary files use two callables that, in general, can reach anything:
- `builtins.getattr(owner, 'name')`: pandas pickles `getattr(zoneinfo.ZoneInfo, '_unpickle')`
  for every time zone, scipy `getattr(<rv_discrete generator>, '_entropy')` for frozen
  distributions. When `owner` is an import (or an instance of an imported class, built by the
  stream) and `name` a constant identifier, the result is the attribute `module:Class.name`,
  recorded as an import of its own and judged by the allowlist like any other.
- `functools.partial(func, ...)`: scikit-learn's HistGradientBoosting stores
  `partial(sklearn.utils.validation.check_array, ...)`. Building a partial calls nothing; what it
  may call later is `func`, an import recorded and judged on its own.

The gadget's own import is withdrawn only when EVERY occurrence of its value on the stack was
consumed as the callee of such a resolved call: a ledger counts, per stream, each push of the
gadget (GLOBAL, STACK_GLOBAL, memo GET, DUP, ...) against the resolved calls. A gadget value left
on the stack, stored in a container, passed as an argument, called with computed arguments or
through INST stays an import (and `builtins.getattr` / `functools.partial` are on the dangerous
list). Unresolvable calls stay `pickle-unresolved` findings, as before.
"""

from __future__ import annotations

import re

from mlsbom.analyzers.pickle_values import Call, Global, ImportRecord
from mlsbom.facts import GlobalRef

GETATTR = GlobalRef("builtins", "getattr")
PARTIALS = frozenset({GlobalRef("functools", "partial"), GlobalRef("_functools", "partial")})
# torch.storage._load_from_bytes(b): torch.load of `b`; judged by those bytes when they are
# walked whole (PickleWalker.nested), as tensors pickled with pickle or joblib store them
LOAD_FROM_BYTES = GlobalRef("torch.storage", "_load_from_bytes")
TRACKED = frozenset({GETATTR, *PARTIALS, LOAD_FROM_BYTES})
# how pickle rebuilds an instance of the class in its first argument (protocols 0-2)
_INSTANCE_BUILDERS = frozenset(
    GlobalRef("copyreg", n) for n in ("_reconstructor", "__newobj__", "__newobj_ex__")
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _owner_ref(owner: object) -> GlobalRef | None:
    """The imported class or module an attribute is fetched from, if the stream names it."""
    if isinstance(owner, Global):
        return owner.ref
    if not (isinstance(owner, Call) and isinstance(owner.func, Global)):
        return None  # computed owner: unresolvable
    if owner.func.ref in _INSTANCE_BUILDERS:
        args = owner.args
        first = args[0] if isinstance(args, tuple) and args else None
        return first.ref if isinstance(first, Global) else None
    return owner.func.ref  # an instance of an imported class (NEWOBJ / REDUCE on the class)


def attribute_ref(owner: object, name: str | None) -> GlobalRef | None:
    """`getattr(owner, name)` as the `module:Class.name` it fetches, or None if unknown."""
    if name is None or not _IDENTIFIER.match(name):
        return None
    base = _owner_ref(owner)
    if base is None:
        return None
    if base.name == "*":  # a module (importlib.import_module, __import__)
        return GlobalRef(base.module, name)
    return GlobalRef(base.module, f"{base.name}.{name}")


class GadgetLedger:
    """Per stream: occurrences of each gadget value still not consumed by a resolved call."""

    def __init__(self, records: dict[tuple[str, GlobalRef], ImportRecord], label: str) -> None:
        self._records = records  # the walker's import records, keyed by (stream, ref)
        self._label = label
        self._open: dict[GlobalRef, int] = {}
        self._withdrawn: dict[GlobalRef, ImportRecord] = {}

    def pushed(self, value: object) -> None:
        """Machine.push: one more occurrence of a gadget on the stack."""
        if type(value) is not Global or value.ref not in TRACKED:
            return
        ref = value.ref
        open_now = self._open.get(ref, 0)
        if open_now == 0 and ref in self._withdrawn:  # judged again: an unresolved use may follow
            self._records[(self._label, ref)] = self._withdrawn.pop(ref)
        self._open[ref] = open_now + 1

    def consumed(self, ref: GlobalRef, opcode: str) -> None:
        """A call on the gadget resolved: that occurrence is judged by its result."""
        if ref not in TRACKED or opcode == "INST":  # INST's import is never pushed
            return
        left = self._open.get(ref, 0) - 1
        if left < 0:
            return
        self._open[ref] = left
        if left == 0:
            record = self._records.pop((self._label, ref), None)
            if record is not None:
                self._withdrawn[ref] = record

    def partial(self, ref: GlobalRef, args: object, opcode: str) -> None:
        """`functools.partial(func, ...)` with an imported `func` is judged by `func`."""
        if ref in PARTIALS and isinstance(args, tuple) and args and isinstance(args[0], Global):
            self.consumed(ref, opcode)

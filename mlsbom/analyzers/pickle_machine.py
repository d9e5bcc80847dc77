"""One pickle stream's simulated state (stack, marks, memo) and one handler per opcode.

Handlers mirror `pickle._Unpickler.load_*` but push abstract values and report imports and calls
to the walker instead of performing them. Structural errors that `pickle.load` would stop at are
recorded once and simulation continues with placeholders.
"""

from __future__ import annotations

import _compat_pickle
import re
import time
from collections.abc import Callable, MutableMapping
from typing import Protocol

from mlsbom.analyzers.pickle_gadgets import GadgetLedger, attribute_ref
from mlsbom.analyzers.pickle_ops import (
    OPCODES,
    ByteReader,
    OpcodeError,
    PastEnd,
    Truncated,
    read_arg,
)
from mlsbom.analyzers.pickle_values import (
    MAX_ITEMS,
    MAX_TENSORS,
    Box,
    Call,
    Global,
    ImportRecord,
    Opaque,
    evaluate_pure,
    render,
)
from mlsbom.config import Limits
from mlsbom.facts import Fact, GlobalRef, ParseError, PickleGlobalMutation, PickleUnresolved

# Callables that deserialise their bytes argument: the bytes are walked as a nested pickle.
NESTED_LOADERS = frozenset(
    GlobalRef(m, n)
    for m, n in (
        ("pickle", "loads"),
        ("pickle", "_loads"),
        ("_pickle", "loads"),
        ("pickle", "load"),
        ("_pickle", "load"),
        ("dill", "loads"),
        ("dill._dill", "loads"),
        ("cloudpickle", "loads"),
        ("cloudpickle.cloudpickle", "loads"),
        ("torch", "load"),
        ("torch.serialization", "load"),
        ("torch.storage", "_load_from_bytes"),
        ("joblib", "load"),
        ("numpy", "loads"),
    )
)
_BYTES_IO = frozenset({GlobalRef("io", "BytesIO"), GlobalRef("_io", "BytesIO")})
# Callables that import by name; their constant arguments resolve to the import they make.
_GADGETS = frozenset(
    {
        "numpy.core._ufunc_reconstruct",
        "numpy._core._ufunc_reconstruct",
        "importlib.import_module",
        "builtins.__import__",
        "pkgutil.resolve_name",
        "builtins.getattr",
        "dill._dill._load_type",
    }
)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_PLAIN_OPAQUE = frozenset({"missing", "missing-memo", "ndarray"})  # errors already, or data
LAST_RESORT = 10  # the wall-clock deadline is a last resort: this many times the time budget
_CONSTANT_OPS = frozenset(
    {
        "INT",
        "BININT",
        "BININT1",
        "BININT2",
        "LONG",
        "LONG1",
        "LONG4",
        "STRING",
        "BINSTRING",
        "SHORT_BINSTRING",
        "BINBYTES",
        "SHORT_BINBYTES",
        "BINBYTES8",
        "BYTEARRAY8",
        "UNICODE",
        "SHORT_BINUNICODE",
        "BINUNICODE",
        "BINUNICODE8",
        "FLOAT",
        "BINFLOAT",
    }
)


def _normalise(module: str, name: str, proto: int) -> GlobalRef:
    """Apply the Python 2 -> 3 name mapping pickle uses for protocols < 3."""
    if proto < 3:
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
    return GlobalRef(module, name)


class Walker(Protocol):
    """What a machine asks of the walker that runs it (`pickle_vm.PickleWalker`): limits and
    counters shared by every stream of a file, the import records, nested walks, and what the
    loader reads after a BUILD."""

    limits: Limits
    last_resort: float
    opcodes_total: int
    persistent_ok: bool
    persistent_ids: int
    imports: dict[tuple[str, GlobalRef], ImportRecord]

    def add(self, fact: Fact) -> None: ...

    def limit(self, name: str, maximum: int, value: int | None, offset: int | None) -> None: ...

    def record_import(self, label: str, ref: GlobalRef, opcode: str, offset: int) -> None: ...

    def mark_called(self, label: str, ref: GlobalRef, call: Call) -> None: ...

    def nested(self, data: object, via: GlobalRef, offset: int, label: str) -> bool: ...

    def walk_stream(
        self, reader: ByteReader, label: str, *, optional: bool = False
    ) -> bool | None: ...

    def after_build(self, machine: Machine, inst: Call, state: object) -> None: ...


class Machine:
    """State of one stream and the opcode handlers that update it."""

    def __init__(self, walker: Walker, reader: ByteReader, label: str) -> None:
        self.w = walker
        self.r = reader
        self.label = label
        self.stack: list[object] = []
        self.marks: list[list[object]] = []
        self.memo: MutableMapping[int, object] = {}
        self.speculative = False  # walking bytes only a different loader reads as opcodes
        self.proto = 0
        self.count = 0
        self.done = False
        self.imports = 0
        self.op_offset = reader.pos
        self.errors: list[Fact] = []
        self.gadgets = GadgetLedger(walker.imports, label)
        self._dispatch: dict[int, tuple[str | None, Callable[[object], None]]] = {}
        for code, (name, argtype) in OPCODES.items():
            handler = self.op_constant if name in _CONSTANT_OPS else getattr(self, f"op_{name}")
            self._dispatch[code] = (argtype, handler)

    # ------------------------------------------------------------ bookkeeping
    def error(self, message: str, offset: int | None) -> None:
        if self.speculative:
            raise OpcodeError(message)  # pickle.load stops at its first error
        if not self.errors:
            self.errors.append(ParseError(message, offset, self.label))

    def unresolved(self, opcode: str, reason: str) -> None:
        if self.speculative and "computed object" in reason:
            return  # calling a plain value: pickle.load raises TypeError there
        self.w.add(PickleUnresolved(opcode, self.op_offset, self.label, reason))

    def pop(self) -> object:
        if self.stack:
            return self.stack.pop()
        self.error("stack underflow", self.op_offset)
        return Opaque("missing")

    def top(self) -> object:
        if self.stack:
            return self.stack[-1]
        self.error("stack underflow", self.op_offset)
        return Opaque("missing")

    def push(self, value: object) -> None:
        if len(self.stack) >= self.w.limits.max_stack:
            self.w.limit("pickle-stack", self.w.limits.max_stack, None, self.op_offset)
        if type(value) is Global:  # gadget occurrences are counted (pickle_gadgets)
            self.gadgets.pushed(value)
        self.stack.append(value)

    def pop_mark(self) -> list[object]:
        items = self.stack
        if self.marks:
            self.stack = self.marks.pop()
        else:
            self.error("no MARK on the stack", self.op_offset)
            self.stack = []
        return items

    # ------------------------------------------------------------- main loop
    def loop(self, first: int) -> None:
        w, r, limits, dispatch = self.w, self.r, self.w.limits, self._dispatch
        keep = limits.max_kept_bytes
        code: int | None = first
        while code is not None:
            self.op_offset = r.pos - 1
            entry = dispatch.get(code)
            if entry is None:
                raise OpcodeError(f"invalid opcode 0x{code:02x}")
            argtype, handler = entry
            arg = read_arg(r, argtype, keep) if argtype else None
            self.count += 1
            w.opcodes_total += 1
            if not w.opcodes_total & 0xFFFF:
                if w.opcodes_total > limits.max_opcodes:
                    w.limit("pickle-opcodes", limits.max_opcodes, w.opcodes_total, self.op_offset)
                if not w.opcodes_total & 0xFFFFF and time.monotonic() > w.last_resort:
                    # counted budgets decide; the clock only stops a walk gone far past them
                    w.limit(
                        "seconds-last-resort",
                        int(limits.max_seconds) * LAST_RESORT,
                        None,
                        self.op_offset,
                    )
            if code == 0x2E:  # STOP
                self.done = True
                return
            handler(arg)
            code = r.read_byte()
        raise Truncated("stream ends without STOP")

    # --------------------------------------------------------------- constants
    def op_constant(self, arg: object) -> None:
        self.push(arg)

    def op_NONE(self, _: object) -> None:
        self.push(None)

    def op_NEWTRUE(self, _: object) -> None:
        self.push(True)

    def op_NEWFALSE(self, _: object) -> None:
        self.push(False)

    def op_EMPTY_TUPLE(self, _: object) -> None:
        self.push(())

    def op_STOP(self, _: object) -> None:  # pragma: no cover - handled in loop
        self.done = True

    def op_FRAME(self, arg: object) -> None:
        size = self.r.size
        if size is not None and isinstance(arg, int) and arg > size - self.r.pos:
            if self.speculative:
                raise PastEnd("FRAME runs past the bytes at hand", self.r.pos + arg)
            self.error(f"FRAME of {arg} bytes runs past the end of the stream", self.op_offset)

    def op_READONLY_BUFFER(self, _: object) -> None:
        pass

    def op_PROTO(self, arg: object) -> None:
        assert isinstance(arg, int)
        if arg > 5:
            raise OpcodeError(f"unsupported pickle protocol {arg}")
        self.proto = arg

    def op_NEXT_BUFFER(self, _: object) -> None:
        self.error("out-of-band buffer requested (pickle.load fails without buffers)", None)
        self.push(Opaque("buffer"))

    # ----------------------------------------------------------- stack shape
    def op_MARK(self, _: object) -> None:
        if len(self.marks) >= self.w.limits.max_mark_depth:
            self.w.limit("pickle-marks", self.w.limits.max_mark_depth, None, self.op_offset)
        self.marks.append(self.stack)
        self.stack = []

    def op_POP(self, _: object) -> None:
        if self.stack:
            self.stack.pop()
        else:
            self.pop_mark()

    def op_POP_MARK(self, _: object) -> None:
        self.pop_mark()

    def op_DUP(self, _: object) -> None:
        self.push(self.top())

    # ------------------------------------------------------------- containers
    def op_EMPTY_LIST(self, _: object) -> None:
        self.push(Box("list"))

    def op_EMPTY_DICT(self, _: object) -> None:
        self.push(Box("dict"))

    def op_EMPTY_SET(self, _: object) -> None:
        self.push(Box("set"))

    def _boxed(self, kind: str) -> None:
        box = Box(kind)
        box.add(self.pop_mark())
        self.push(box)

    def op_LIST(self, _: object) -> None:
        self._boxed("list")

    def op_DICT(self, _: object) -> None:
        self._boxed("dict")

    def op_FROZENSET(self, _: object) -> None:
        self._boxed("frozenset")

    def _extend(self, values: list[object]) -> None:
        target = self.top()
        if isinstance(target, Opaque) and target.what not in _PLAIN_OPAQUE:
            self.unresolved(
                "SETITEM", f"adds items to an object it cannot resolve: {render(target)}"
            )
        if isinstance(target, Box):
            target.add(values)
        elif isinstance(target, Call):  # OrderedDict() filled by SETITEMS (state dicts)
            items = target.items if target.items is not None else []
            items.extend(values[: max(0, 2 * MAX_TENSORS - len(items))])
            target.items = items

    def op_APPEND(self, _: object) -> None:
        self._extend([self.pop()])

    def op_SETITEM(self, _: object) -> None:
        value = self.pop()
        self._extend([self.pop(), value])

    def op_APPENDS(self, _: object) -> None:
        self._extend(self.pop_mark())

    op_SETITEMS = op_APPENDS
    op_ADDITEMS = op_APPENDS

    def op_TUPLE(self, _: object) -> None:
        self.push(tuple(self.pop_mark()[:MAX_ITEMS]))

    def op_TUPLE1(self, _: object) -> None:
        self.push((self.pop(),))

    def op_TUPLE2(self, _: object) -> None:
        second = self.pop()
        self.push((self.pop(), second))

    def op_TUPLE3(self, _: object) -> None:
        third, second = self.pop(), self.pop()
        self.push((self.pop(), second, third))

    # ------------------------------------------------------------------- memo
    def op_GET(self, arg: object) -> None:
        assert isinstance(arg, int)
        if arg in self.memo:
            self.push(self.memo[arg])
        else:
            self.error(f"memo index {arg} was never stored", self.op_offset)
            self.push(Opaque("missing-memo"))

    op_BINGET = op_GET
    op_LONG_BINGET = op_GET

    def op_PUT(self, arg: object) -> None:
        assert isinstance(arg, int)
        if arg < 0:
            self.error("negative memo index", self.op_offset)
        elif arg not in self.memo and len(self.memo) >= self.w.limits.max_memo:
            self.w.limit("pickle-memo", self.w.limits.max_memo, arg, self.op_offset)
        else:
            self.memo[arg] = self.top()

    op_BINPUT = op_PUT
    op_LONG_BINPUT = op_PUT

    def op_MEMOIZE(self, _: object) -> None:
        self.op_PUT(len(self.memo))

    # ----------------------------------------------------------------- imports
    def imported(self, ref: GlobalRef, opcode: str) -> Global:
        if self.speculative and not (_IDENT.match(ref.module) and _IDENT.match(ref.name)):
            raise OpcodeError("import of an invalid name: pickle.load fails here")
        self.imports += 1
        self.w.record_import(self.label, ref, opcode, self.op_offset)
        return Global(ref, self.op_offset)

    def op_GLOBAL(self, arg: object) -> None:
        assert isinstance(arg, tuple)
        self.push(self.imported(_normalise(arg[0], arg[1], self.proto), "GLOBAL"))

    def op_INST(self, arg: object) -> None:
        assert isinstance(arg, tuple)
        cls = self.imported(_normalise(arg[0], arg[1], self.proto), "INST")
        self.push(self.call(cls, tuple(self.pop_mark()[:MAX_ITEMS]), "INST"))

    def op_STACK_GLOBAL(self, _: object) -> None:
        raw_name, raw_module = self.pop(), self.pop()
        name, module = self.resolve_str(raw_name), self.resolve_str(raw_module)
        if module is None or name is None:
            computed = (Opaque, Call)  # might be strings at load time
            if self.speculative and not all(
                isinstance(v, computed) for v in (raw_name, raw_module) if not isinstance(v, str)
            ):
                raise OpcodeError("STACK_GLOBAL of non-strings: pickle.load stops here")
            self.imports += 1
            self.unresolved("STACK_GLOBAL", "module or name is not a constant string")
            self.push(Opaque("unresolved-global"))
        else:
            self.push(self.imported(GlobalRef(module, name), "STACK_GLOBAL"))

    def op_EXT1(self, arg: object) -> None:
        if self.speculative:  # copyreg's extension registry is empty unless a program fills it
            raise OpcodeError(f"extension code {arg}: pickle.load stops here")
        self.imports += 1
        self.unresolved("EXT", f"extension registry code {arg}")
        self.push(Opaque(f"extension {arg}"))

    op_EXT2 = op_EXT1
    op_EXT4 = op_EXT1

    def op_PERSID(self, _: object) -> None:
        if self.speculative:
            raise OpcodeError("persistent id: pickle.load without persistent_load stops here")
        if not self.w.persistent_ok:
            # pickle.load and joblib.load stop here; a loader with its own persistent_load
            # returns whatever that function makes of the id: mlsbom cannot know
            self.unresolved("PERSID", "persistent id outside a PyTorch checkpoint")
        self.w.persistent_ids += 1
        self.push(Opaque("persistent-id"))

    def op_BINPERSID(self, _: object) -> None:
        pid = self.pop()
        if isinstance(pid, tuple) and len(pid) > 1 and pid[0] == "module":
            # legacy torch.save stores nn.Module classes as ('module', cls, file, source) and
            # its persistent_load returns cls, which is an ordinary (judged) import
            self.w.persistent_ids += 1
            self.push(pid[1])
            return
        self.op_PERSID(None)

    def resolve_str(self, value: object) -> str | None:
        if isinstance(value, str):
            return value
        if isinstance(value, Call) and isinstance(value.func, Global):
            result = evaluate_pure(value.func.ref, value.args)
            return result if isinstance(result, str) else None
        return None

    # ------------------------------------------------------------------- calls
    def op_REDUCE(self, _: object) -> None:
        args = self.pop()
        self.push(self.call(self.pop(), args, "REDUCE"))

    def op_NEWOBJ(self, _: object) -> None:
        args = self.pop()
        self.push(self.call(self.pop(), args, "NEWOBJ"))

    def op_NEWOBJ_EX(self, _: object) -> None:
        self.pop()  # kwargs
        args = self.pop()
        self.push(self.call(self.pop(), args, "NEWOBJ_EX"))

    def op_OBJ(self, _: object) -> None:
        items = self.pop_mark()
        func = items[0] if items else Opaque("missing")
        self.push(self.call(func, tuple(items[1:MAX_ITEMS]), "OBJ"))

    def call(self, func: object, args: object, opcode: str) -> object:
        if not isinstance(func, Global):
            if isinstance(func, (Call, Opaque)):
                self.unresolved(opcode, f"calls a computed object: {render(func)}")
            else:
                self.error(f"{opcode} on a non-callable {render(func)}", self.op_offset)
            return Call(func, args, self.op_offset)
        ref = func.ref
        self.w.mark_called(self.label, ref, Call(func, args, self.op_offset))
        pure = evaluate_pure(ref, args)
        if pure is not None:
            return pure
        if str(ref) in _GADGETS:
            return self.gadget_import(ref, args, opcode)
        if ref in NESTED_LOADERS and isinstance(args, tuple) and args:
            data = args[0]
            if (
                isinstance(data, Call)
                and isinstance(data.func, Global)
                and data.func.ref in _BYTES_IO
                and isinstance(data.args, tuple)
                and data.args
            ):
                data = data.args[0]
            if self.w.nested(data, ref, self.op_offset, self.label):
                self.gadgets.consumed(ref, opcode)  # judged by the bytes it loads
        self.gadgets.partial(ref, args, opcode)
        return Call(func, args, self.op_offset)

    def gadget_import(self, ref: GlobalRef, args: object, opcode: str) -> object:
        """Resolve callables that import by name (`getattr`, `__import__`, …) to that import."""
        strs = [a if isinstance(a, str) else None for a in args] if isinstance(args, tuple) else []
        target: GlobalRef | None = None
        kind = str(ref)
        if kind.endswith("_ufunc_reconstruct") and len(strs) == 2 and strs[0] and strs[1]:
            target = GlobalRef(strs[0], strs[1])
        elif kind in ("importlib.import_module", "builtins.__import__") and strs and strs[0]:
            target = GlobalRef(strs[0], "*")
        elif kind == "pkgutil.resolve_name" and strs and strs[0]:
            module, _, name = strs[0].partition(":")
            target = GlobalRef(module, name or "*")
        elif kind == "dill._dill._load_type" and len(strs) == 1 and strs[0]:
            # dill's table of types by name: *Type names are from `types`, the rest builtins
            module = "types" if strs[0].endswith("Type") else "builtins"
            target = GlobalRef(module, strs[0])
        elif kind == "builtins.getattr" and len(strs) == 2 and isinstance(args, tuple):
            target = attribute_ref(args[0], strs[1])
        if target is None:
            self.unresolved(opcode, f"{ref} with arguments that are not constants")
            return Call(Global(ref, self.op_offset), args, self.op_offset)
        self.gadgets.consumed(ref, opcode)
        self.imports += 1
        self.w.record_import(self.label, target, f"{opcode} via {ref}", self.op_offset)
        return Global(target, self.op_offset)

    def op_BUILD(self, _: object) -> None:
        state = self.pop()
        inst = self.top()
        if isinstance(inst, Global):
            self.w.add(PickleGlobalMutation(inst.ref, self.op_offset, self.label))
        elif isinstance(inst, Opaque) and inst.what not in _PLAIN_OPAQUE:
            self.unresolved(
                "BUILD", f"sets the state of an object it cannot resolve: {render(inst)}"
            )
        elif isinstance(inst, Call):
            inst.state = state
            self.w.after_build(self, inst, state)  # joblib's wrappers read more bytes here

"""What joblib reads after a wrapper's BUILD, computed from the state joblib itself would see.

Mirrors joblib 1.6.0 `numpy_pickle.NumpyUnpickler.load_build` and `NumpyArrayWrapper.read_array`
(and `numpy_pickle_compat.NDArrayWrapper.read`), pickle's `_Unpickler.load_build` (Python 3.11:
state dict applied in order, so repeated keys: last wins; then the slot state), and numpy 2.4
`dtype.__setstate__` (flexible S/U/V types take their itemsize from the state; `hasobject` follows
the type and its fields, never the flags field). Anything outside what these lines model is
`Unknown`: the caller then does not skip and reports that it cannot know.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlsbom.analyzers.pickle_values import Box, Call, Global, Opaque, render
from mlsbom.facts import PickleExternalFile

_ARRAY_MODULES = ("joblib.numpy_pickle", "sklearn.externals.joblib.numpy_pickle")
_COMPAT_MODULES = (
    "joblib.numpy_pickle_compat",
    "joblib.numpy_pickle",
    "sklearn.externals.joblib.numpy_pickle_compat",
    "sklearn.externals.joblib.numpy_pickle",
)
_FACTORIES = ("copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__")
_DTYPE_MODULES = ("numpy", "numpy.core.multiarray", "numpy._core.multiarray")
_NUMERIC = {"b": (1,), "?": (1,), "i": (1, 2, 4, 8), "u": (1, 2, 4, 8), "f": (2, 4, 8, 16)}
_NUMERIC |= {"c": (8, 16, 32), "M": (8,), "m": (8,), "O": (8,)}
_INT64 = 1 << 63


@dataclass(frozen=True, slots=True)
class Inline:
    """`nbytes` of raw array data follow (after a padding byte and padding if `aligned`)."""

    nbytes: int
    aligned: bool


@dataclass(frozen=True, slots=True)
class InlinePickle:
    """An object array: joblib reads one more pickle stream with a fresh Unpickler."""


@dataclass(frozen=True, slots=True)
class Fails:
    """joblib raises here (so joblib.load runs nothing after this point)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Unknown:
    """mlsbom cannot tell what joblib reads: do not skip, report it."""

    reason: str


Layout = Inline | InlinePickle | Fails | Unknown


def _class_of(inst: Call) -> Global | None:
    """The class an instance was made from, also through copyreg's factory helpers."""
    cls = inst.func
    if isinstance(cls, Global) and str(cls.ref) in _FACTORIES:
        cls = inst.args[0] if isinstance(inst.args, tuple) and inst.args else None
    return cls if isinstance(cls, Global) else None


def wrapper_kind(inst: object) -> str | None:
    """'array' for a NumpyArrayWrapper instance, 'file' for (Z)NDArrayWrapper, else None."""
    cls = _class_of(inst) if isinstance(inst, Call) else None
    if cls is None:
        return None
    module, name = cls.ref.module, cls.ref.name
    if name == "NumpyArrayWrapper" and module in _ARRAY_MODULES:
        return "array"
    if name in ("NDArrayWrapper", "ZNDArrayWrapper") and module in _COMPAT_MODULES:
        return "file"
    return None


def _constructed_with_args(inst: Call) -> bool:
    """Did making the instance run an `__init__` that sets attributes this module ignores?

    REDUCE of the class with arguments does (NEWOBJ does not, but the two are not told apart
    here); copyreg.__newobj__ never does; copyreg._reconstructor only with a base other than
    object.
    """
    func, args = inst.func, inst.args
    if not isinstance(func, Global) or not isinstance(args, tuple):
        return True
    if str(func.ref) == "copyreg._reconstructor":
        base = args[1] if len(args) == 3 else None
        return not (isinstance(base, Global) and str(base.ref) == "builtins.object")
    return str(func.ref) not in _FACTORIES and bool(args)


def final_attrs(state: object) -> dict[str, object] | None:
    """The instance `__dict__` after pickle's BUILD with `state`; None if not modelled."""
    slot: object = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slot = state
    attrs: dict[str, object] = {}
    for part in (state, slot):
        if part is None or part is False:
            continue
        if not isinstance(part, Box) or part.kind != "dict" or part.count != len(part.items):
            return None
        for i in range(0, len(part.items) - 1, 2):
            key = part.items[i]
            if not isinstance(key, str):
                return None
            attrs[key] = part.items[i + 1]  # dict.update / setattr order: the last one wins
    return attrs


_STRINGDTYPE_MODULES = frozenset({"numpy._core._internal", "numpy.core._internal"})


@dataclass(frozen=True, slots=True)
class _DType:
    itemsize: int
    hasobject: bool


def dtype_of(value: object, depth: int = 0) -> _DType | None:
    """itemsize and hasobject of a simulated `numpy.dtype(descr, align, copy)` + BUILD state."""
    if depth > 8 or not isinstance(value, Call) or not isinstance(value.func, Global):
        return None
    ref = value.func.ref
    if ref.name == "_convert_to_stringdtype_kwargs" and ref.module in _STRINGDTYPE_MODULES:
        # numpy 2 StringDType (numpy/_core/_internal.py): its `hasobject` is true, so joblib
        # 1.6 `NumpyArrayWrapper.read` unpickles an inline array (walked, never skipped)
        return _DType(16, True)
    if ref.name != "dtype" or ref.module not in _DTYPE_MODULES:
        return None
    args = value.args
    if not isinstance(args, tuple) or not args or not isinstance(args[0], str):
        return None
    descr = args[0].lstrip("<>|=")
    kind, digits = descr[:1], descr[1:]
    if kind == "M" or kind == "m":
        digits = digits.split("[", 1)[0]
    if digits and not digits.isdigit():
        return None
    state = value.state
    if state is not None and not (isinstance(state, tuple) and len(state) >= 8):
        return None
    if kind in _NUMERIC:
        size = int(digits) if digits else (1 if kind in "b?" else 8 if kind in "OMm" else 0)
        if size not in _NUMERIC[kind] or (
            state is not None and (state[2], state[4]) != (None, None)
        ):
            return None
        return _DType(size, kind == "O")
    if kind not in ("S", "U", "V", "a"):
        return None
    if state is None:
        return _DType(int(digits or 0) * (4 if kind == "U" else 1), False)
    elsize = state[5]
    if not isinstance(elsize, int) or isinstance(elsize, bool) or elsize < 0:
        return None
    fields, subarray = state[4], state[2]
    hasobject = False
    if fields is not None:
        if kind != "V" or not isinstance(fields, Box) or fields.count != len(fields.items):
            return None
        for i in range(1, len(fields.items), 2):
            field = fields.items[i]
            inner = dtype_of(field[0], depth + 1) if isinstance(field, tuple) and field else None
            if inner is None:
                return None
            hasobject = hasobject or inner.hasobject
    if subarray is not None:
        inner = dtype_of(subarray[0], depth + 1) if isinstance(subarray, tuple) else None
        if inner is None:
            return None
        hasobject = hasobject or inner.hasobject
    return _DType(elsize, hasobject)


def element_count(shape: object) -> int | None:
    """`np.multiply.reduce([np.int64(x) for x in shape])`: wraps like int64; None if unknown."""
    if not isinstance(shape, tuple):
        return None
    count = 1
    for dim in shape:
        if not isinstance(dim, int):
            return None
        if not -_INT64 <= dim < _INT64:
            return -1  # np.int64(x) overflows: joblib raises
        count = (count * dim + _INT64) % (1 << 64) - _INT64
    return count


def array_layout(inst: Call, state: object) -> Layout:
    """What joblib's `NumpyArrayWrapper.read` consumes after this BUILD."""
    if _constructed_with_args(inst):
        return Unknown("the wrapper was constructed with arguments")
    attrs = final_attrs(state)
    if attrs is None:
        return Unknown("the wrapper's state is not a plain dict")
    dtype = dtype_of(attrs.get("dtype"))
    if dtype is None:
        return Unknown(f"dtype not modelled: {attrs.get('dtype')!r:.60}")
    if dtype.hasobject:
        return InlinePickle()
    count = element_count(attrs.get("shape"))
    if count is None:
        return Unknown("shape is not a tuple of integers")
    if count < 0:
        return Fails("the array's element count is negative or overflows int64")
    if dtype.itemsize == 0:
        return Fails("zero itemsize: joblib divides by it")
    align = attrs.get("numpy_array_alignment_bytes")
    if isinstance(align, Opaque):
        return Unknown("alignment attribute not modelled")
    return Inline(count * dtype.itemsize, align is not None)


def external_file(inst: Call, state: object, offset: int, stream: str) -> PickleExternalFile | None:
    """A finding-worthy file that a legacy (Z)NDArrayWrapper makes joblib open, if any."""
    attrs = final_attrs(state)
    value = attrs.get("filename") if attrs is not None else None
    why = external_reason(value)
    if why is None:
        return None
    cls = _class_of(inst)
    return PickleExternalFile(str(cls.ref) if cls else "?", render(value), why, offset, stream)


def external_reason(value: object) -> str | None:
    """Why a file name a loader will open is not safe to leave unreported (None: it is)."""
    if not isinstance(value, str):
        return "the file name is not a constant string"
    low = value.lower()
    if "://" in low or low.startswith(("\\\\", "//")):
        return "a URL or network path"
    if value.startswith(("/", "\\")) or (len(value) > 1 and value[1] == ":"):
        return "an absolute path"
    parts = value.replace("\\", "/").split("/")
    depth = 0
    for part in parts:
        depth += -1 if part == ".." else 0 if part in ("", ".") else 1
        if depth < 0:
            return "a path outside the scanned folder"
    if not low.endswith((".npy", ".z")):
        return "a file that is not an array file (np.load(allow_pickle=True) would unpickle it)"
    return None

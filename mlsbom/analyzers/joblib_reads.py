"""What the walker does at the BUILD of a joblib wrapper: skip what joblib skips, no more.

The span comes from pickle_joblib (joblib 1.6 semantics). Plain pickle.load, or any loader that
is not joblib's, reads the same bytes as opcodes instead: their first bytes are also walked that
way (`…/as-pickle@OFFSET`), so a payload hidden as "array data" is seen either way.
"""

from __future__ import annotations

import io
from collections import ChainMap
from typing import TYPE_CHECKING

from mlsbom.analyzers import pickle_joblib as jl
from mlsbom.analyzers.pickle_ops import ByteReader, OpcodeError, Truncated
from mlsbom.analyzers.pickle_values import Call, Opaque

if TYPE_CHECKING:
    from mlsbom.analyzers.pickle_machine import Machine

PROBE_BYTES = 64 << 10  # bytes of a skipped span also walked as opcodes (the pickle.load view)


class _ForkMemo(ChainMap[int, object]):
    """The fork's writes on top of the real memo; `len` in O(1) (ChainMap's unions the keys)."""

    def __len__(self) -> int:
        return sum(len(m) for m in self.maps)


def read_after_build(m: Machine, inst: Call, state: object) -> None:
    """joblib 1.6 NumpyUnpickler.load_build: a wrapper on top after BUILD reads its array."""
    kind = jl.wrapper_kind(inst)
    if kind == "array":
        _array(m, inst, state)
    elif kind == "file":  # joblib 1.6 numpy_pickle_compat.NDArrayWrapper.read opens a file
        fact = jl.external_file(inst, state, m.op_offset, m.label)
        if fact is not None:
            m.w.add(fact)


def _array(m: Machine, inst: Call, state: object) -> None:
    layout = jl.array_layout(inst, state)
    if isinstance(layout, jl.InlinePickle):  # joblib 1.6 read_array: a fresh Unpickler
        m.w.walk_stream(m.r, f"{m.label}/joblib@{m.r.pos}")
    elif isinstance(layout, jl.Inline):  # joblib 1.6 read_array: padding byte, padding, data
        start = m.r.pos
        data = m.r.read(1) if layout.aligned else b""
        total = (1 + data[0] if data else 0) + layout.nbytes
        data += m.r.read(min(total, PROBE_BYTES) - len(data))
        speculate(m, data, total, start)
        m.r.skip(total - len(data))
    elif isinstance(layout, jl.Fails):
        m.error(f"joblib.load stops here: {layout.reason}", m.op_offset)
        return
    else:
        m.unresolved("BUILD", f"cannot size the array data joblib reads: {layout.reason}")
        return
    m.stack[-1] = Opaque("ndarray")


def speculate(m: Machine, data: bytes, span: int, start: int) -> None:
    """Walk the first bytes of a span joblib skips the way pickle.load would read them.

    pickle.load continues with this stack and memo; the walk ends at the first error, where
    pickle.load stops too. Imports and calls found are reported under `…/as-pickle@OFFSET`.
    """
    if not data:
        return
    reader = ByteReader(io.BytesIO(data), size=len(data))
    fork = type(m)(m.w, reader, f"{m.label}/as-pickle@{start}")
    fork.speculative, fork.proto = True, m.proto
    fork.stack = list(m.stack[-4096:])
    fork.marks = [list(mark[-4096:]) for mark in m.marks[-64:]]
    fork.memo = _ForkMemo({}, m.memo)
    first = reader.read_byte()
    try:
        if first is not None:
            fork.loop(first)
    except Truncated:
        if fork.count > 1 and len(data) < span:
            m.unresolved("BUILD", "array bytes read as opcodes run past what mlsbom checks")
    except OpcodeError:
        pass

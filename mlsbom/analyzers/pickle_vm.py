"""Walk pickle streams without importing or calling anything.

The walker drives one `Machine` per stream (see pickle_machine) and gathers facts across the
concatenated and nested streams of a file: every import (GLOBAL, STACK_GLOBAL, INST, EXT*) and
call (REDUCE, NEWOBJ, OBJ, INST, BUILD) resolved to a `module.name` with its opcode offset.
Memory, opcodes, memo, marks and time are bounded.
"""

from __future__ import annotations

import io
import re
import tarfile
import time
from typing import BinaryIO

from mlsbom.analyzers.joblib_reads import read_after_build
from mlsbom.analyzers.pickle_machine import LAST_RESORT, Machine
from mlsbom.analyzers.pickle_ops import (
    OPCODES,
    ByteReader,
    OpcodeError,
    PastEnd,
    Skipped,
    Truncated,
)
from mlsbom.analyzers.pickle_values import Call, ImportRecord, render, state_dict_shapes
from mlsbom.config import Limits
from mlsbom.facts import (
    Fact,
    GlobalRef,
    LimitExceeded,
    NestedPickle,
    ParseError,
    PickleGlobalMutation,
    PickleImport,
    PickleStream,
    PickleUnresolved,
    TensorShapes,
)

_PERSID = frozenset(b"PQ")
LOAD_FROM_BYTES = GlobalRef("torch.storage", "_load_from_bytes")
_LEGACY_TORCH_PICKLES = 5
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class _Stop(Exception):
    """Raised inside the loop when a limit ends the walk."""


class PickleWalker:
    """Walks one or more pickle streams from a file and accumulates facts about them."""

    def __init__(self, limits: Limits, deadline: float) -> None:
        self.limits = limits
        self.deadline = deadline
        # the clock is a last resort only: counted budgets (opcodes, memo, stack, bytes) decide
        self.last_resort = deadline + (LAST_RESORT - 1) * limits.max_seconds
        self.opcodes_total = 0
        self.persistent_ids = 0
        self.stopped = False
        self.streams_complete = 0
        self.imports: dict[tuple[str, GlobalRef], ImportRecord] = {}
        self._facts: list[Fact] = []
        self._nest_depth = 0
        self.tensor_stream = "0"  # the stream whose result is the state dict
        self.persistent_ok = False  # a loader with persistent_load reads this (torch)

    # ----------------------------------------------------------------- public API
    def walk_file(
        self, f: BinaryIO, *, size: int | None, start: int = 0, max_streams: int | None = None
    ) -> int:
        """Walk concatenated pickles from `f`; return how many complete streams were read."""
        reader = ByteReader(f, start=start, size=size)
        streams = max_streams if max_streams is not None else self.limits.max_streams
        complete = 0
        for index in range(streams):
            result = self.walk_stream(reader, str(index), optional=index > 0)
            if not result:
                break
            complete += 1
        self.streams_complete = complete
        if max_streams is None and complete == streams and not self.stopped:
            more = reader.read_byte()
            if more is not None and more in OPCODES:  # a loop of pickle.load calls reads on
                self._facts.append(LimitExceeded("pickle-streams", streams, None, reader.pos - 1))
        return complete

    def walk_stream(self, reader: ByteReader, label: str, *, optional: bool = False) -> bool | None:
        """Walk one stream. True: reached STOP; False: ended early; None: nothing there."""
        if self.stopped:
            return False
        start = reader.pos
        run = Machine(self, reader, label)
        try:
            first = reader.read_byte()
            if first is None:
                if optional:
                    return None
                raise Truncated("empty stream")
            if optional and (first not in OPCODES or first in _PERSID):
                # trailing bytes that are not a pickle ("PK" of an appended zip reads as PERSID,
                # where pickle.load stops): pickle.load never runs anything from them
                return None
            run.loop(first)
        except Truncated as exc:
            run.error(str(exc), reader.pos)
        except OpcodeError as exc:
            run.error(str(exc), run.op_offset)
        except _Stop:
            self.stopped = True
        if optional and not run.done and not run.imports and run.count < 8:
            return None  # trailing bytes after the last stream: pickle.load never reads them
        self._facts.extend(run.errors[:1])
        self._facts.append(
            PickleStream(label, start, run.proto, run.count, reader.pos - start, run.done)
        )
        if run.done and run.stack and label == self.tensor_stream:
            shapes = state_dict_shapes(run.stack[-1])
            if shapes:
                self._facts.append(TensorShapes(shapes))
        return run.done

    def facts(self) -> list[Fact]:
        """All facts gathered so far, imports aggregated per stream."""
        out = list(self._facts)
        for (stream, _), rec in self.imports.items():
            out.append(
                PickleImport(
                    rec.ref, rec.opcode, rec.offset, stream, rec.called, rec.count, rec.evidence
                )
            )
        return out

    # ------------------------------------------------------------- shared helpers
    def limit(self, name: str, maximum: int, value: int | None, offset: int | None) -> None:
        self._facts.append(LimitExceeded(name, maximum, value, offset))
        raise _Stop

    def record_import(self, label: str, ref: GlobalRef, opcode: str, offset: int) -> None:
        key = (label, ref)
        rec = self.imports.get(key)
        if rec is None:
            if len(self.imports) >= 10_000:
                self.limit("distinct-imports", 10_000, None, offset)
            self.imports[key] = ImportRecord(ref, opcode, offset)
        else:
            rec.count += 1

    def mark_called(self, label: str, ref: GlobalRef, call: Call) -> None:
        rec = self.imports.get((label, ref))
        if rec is not None:
            rec.called = True
            if rec.evidence is None:
                rec.evidence = render(call)

    def after_build(self, machine: Machine, inst: Call, state: object) -> None:
        """What the loader reads after a BUILD: joblib's wrappers read their array data."""
        read_after_build(machine, inst, state)

    def add(self, fact: Fact) -> None:
        if len(self._facts) < 10_000:
            self._facts.append(fact)

    def nested(self, data: object, via: GlobalRef, offset: int, label: str) -> bool:
        """Walk bytes a nested loader deserialises. True only for `_load_from_bytes` bytes
        walked whole and cleanly as torch reads them: that call is then judged by its content."""
        if isinstance(data, Skipped):
            self.add(LimitExceeded("nested-pickle-bytes", self.limits.max_kept_bytes, data.size))
            return False
        if not isinstance(data, (bytes, bytearray)):
            return False
        self.add(NestedPickle(via, offset, label, len(data)))
        if self._nest_depth >= self.limits.max_nested_pickles:
            self.add(LimitExceeded("nested-pickle-depth", self.limits.max_nested_pickles, None))
            return False
        self._nest_depth += 1
        try:
            if via == LOAD_FROM_BYTES:
                return self._legacy_torch(bytes(data), f"{label}/nested@{offset}")
            inner = ByteReader(io.BytesIO(bytes(data)), size=len(data))
            self.walk_stream(inner, f"{label}/nested@{offset}")
            return False
        finally:
            self._nest_depth -= 1

    def _legacy_torch(self, data: bytes, label: str) -> bool:
        """`torch.load(BytesIO(data), weights_only=False)` of what `Storage.__reduce__` writes.

        Mirrors torch 2.13 `serialization._legacy_load` (non-tar): five pickles (magic number,
        protocol, sys info, the object with persistent ids, storage keys), then raw storage
        bytes torch copies without unpickling. A zip (`_is_zipfile`: local header magic) or a
        tar would be read another way: never judged clean here.
        """
        reader = ByteReader(io.BytesIO(data), size=len(data))
        before = len(self._facts)
        saved, self.persistent_ok = self.persistent_ok, True
        try:
            complete = 0
            for index in range(_LEGACY_TORCH_PICKLES):
                if not self.walk_stream(reader, f"{label}/{index}"):
                    break
                complete += 1
        finally:
            self.persistent_ok = saved
        failures = (ParseError, PickleUnresolved, LimitExceeded)
        clean = not any(isinstance(f, failures) for f in self._facts[before:])
        other_format = data[:4] == b"PK\x03\x04" or _is_tar(data)
        return complete == _LEGACY_TORCH_PICKLES and clean and not other_format and not self.stopped


def _is_tar(data: bytes) -> bool:
    """Would `tarfile.open(fileobj=..., mode="r:")` (torch's legacy check) accept these bytes?"""
    try:
        tarfile.TarInfo.frombuf(data[:512], "utf-8", "surrogateescape")
    except (tarfile.TarError, ValueError):
        return False
    return True


def _sniff_run(
    head: bytes, limits: Limits, speculative: bool = False
) -> tuple[PickleWalker, Machine, OpcodeError | None]:
    walker = PickleWalker(limits, time.monotonic() + 1.0)
    reader = ByteReader(io.BytesIO(head), size=len(head))
    run = Machine(walker, reader, "sniff")
    run.speculative = speculative
    first = reader.read_byte()
    assert first is not None
    try:
        run.loop(first)
    except OpcodeError as exc:
        return walker, run, exc
    except _Stop:
        pass
    return walker, run, None


def looks_like_pickle(head: bytes, limits: Limits) -> bool:
    """Sniff: does `head` decode as the start of a pickle stream (any protocol)?"""
    if not head or head[0] not in OPCODES:
        return False
    walker, run, _ = _sniff_run(head, limits)
    clean = not run.errors
    if run.done and not run.errors:
        return True
    if head[0] == 0x80 and run.count >= 4 and clean:
        return True
    names_ok = all(_IDENT.match(str(ref)) for (_, ref) in walker.imports)
    if walker.imports and names_ok and run.count >= 3:
        return True
    return clean and run.count >= 64


def runs_code(walker: PickleWalker, run: Machine) -> bool:
    """Would pickle.load call something (or finish) after importing, before it stops?

    An import alone is not enough: a word list starting "cat\\ndog\\n" reads as GLOBAL too.
    """
    if any(isinstance(f, (PickleUnresolved, PickleGlobalMutation)) for f in walker._facts):
        return True
    records = walker.imports.values()
    return bool(records) and (run.done or any(r.called for r in records))


def head_verdict(head: bytes, size: int | None, limits: Limits) -> str:
    """What the first stream of `head` tells a loader-minded sniff: "runs", "unsure" or "no".

    "runs": pickle.load would import and call (or finish) within these bytes. "unsure": the
    stream is consistent up to a length-prefixed value or frame that runs past the head but not
    past the file: only the whole file can decide.
    """
    if not head or head[0] not in OPCODES:
        return "no"
    walker, run, exc = _sniff_run(head, limits, speculative=True)
    if runs_code(walker, run):
        return "runs"
    if isinstance(exc, PastEnd) and len(head) < (size or 0) and exc.end <= (size or 0):
        return "unsure"
    return "no"


def probe_file(f: BinaryIO, size: int | None, limits: Limits) -> bool:
    """Whole-file decision where detection was unsure: is this a pickle a loader would accept?

    Walks the first stream to its end or first error (bounded by the opcode budget): a loadable
    pickle reaches STOP, or imports or calls something before it fails.
    """
    first = f.read(1)
    if not first or first[0] not in OPCODES:
        return False
    walker = PickleWalker(limits, time.monotonic() + limits.max_seconds)
    reader = ByteReader(f, start=1, size=size)
    run = Machine(walker, reader, "probe")
    run.speculative = True  # stop at the first error, as pickle.load does
    try:
        run.loop(first[0])
    except OpcodeError:
        pass
    except _Stop:
        return True  # a budget ran out on bytes pickle.load keeps reading: analyse, report it
    if run.done and not run.errors and run.count >= 2:
        return True
    return runs_code(walker, run)

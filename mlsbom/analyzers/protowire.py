"""A streaming protobuf wire-format reader over a seekable file: fields by number, bounded.

Length-delimited fields are returned as (offset, length) windows so that callers descend only
into the messages they need and skip the rest (weights) by seeking; memory stays small whatever
the file size. Used for ONNX (field numbers from the onnx package's descriptors) and TensorFlow
SavedModel (field numbers from the .proto files; tensorflow is not needed).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5
MAX_DEPTH = 48
MAX_STRING = 1 << 20


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


@dataclass(frozen=True, slots=True)
class Field:
    number: int
    wire: int
    value: int  # the varint, or the offset of a length-delimited payload
    length: int = 0


FIELDS = 20_000_000  # protobuf fields visited per file: a counted budget, not a clock


class FieldBudget(WireError):
    """The counted field budget is spent: a limit, not a malformed file."""


class Reader:
    """Bounded field iteration over `f`; `budget` caps the fields visited in total."""

    def __init__(self, f: BinaryIO, size: int, deadline: float, budget: int = FIELDS) -> None:
        self.f, self.size, self.deadline, self.budget = f, size, deadline, budget

    def _varint(self) -> int:
        result, shift = 0, 0
        while True:
            b = self.f.read(1)
            if not b:
                raise WireError("truncated varint")
            result |= (b[0] & 0x7F) << shift
            if not b[0] & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise WireError("varint longer than 10 bytes")

    def fields(self, start: int, end: int) -> Iterator[Field]:
        """Every field of the message in [start, end)."""
        if end > self.size:
            raise WireError(f"message ends at {end}, beyond the file ({self.size} bytes)")
        pos = start
        while pos < end:
            self.budget -= 1
            if self.budget < 0:
                raise FieldBudget("too many protobuf fields")
            if not self.budget % 4096 and time.monotonic() > self.deadline:
                raise TimeoutError
            self.f.seek(pos)
            key = self._varint()
            number, wire = key >> 3, key & 7
            if number == 0:
                raise WireError(f"field number 0 at byte {pos}")
            if wire == VARINT:
                value = self._varint()
                pos = self.f.tell()
                yield Field(number, wire, value)
            elif wire == LEN:
                length = self._varint()
                offset = self.f.tell()
                if offset + length > end:
                    raise WireError(f"field {number} runs past its message at byte {offset}")
                pos = offset + length
                yield Field(number, wire, offset, length)
            elif wire in (FIXED64, FIXED32):
                pos = self.f.tell() + (8 if wire == FIXED64 else 4)
                yield Field(number, wire, 0)
            else:
                raise WireError(f"unsupported wire type {wire} at byte {pos}")
        if pos != end:
            raise WireError("message overruns its length")

    def text(self, field: Field) -> str:
        """A string field's value (cut at MAX_STRING)."""
        self.f.seek(field.value)
        return self.f.read(min(field.length, MAX_STRING)).decode("utf-8", "replace")

    def message(self, field: Field) -> Iterator[Field]:
        return self.fields(field.value, field.value + field.length)

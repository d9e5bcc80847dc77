"""Byte-level pickle opcode decoding: bounded reads, large payloads skipped rather than buffered."""

from __future__ import annotations

import codecs
import pickletools
import struct
from dataclasses import dataclass
from typing import BinaryIO

MAX_LINE = 64 << 10  # protocol-0 text arguments longer than this are malformed


class OpcodeError(Exception):
    """The byte stream is not a decodable pickle at this point."""


class Truncated(OpcodeError):
    """The stream ended inside an opcode."""


class PastEnd(Truncated):
    """A length-prefixed value or frame runs past the bytes at hand (a head may be too short)."""

    def __init__(self, message: str, end: int) -> None:
        super().__init__(message)
        self.end = end


@dataclass(frozen=True, slots=True)
class Skipped:
    """A payload too large to keep: its type, size and where it starts in the stream."""

    kind: str  # "bytes" | "str" | "bytearray"
    size: int
    offset: int


OPCODES: dict[int, tuple[str, str | None]] = {
    ord(op.code.encode("latin-1")): (op.name, op.arg.name if op.arg else None)
    for op in pickletools.opcodes
}


class ByteReader:
    """A forward-only reader that tracks its position and can skip without buffering."""

    __slots__ = ("_f", "_seekable", "pos", "size")

    def __init__(self, f: BinaryIO, *, start: int = 0, size: int | None = None) -> None:
        self._f = f
        self.pos = start
        self.size = size
        try:
            self._seekable = f.seekable()
        except (OSError, ValueError):
            self._seekable = False

    def read(self, n: int) -> bytes:
        data = self._f.read(n) if n > 0 else b""
        self.pos += len(data)
        if len(data) != n:
            end = self.pos - len(data) + n
            raise PastEnd(f"stream ends after {self.pos} bytes, inside a {n}-byte read", end)
        return data

    def read_byte(self) -> int | None:
        data = self._f.read(1)
        if not data:
            return None
        self.pos += 1
        return data[0]

    def readline(self) -> bytes:
        line = self._f.readline(MAX_LINE + 1)
        self.pos += len(line)
        if not line.endswith(b"\n"):
            if len(line) > MAX_LINE:
                raise OpcodeError(f"text argument longer than {MAX_LINE} bytes")
            raise Truncated("stream ends inside a text argument")
        return line[:-1]

    def text_line(self) -> bytes | Skipped:
        """A protocol-0 string line; pickle.load accepts any length, so long ones are skipped."""
        start = self.pos
        line = self._f.readline(MAX_LINE + 1)
        self.pos += len(line)
        if line.endswith(b"\n"):
            return line[:-1]
        if len(line) <= MAX_LINE:
            raise Truncated("stream ends inside a text argument")
        while True:
            chunk = self._f.readline(1 << 20)
            self.pos += len(chunk)
            if chunk.endswith(b"\n"):
                return Skipped("str", self.pos - start - 1, start)
            if not chunk:
                raise Truncated("stream ends inside a text argument")

    def skip(self, n: int) -> None:
        if n <= 0:
            return
        if self.size is not None and self.pos + n > self.size:
            raise PastEnd(f"payload of {n} bytes runs past the end of the stream", self.pos + n)
        if self._seekable:
            self._f.seek(n, 1)
            self.pos += n
            return
        left = n
        while left:
            chunk = self._f.read(min(left, 1 << 20))
            if not chunk:
                raise Truncated(f"payload of {n} bytes runs past the end of the stream")
            left -= len(chunk)
            self.pos += len(chunk)


def _payload(r: ByteReader, n: int, kind: str, keep: int) -> bytes | Skipped:
    if n < 0:
        raise OpcodeError(f"negative length {n}")
    if n > keep:
        start = r.pos
        r.skip(n)
        return Skipped(kind, n, start)
    return r.read(n)


def _text(data: bytes | Skipped) -> str | Skipped:
    if isinstance(data, Skipped):
        return Skipped("str", data.size, data.offset)
    return data.decode("utf-8", "surrogatepass")


def _quoted(line: bytes) -> str:
    if len(line) >= 2 and line[0] == line[-1] and line[:1] in (b"'", b'"'):
        body = line[1:-1]
        if b"\\" not in body:
            return body.decode("latin-1")
        return codecs.escape_decode(body)[0].decode("latin-1")  # may warn: see engine
    raise OpcodeError("protocol-0 string is not quoted")


def _name_line(r: ByteReader) -> str:
    return r.readline().decode("utf-8", "replace")


def _decimal(line: bytes) -> int | bool:
    if line == b"00":
        return False
    if line == b"01":
        return True
    text = line.rstrip(b"L").decode("ascii", "replace")
    if len(text) > 4300:
        raise OpcodeError("integer literal too long")
    for base in (0, 10):  # _pickle's load_int: strtol(s, 0), then PyLong_FromString(s, 0)
        try:
            return int(text, base)
        except ValueError:
            continue
    raise OpcodeError(f"bad integer literal {text[:40]!r}")


def _long(data: bytes) -> int:
    if len(data) > 4096:
        return 0  # absurd but harmless: the value is never used for anything that matters
    return int.from_bytes(data, "little", signed=True)


def read_arg(r: ByteReader, arg: str, keep: int) -> object:
    """Decode one opcode argument; payloads larger than `keep` become `Skipped`.

    Text that does not decode stops the stream where the unpickler itself would fail.
    """
    try:
        return _read_arg(r, arg, keep)
    except UnicodeDecodeError as exc:
        raise OpcodeError(f"{arg} argument is not valid text: {exc.reason}") from None


def _read_arg(r: ByteReader, arg: str, keep: int) -> object:
    if arg == "uint1":
        return r.read(1)[0]
    if arg == "uint2":
        return int(struct.unpack("<H", r.read(2))[0])
    if arg == "int4":
        return int(struct.unpack("<i", r.read(4))[0])
    if arg == "uint4":
        return int(struct.unpack("<I", r.read(4))[0])
    if arg == "uint8":
        return int(struct.unpack("<Q", r.read(8))[0])
    if arg == "float8":
        return float(struct.unpack(">d", r.read(8))[0])
    if arg == "long1":
        return _long(r.read(r.read(1)[0]))
    if arg == "long4":
        n = struct.unpack("<i", r.read(4))[0]
        if n < 0:
            raise OpcodeError("negative LONG4 length")
        data = _payload(r, n, "bytes", 4096)
        return 0 if isinstance(data, Skipped) else _long(data)
    if arg in ("string1", "bytes1"):
        data = r.read(r.read(1)[0])
        return data.decode("latin-1") if arg == "string1" else data
    if arg == "unicodestring1":
        return r.read(r.read(1)[0]).decode("utf-8", "surrogatepass")
    if arg == "string4":
        n = struct.unpack("<i", r.read(4))[0]
        data = _payload(r, n, "str", keep)
        return data if isinstance(data, Skipped) else data.decode("latin-1")
    if arg in ("bytes4", "unicodestring4"):
        n = struct.unpack("<I", r.read(4))[0]
        data = _payload(r, n, "bytes", keep)
        return _text(data) if arg == "unicodestring4" else data
    if arg in ("bytes8", "unicodestring8", "bytearray8"):
        n = struct.unpack("<Q", r.read(8))[0]
        if n > (1 << 62):
            raise OpcodeError(f"absurd payload length {n}")
        data = _payload(r, n, "bytearray" if arg == "bytearray8" else "bytes", keep)
        return _text(data) if arg == "unicodestring8" else data
    if arg == "stringnl":
        line = r.text_line()
        return line if isinstance(line, Skipped) else _quoted(line)
    if arg == "stringnl_noescape":
        return _name_line(r)
    if arg == "stringnl_noescape_pair":
        return (_name_line(r), _name_line(r))
    if arg == "decimalnl_short" or arg == "decimalnl_long":
        return _decimal(r.readline())
    if arg == "floatnl":
        line = r.text_line()  # pickle.load parses any length: float("1" * 70_000) is inf
        try:
            return 0.0 if isinstance(line, Skipped) else float(line)
        except ValueError:
            raise OpcodeError("bad float literal") from None
    if arg == "unicodestringnl":
        line = r.text_line()
        return line if isinstance(line, Skipped) else line.decode("raw-unicode-escape", "replace")
    raise OpcodeError(f"unknown argument type {arg}")  # pragma: no cover - table is fixed

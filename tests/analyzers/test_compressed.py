"""Every streaming decompressor decodes valid streams exactly, across every chunk boundary.

A valid stream must never be reported malformed (issue 15, item 3). The classes of input: sizes
around the readers' chunk sizes, incompressible and highly compressible data (whose output per
input chunk is tiny or huge), input that arrives a few bytes at a time, and reads of any size.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import random
import zlib
from collections.abc import Callable
from typing import BinaryIO, cast

import lz4.frame
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsbom.sources import DECOMPRESSORS, BytesSource, SourceError, StreamSource, decompressed

CHUNK = 1 << 16
COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "zlib": lambda d: zlib.compress(d, 3),  # joblib's default `compress=3`
    "gzip": lambda d: gzip.compress(d, mtime=0),
    "bzip2": bz2.compress,
    "xz": lambda d: lzma.compress(d, format=lzma.FORMAT_XZ),
    "lzma": lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE),
    "lz4": lambda d: cast(bytes, lz4.frame.compress(d)),
}


class _Trickle(io.RawIOBase):
    """A file whose reads return at most `step` bytes (a slow pipe or a zip member)."""

    def __init__(self, data: bytes, step: int) -> None:
        self._f = io.BytesIO(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._f.read(min(len(buffer), self._step))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        return self._f.read(self._step if size < 0 else min(size, self._step))


def _decode(codec: str, blob: bytes, *, step: int | None = None, read_size: int = -1) -> bytes:
    if step is None:
        source: BytesSource | StreamSource = BytesSource(blob)
    else:
        source = StreamSource(lambda: cast(BinaryIO, _Trickle(blob, step)), None)
    out = bytearray()
    with decompressed(source, codec, 1 << 30).open() as f:
        while chunk := f.read(read_size):
            out += chunk
            if read_size < 0:
                continue
    return bytes(out)


def _random(n: int, seed: int = 15) -> bytes:
    return random.Random(seed).randbytes(n)


def _text(n: int) -> bytes:
    words = [b"weight", b"bias", b"layer", b"0.125", b"\x00\x00\x80?", b"tree", b"node"]
    rng = random.Random(n)
    return b" ".join(rng.choice(words) for _ in range(n // 5 + 1))[:n]


SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 3, 8192 * 3 - 1]
DATA = {
    **{f"random-{n}": _random(n) for n in SIZES},
    **{f"zeros-{n}": bytes(n) for n in SIZES},
    **{f"text-{n}": _text(n) for n in SIZES},
    "zeros-8MiB": bytes(8 << 20),  # tiny input, huge output: many decoder calls per input chunk
    "random-3MiB": _random(3 << 20),  # output per input chunk barely larger than the chunk
    "mixed-2MiB": (_random(CHUNK) + bytes(5 * CHUNK) + _text(CHUNK)) * 4,
}


def test_every_codec_is_covered() -> None:
    assert set(COMPRESS) == set(DECOMPRESSORS)


@pytest.mark.parametrize("codec", sorted(COMPRESS))
@pytest.mark.parametrize("name", sorted(DATA))
def test_valid_stream_decodes_exactly(codec: str, name: str) -> None:
    data = DATA[name]
    assert _decode(codec, COMPRESS[codec](data)) == data


@pytest.mark.parametrize("codec", sorted(COMPRESS))
@pytest.mark.parametrize("step", [1, 7, CHUNK - 1, CHUNK + 1])
def test_input_arriving_in_small_pieces(codec: str, step: int) -> None:
    data = bytes(CHUNK * 3) + _text(CHUNK + 5) + _random(1000)
    blob = COMPRESS[codec](data)
    assert _decode(codec, blob, step=step) == data


@pytest.mark.parametrize("codec", sorted(COMPRESS))
@pytest.mark.parametrize("read_size", [1, 3, CHUNK - 1, CHUNK, CHUNK + 1, 1 << 20])
def test_reads_of_any_size(codec: str, read_size: int) -> None:
    data = bytes(CHUNK * 5) + _text(3 * CHUNK) + bytes(CHUNK) + _random(77)
    if read_size < 8:
        data = data[: CHUNK + 9]  # keep byte-at-a-time reads fast
    assert _decode(codec, COMPRESS[codec](data), read_size=read_size) == data


@settings(max_examples=60, deadline=None)
@given(
    codec=st.sampled_from(sorted(COMPRESS)),
    parts=st.lists(
        st.tuples(st.sampled_from(["zeros", "random", "text"]), st.integers(0, 3 * CHUNK)),
        max_size=4,
    ),
    step=st.sampled_from([None, 1, 13, 4096, CHUNK + 1]),
    read_size=st.sampled_from([-1, 5, 4097, CHUNK, 3 * CHUNK]),
)
def test_decoding_property(
    codec: str, parts: list[tuple[str, int]], step: int | None, read_size: int
) -> None:
    make = {"zeros": bytes, "random": _random, "text": _text}
    data = b"".join(make[kind](n) for kind, n in parts)
    blob = COMPRESS[codec](data)
    if step == 1 and len(blob) > 20_000:
        step = 97
    assert _decode(codec, blob, step=step, read_size=read_size) == data


@pytest.mark.parametrize("codec", sorted(COMPRESS))
def test_truncated_stream_is_an_error_not_short_data(codec: str) -> None:
    data = _text(3 * CHUNK)
    blob = COMPRESS[codec](data)
    with pytest.raises(SourceError):
        _decode(codec, blob[: len(blob) // 2])


def test_zlib_stops_at_its_end_marker_as_joblib_does() -> None:
    """joblib 1.6 `BinaryZlibFile` never returns bytes after the first stream's end."""
    data = _text(CHUNK + 1)
    assert _decode("zlib", zlib.compress(data) + b"trailing bytes") == data

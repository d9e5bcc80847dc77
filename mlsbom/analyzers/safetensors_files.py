"""safetensors: bounded header read, the checks the safetensors library makes, and the parser
differentials it accepts (duplicate keys, extra fields, leading whitespace, non-string metadata).

The format cannot run code; a header that loaders read differently can still hide tensors, and a
header safetensors rejects means the file is not what it claims. Only the header is read.
"""

from __future__ import annotations

import json
import struct

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.facts import (
    Fact,
    LimitExceeded,
    ParseError,
    SafetensorsQuirk,
    TensorShapes,
    TensorSummary,
)
from mlsbom.models import Format

MAX_HEADER = 100_000_000  # safetensors' own cap
DTYPE_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1, "I16": 2, "U16": 2,
    "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8, "C64": 8,
}  # fmt: skip
SUB_BYTE = {"F4": 4, "F6_E2M3": 6, "F6_E3M2": 6}  # bits per element
_ENTRY_KEYS = frozenset({"dtype", "shape", "data_offsets"})


class _Header:
    """JSON object pairs, remembering duplicate keys (json keeps the last one, as safetensors)."""

    def __init__(self) -> None:
        self.duplicates: list[str] = []

    def hook(self, pairs: list[tuple[str, object]]) -> dict[str, object]:
        out: dict[str, object] = {}
        for key, value in pairs:
            if key in out and len(self.duplicates) < 20:
                self.duplicates.append(key)
            out[key] = value
        return out


def _nbytes(dtype: str, shape: list[int]) -> int | None:
    count = 1
    for d in shape:
        count *= d
    if dtype in DTYPE_BYTES:
        return count * DTYPE_BYTES[dtype]
    bits = SUB_BYTE.get(dtype)
    return None if bits is None else (count * bits + 7) // 8


def check_header(header: dict[str, object], data_len: int | None) -> tuple[list[Fact], list[str]]:
    """(facts, reasons safetensors would reject it) for a parsed header."""
    facts: list[Fact] = []
    errors: list[str] = []
    meta = header.get("__metadata__")
    if meta is not None:
        if not isinstance(meta, dict):
            errors.append("__metadata__ is not an object")
        elif any(not isinstance(v, str) for v in meta.values()):
            bad = next(k for k, v in meta.items() if not isinstance(v, str))
            facts.append(SafetensorsQuirk("metadata-not-string", f"__metadata__[{bad[:80]!r}]"))
    spans: list[tuple[int, int, str]] = []
    shapes: list[tuple[str, tuple[int, ...]]] = []
    dtypes: set[str] = set()
    params = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict):
            errors.append(f"{name[:80]!r} is not a tensor entry")
            continue
        extra = set(info) - _ENTRY_KEYS
        if extra:
            facts.append(SafetensorsQuirk("extra-field", f"{name[:80]}: {sorted(extra)[:5]}"))
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if not isinstance(dtype, str) or (dtype not in DTYPE_BYTES and dtype not in SUB_BYTE):
            errors.append(f"{name[:80]!r}: unknown dtype {str(dtype)[:20]!r}")
            continue
        if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
        ):
            errors.append(f"{name[:80]!r}: shape is not a list of sizes")
            continue
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1]
        ):
            errors.append(f"{name[:80]!r}: bad data_offsets")
            continue
        expected = _nbytes(dtype, shape)
        if expected is not None and expected != offsets[1] - offsets[0]:
            errors.append(f"{name[:80]!r}: {offsets[1] - offsets[0]} bytes for {dtype}{shape}")
        dtypes.add(dtype)
        count = 1
        for d in shape:
            count *= d
        params += count
        spans.append((offsets[0], offsets[1], name))
        if len(shapes) < 100_000:
            shapes.append((name, tuple(shape)))
    spans.sort()
    end = 0
    for begin, stop, name in spans:
        if begin != end:
            errors.append(f"{name[:80]!r}: {'overlaps' if begin < end else 'gap before'} data")
            break
        end = stop
    if data_len is not None and not errors and end != data_len:
        errors.append(f"tensors cover {end} bytes of a {data_len}-byte data section")
    facts.append(TensorSummary(len(spans), tuple(sorted(dtypes)), params))
    if shapes:
        facts.append(TensorShapes(tuple(sorted(shapes))))
    return facts, errors


class SafetensorsAnalyzer:
    formats: tuple[Format, ...] = (Format.SAFETENSORS,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        if len(head) < 10:
            return None
        (n,) = struct.unpack("<Q", head[:8])
        if n < 2:
            return None  # a length beyond the file is analysed (and reported), not ignored
        return Format.SAFETENSORS if head[8:].lstrip(b" \t\r\n")[:1] == b"{" else None

    def analyze(self, job: Job) -> Analysis:
        if len(job.head) < 8:
            return Analysis([ParseError("too short for a safetensors header", 0)])
        (n,) = struct.unpack("<Q", job.head[:8])
        if n > MAX_HEADER:
            return Analysis([LimitExceeded("safetensors-header", MAX_HEADER, n, 0)])
        if job.size is not None and n > job.size - 8:
            return Analysis([ParseError(f"header length {n} is beyond the file's end", 0)])
        with job.source.open() as f:
            f.read(8)
            raw = f.read(n)
        if len(raw) < n:
            return Analysis([ParseError("safetensors header truncated", 8)])
        facts: list[Fact] = []
        if raw[:1] != b"{":
            facts.append(SafetensorsQuirk("leading-whitespace", "bytes before '{'"))
        parser = _Header()
        try:
            header = json.loads(raw.decode("utf-8"), object_pairs_hook=parser.hook)
        except (ValueError, RecursionError) as exc:
            return Analysis([*facts, ParseError(f"safetensors header is not JSON: {exc}", 8)])
        if not isinstance(header, dict):
            return Analysis([*facts, ParseError("safetensors header is not a JSON object", 8)])
        facts.extend(SafetensorsQuirk("duplicate-key", k[:80]) for k in parser.duplicates)
        data_len = job.size - 8 - n if job.size is not None else None
        checked, errors = check_header(header, data_len)
        facts.extend(checked)
        facts.extend(ParseError(f"safetensors rejects this file: {e}", 8) for e in errors[:5])
        return Analysis(facts)

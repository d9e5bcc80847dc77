"""GGUF (llama.cpp) models: bounded parsing of the header, key/values and tensor infos.

Reads stream through a buffer; numeric arrays are skipped by seeking, strings are read only for the
keys the SBOM and the checks need. `tokenizer.chat_template*` values become child artefacts that
the chat template analyser judges (llama.cpp and serving stacks render them).
"""

from __future__ import annotations

import io
import struct
import time
from collections import Counter
from typing import BinaryIO

from mlsbom.analyzers.base import Analysis, Child, Hint, Job
from mlsbom.facts import Fact, GgufModel, LimitExceeded, ParseError
from mlsbom.models import Format
from mlsbom.sources import BytesSource

MAGIC = b"GGUF"
MAX_KV = 1_000_000
MAX_TENSORS = 10_000_000
MAX_STRING = 16 << 20  # one string value (chat templates are a few KB; vocab entries tiny)
MAX_ARRAY = 1 << 32
MAX_DIMS = 8
MAX_VALUES = 20_000_000  # values read (array items included): a counted budget, not a clock
_SCALARS = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_INTS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 7: "<?", 10: "<Q", 11: "<q"}
GGML_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
    10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS",
    17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S",
    23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16",
    34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
}  # fmt: skip
_WANTED = ("general.architecture", "general.name", "general.file_type", "general.license",
           "general.quantization_version", "general.basename", "general.size_label")  # fmt: skip


class _Truncated(Exception):
    pass


class _TooManyValues(Exception):
    pass


class _Reader:
    def __init__(self, f: BinaryIO, version: int, deadline: float) -> None:
        self.f = f
        self.wide = version >= 2
        self.deadline = deadline
        self.pos = 0
        self.values = 0

    def take(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) < n:
            raise _Truncated(f"truncated at byte {self.pos + len(data)}")
        self.pos += n
        return data

    def skip(self, n: int) -> None:
        if n <= 1 << 16:
            self.take(n)
            return
        self.f.seek(n - 1, io.SEEK_CUR)
        self.pos += n - 1
        self.take(1)  # fails when the file is shorter than the skip

    def count(self) -> int:
        fmt = "<Q" if self.wide else "<I"
        value: int = struct.unpack(fmt, self.take(8 if self.wide else 4))[0]
        return value

    def u32(self) -> int:
        value: int = struct.unpack("<I", self.take(4))[0]
        return value

    def string(self, keep: bool) -> str | None:
        n = self.count()
        if n > MAX_STRING:
            raise ValueError(f"string of {n} bytes at byte {self.pos}")
        if not keep:
            self.skip(n)
            return None
        return self.take(n).decode("utf-8", "replace")

    def value(self, vtype: int, keep: bool, depth: int = 0) -> object:
        self.values += 1
        if self.values > MAX_VALUES:
            raise _TooManyValues
        if not self.values % 4096 and time.monotonic() > self.deadline:
            raise TimeoutError  # last resort: the value count decides first
        if vtype in _SCALARS:
            raw = self.take(_SCALARS[vtype])
            if not keep:
                return None
            if vtype == 6:
                return struct.unpack("<f", raw)[0]
            if vtype == 12:
                return struct.unpack("<d", raw)[0]
            return struct.unpack(_INTS[vtype], raw)[0]
        if vtype == 8:
            return self.string(keep)
        if vtype == 9:
            if depth > 3:
                raise ValueError("arrays nested too deeply")
            item_type, n = self.u32(), self.count()
            if n > MAX_ARRAY:
                raise ValueError(f"array of {n} items")
            if item_type in _SCALARS:
                self.skip(_SCALARS[item_type] * n)
                return None
            for _ in range(n):
                self.value(item_type, False, depth + 1)
            return None
        raise ValueError(f"unknown value type {vtype} at byte {self.pos}")


class GgufAnalyzer:
    formats: tuple[Format, ...] = (Format.GGUF,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        if head.startswith(MAGIC) and len(head) >= 8:
            (version,) = struct.unpack("<I", head[4:8])
            return Format.GGUF if 1 <= version <= 16 else None
        return None

    def analyze(self, job: Job) -> Analysis:
        if len(job.head) < 24 or not job.head.startswith(MAGIC):
            return Analysis([ParseError("not a GGUF file: no GGUF header", 0)])
        facts: list[Fact] = []
        children: list[Child] = []
        with job.source.open() as raw:
            f = io.BufferedReader(raw, 1 << 20) if isinstance(raw, io.RawIOBase) else raw
            f.read(4)
            (version,) = struct.unpack("<I", f.read(4))
            reader = _Reader(f, version, job.deadline)
            reader.pos = 8
            try:
                self._parse(reader, version, facts, children)
            except _Truncated as exc:
                facts.append(ParseError(f"GGUF {exc}", reader.pos))
            except ValueError as exc:
                facts.append(ParseError(f"GGUF: {exc}", reader.pos))
            except _TooManyValues:
                facts.append(LimitExceeded("gguf-values", MAX_VALUES, None, reader.pos))
            except TimeoutError:
                seconds = int(job.limits.max_seconds)
                facts.append(LimitExceeded("seconds", seconds, None, reader.pos))
        return Analysis(facts, children)

    def _parse(self, r: _Reader, version: int, facts: list[Fact], children: list[Child]) -> None:
        tensors, kv_count = r.count(), r.count()
        if kv_count > MAX_KV or tensors > MAX_TENSORS:
            facts.append(LimitExceeded("gguf-entries", MAX_KV, max(kv_count, tensors), r.pos))
            return
        meta: dict[str, object] = {}
        for _ in range(kv_count):
            key = r.string(True) or ""
            vtype = r.u32()
            template = key.startswith("tokenizer.chat_template")
            value = r.value(vtype, keep=key in _WANTED or template)
            if template and isinstance(value, str):
                children.append(Child(key, BytesSource(value.encode()), force=Format.CHAT_TEMPLATE))
            elif key in _WANTED:
                meta[key] = value
        types: Counter[str] = Counter()
        params = 0
        for _ in range(tensors):
            r.string(False)
            dims = r.u32()
            if dims > MAX_DIMS:
                raise ValueError(f"tensor with {dims} dimensions")
            count = 1
            for _ in range(dims):
                count *= r.count()
            ttype = r.u32()
            r.take(8)  # data offset
            types[GGML_TYPES.get(ttype, f"type{ttype}")] += 1
            params += count

        def text(key: str) -> str | None:
            value = meta.get(key)
            return value[:200] if isinstance(value, str) else None

        quant = types.most_common(1)[0][0] if types else None
        facts.append(
            GgufModel(
                version,
                text("general.architecture"),
                text("general.name"),
                text("general.license"),
                quant,
                tensors,
                params,
                kv_count,
            )
        )

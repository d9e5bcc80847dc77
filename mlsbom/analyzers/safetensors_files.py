"""safetensors: bounded header read and a tensor summary (the format cannot run code)."""

from __future__ import annotations

import json
import struct

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.facts import Fact, LimitExceeded, ParseError, TensorSummary
from mlsbom.models import Format

MAX_HEADER = 100_000_000  # safetensors' own cap


class SafetensorsAnalyzer:
    formats: tuple[Format, ...] = (Format.SAFETENSORS,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        if len(head) < 10:
            return None
        (n,) = struct.unpack("<Q", head[:8])
        if n < 2 or (hint.size is not None and n > hint.size - 8):
            return None
        return Format.SAFETENSORS if head[8:].lstrip(b" \t\r\n")[:1] == b"{" else None

    def analyze(self, job: Job) -> Analysis:
        (n,) = struct.unpack("<Q", job.head[:8])
        if n > MAX_HEADER:
            return Analysis([LimitExceeded("safetensors-header", MAX_HEADER, n, 0)])
        with job.source.open() as f:
            f.read(8)
            raw = f.read(n)
        if len(raw) < n:
            return Analysis([ParseError("safetensors header truncated", 8)])
        try:
            header = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            return Analysis([ParseError(f"safetensors header is not JSON: {exc}", 8)])
        if not isinstance(header, dict):
            return Analysis([ParseError("safetensors header is not a JSON object", 8)])
        facts: list[Fact] = []
        dtypes: set[str] = set()
        params = 0
        tensors = 0
        for name, info in header.items():
            if name == "__metadata__" or not isinstance(info, dict):
                continue
            tensors += 1
            dtypes.add(str(info.get("dtype")))
            shape = info.get("shape")
            if isinstance(shape, list) and all(isinstance(d, int) for d in shape):
                count = 1
                for d in shape:
                    count *= d
                params += count
        facts.append(TensorSummary(tensors, tuple(sorted(dtypes)), params))
        return Analysis(facts)

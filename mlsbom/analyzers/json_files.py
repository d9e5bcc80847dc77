"""JSON files: parsed once (bounded) and handed to the inspectors that want their name."""

from __future__ import annotations

import json

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.analyzers.inspect_hooks import json_inspectors, merge
from mlsbom.analyzers.plain import is_text
from mlsbom.facts import LimitExceeded, ParseError
from mlsbom.models import Format

MAX_JSON_BYTES = 16 << 20  # configs are small; larger JSON (vocabularies) is only inventoried


class JsonAnalyzer:
    formats: tuple[Format, ...] = (Format.JSON,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        body = head.lstrip(b" \t\r\n\xef\xbb\xbf")
        start, rest = body[:1], body[1:].lstrip(b" \t\r\n")[:1]
        looks_json = (start == b"{" and rest in (b'"', b"}")) or (
            start == b"[" and rest != b"" and rest in b'"{[]-0123456789'
        )
        if not looks_json or not is_text(head):
            return None
        return Format.JSON

    def analyze(self, job: Job) -> Analysis:
        name = job.ref.name
        wanted = [i for i in json_inspectors() if i.wants(name)]
        if not wanted:
            return Analysis()
        if job.size is not None and job.size > MAX_JSON_BYTES:
            return Analysis([LimitExceeded("json-bytes", MAX_JSON_BYTES, job.size)])
        with job.source.open() as f:
            raw = f.read(MAX_JSON_BYTES + 1)
        if len(raw) > MAX_JSON_BYTES:
            return Analysis([LimitExceeded("json-bytes", MAX_JSON_BYTES)])
        try:
            value = json.loads(raw.decode("utf-8-sig"))
        except (ValueError, RecursionError) as exc:
            return Analysis([ParseError(f"not valid JSON: {exc}")])
        return merge([i.inspect(name, value) for i in wanted])

"""JSON files: parsed once (bounded) and handed to the inspectors that want their name."""

from __future__ import annotations

import json
import re

from mlsbom.analyzers.base import Analysis, Hint, Job, merge
from mlsbom.analyzers.inspect_hooks import json_inspectors
from mlsbom.analyzers.plain import is_text
from mlsbom.facts import LimitExceeded, ParseError
from mlsbom.models import Format

MAX_JSON_BYTES = 16 << 20  # configs are small; larger JSON (vocabularies) is only inventoried
MAX_KEY_SCAN_BYTES = 1 << 30  # oversized JSON that only generic inspectors want: keys searched
_CHUNK = 8 << 20
# a JSON string that may spell one of those keys: their letters and ASCII \u00XX escapes
_MAYBE_KEY = re.compile(rb'"(?:[_targeclsph]|\\u00[0-7][0-9a-fA-F]){8,60}"')
_CONFIG_KEYS = frozenset({"_target_", "class_path"})  # modules.json is small


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
        generic = all(i.generic for i in wanted)
        if job.size is not None and job.size > MAX_JSON_BYTES:
            return _oversized(job, generic)
        with job.source.open() as f:
            raw = f.read(MAX_JSON_BYTES + 1)
        if len(raw) > MAX_JSON_BYTES:
            return _oversized(job, generic)
        try:
            value = json.loads(raw.decode("utf-8-sig"))
        except (ValueError, RecursionError) as exc:
            # json.load in a loader fails the same way: only files a named loader reads count
            return Analysis() if generic else Analysis([ParseError(f"not valid JSON: {exc}")])
        return merge([i.inspect(name, value) for i in wanted])


def _oversized(job: Job, generic: bool) -> Analysis:
    """Too large to parse: a limit finding, unless only generic inspectors want it and no key
    they look for appears (vocabularies and tokenizer.json files are routinely this large)."""
    if not generic or _has_config_key(job):
        return Analysis([LimitExceeded("json-bytes", MAX_JSON_BYTES, job.size)])
    return Analysis()


def _has_config_key(job: Job) -> bool:
    """Whether a string that decodes (escapes included) to an instantiation key appears."""
    tail = b""
    read = 0
    with job.source.open() as f:
        while chunk := f.read(_CHUNK):
            read += len(chunk)
            if read > MAX_KEY_SCAN_BYTES:
                return True  # fail closed
            data = tail + chunk
            for m in _MAYBE_KEY.finditer(data):
                try:
                    if json.loads(m.group(0)) in _CONFIG_KEYS:
                        return True
                except ValueError:
                    continue
            tail = data[-400:]
    return False

"""Keras models: the `.keras` config.json (handed over by the zip analyser) and HDF5 `.h5` files.

Loading runs code through Lambda layers (marshalled bytecode), objects from modules outside Keras,
`TorchModuleWrapper` (a pickled torch module) and configs that turn unsafe deserialisation on.
HDF5 attributes are read by h5py in a child process with a timeout: its C library is not built
for hostile files, and a crash there must not take the scanner down.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from mlsbom.analyzers.base import Analysis, Child, Hint, Job
from mlsbom.analyzers.python_code import read_text
from mlsbom.facts import Fact, LimitExceeded, ParseError
from mlsbom.models import Format
from mlsbom.rules import shipped_lists
from mlsbom.sources import BytesSource, FileSource

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
MAX_CONFIG = 32 << 20
MAX_NODES = 500_000
PROBE_SECONDS = 30


@dataclass(frozen=True, slots=True)
class KerasObject(Fact):
    """A config object loading would deserialise: a Lambda, or a class or function outside Keras."""

    kind: ClassVar[str] = "keras-object"
    role: str  # lambda | foreign-module | torch-module-wrapper | custom-object
    module: str
    class_name: str
    evidence: str


@dataclass(frozen=True, slots=True)
class KerasSetting(Fact):
    """A config value that weakens or extends loading: unsafe deserialisation, remote files."""

    kind: ClassVar[str] = "keras-setting"
    setting: str
    evidence: str


def _allowed_module(module: str) -> bool:
    return any(fnmatch.fnmatchcase(module, p) for p in shipped_lists().get("keras-modules", ()))


def _objects(root: object) -> Iterator[dict[str, object]]:
    stack = [root]
    seen = 0
    while stack and seen < MAX_NODES:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _lambda_code(config: object) -> str:
    function = config.get("function") if isinstance(config, dict) else None
    if isinstance(function, list) and function and isinstance(function[0], str):
        return function[0][:80]  # legacy: [base64 marshal, defaults, closure]
    if isinstance(function, dict):
        inner = function.get("config")
        code = inner.get("code") if isinstance(inner, dict) else inner
        return str(code)[:80]
    return ""


def config_facts(config: object) -> tuple[list[Fact], list[Child]]:
    """Facts and child artefacts (pickled torch modules) from a parsed Keras config."""
    facts: list[Fact] = []
    children: list[Child] = []
    for obj in _objects(config):
        cls = obj.get("class_name")
        module = obj.get("module")
        cls_name = cls if isinstance(cls, str) else ""
        mod_name = module if isinstance(module, str) else ""
        if cls_name == "Lambda":
            code = _lambda_code(obj.get("config"))
            facts.append(KerasObject("lambda", mod_name, cls_name, code or "(no code)"))
        elif cls_name == "TorchModuleWrapper":
            facts.append(KerasObject("torch-module-wrapper", mod_name, cls_name, "pickled module"))
            inner = obj.get("config")
            blob = inner.get("module") if isinstance(inner, dict) else None
            if isinstance(blob, str):
                try:
                    data = base64.b64decode(blob[:MAX_CONFIG], validate=False)
                except (binascii.Error, ValueError):
                    data = b""
                if data:
                    children.append(
                        Child("TorchModuleWrapper.module", BytesSource(data), force=Format.PICKLE)
                    )
        elif mod_name and cls_name and not _allowed_module(mod_name):
            evidence = f"{mod_name}.{cls_name}"
            facts.append(KerasObject("foreign-module", mod_name, cls_name, evidence))
        registered = obj.get("registered_name")
        if isinstance(registered, str) and registered.startswith("Custom>"):
            facts.append(KerasObject("custom-object", mod_name, cls_name, registered[:80]))
        for key, value in obj.items():
            if key == "enable_unsafe_deserialization" or (key == "safe_mode" and value is False):
                facts.append(KerasSetting("unsafe-deserialization", f"{key} = {value!r}"[:80]))
            elif isinstance(value, str) and (
                value.startswith(("http://", "https://", "ftp://")) or "get_file" in value
            ):
                facts.append(KerasSetting("remote-file", f"{key} = {value[:80]!r}"))
    return list(dict.fromkeys(facts)), children


def _parse_config(text: str, where: str) -> tuple[list[Fact], list[Child]]:
    try:
        config = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return [ParseError(f"{where} is not valid JSON: {type(exc).__name__}")], []
    return config_facts(config)


def _probe(path: str) -> dict[str, object] | str:
    try:
        proc = subprocess.run(  # noqa: S603 - our own module, the path as one argument
            [sys.executable, "-m", "mlsbom.analyzers._h5_probe", path],
            capture_output=True,
            timeout=PROBE_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"h5py did not finish within {PROBE_SECONDS} s"
    if proc.returncode != 0:
        last = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["crashed"]
        return f"h5py could not read it: {last[0][:200]}"
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        return "h5py probe returned no result"
    return result if isinstance(result, dict) else "h5py probe returned no result"


class KerasAnalyzer:
    formats: tuple[Format, ...] = (Format.KERAS_CONFIG, Format.HDF5)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return Format.HDF5 if head.startswith(HDF5_MAGIC) else None

    def analyze(self, job: Job) -> Analysis:
        if job.format is Format.KERAS_CONFIG:
            text, facts = read_text(job, MAX_CONFIG)
            if text is None:
                return Analysis(facts)
            found, children = _parse_config(text, "config.json")
            return Analysis(found, children)
        return self._hdf5(job)

    def _hdf5(self, job: Job) -> Analysis:
        if isinstance(job.source, FileSource):
            result = _probe(str(job.source.path))
        else:
            if job.size is not None and job.size > job.limits.max_member_bytes:
                return Analysis([LimitExceeded("member-bytes", job.limits.max_member_bytes)])
            fd, tmp = tempfile.mkstemp(suffix=".h5")
            try:
                with os.fdopen(fd, "wb") as out, job.source.open() as f:
                    while chunk := f.read(1 << 20):
                        out.write(chunk)
                result = _probe(tmp)
            finally:
                os.unlink(tmp)
        if isinstance(result, str):
            return Analysis([ParseError(result)])
        facts: list[Fact] = []
        children: list[Child] = []
        for key in ("model_config", "training_config"):
            value = result.get(key)
            if isinstance(value, str):
                found, kids = _parse_config(value, key)
                facts.extend(found)
                children.extend(kids)
        return Analysis(facts, children)

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

from mlsbom.analyzers.base import Analysis, Child, Hint, Job
from mlsbom.analyzers.python_code import read_text
from mlsbom.facts import Fact, Hdf5Reference, KerasObject, KerasSetting, LimitExceeded, ParseError
from mlsbom.lists import Lists
from mlsbom.loader_paths import loader_path, shown
from mlsbom.models import Format
from mlsbom.sources import BytesSource, FileSource

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
MAX_CONFIG = 32 << 20
MAX_NODES = 500_000
MAX_FACTS = 500
PROBE_SECONDS = 30
LAMBDA_CLASSES = frozenset({"Lambda", "__lambda__", "__function__"})
TF_OP_LAMBDAS = frozenset({"TFOpLambda", "SlicingOpLambda"})
# layer options that are file paths when given as strings (vocabularies, lookup tables, assets)
PATH_KEYS = frozenset(
    {"vocabulary", "vocabulary_file", "vocab_file", "vocabulary_path", "filename", "file_path",
     "filepath", "path", "table_path", "asset_path", "assets_dir", "idf_weights",
     "stop_words_file", "merges", "merges_file", "sequence_length_file", "proto"}
)  # fmt: skip


def _allowed_module(module: str, keras: tuple[str, ...], class_name: str = "") -> bool:
    """Whether `module` is one of Keras's own (`keras` holds the `keras-modules` list)."""
    if module == "builtins" and class_name == "function":
        return True  # keras.saving resolves these in keras.activations/losses/metrics… only
    return any(fnmatch.fnmatchcase(module, p) for p in keras)


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
    if not isinstance(config, dict):
        return ""
    function = config.get("function", config.get("value", config.get("code")))
    if isinstance(function, list) and function and isinstance(function[0], str):
        return function[0][:80]  # legacy: [base64 marshal, defaults, closure]
    if isinstance(function, str):
        return function[:80]
    if isinstance(function, dict):
        inner = function.get("config")
        code = inner.get("code", inner.get("value")) if isinstance(inner, dict) else inner
        return str(code)[:80]
    return ""


def _text(obj: dict[str, object], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _function_facts(
    obj: dict[str, object], cls_name: str, mod_name: str, in_lambda: bool, lists: Lists
) -> list[Fact]:
    """Serialized functions: Keras 3 `__lambda__`/`function` objects, Keras 2 Lambda configs."""
    if cls_name in LAMBDA_CLASSES and not in_lambda:
        code = _lambda_code(obj.get("config"))
        return [KerasObject("lambda", mod_name, cls_name, code or "(no code)")]
    lambdas = obj.get("function_type") == "lambda" or obj.get("output_shape_type") == "lambda"
    if lambdas and not in_lambda:
        return [KerasObject("lambda", mod_name, "function_type=lambda", _lambda_code(obj))]
    module = _text(obj, "module")
    foreign = bool(module) and not _allowed_module(module, lists["keras-modules"])
    if obj.get("function_type") == "function" and foreign:
        name = _text(obj, "function")[:80]
        return [KerasObject("foreign-module", module, name, f"{module}.{name}")]
    if cls_name in TF_OP_LAMBDAS:
        inner = obj.get("config")
        name = _text(inner, "function") if isinstance(inner, dict) else ""
        if any(fnmatch.fnmatchcase(name, p) for p in lists["keras-tf-functions"]):
            return [KerasObject("foreign-module", "tensorflow", name[:80], f"tf.{name[:80]}")]
    return []


def _torch_wrapper(
    obj: dict[str, object], mod_name: str, cls_name: str
) -> tuple[Fact, list[Child]]:
    inner = obj.get("config")
    blob = inner.get("module") if isinstance(inner, dict) else None
    children: list[Child] = []
    if isinstance(blob, str):
        try:
            data = base64.b64decode(blob[:MAX_CONFIG], validate=False)
        except (binascii.Error, ValueError):
            data = b""
        if data:
            children.append(
                Child("TorchModuleWrapper.module", BytesSource(data), force=Format.PICKLE)
            )
    return KerasObject("torch-module-wrapper", mod_name, cls_name, "pickled module"), children


def _settings(obj: dict[str, object], cls_name: str) -> Iterator[Fact]:
    for key, value in obj.items():
        if key == "enable_unsafe_deserialization" or (key == "safe_mode" and value is False):
            yield KerasSetting("unsafe-deserialization", f"{key} = {value!r}"[:80])
        elif not isinstance(value, str):
            continue
        elif key in PATH_KEYS and value.strip():
            yield loader_path("keras", f"{cls_name or 'config'}.{key}", value)
        elif value.startswith(("http://", "https://", "ftp://")) or "get_file" in value:
            yield KerasSetting("remote-file", f"{key} = {value[:80]!r}")


def config_facts(config: object, lists: Lists) -> tuple[list[Fact], list[Child]]:
    """Facts and child artefacts (pickled torch modules) from a parsed Keras config; modules
    outside the `keras-modules` list of `lists` are foreign, and so are the `tf.*` functions of
    its `keras-tf-functions` list that a TFOpLambda layer calls.

    The whole tree is walked: functions and classes can sit in any layer option (activation,
    initializer, regularizer, constraint), in compile configs (loss, metrics, optimizer) and in
    nested models, whatever the Keras version that wrote them.
    """
    keras = lists["keras-modules"]
    facts: list[Fact] = []
    children: list[Child] = []
    lambda_configs: set[int] = set()  # a Lambda layer's own config says function_type again
    for obj in _objects(config):
        cls_name, mod_name = _text(obj, "class_name"), _text(obj, "module")
        if cls_name in LAMBDA_CLASSES:
            inner = obj.get("config")
            lambda_configs.add(id(inner))
            if isinstance(inner, dict):
                lambda_configs.add(id(inner.get("function")))
        found = _function_facts(obj, cls_name, mod_name, id(obj) in lambda_configs, lists)
        facts.extend(found)
        if cls_name == "TorchModuleWrapper":
            fact, kids = _torch_wrapper(obj, mod_name, cls_name)
            facts.append(fact)
            children.extend(kids)
        elif not found and mod_name and cls_name and not _allowed_module(mod_name, keras, cls_name):
            name = _text(obj, "config") if cls_name == "function" else cls_name
            facts.append(
                KerasObject("foreign-module", mod_name, cls_name, f"{mod_name}.{name[:80]}")
            )
        registered = _text(obj, "registered_name")
        package = registered.partition(">")[0]
        if ">" in registered and not _allowed_module(package, keras):
            facts.append(KerasObject("custom-object", mod_name, cls_name, registered[:80]))
        facts.extend(_settings(obj, cls_name))
    if len(facts) > MAX_FACTS:
        facts = [*facts[:MAX_FACTS], LimitExceeded("keras-facts", MAX_FACTS, len(facts))]
    return list(dict.fromkeys(facts)), children


def _parse_config(text: str, where: str, lists: Lists) -> tuple[list[Fact], list[Child]]:
    try:
        config = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return [ParseError(f"{where} is not valid JSON: {type(exc).__name__}")], []
    return config_facts(config, lists)


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
            found, children = _parse_config(text, "config.json", job.lists)
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
        refs = result.get("references")
        for ref in refs if isinstance(refs, list) else []:
            if isinstance(ref, list) and len(ref) == 3 and all(isinstance(x, str) for x in ref):
                facts.append(Hdf5Reference(ref[0], shown(ref[1], 200), shown(ref[2])))
        if result.get("truncated"):
            facts.append(LimitExceeded("hdf5-objects", 100_000))
        for key in ("model_config", "training_config"):
            value = result.get(key)
            if isinstance(value, str):
                found, kids = _parse_config(value, key, job.lists)
                facts.extend(found)
                children.extend(kids)
        return Analysis(facts, children)

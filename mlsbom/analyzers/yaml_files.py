"""YAML configs (Hydra, NeMo `model_config.yaml`, LightningCLI, MLflow `MLmodel`): composed, never
constructed, with PyYAML's pure-Python safe loader.

Composing builds the node graph only: aliases point at the anchored node instead of copying it,
and the walk visits each node once, so an alias bomb (billion laughs) stays linear in the text.
Nesting depth is capped before Python's recursion limit is near. Python tags
(`!!python/object/apply:os.system`) are reported: an unsafe loader (`yaml.load` with `Loader`,
`yaml.unsafe_load`) would call them.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.analyzers.config_targets import (
    MAX_FACTS,
    MAX_NODES,
    MAX_PATH,
    callable_fact,
    key_convention,
)
from mlsbom.analyzers.plain import is_text
from mlsbom.analyzers.python_code import read_text
from mlsbom.facts import Fact, LimitExceeded, YamlPythonTag, YamlUnparsed
from mlsbom.models import Format

MAX_YAML_BYTES = 4 << 20
FAST_FROM = 256 << 10  # characters from which libyaml composes
MAX_DEPTH = 250  # PyYAML's own recursive composer fails not far above this
# tags that import a name (python/tuple, python/str… are plain data)
_PYTHON_IMPORT_TAGS = tuple(
    f"tag:yaml.org,2002:python/{t}" for t in ("name:", "module:", "object:", "object/")
)


_FAST = getattr(yaml, "CSafeLoader", None)
_BRACKETS = re.compile(r"[\[\]{}]")


class _TooDeep(Exception):
    pass


class _Composer(yaml.SafeLoader):
    """SafeLoader that counts nesting while composing (nothing is constructed)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _nesting_bound(text: str) -> int:
    """An over-estimate of the node nesting depth: deepest indentation (with `- `/`? `/`: `
    indicators) plus deepest flow bracket nesting, counted without regard to quotes."""
    indent = max((len(ln) - len(ln.lstrip(" -?:\t")) for ln in text.splitlines()), default=0)
    depth = flow = 0
    for m in _BRACKETS.finditer(text):
        if m.group() in "[{":
            depth += 1
            flow = max(flow, depth)
        else:
            depth = max(depth - 1, 0)
    return indent + flow


def _documents(text: str) -> list[Node]:
    if _FAST is not None and len(text) > FAST_FROM and _nesting_bound(text) < MAX_DEPTH:
        # large files only (configs are small and are read by PyYAML's Python parser, as
        # OmegaConf reads them); libyaml composes recursively in C, so only shallow text
        try:
            return list(yaml.compose_all(text, Loader=_FAST))
        except yaml.YAMLError:
            pass  # the Python parser decides
    loader = _Composer(text)
    try:
        docs = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                docs.append(node)
        return docs
    finally:
        loader.dispose()


def yaml_facts(file: str, text: str) -> list[Fact]:
    """Instantiation keys and Python tags in every document of a YAML text."""
    try:
        docs = _documents(text)
    except (_TooDeep, RecursionError):
        return [LimitExceeded("yaml-depth", MAX_DEPTH)]
    except (yaml.YAMLError, ValueError) as exc:
        # PyYAML-based loaders (OmegaConf, Lightning, MLflow) refuse the same text
        return [YamlUnparsed(str(exc)[:200])]
    facts: list[Fact] = []
    seen: set[int] = set()
    stack: list[tuple[Node, str]] = [
        (d, f"[{i}]" if len(docs) > 1 else "") for i, d in reversed(list(enumerate(docs)))
    ]
    while stack and len(facts) < MAX_FACTS:
        node, path = stack.pop()
        if id(node) in seen:
            continue  # an alias: already walked where it was anchored
        seen.add(id(node))
        if len(seen) > MAX_NODES:
            facts.append(LimitExceeded("config-nodes", MAX_NODES))
            break
        if node.tag.startswith(_PYTHON_IMPORT_TAGS):
            facts.append(
                YamlPythonTag(
                    node.tag[len("tag:yaml.org,2002:") :][:200], path[:MAX_PATH] or "(document)"
                )
            )
        if isinstance(node, SequenceNode):  # pushed reversed: walked in document order
            stack.extend(
                (item, f"{path}[{i}]") for i, item in reversed(list(enumerate(node.value)))
            )
        elif isinstance(node, MappingNode):
            siblings = {k.value for k, _ in node.value if isinstance(k, ScalarNode)}
            for key, value in reversed(node.value):
                label = str(key.value)[:80] if isinstance(key, ScalarNode) else "?"
                here = f"{path}.{label}" if path else label
                stack.append((value, here))
                stack.append((key, here))
                convention = key_convention(file, label, siblings)
                if convention and isinstance(value, ScalarNode):
                    fact = callable_fact(file, here, str(value.value), convention)
                    if fact is not None:
                        facts.append(fact)
    return list(dict.fromkeys(facts))


class YamlAnalyzer:
    formats: tuple[Format, ...] = (Format.YAML,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        name = hint.name.rsplit("/", 1)[-1]
        if (name.lower().endswith((".yaml", ".yml")) or name == "MLmodel") and is_text(head):
            return Format.YAML
        return None

    def analyze(self, job: Job) -> Analysis:
        text, facts = read_text(job, MAX_YAML_BYTES)
        if text is None:
            return Analysis(facts)
        return Analysis(yaml_facts(job.ref.name, text.removeprefix("\ufeff")))

"""Facts about configs and metadata that make a loader import, call or open something."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mlsbom.facts.core import Fact


@dataclass(frozen=True, slots=True)
class ConfigCallable(Fact):
    """A config names a Python object that its framework imports and calls when it loads."""

    kind: ClassVar[str] = "config-callable"
    file: str
    key_path: str  # e.g. model.encoder._target_
    callable: str
    convention: str  # hydra | jsonargparse | sentence-transformers | mlflow
    traversal: bool  # a later component is private or names a module (attribute re-entry)
    local: bool = False  # names a module shipped beside the config (set across files)


@dataclass(frozen=True, slots=True)
class YamlPythonTag(Fact):
    """A YAML node tagged `!!python/...`: unsafe YAML loaders import and call what it names."""

    kind: ClassVar[str] = "yaml-python-tag"
    tag: str
    key_path: str


@dataclass(frozen=True, slots=True)
class YamlUnparsed(Fact):
    """The YAML does not parse (Helm templates, typos): no YAML loader instantiates from it."""

    kind: ClassVar[str] = "yaml-unparsed"
    message: str


@dataclass(frozen=True, slots=True)
class RemoteCode(Fact):
    """Loading needs trust_remote_code: `reference` names the module and class it imports."""

    kind: ClassVar[str] = "remote-code"
    file: str
    key: str
    reference: str
    module: str  # the .py module (without .py) the loader imports
    other_repo: str  # the repository the code comes from when it is another one, else ""


@dataclass(frozen=True, slots=True)
class LoaderPath(Fact):
    """A file or URL that loading opens because `source` metadata names it at `key`."""

    kind: ClassVar[str] = "loader-path"
    source: str  # keras | tokenizer | shard-index | gguf | safetensors
    key: str
    path: str
    problem: str  # inside | absolute | url | escape | special | windows | nul | home

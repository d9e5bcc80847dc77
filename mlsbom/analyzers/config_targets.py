"""Config-driven instantiation: keys that make a framework import and call a named Python object.

Conventions (each a real loader, none executed here):
- `_target_`: Hydra/OmegaConf `hydra.utils.instantiate` (also NeMo model configs, detectron2
  LazyConfig); `_args_`, `_partial_` and nested targets are walked like any other value.
  Hydra's `_locate` imports the first component, then getattr-walks the rest, importing
  submodules as needed — so `torch.nn.modules.module.os.system` reaches `os.system`.
- `class_path` (+ `init_args`): jsonargparse, LightningCLI. An unqualified name (no dot) is
  resolved only among subclasses already imported, so it imports nothing and is skipped.
- `type` in sentence-transformers `modules.json`: `import_from_string` of each module's type.
- `loader_module` in MLflow `MLmodel`: `mlflow.pyfunc.load_model` imports it.
- `cls`/`class` beside `params`: Hydra 0.11 and early NeMo configs.
- `target` in NeMo `model_config.yaml`: `from_config_dict` imports it by path.

Not conventions (checked, skipped): `__class__`, `cls`, `callable` (no framework imports them by
those names), mmengine `type` (resolved in a registry, not imported). The allowlist of namespaces
lives in rules/lists/config-callables.toml; rules judge.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

from mlsbom.analyzers.base import Analysis, Inspector
from mlsbom.facts import ConfigCallable, Fact, LimitExceeded

MAX_FACTS = 200
MAX_NODES = 4_000_000  # containers and scalars walked per file
MAX_PATH = 200

KEYS = {"_target_": "hydra", "class_path": "jsonargparse"}
NAMED_KEYS = {
    "modules.json": ("type", "sentence-transformers"),
    "MLmodel": ("loader_module", "mlflow"),
}
# a component after the first naming one of these modules re-enters it through an attribute
# (`torch.nn.modules.module.torch.load`): modules that run commands, load pickles or import
_REENTRY = frozenset(
    {
        "os", "posix", "nt", "sys", "subprocess", "builtins", "importlib", "pickle", "_pickle",
        "cPickle", "marshal", "shelve", "shutil", "socket", "ctypes", "pty", "runpy", "code",
        "codeop", "types", "functools", "operator", "io", "pathlib", "tempfile", "urllib",
        "http", "webbrowser", "multiprocessing", "asyncio", "pdb", "bdb", "timeit", "cProfile",
        "profile", "trace", "inspect", "gc", "pydoc", "pkgutil", "zipimport", "tarfile",
        "zipfile", "site", "sysconfig", "distutils", "setuptools", "pip", "torch", "numpy",
        "np", "dill", "joblib", "cloudpickle", "yaml", "hydra", "omegaconf", "jsonargparse",
        "pandas", "tensorflow", "keras", "transformers", "diffusers", "requests", "urllib3",
    }
)  # fmt: skip
# real subpackages whose name is also such a module
_SUBPACKAGES = frozenset({"nemo.collections.tts.torch"})


def traverses(name: str) -> bool:
    """True when a component after the first is private/dunder or a module name (re-entry)."""
    parts = name.split(".")
    if parts[0].startswith("_"):
        return True
    return any(
        p.startswith("_") or (p in _REENTRY and ".".join(parts[: i + 1]) not in _SUBPACKAGES)
        for i, p in enumerate(parts[1:], 1)
    )


def callable_fact(file: str, path: str, value: str, convention: str) -> ConfigCallable | None:
    """The fact for one named callable, or None when the convention imports nothing."""
    name = value.strip()[:300]
    if not name or (convention in ("jsonargparse", "nemo") and "." not in name):
        return None
    return ConfigCallable(file, path[:MAX_PATH], name, convention, traverses(name))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def walk_value(file: str, value: object) -> list[Fact]:
    """Facts for every instantiation key in a parsed JSON value (iterative, bounded)."""
    facts: list[Fact] = []
    stack: list[tuple[object, str]] = [(value, "")]
    nodes = 0
    while stack:
        node, path = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            facts.append(LimitExceeded("config-nodes", MAX_NODES))
            break
        if isinstance(node, dict):
            for key, item in node.items():
                here = _join(path, str(key)[:80])
                for fact in _key_facts(file, here, str(key), item, node):
                    if len(facts) < MAX_FACTS:
                        facts.append(fact)
                if isinstance(item, dict | list):
                    stack.append((item, here))
        elif isinstance(node, list):
            stack.extend(
                (item, f"{path}[{i}]")
                for i, item in enumerate(node)
                if isinstance(item, dict | list)
            )
    return facts


def key_convention(file: str, key: str, siblings: Collection[object]) -> str | None:
    """The loader convention that imports the value of `key` in this mapping, if any."""
    convention = KEYS.get(key)
    if convention is None and key in ("cls", "class") and "params" in siblings:
        convention = "hydra-0.11"  # Hydra 0.11 and early NeMo: `cls`/`class` with `params`
    if convention is None and key == "target" and file == "model_config.yaml":
        convention = "nemo"  # NeMo from_config_dict: import_class_by_path(config.target)
    named = NAMED_KEYS.get(file)
    if convention is None and named is not None and key == named[0]:
        convention = named[1]
    return convention


def _key_facts(
    file: str, path: str, key: str, value: object, siblings: Collection[object]
) -> Iterator[ConfigCallable]:
    convention = key_convention(file, key, siblings)
    if convention is None or not isinstance(value, str):
        return
    fact = callable_fact(file, path, value, convention)
    if fact is not None:
        yield fact


def _inspect(name: str, value: object) -> Analysis:
    return Analysis(list(dict.fromkeys(walk_value(name, value))))


# every JSON file: a framework may be pointed at any of them
JSON_INSPECTORS: tuple[Inspector, ...] = (Inspector(lambda n: True, _inspect, generic=True),)

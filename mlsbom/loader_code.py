"""Which repository code a loader runs, found across files after every file was analysed.

A `.py` file is loader-imported when a config makes a loader import it — `auto_map` and custom
pipelines (transformers), custom components and `pipeline.py` (diffusers), `_target_`/`class_path`
naming a module in the repository (Hydra, jsonargparse), a `.pth` import line — when it is
`hubconf.py` (torch.hub) or `sitecustomize.py`/`usercustomize.py` (site.py), or when a
loader-imported file imports it. A notebook is judged as run
when it ships in a model repository (model files or a model config in its folder or above).
Those files' Python facts are re-marked `loader_imported` before judging: the rules decide what
that changes (python-process rather than python-script-call, …).
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Iterator

from mlsbom.analyzers.python_code import mark_loader_imported
from mlsbom.facts import ConfigCallable, Fact, PthCode, PythonLocalImports, RemoteCode, ShellEscape
from mlsbom.models import ArtifactRef, ArtifactResult, Format
from mlsbom.project_code import is_loader_code, memoised

MODEL_FORMATS = frozenset(
    {
        Format.SAFETENSORS,
        Format.PYTORCH_ZIP,
        Format.PYTORCH_LEGACY,
        Format.TORCHSCRIPT,
        Format.GGUF,
        Format.ONNX,
        Format.KERAS,
        Format.HDF5,
        Format.TF_SAVEDMODEL,
    }
)
MODEL_CONFIGS = frozenset(
    {"config.json", "model_index.json", "modules.json", "adapter_config.json"}
)
MAX_ROUNDS = 1_000
# torch.hub imports hubconf.py; site.py imports sitecustomize/usercustomize from site-packages
_IMPORTED_BY_NAME = frozenset({"hubconf.py", "sitecustomize.py", "usercustomize.py"})


def _module_files(folder: str, dotted: str) -> Iterator[str]:
    """`a/b.py` and `a/b/__init__.py` under `folder` for every prefix of a dotted name."""
    parts = [p for p in dotted.split(".") if p]
    for n in range(1, len(parts) + 1):
        base = posixpath.join(folder, *parts[:n])
        yield base + ".py"
        yield posixpath.join(base, "__init__.py")


def _seeds(r: ArtifactResult) -> Iterator[str]:
    """Files this artefact makes a loader import."""
    folder, name = posixpath.split(r.ref.path)
    if name == "model_index.json":
        yield posixpath.join(folder, "pipeline.py")  # DiffusionPipeline(custom_pipeline=repo)
    for fact in r.facts:
        if isinstance(fact, RemoteCode) and not fact.other_repo:
            yield from _module_files(folder, fact.module)
            if name == "model_index.json":  # custom component: <component>/<library>.py
                yield posixpath.join(folder, fact.key, fact.module + ".py")
        elif isinstance(fact, ConfigCallable):
            yield from _module_files(folder, fact.callable)
        elif isinstance(fact, PthCode) and fact.module:
            yield from _module_files(folder, fact.module)


def loader_imported(top: list[ArtifactResult]) -> set[str]:
    """Paths of the Python files a loader imports, directly or through their imports."""
    by_path = {r.ref.path: r for r in top if r.format is Format.PYTHON}
    pending = [p for r in top for p in _seeds(r) if p in by_path]
    pending += [p for p in by_path if posixpath.basename(p) in _IMPORTED_BY_NAME]
    # a file scanned without its config (a pre-commit hook hands over only what changed): the
    # configs beside it on disk decide, as they do for the hook's own filter
    modules = memoised()  # each folder's configs read once, however many files it holds
    pending += [p for p in by_path if "://" not in p and is_loader_code(p, modules)]
    found: set[str] = set()
    rounds = 0
    while pending and rounds < MAX_ROUNDS:
        rounds += 1
        path = pending.pop()
        if path in found:
            continue
        found.add(path)
        folder = posixpath.dirname(path)
        for fact in by_path[path].facts:
            if isinstance(fact, PythonLocalImports):
                for rel in fact.paths:
                    base = posixpath.normpath(posixpath.join(folder, rel))
                    for cand in (base + ".py", posixpath.join(base, "__init__.py")):
                        if cand in by_path and cand not in found:
                            pending.append(cand)
    return found


def _model_folders(top: list[ArtifactResult]) -> set[str] | None:
    """Folders holding model files or configs; None when the whole scan is one model repository."""
    if any(r.format is Format.REPOSITORY for r in top):
        return None
    return {
        posixpath.dirname(r.ref.path)
        for r in top
        if r.format in MODEL_FORMATS or posixpath.basename(r.ref.path) in MODEL_CONFIGS
    }


def _in_model_repo(path: str, folders: set[str] | None) -> bool:
    if folders is None:
        return True
    folder = posixpath.dirname(path)
    while True:
        if folder in folders:
            return True
        parent = posixpath.dirname(folder)
        if parent == folder:
            return False
        folder = parent


def _notebook_fact(fact: Fact) -> Fact:
    if isinstance(fact, ShellEscape) and not fact.model_repo:
        return dataclasses.replace(fact, model_repo=True)
    return mark_loader_imported(fact)


def _config_fact(fact: Fact, python: set[str], folder: str) -> Fact:
    if not isinstance(fact, ConfigCallable) or fact.local:
        return fact
    shipped = any(p in python for p in _module_files(folder, fact.callable))
    return dataclasses.replace(fact, local=True) if shipped else fact


def retag(top: list[ArtifactResult]) -> dict[ArtifactRef, ArtifactResult]:
    """Re-marked facts for loader-imported Python files, notebooks in model repositories and
    configs naming the repository's own modules."""
    out: dict[ArtifactRef, ArtifactResult] = {}
    imported = loader_imported(top)
    folders = _model_folders(top)
    python = {r.ref.path for r in top if r.format is Format.PYTHON}
    for r in top:
        if r.format in (Format.JSON, Format.YAML):
            folder = posixpath.dirname(r.ref.path)
            facts = tuple(_config_fact(f, python, folder) for f in r.facts)
        elif r.ref.path in imported and r.format is Format.PYTHON:
            facts = tuple(mark_loader_imported(f) for f in r.facts)
        elif r.format is Format.NOTEBOOK and _in_model_repo(r.ref.path, folders):
            facts = tuple(_notebook_fact(f) for f in r.facts)
        else:
            continue
        if facts == r.facts:
            continue
        out[r.ref] = dataclasses.replace(r, facts=facts)
    return out

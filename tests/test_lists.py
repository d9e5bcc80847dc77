"""Analysers classify with the lists of the rules they are given, never with global ones: a
custom rules folder (`--rules DIR`, MLSBOM_RULES) changes what they report, serially, in worker
processes and through the result cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlsbom._cli import cli
from mlsbom.analyzers.chat_templates import template_facts
from mlsbom.analyzers.keras_files import config_facts
from mlsbom.analyzers.python_code import python_facts
from mlsbom.config import ScanConfig
from mlsbom.facts import KerasObject, PythonCall, PythonSideEffect, TemplateConstruct
from mlsbom.lists import Lists
from mlsbom.rules import load_rules, rules_dir
from mlsbom.wire import Worker, config_to_json

SHIPPED = load_rules()


def _without(lists: Lists, name: str, entry: str) -> Lists:
    assert entry in lists[name]
    return Lists({**lists, name: tuple(e for e in lists[name] if e != entry)})


def _with(lists: Lists, name: str, entry: str) -> Lists:
    return Lists({**lists, name: (*lists[name], entry)})


def test_python_benign_toplevel_comes_from_the_lists() -> None:
    source = "import warnings\nwarnings.filterwarnings('ignore')\n"
    assert not any(isinstance(f, PythonSideEffect) for f in python_facts(source, SHIPPED.lists))
    custom = _without(SHIPPED.lists, "python-benign-toplevel", "warnings.*")
    assert [f.call for f in python_facts(source, custom) if isinstance(f, PythonSideEffect)] == [
        "warnings.filterwarnings"
    ]


def test_python_calls_come_from_the_lists() -> None:
    source = "import os\n\ndef f():\n    os.system('x')\n"
    assert any(isinstance(f, PythonCall) for f in python_facts(source, SHIPPED.lists))
    custom = Lists({**SHIPPED.lists, "python-calls": ()})
    assert not any(isinstance(f, PythonCall) for f in python_facts(source, custom))


def test_keras_modules_come_from_the_lists() -> None:
    config = {"class_name": "Layer", "module": "acme_layers", "config": {}}
    assert any(isinstance(f, KerasObject) for f in config_facts(config, SHIPPED.lists)[0])
    custom = _with(SHIPPED.lists, "keras-modules", "acme_layers")
    assert not any(isinstance(f, KerasObject) for f in config_facts(config, custom)[0])


def test_keras_tf_functions_come_from_the_lists() -> None:
    config = {"class_name": "TFOpLambda", "config": {"function": "math.add"}}
    assert not config_facts(config, SHIPPED.lists)[0]
    custom = _with(SHIPPED.lists, "keras-tf-functions", "math.*")
    assert [f.evidence for f in config_facts(config, custom)[0]] == ["tf.math.add"]


def test_chat_template_attributes_come_from_the_lists() -> None:
    source = "{{ messages|map(attribute='content')|join(' ') }}{{ 'a b'.split() }}"
    assert not template_facts(source, SHIPPED.lists)
    custom = _without(SHIPPED.lists, "chat-template-attributes", "split")
    assert [f.technique for f in template_facts(source, custom)] == ["unlisted-method"]
    assert all(isinstance(f, TemplateConstruct) for f in template_facts(source, custom))


def test_a_missing_list_fails_closed() -> None:
    with pytest.raises(KeyError, match="python-calls"):
        python_facts("x = 1\n", Lists({}))


def test_compiled_forms_are_kept_per_rule_set() -> None:
    calls: list[Lists] = []

    def build(lists: Lists) -> int:
        calls.append(lists)
        return len(calls)

    one, two = Lists({}), Lists({})
    assert (one.compiled(build), one.compiled(build), two.compiled(build)) == (1, 1, 2)


@pytest.fixture
def custom_rules(tmp_path: Path) -> Path:
    """A copy of the shipped rules in which `warnings.*` calls at import time are not benign."""
    folder = tmp_path / "rules"
    shutil.copytree(rules_dir(), folder)
    path = folder / "lists" / "python-benign-toplevel.toml"
    text = path.read_text(encoding="utf-8")
    assert '"warnings.*", ' in text
    path.write_text(text.replace('"warnings.*", ', ""), encoding="utf-8")
    return folder


@pytest.fixture
def model(tmp_path: Path) -> Path:
    """Two files (so --jobs 2 uses workers), each over 16 KiB (so the cache keeps them)."""
    folder = tmp_path / "model"
    folder.mkdir()
    pad = "# " + "x" * 78 + "\n"
    for name in ("modeling_a.py", "modeling_b.py"):
        (folder / name).write_text(
            "import warnings\nwarnings.filterwarnings('ignore')\n" + pad * 300
        )
    return folder


def _side_effects(args: list[str], env: dict[str, str] | None = None) -> int:
    result = CliRunner().invoke(cli, ["scan", *args, "--format", "json", "--no-policy"], env=env)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    return sum(
        f["rule_id"] == "python-side-effect" for a in doc["artifacts"] for f in a["findings"]
    )


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_custom_rules_folder_changes_the_classification(
    model: Path, custom_rules: Path, jobs: str
) -> None:
    assert _side_effects([str(model), "--jobs", jobs]) == 0
    assert _side_effects([str(model), "--jobs", jobs, "--rules", str(custom_rules)]) == 2
    assert _side_effects([str(model), "--jobs", jobs], env={"MLSBOM_RULES": str(custom_rules)}) == 2


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_cache_is_keyed_by_the_rules_folder_used(
    model: Path, custom_rules: Path, tmp_path: Path, jobs: str
) -> None:
    env = {"MLSBOM_CACHE_DIR": str(tmp_path / "cache")}
    cached = [str(model), "--jobs", jobs, "--cache"]
    assert _side_effects(cached, env) == 0
    assert _side_effects([*cached, "--rules", str(custom_rules)], env) == 2
    assert _side_effects(cached, env) == 0
    assert _side_effects([*cached, "--rules", str(custom_rules)], env) == 2


def test_workers_load_the_folder_the_header_names(custom_rules: Path) -> None:
    custom = load_rules(custom_rules)
    header = json.loads(json.dumps(config_to_json(ScanConfig(), custom, cache=False)))
    worker = Worker(header)
    assert worker.rules.folder == custom.folder
    assert "warnings.*" not in worker.rules.lists["python-benign-toplevel"]

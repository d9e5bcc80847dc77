"""Code that loading runs outside pickles (issue 16): config-driven instantiation, Python by
dataflow with severity by loader, notebooks, `.pth` files, malformed configs."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsbom.analyzers.config_targets import walk_value
from mlsbom.analyzers.notebooks import cell_facts
from mlsbom.analyzers.pth_files import executed_lines
from mlsbom.analyzers.python_code import python_facts
from mlsbom.analyzers.yaml_files import yaml_facts
from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.facts import PythonCall, PythonObfuscation
from mlsbom.models import ScanResult, Severity
from mlsbom.rules import load_rules

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
sys.path.insert(0, str(FIXTURES))
import gen_code_paths  # noqa: E402

LISTS = load_rules().lists

BASE = FIXTURES / "code_paths"


@functools.cache
def _scan(target: str) -> ScanResult:
    return scan([str(BASE / target)], ScanConfig())


@pytest.mark.parametrize("name", sorted(gen_code_paths.EXPECTED))
def test_fixture_expectation(name: str) -> None:
    result = _scan(gen_code_paths.scan_target(name))
    path = str(BASE / name)
    findings = [f for f in result.findings if f.artifact.path == path]
    expected = gen_code_paths.EXPECTED[name]
    if expected is None:
        assert [f.rule_id for f in findings if f.severity >= Severity.MEDIUM] == []
        return
    rule_id, fails = expected
    assert rule_id in {f.rule_id for f in findings}, [f.rule_id for f in findings]
    assert any(f.severity >= Severity.HIGH for f in findings) is fails


def test_own_module_is_not_called_unlisted() -> None:
    result = _scan("cfg/own_module")
    assert "config-callable-unlisted" not in {f.rule_id for f in result.findings}
    alone = _scan("cfg/own_module/config.yaml")  # the module is not in the scan: fail closed
    assert "config-callable-unlisted" in {f.rule_id for f in alone.findings}


def test_nemo_archive_member_is_read() -> None:
    result = _scan("cfg/model.nemo")
    hits = [f for f in result.findings if f.rule_id == "config-callable-unlisted"]
    assert hits and hits[0].artifact.member_chain[-1].endswith("model_config.yaml")
    assert "encoder._target_" in hits[0].message


@pytest.mark.parametrize(
    ("text", "path", "target"),
    [
        ("a:\n  b:\n    - {_target_: os.system}\n", "a.b[0]._target_", "os.system"),
        ("x: {class_path: posix.system, init_args: {}}\n", "x.class_path", "posix.system"),
        ("'_target_': \"builtins.eval\"\n", "_target_", "builtins.eval"),
        ("k: &a {_target_: os.getcwd}\nl: [*a, *a, *a]\n", "k._target_", "os.getcwd"),
    ],
)
def test_yaml_key_paths(text: str, path: str, target: str) -> None:
    facts = yaml_facts("c.yaml", text)
    assert [(f.key_path, f.callable) for f in facts] == [(path, target)]  # type: ignore[attr-defined]


def test_yaml_bombs_stay_bounded() -> None:
    levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 20):  # 10**20 leaves if expanded
        levels.append(f"l{i}: &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}"] * 10) + "]")
    assert yaml_facts("b.yaml", "\n".join(levels)) == []
    assert yaml_facts("r.yaml", "a: &a [*a, {b: *a}]\n") == []  # a cycle


def test_json_configs_anywhere() -> None:
    value = {"x": [{"y": {"_target_": "os.system", "_args_": [{"_target_": "posix.popen"}]}}]}
    found = {(f.key_path, f.callable) for f in walk_value("any.json", value)}  # type: ignore[attr-defined]
    assert found == {("x[0].y._target_", "os.system"), ("x[0].y._args_[0]._target_", "posix.popen")}


def _refs(source: str) -> set[str]:
    return {f.call for f in python_facts(source, LISTS) if isinstance(f, PythonCall)}


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("import os\ng = os.system\nh = g\nh('x')\n", "os.system"),
        ("import os as o\nfn = getattr(o, 'po' 'pen')\n", "os.popen"),
        ("import os\ngetattr(os, '%s%s' % ('sys', 'tem'))('x')\n", "os.system"),
        ("import os\ngetattr(os, 'SYSTEM'.lower())('x')\n", "os.system"),
        (
            "import os\ngetattr(os, bytes([115, 121, 115, 116, 101, 109]).decode())('x')\n",
            "os.system",
        ),
        ("import os, codecs\ngetattr(os, codecs.decode('flfgrz', 'rot13'))('x')\n", "os.system"),
        ("import builtins\nbuiltins.__dict__['ev' + 'al']('1')\n", "builtins.eval"),
        (
            "import importlib\nimportlib.import_module('sub' + 'process').run(['x'])\n",
            "subprocess.run",
        ),
        ("s = __import__('sys')\ns.modules['o' + 's'].system('x')\n", "os.system"),
        ("from functools import partial\nimport pty\np = partial(pty.spawn, 'sh')\n", "pty.spawn"),
        ("import os\nclass A:\n    x = [os.system]\n", "os.system"),
        ("import ctypes\ndef f(lib=ctypes.CDLL('x')):\n    pass\n", "ctypes.CDLL"),
        ("import torch\ntorch.os.system('x')\n", "os.system"),
        ("from os import *\nsystem('x')\n", "os.system"),
        ("import operator, os\noperator.methodcaller('system', 'x')(os)\n", "os.system"),
        ("import os\nn = ['sys', 'tem']\ngetattr(os, ''.join(n))('x')\n", "os.system"),
        ("import os\ngetattr(os, 'xxsystemyy'[2:8])('x')\n", "os.system"),
        ("import pydoc\npydoc.locate('os.sys' + 'tem')('x')\n", "os.system"),
        ("import pkgutil\npkgutil.resolve_name('subprocess:run')(['x'])\n", "subprocess.run"),
        (
            "import os, zlib\ngetattr(os, zlib.decompress("
            "b'x\\x9c+\\xae,.I\\xcd\\x05\\x00\\tt\\x02\\xa6').decode())('x')\n",
            "os.system",
        ),
    ],
)
def test_dataflow_instances(source: str, name: str) -> None:
    assert name in _refs(source)


def test_computed_names_are_findings_themselves() -> None:
    facts = python_facts(
        "import os\nname = input()\ngetattr(os, name)('x')\n__import__(name)\n", LISTS
    )
    techniques = {f.technique for f in facts if isinstance(f, PythonObfuscation)}
    assert {"computed-attribute", "computed-import"} <= techniques


def test_quiet_on_ordinary_code() -> None:
    source = (
        "import subprocess, socket, torch\nfrom torch import nn\n"
        "try:\n    pass\nexcept subprocess.CalledProcessError:\n    pass\n"
        "def f(compile=False, eval=True):\n    return compile and eval\n"
        "m = nn.Linear(2, 2)\nm.eval()\nx = torch.compile(m)\n"
        "if socket.AF_INET:\n    pass\n"
    )
    assert _refs(source) == set()


@pytest.mark.parametrize(
    ("raw", "lines"),
    [
        (b"import os\n", [1]),
        (b"import\tos\n", [1]),
        (b"\xef\xbb\xbfimport os\n", [1]),
        (b"a\r\nimport os\r\n", [2]),
        (b"a\rimport os\r", [2]),
        (b"a\x0bimport os\n", [2]),
        (b"a\xe2\x80\xa8import os\n", [2]),
        (b" import os\n#import os\nimports\nimportos\nimport\n", []),
    ],
)
def test_pth_lines_as_site_reads_them(raw: bytes, lines: list[int]) -> None:
    assert [n for n, _ in executed_lines(raw)] == lines


@pytest.mark.parametrize(
    ("cell", "how"),
    [
        ("!ls", "!"),
        ("\t!ls", "!"),
        ("files = !ls", "!"),
        ("%%bash\nls", "%%bash"),
        ("%%capture c\n%%sh\nls", "%%sh"),
        ("%%time\n%%capture\n%%ruby\nputs 1", "%%ruby"),
        ("%%script bash\nls", "%%script"),
        ("%sx ls", "%sx"),
        ("x = %system ls", "%system"),
        ("rm -rf /nonexistent/mlsbom-fixture", "rm"),
        ("%pip install git+https://example.invalid/x.git", "%pip"),
    ],
)
def test_notebook_escapes(cell: str, how: str) -> None:
    assert how in {getattr(f, "how", None) for f in cell_facts(cell, 0, LISTS)}


@pytest.mark.parametrize(
    "cell",
    ["%matplotlib inline", "%load_ext autoreload\n%autoreload 2", "ls = [1]\nls - 1", "%cd data"],
)
def test_notebook_magics_that_run_nothing(cell: str) -> None:
    assert cell_facts(cell, 0, LISTS) == []


@pytest.mark.parametrize(
    ("cell", "index_only", "remote"),
    [
        ('%pip install -U "transformers[torch]>=4.40" accelerate', True, False),
        ("!pip install numpy scipy==1.13", True, False),
        ("%pip install torch>=2", False, False),  # an unquoted > is a shell redirect
        ('!pip install "a"; curl example.invalid', False, False),
        ('%pip install "x$(id)"', False, False),
        ("%pip install -e git+https://example.invalid/x.git#egg=x", False, True),
        ("!python -m pip install --index-url https://example.invalid/simple x", False, True),
        ("%conda install -c conda-forge numpy", False, False),
    ],
)
def test_install_classification(cell: str, index_only: bool, remote: bool) -> None:
    facts = cell_facts(cell, 0, LISTS)
    assert [(f.index_install, f.remote) for f in facts] == [(index_only, remote)]  # type: ignore[attr-defined]


def test_oversized_json_is_quiet_unless_it_names_a_callable(tmp_path: Path) -> None:
    vocab = '{"model": {"type": "BPE", "vocab": {' + ",".join(
        f'"\\u0120tok{i}": {i}' for i in range(1_200_000)
    )
    (tmp_path / "tokenizer.json").write_text(vocab + "}}}")
    assert scan([str(tmp_path / "tokenizer.json")], ScanConfig()).findings == ()
    (tmp_path / "big.json").write_text(vocab + '}, "x": {"\\u005ftarget_": "os.system"}}}')
    rules = {f.rule_id for f in scan([str(tmp_path / "big.json")], ScanConfig()).findings}
    assert "limit-exceeded" in rules


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_config_and_pth_readers_never_raise(text: str) -> None:
    yaml_facts("x.yaml", text)
    executed_lines(text.encode("utf-8", "surrogatepass"))
    cell_facts(text, 0, LISTS)


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(["_target_", "class_path", "a", "type"]), inner, max_size=4
            )
        ),
        max_leaves=30,
    )
)
def test_walk_value_never_raises(value: object) -> None:
    walk_value("modules.json", value)


# A `.py` scanned alone (a pre-commit hook hands over only what changed) is loader code when a
# config beside it on disk says so, in each of the places transformers and diffusers look.
_PAYLOAD = "import os\nos.system('echo mlsbom-fixture')\n"


@pytest.mark.parametrize(
    ("config_path", "config", "module_path"),
    [
        ("config.json", {"auto_map": {"AutoModel": "modeling_x.X"}}, "modeling_x.py"),
        (
            "tokenizer_config.json",
            {"auto_map": {"AutoTokenizer": ["tokenization_x.XTok", None]}},
            "tokenization_x.py",
        ),
        ("model_index.json", {"unet": ["my_unet", "MyUNet"]}, "unet/my_unet.py"),
    ],
    ids=["config-auto-map", "tokenizer-auto-map", "diffusers-component"],
)
def test_module_scanned_alone_is_judged_by_the_config_on_disk(
    tmp_path: Path, config_path: str, config: dict[str, object], module_path: str
) -> None:
    (tmp_path / config_path).write_text(json.dumps(config))
    module = tmp_path / module_path
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_text(_PAYLOAD)
    loud = {
        f.rule_id for f in scan([str(module)], ScanConfig()).findings if f.severity >= Severity.HIGH
    }
    assert loud, module_path
    (tmp_path / config_path).unlink()  # the same file with no config naming it: a script
    quiet = scan([str(module)], ScanConfig()).findings
    assert not [f for f in quiet if f.severity >= Severity.HIGH]

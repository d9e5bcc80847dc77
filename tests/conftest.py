"""Test-session guards: nothing may deserialise an artefact while the tests run."""

from __future__ import annotations

import pickle
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHARED = ROOT.parent / "shared"


class DeserialisationAttempt(AssertionError):
    """Raised when code under test tries to load an artefact."""


_TRANSPORTS = ("distributed.",)  # Dask's own messages between cluster processes


def _forbidden(name: str, real: object = None):  # type: ignore[no-untyped-def]
    def refuse(*args: object, **kwargs: object) -> object:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if callable(real) and caller.startswith(_TRANSPORTS):
            return real(*args, **kwargs)  # scheduler/client control messages, never artefacts
        raise DeserialisationAttempt(f"{name} called during tests: the scanner only parses bytes")

    return refuse


class _RefusingUnpickler(pickle.Unpickler):
    def load(self) -> object:
        raise DeserialisationAttempt("pickle.Unpickler.load called during tests")


_LOADERS = (
    ("torch", "load"),
    ("joblib", "load"),
    ("numpy", "load"),
    ("dill", "load"),
    ("dill", "loads"),
)


@pytest.fixture(autouse=True)
def _never_deserialise(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make pickle.load(s), torch.load, joblib.load and numpy.load raise for every test."""
    for name in ("load", "loads"):
        monkeypatch.setattr(pickle, name, _forbidden(f"pickle.{name}", getattr(pickle, name)))
        if "_pickle" in sys.modules:
            monkeypatch.setattr(sys.modules["_pickle"], name, _forbidden(f"_pickle.{name}"))
    monkeypatch.setattr(pickle, "Unpickler", _RefusingUnpickler)
    for module, attr in _LOADERS:
        mod = sys.modules.get(module)
        if mod is None:
            try:
                mod = __import__(module)
            except ImportError:
                continue
        monkeypatch.setattr(mod, attr, _forbidden(f"{module}.{attr}"))
    yield


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture()
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The hub stand-in on 127.0.0.1 serving fixtures/hub_repos.py, as HF_ENDPOINT."""
    if str(FIXTURES) not in sys.path:
        sys.path.insert(0, str(FIXTURES))
    from hub_repos import standard_repos
    from hub_standin import StandIn

    with StandIn(standard_repos()) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        monkeypatch.setenv("MLSBOM_HUB_TIMEOUT", "2")
        yield server

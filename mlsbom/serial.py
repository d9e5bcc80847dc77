"""Scan results to JSON-ready values and back, typed by the dataclasses' own annotations.

Used to move results between worker processes and to keep them in the result cache: mlsbom
never pickles, so nothing it stores or receives can run code when it is read back.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any

from mlsbom.facts import Fact, fact_kinds
from mlsbom.models import ArtifactResult


class SerialError(ValueError):
    """A stored or received value does not fit the type it should have."""


def dump(value: Any) -> Any:
    """A dataclass tree as JSON-ready values (facts carry their `kind`)."""
    if isinstance(value, Fact):
        return {
            "kind": value.kind,
            **{f.name: dump(getattr(value, f.name)) for f in _fields(type(value))},
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: dump(getattr(value, f.name)) for f in _fields(type(value))}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {str(k): dump(v) for k, v in value.items()}
    return value


_FIELDS: dict[type, tuple[dataclasses.Field[Any], ...]] = {}
_HINTS: dict[type, dict[str, Any]] = {}


def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    if cls not in _FIELDS:
        _FIELDS[cls] = tuple(f for f in dataclasses.fields(cls) if f.init)
    return _FIELDS[cls]


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        module = __import__(cls.__module__, fromlist=["_"])
        _HINTS[cls] = typing.get_type_hints(cls, vars(module))
    return _HINTS[cls]


def _load_as(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _load_as(arg, value)
            except (SerialError, ValueError, TypeError, KeyError) as exc:
                errors.append(exc)
        raise SerialError(f"{value!r:.80} fits none of {tp}")
    if origin is tuple:
        if not isinstance(value, list):
            raise SerialError(f"expected a list for {tp}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_load_as(args[0], v) for v in value)
        return tuple(_load_as(a, v) for a, v in zip(args, value, strict=True))
    if origin is dict or (isinstance(origin, type) and issubclass(origin, typing.Mapping)):
        if not isinstance(value, dict):
            raise SerialError(f"expected an object for {tp}")
        return {k: _load_as(args[1], v) for k, v in value.items()}
    if isinstance(tp, type) and issubclass(tp, Fact) and tp is Fact:
        return load_fact(value)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise SerialError(f"expected an object for {tp.__name__}")
        hints = _hints(tp)
        return tp(
            **{
                f.name: _load_as(hints[f.name], value[f.name])
                for f in _fields(tp)
                if f.name in value
            }
        )
    if tp in (int, float, str, bool):
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            raise SerialError(f"expected {tp.__name__}, got {type(value).__name__}")
        return value
    if tp is type(None):
        if value is not None:
            raise SerialError("expected null")
        return None
    raise SerialError(f"cannot load a {tp}")


def load_fact(value: Any) -> Fact:
    if not isinstance(value, dict) or not isinstance(value.get("kind"), str):
        raise SerialError("a fact needs its kind")
    cls = fact_kinds().get(value["kind"])
    if cls is None:
        raise SerialError(f"unknown fact kind {value['kind']!r}")
    hints = _hints(cls)
    return cls(**{f.name: _load_as(hints[f.name], value[f.name]) for f in _fields(cls)})


def load_results(value: Any) -> list[ArtifactResult]:
    """Artefact results from `dump` output; SerialError when anything does not fit."""
    if not isinstance(value, list):
        raise SerialError("expected a list of results")
    try:
        return [_load_as(ArtifactResult, v) for v in value]
    except (KeyError, TypeError, ValueError) as exc:
        raise SerialError(f"results do not load: {exc}") from None

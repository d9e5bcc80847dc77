"""`getattr` and `functools.partial` are judged by what they yield, never waved through blindly.

Quiet: the shapes real libraries write (pandas' `getattr(ZoneInfo, '_unpickle')`, scipy's
`getattr(<generator>, '_entropy')`, scikit-learn's `partial(check_array)`), in several protocols
and spellings. Loud: every way of keeping a gadget occurrence that no resolved call consumed, of
resolving to something not allowlisted, or of computing the owner or the function.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.models import Severity
from mlsbom.policy import Policy, decide

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))
from _pickleasm import (
    APPEND,
    BUILD,
    DUP,
    EMPTY_LIST,
    EMPTY_TUPLE,
    MARK,
    MEMOIZE,
    NEWOBJ,
    NONE,
    POP,
    REDUCE,
    STACK_GLOBAL,
    TUPLE,
    asm,
    binget,
    binint,
    binput,
    global_,
    inst,
    program,
    u,
)

ZONE = global_("zoneinfo", "ZoneInfo")
GETATTR = global_("builtins", "getattr")
PARTIAL = global_("functools", "partial")
CHECK = global_("sklearn.utils.validation", "check_array")


def _unpickle_tz(getattr_op: bytes = GETATTR, owner: bytes = ZONE) -> bytes:
    """getattr(ZoneInfo, '_unpickle')('UTC', 1), as pandas writes a tz-aware column."""
    return asm(getattr_op, MARK, owner, u("_unpickle"), TUPLE, REDUCE, MARK, u("UTC"), binint(1))


def _outcome(tmp_path: Path, data: bytes) -> tuple[bool, set[str]]:
    path = tmp_path / "f.pkl"
    path.write_bytes(data)
    result = scan([str(path)], ScanConfig())
    loud = {f.rule_id for f in result.findings if f.severity >= Severity.HIGH}
    return decide(result, Policy()).passed, loud


QUIET = {
    "getattr-classmethod-p2": program(asm(_unpickle_tz(), TUPLE, REDUCE)),
    "getattr-classmethod-p4-stack-global": program(
        asm(
            u("builtins"),
            u("getattr"),
            STACK_GLOBAL,
            MEMOIZE,
            MARK,
            u("zoneinfo"),
            u("ZoneInfo"),
            STACK_GLOBAL,
            u("_unpickle"),
            TUPLE,
            REDUCE,
            MARK,
            u("UTC"),
            binint(1),
            TUPLE,
            REDUCE,
        ),
        protocol=4,
    ),
    "getattr-py2-name": program(
        asm(_unpickle_tz(b"c__builtin__\ngetattr\n"), TUPLE, REDUCE), protocol=2
    ),
    "getattr-memo-reused-twice": program(
        asm(
            EMPTY_LIST,
            GETATTR,
            binput(1),
            MARK,
            ZONE,
            u("_unpickle"),
            TUPLE,
            REDUCE,
            MARK,
            u("UTC"),
            binint(1),
            TUPLE,
            REDUCE,
            APPEND,
            binget(1),
            MARK,
            ZONE,
            u("_unpickle"),
            TUPLE,
            REDUCE,
            MARK,
            u("Europe/Paris"),
            binint(1),
            TUPLE,
            REDUCE,
            APPEND,
        )
    ),
    "getattr-on-instance": program(
        asm(
            GETATTR,
            MARK,
            global_("scipy.stats._discrete_distns", "poisson_gen"),
            EMPTY_TUPLE,
            NEWOBJ,
            u("_entropy"),
            TUPLE,
            REDUCE,
        )
    ),
    "getattr-on-instance-protocol-0-reconstructor": program(
        asm(
            GETATTR,
            MARK,
            global_("copyreg", "_reconstructor"),
            MARK,
            global_("scipy.stats._discrete_distns", "poisson_gen"),
            global_("builtins", "object"),
            NONE,
            TUPLE,
            REDUCE,
            u("_entropy"),
            TUPLE,
            REDUCE,
        )
    ),
    "partial-of-allowlisted-function": program(
        asm(
            PARTIAL,
            MARK,
            CHECK,
            TUPLE,
            REDUCE,
            MARK,
            CHECK,
            EMPTY_TUPLE,
            NONE,
            NONE,
            TUPLE,
            BUILD,
        )
    ),
}


@pytest.mark.parametrize("name", sorted(QUIET))
def test_resolved_gadget_is_judged_by_its_result(tmp_path: Path, name: str) -> None:
    passed, loud = _outcome(tmp_path, QUIET[name])
    assert passed and not loud, loud


LOUD = {
    # an occurrence of getattr no resolved call consumed: left in a list
    "getattr-leftover-in-list": (
        program(
            asm(
                EMPTY_LIST,
                GETATTR,
                binput(1),
                MARK,
                ZONE,
                u("_unpickle"),
                TUPLE,
                REDUCE,
                APPEND,
                binget(1),
                APPEND,
            )
        ),
        "pickle-dangerous-import",
    ),
    "getattr-dup-then-pop": (
        program(asm(GETATTR, DUP, MARK, ZONE, u("_unpickle"), TUPLE, REDUCE, POP)),
        "pickle-dangerous-import",
    ),
    "getattr-as-argument": (
        program(asm(global_("collections", "OrderedDict"), MARK, GETATTR, TUPLE, REDUCE)),
        "pickle-dangerous-import",
    ),
    "getattr-result-not-allowlisted": (
        program(asm(GETATTR, MARK, ZONE, u("__init__"), TUPLE, REDUCE)),
        "pickle-unknown-import",
    ),
    "getattr-upper-case-attribute-of-allowed-class": (
        program(
            asm(GETATTR, MARK, global_("sklearn.base", "BaseEstimator"), u("X"), TUPLE, REDUCE)
        ),
        "pickle-unknown-import",
    ),
    "getattr-globals-traversal": (
        program(asm(GETATTR, MARK, ZONE, u("__globals__"), TUPLE, REDUCE)),
        "pickle-dangerous-import",
    ),
    "getattr-dotted-name": (
        program(asm(GETATTR, MARK, ZONE, u("_unpickle.__globals__"), TUPLE, REDUCE)),
        "pickle-unresolved",
    ),
    # the owner is what a call returned: named after that call (ZoneInfo._unpickle.key), which
    # no allowlist entry admits
    "getattr-on-call-result": (
        program(asm(GETATTR, MARK, _unpickle_tz(), TUPLE, REDUCE, u("key"), TUPLE, REDUCE)),
        "pickle-unknown-import",
    ),
    "getattr-computed-owner": (
        program(asm(GETATTR, MARK, EMPTY_LIST, u("append"), TUPLE, REDUCE)),
        "pickle-unresolved",
    ),
    "getattr-with-default": (
        program(asm(GETATTR, MARK, ZONE, u("_unpickle"), global_("os", "getcwd"), TUPLE, REDUCE)),
        "pickle-unresolved",
    ),
    "getattr-by-inst": (
        program(asm(MARK, ZONE, u("_unpickle"), inst("builtins", "getattr"))),
        "pickle-dangerous-import",
    ),
    "partial-of-computed-function": (
        program(asm(PARTIAL, MARK, _unpickle_tz(), TUPLE, REDUCE, TUPLE, REDUCE)),
        "pickle-dangerous-import",
    ),
    "partial-then-called": (
        program(asm(PARTIAL, MARK, CHECK, TUPLE, REDUCE, MARK, u("x"), TUPLE, REDUCE)),
        "pickle-unresolved",
    ),
    "partial-of-dangerous-function": (
        program(asm(PARTIAL, MARK, global_("posix", "system"), u("true"), TUPLE, REDUCE)),
        "pickle-dangerous-import",
    ),
}


@pytest.mark.parametrize("name", sorted(LOUD))
def test_unresolved_or_leftover_gadget_stays_a_finding(tmp_path: Path, name: str) -> None:
    data, rule = LOUD[name]
    passed, loud = _outcome(tmp_path, data)
    assert not passed
    assert rule in loud, loud

"""The pickle machine resolves imports and calls from opcodes alone, within its limits."""

from __future__ import annotations

import io
import pickle
import time
from collections import OrderedDict

import pytest

from mlsbom.analyzers.pickle_vm import PickleWalker, looks_like_pickle
from mlsbom.config import Limits
from mlsbom.facts import (
    Fact,
    LimitExceeded,
    NestedPickle,
    ParseError,
    PickleGlobalMutation,
    PickleImport,
    PickleStream,
    PickleUnresolved,
)


def walk(data: bytes, limits: Limits | None = None, **kw: object) -> list[Fact]:
    walker = PickleWalker(limits or Limits(), time.monotonic() + 30)
    walker.walk_file(io.BytesIO(data), size=len(data), **kw)  # type: ignore[arg-type]
    return walker.facts()


def imports(facts: list[Fact]) -> dict[str, PickleImport]:
    return {str(f.target): f for f in facts if isinstance(f, PickleImport)}


def u(s: str) -> bytes:
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


SYSTEM_P0 = b"cos\nsystem\n(S'echo mlsbom'\ntR."


def test_protocol0_global_reduce_with_offset_and_evidence() -> None:
    found = imports(walk(SYSTEM_P0))
    assert found["os.system"].offset == 0
    assert found["os.system"].called
    assert found["os.system"].evidence == "os.system('echo mlsbom')"


def test_stack_global_from_memo() -> None:
    data = (
        b"\x80\x04"
        + u("os")
        + b"\x94"
        + u("system")
        + b"\x94"
        + b"h\x00h\x01\x93"
        + u("echo")
        + b"\x85R."
    )
    assert imports(walk(data))["os.system"].opcode == "STACK_GLOBAL"


def test_stack_global_from_rot13_codec_call() -> None:
    data = (
        b"\x80\x04c_codecs\nencode\n"
        + u("bf")
        + u("rot13")
        + b"\x86R"
        + u("system")
        + b"\x93"
        + u("x")
        + b"\x85R."
    )
    assert "os.system" in imports(walk(data))


def test_non_string_stack_global_is_unresolved() -> None:
    facts = walk(b"\x80\x04K\x01K\x02\x93.")
    assert any(isinstance(f, PickleUnresolved) for f in facts)


def test_python2_names_are_mapped() -> None:
    assert "builtins.eval" in imports(walk(b"c__builtin__\neval\n(S'1'\ntR."))


def test_getattr_gadget_resolves_target() -> None:
    data = (
        b"\x80\x02cbuiltins\ngetattr\ncbuiltins\n__import__\nX\x02\x00\x00\x00os\x85R"
        b"X\x06\x00\x00\x00system\x86R."
    )
    found = imports(walk(data))
    assert {"builtins.__import__", "os.*", "os.system"} <= set(found)
    assert "builtins.getattr" not in found  # judged by what it yields (pickle_gadgets)


def test_nested_pickle_is_followed() -> None:
    outer = b"\x80\x03cpickle\nloads\nC" + bytes([len(SYSTEM_P0)]) + SYSTEM_P0 + b"\x85R."
    facts = walk(outer)
    assert any(isinstance(f, NestedPickle) for f in facts)
    assert imports(facts)["os.system"].stream.startswith("0/nested@")


def test_second_stream_after_benign_first() -> None:
    facts = walk(pickle.dumps({"a": 1}, protocol=2) + SYSTEM_P0)
    assert imports(facts)["os.system"].stream == "1"


def test_broken_stream_keeps_what_came_first() -> None:
    facts = walk(SYSTEM_P0[:-1] + b"\xff\xfe garbage")
    assert "os.system" in imports(facts)
    assert any(isinstance(f, ParseError) for f in facts)


def test_trailing_junk_after_stop_is_not_a_stream() -> None:
    facts = walk(pickle.dumps([1, 2], protocol=4) + b"\x00\x00")
    assert not any(isinstance(f, ParseError) for f in facts)


def test_build_on_global_is_mutation() -> None:
    data = b"\x80\x02ccollections\nOrderedDict\nN}X\x01\x00\x00\x00xK\x01s\x86b."
    assert any(isinstance(f, PickleGlobalMutation) for f in walk(data))


def test_ext_opcode_is_unresolved() -> None:
    facts = walk(b"\x80\x02\x82\x01)R.")
    assert any(isinstance(f, PickleUnresolved) and f.opcode == "EXT" for f in facts)


def test_plain_data_imports_nothing_dangerous() -> None:
    data = pickle.dumps({"a": [1, 2.5, "x", b"y", None, True], "o": OrderedDict(k=1)}, protocol=5)
    found = imports(walk(data))
    assert set(found) == {"collections.OrderedDict"}


def test_large_payload_is_skipped_not_buffered() -> None:
    data = b"\x80\x04\x8e" + (50 << 20).to_bytes(8, "little") + b"\0" * (50 << 20) + b"."
    facts = walk(data, Limits(max_kept_bytes=1 << 10))
    stream = next(f for f in facts if isinstance(f, PickleStream))
    assert stream.complete and stream.length == len(data)


def test_absurd_length_is_a_parse_error() -> None:
    facts = walk(b"\x80\x04\x8d" + (1 << 61).to_bytes(8, "little") + b"abc.")
    assert any(isinstance(f, ParseError) for f in facts)


@pytest.mark.parametrize(
    ("data", "limit"),
    [
        (b"\x80\x02N" + b"r" + (0xFFFFFFF0).to_bytes(4, "little") + b"0" * 0, None),
        (b"\x80\x02" + b"(" * 2000 + b".", "pickle-marks"),
        (
            b"\x80\x02N" + b"".join(b"r" + i.to_bytes(4, "little") for i in range(2000)) + b".",
            "pickle-memo",
        ),
    ],
)
def test_limits_end_walk_with_a_fact(data: bytes, limit: str | None) -> None:
    facts = walk(data, Limits(max_mark_depth=1000, max_memo=1000))
    if limit:
        assert any(isinstance(f, LimitExceeded) and f.limit == limit for f in facts)
    else:
        assert any(isinstance(f, ParseError) for f in facts)


def test_sniff_accepts_pickles_and_rejects_text() -> None:
    assert looks_like_pickle(SYSTEM_P0, Limits())
    assert looks_like_pickle(pickle.dumps([1], protocol=5), Limits())
    assert not looks_like_pickle(b"# README\nhello", Limits())
    assert not looks_like_pickle(b'{"a": 1}', Limits())
    assert not looks_like_pickle(b"This is a licence text.", Limits())

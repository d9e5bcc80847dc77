"""The tolerant zip reader reads what torch.load (miniz) reads and raises only ZipFormatError."""

from __future__ import annotations

import io
import random
import struct
import tracemalloc
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest

from mlsbom import zipfmt, zipmember
from mlsbom.zipfmt import ZipEntry, ZipFormatError, ZipLimitError

DATE = (1980, 1, 1, 0, 0, 0)
PICKLE = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."


def make_zip(
    members: list[tuple[str, bytes]],
    method: int = zipfile.ZIP_STORED,
    comment: bytes = b"",
) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names
        with zipfile.ZipFile(buf, "w", method) as zf:
            for name, data in members:
                info = zipfile.ZipInfo(name, date_time=DATE)
                info.compress_type = method
                zf.writestr(info, data)
            zf.comment = comment
    return buf.getvalue()


def entries(data: bytes, **kwargs: int) -> list[ZipEntry]:
    return zipfmt.read_entries(io.BytesIO(data), len(data), **kwargs)


def member(data: bytes, entry: ZipEntry, max_bytes: int = 1 << 20) -> bytes:
    return zipmember.open_member(io.BytesIO(data), entry, max_bytes=max_bytes).read()


def eocd_at(data: bytes | bytearray) -> int:
    return data.rfind(b"PK\x05\x06")


def central_at(data: bytes | bytearray, n: int = 0) -> int:
    pos = -1
    for _ in range(n + 1):
        pos = data.find(b"PK\x01\x02", pos + 1)
    return pos


def test_is_zip() -> None:
    assert zipfmt.is_zip(make_zip([("a", b"x")]))
    assert zipfmt.is_zip(make_zip([]))
    assert not zipfmt.is_zip(b"\x80\x02}q\x00.")


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_stored_and_deflated_members(method: int) -> None:
    data = make_zip([("archive/data.pkl", PICKLE), ("archive/", b""), ("b", b"y" * 5000)], method)
    found = entries(data)
    assert [e.name for e in found] == ["archive/data.pkl", "archive/", "b"]
    assert [e.index for e in found] == [0, 1, 2]
    assert [e.is_dir for e in found] == [False, True, False]
    assert all(e.anomalies == () and e.local_name == e.name for e in found)
    assert found[0].method == method
    assert found[0].data_offset == 30 + len("archive/data.pkl")
    assert member(data, found[0]) == PICKLE
    assert member(data, found[2]) == b"y" * 5000
    assert zipfmt.member_size_hint(found[2]) == 5000


def test_empty_archive() -> None:
    assert entries(make_zip([])) == []


def test_duplicate_names_are_all_returned() -> None:
    data = make_zip([("data.pkl", b"benign"), ("data.pkl", PICKLE)])
    found = entries(data)
    assert [e.name for e in found] == ["data.pkl", "data.pkl"]
    assert [member(data, e) for e in found] == [b"benign", PICKLE]


def test_comment_and_prepended_junk() -> None:
    data = b"#!/bin/sh\nexit 0\n" * 10 + make_zip([("a.pkl", PICKLE)], comment=b"PK hi" * 50)
    (entry,) = entries(data)
    assert "shifted-offsets" in entry.anomalies
    assert member(data, entry) == PICKLE


def test_prefix_with_absolute_offsets_needs_no_shift() -> None:
    buf = io.BytesIO()
    buf.write(b"JUNK" * 25)
    with zipfile.ZipFile(buf, "w") as zf:  # zipfile writes absolute offsets after a prefix
        zf.writestr(zipfile.ZipInfo("a.pkl", date_time=DATE), PICKLE)
    data = buf.getvalue()
    (entry,) = entries(data)
    assert entry.anomalies == () and entry.header_offset == 100
    assert member(data, entry) == PICKLE


def test_both_directories_are_read_when_miniz_and_zipfile_disagree() -> None:
    """miniz reads the directory at its stated offset; zipfile at the spot before the EOCD."""
    data = make_zip([("data.pkl", PICKLE)])
    start, end = central_at(data), eocd_at(data)
    decoy = data[start:end].replace(b"data.pkl", b"safe.txt")
    patched = data[:end] + decoy + data[end:]
    assert zipfile.ZipFile(io.BytesIO(patched)).namelist() == ["safe.txt"]
    stated, second = entries(patched)
    assert stated.name == "data.pkl" and "second-directory" not in stated.anomalies
    assert second.name == "safe.txt" and "second-directory" in second.anomalies
    assert member(patched, stated) == PICKLE
    assert "bad-local-signature" in second.anomalies  # zipfile shifts its offset: it fails too


def test_bad_crc_is_not_checked() -> None:
    data = bytearray(make_zip([("data.pkl", PICKLE)]))
    data[14:18] = b"\0\0\0\0"
    data[central_at(data) + 16 : central_at(data) + 20] = b"\0\0\0\0"
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(bytes(data))).read("data.pkl")
    (entry,) = entries(bytes(data))
    assert entry.crc32 == 0
    assert member(bytes(data), entry) == PICKLE


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_encryption_flag_does_not_refuse(method: int) -> None:
    data = bytearray(make_zip([("data.pkl", PICKLE)], method))
    data[6] |= 0x01
    data[central_at(data) + 8] |= 0x01
    with pytest.raises(RuntimeError):  # zipfile wants a password
        zipfile.ZipFile(io.BytesIO(bytes(data))).read("data.pkl")
    (entry,) = entries(bytes(data))
    assert "encrypted-flag" in entry.anomalies and entry.flags & 1
    assert member(bytes(data), entry) == PICKLE


def test_local_name_mismatch_uses_central_name() -> None:
    data = bytearray(make_zip([("archive/data.pkl", PICKLE), ("x", b"x")]))
    data[30 : 30 + 16] = b"archive/safe.txt"
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(bytes(data))).read("archive/data.pkl")
    first, second = entries(bytes(data))
    assert first.name == "archive/data.pkl" and first.local_name == "archive/safe.txt"
    assert first.anomalies == ("local-name-mismatch",)
    assert member(bytes(data), first) == PICKLE
    assert second.anomalies == ()


def test_data_offset_comes_from_the_local_header_lengths() -> None:
    data = bytearray(make_zip([("a", b"0123456789")]))
    data[28:30] = struct.pack("<H", 4)  # local extra length: data now starts 4 bytes later
    (entry,) = entries(bytes(data))
    assert entry.data_offset == 30 + 1 + 4
    assert member(bytes(data), entry) == b"456789" + bytes(data[41:45])


def test_bad_local_signature_is_a_per_entry_anomaly() -> None:
    data = bytearray(make_zip([("a", b"aaa"), ("b", b"bbb")]))
    data[0:4] = b"XXXX"
    first, second = entries(bytes(data))
    assert first.anomalies == ("bad-local-signature",)
    assert first.local_name is None and first.data_offset is None
    with pytest.raises(ZipFormatError):
        zipmember.open_member(io.BytesIO(bytes(data)), first, max_bytes=100)
    assert member(bytes(data), second) == b"bbb"


def test_local_header_and_data_beyond_eof() -> None:
    data = bytearray(make_zip([("a", b"aaa"), ("b", b"bbb")]))
    first, second = central_at(data), central_at(data, 1)
    data[first + 42 : first + 46] = struct.pack("<L", 10_000)
    data[second + 20 : second + 28] = struct.pack("<LL", 10_000, 10_000)
    one, two = entries(bytes(data))
    assert one.anomalies == ("local-header-beyond-eof",)
    assert "data-beyond-eof" in two.anomalies
    reader = zipmember.open_member(io.BytesIO(bytes(data)), two, max_bytes=1 << 20)
    assert reader.read().startswith(b"bbb")
    assert getattr(reader, "truncated") is True


def test_unsupported_method() -> None:
    data = bytearray(make_zip([("a", b"aaa")]))
    data[8] = 99
    data[central_at(data) + 10] = 99
    (entry,) = entries(bytes(data))
    assert entry.method == 99 and entry.anomalies == ("unsupported-method:99",)
    with pytest.raises(ZipFormatError):
        zipmember.open_member(io.BytesIO(bytes(data)), entry, max_bytes=100)


def test_names_never_fail_to_decode() -> None:
    data = bytearray(make_zip([("\x80.pkl", b"")]))  # non-ASCII: zipfile sets the UTF-8 bit
    assert entries(bytes(data))[0].name == "\x80.pkl"
    c = central_at(data)
    data[c + 46 : c + 48] = b"\xff\xfe"
    assert entries(bytes(data))[0].name.startswith("\ufffd")
    data[c + 9] &= ~0x08  # cp437 instead
    assert entries(bytes(data))[0].name.startswith("\u00a0\u25a0")


def test_zip64_local_extra_from_force_zip64() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        info = zipfile.ZipInfo("archive/data.pkl", date_time=DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as out:
            out.write(PICKLE * 100)
    data = buf.getvalue()
    (entry,) = entries(data)
    assert entry.data_offset == 30 + 16 + 20  # local zip64 extra is skipped
    assert member(data, entry) == PICKLE * 100


def build_zip64(payload: bytes, count: int = 1, locator_offset: int | None = None) -> bytes:
    """A stored single-member archive whose sizes, offset and counts are all ZIP64."""
    name = b"archive/data.pkl"
    crc = zlib.crc32(payload)
    local = (
        struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 45, 0, 0, 0, 0, crc, *[0xFFFFFFFF] * 2, len(name), 20
        )
        + name
        + struct.pack("<HHQQ", 1, 16, *[len(payload)] * 2)
    )
    extra = struct.pack("<HHQQQ", 1, 24, len(payload), len(payload), 0)
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 45, 45, 0, 0, 0, 0, crc,
                          *[0xFFFFFFFF] * 2, len(name), len(extra), 0, 0, 0, 0,
                          0xFFFFFFFF) + name + extra  # fmt: skip
    cd_at = len(local) + len(payload)
    eocd64_at = cd_at + len(central)
    eocd64 = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count,
                         len(central), cd_at)  # fmt: skip
    at = eocd64_at if locator_offset is None else locator_offset
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, at, 1)
    eocd = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, *[0xFFFFFFFF] * 2, 0)
    return local + payload + central + eocd64 + locator + eocd


def test_zip64_end_record_and_central_extra() -> None:
    data = build_zip64(PICKLE)
    (entry,) = entries(data)
    assert (entry.compressed_size, entry.uncompressed_size) == (len(PICKLE), len(PICKLE))
    assert entry.header_offset == 0 and entry.anomalies == ()
    assert member(data, entry) == PICKLE
    assert zipfile.ZipFile(io.BytesIO(data)).read("archive/data.pkl") == PICKLE


def test_zip64_locator_pointing_nowhere_falls_back_to_the_record_before_it() -> None:
    data = build_zip64(PICKLE, locator_offset=2**64 - 1)
    assert member(data, entries(data)[0]) == PICKLE


def test_zip64_absurd_entry_count() -> None:
    with pytest.raises(ZipFormatError):
        entries(build_zip64(PICKLE, count=2**32 - 1))
    with pytest.raises(ZipFormatError):
        entries(build_zip64(PICKLE, count=2**64 - 1))


def test_absurd_entry_count_and_limit() -> None:
    data = bytearray(make_zip([("a", b"a")]))
    e = eocd_at(data)
    data[e + 8 : e + 12] = b"\xff\xff\xff\xff"
    with pytest.raises(ZipFormatError):
        entries(bytes(data))
    many = make_zip([(f"m{i}", b"") for i in range(5)])
    assert len(entries(many, max_entries=5)) == 5
    with pytest.raises(ZipLimitError):
        entries(many, max_entries=4)


@pytest.mark.parametrize("cut", [1, 10, 22, 60, 200])
def test_truncated_archive(cut: int) -> None:
    data = make_zip([("a.pkl", PICKLE), ("b", b"b" * 100)])
    with pytest.raises(ZipFormatError):
        entries(data[:-cut])


def test_directory_offset_beyond_eof() -> None:
    data = bytearray(make_zip([("a", b"a")]))
    e = eocd_at(data)
    data[e + 16 : e + 20] = struct.pack("<L", len(data) + 1000)
    with pytest.raises(ZipFormatError):
        entries(bytes(data))
    data[e + 12 : e + 16] = struct.pack("<L", 0xFFFFFFFF)
    with pytest.raises(ZipFormatError):
        entries(bytes(data))


def test_lying_size_never_overreads() -> None:
    data = make_zip([("a", b"a")])
    with pytest.raises(ZipFormatError):
        zipfmt.read_entries(io.BytesIO(data), len(data) + 10_000)
    with pytest.raises(ZipFormatError):
        zipfmt.read_entries(io.BytesIO(data), -5)


def test_random_bytes() -> None:
    rng = random.Random(1)
    for prefix in (b"", b"PK\x03\x04", b"PK\x05\x06"):
        for _ in range(20):
            data = prefix + rng.randbytes(rng.randrange(0, 4000))
            with pytest.raises(ZipFormatError):
                entries(data)


def test_deflate_bomb_hits_the_limit_with_little_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("data.pkl", date_time=DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as out:
            for _ in range(50):
                out.write(chunk)
    del chunk
    assert path.stat().st_size < 1 << 20
    with path.open("rb") as f:
        (entry,) = zipfmt.read_entries(f, path.stat().st_size)
        assert entry.uncompressed_size == 50 << 20
        tracemalloc.start()
        try:
            raw = zipmember.open_member(f, entry, max_bytes=1 << 20)
            reader = io.BufferedReader(raw)  # type: ignore[arg-type]
            total = 0
            with pytest.raises(ZipLimitError):
                while block := reader.read(1 << 16):
                    total += len(block)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert total <= 1 << 20
    assert peak < 4 << 20


def test_limit_is_exact() -> None:
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        data = make_zip([("a", b"z" * 1000)], method)
        (entry,) = entries(data)
        assert member(data, entry, max_bytes=1000) == b"z" * 1000
        with pytest.raises(ZipLimitError):
            member(data, entry, max_bytes=999)


def test_truncated_deflate_stream_just_ends() -> None:
    payload = random.Random(2).randbytes(20_000)
    data = bytearray(make_zip([("a", payload)], zipfile.ZIP_DEFLATED))
    c = central_at(data)
    (csize,) = struct.unpack("<L", data[c + 20 : c + 24])
    data[c + 20 : c + 24] = struct.pack("<L", csize // 2)
    (entry,) = entries(bytes(data))
    reader = zipmember.open_member(io.BytesIO(bytes(data)), entry, max_bytes=1 << 20)
    out = reader.read()
    assert 0 < len(out) < len(payload) and payload.startswith(out)
    assert reader.read() == b""
    assert getattr(reader, "truncated") is True
    intact = make_zip([("a", payload)], zipfile.ZIP_DEFLATED)
    whole = zipmember.open_member(io.BytesIO(intact), entries(intact)[0], max_bytes=1 << 20)
    assert whole.read() == payload and getattr(whole, "truncated") is False


def test_corrupt_deflate_stream() -> None:
    data = bytearray(make_zip([("a", b"hello" * 100)], zipfile.ZIP_DEFLATED))
    data[31:40] = b"\xff" * 9
    (entry,) = entries(bytes(data))
    with pytest.raises(ZipFormatError):
        member(bytes(data), entry)


def test_readers_share_one_file() -> None:
    data = make_zip([("a", b"A" * 70_000), ("b", b"B" * 70_000)], zipfile.ZIP_DEFLATED)
    f = io.BytesIO(data)
    a, b = (zipmember.open_member(f, e, max_bytes=1 << 20) for e in entries(data))
    parts: dict[str, list[bytes]] = {"a": [], "b": []}
    while True:
        x, y = a.read(4096), b.read(4096)
        if not x and not y:
            break
        parts["a"].append(x)
        parts["b"].append(y)
    assert b"".join(parts["a"]) == b"A" * 70_000 and b"".join(parts["b"]) == b"B" * 70_000
    a.close()
    assert not f.closed


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    kind = rng.randrange(5)
    if kind == 0:
        for _ in range(rng.randrange(1, 9)):
            out[rng.randrange(len(out))] = rng.randrange(256)
    elif kind == 1:
        return bytes(out[: rng.randrange(len(out))])
    elif kind == 2:
        pos = rng.randrange(len(out))
        out[pos:pos] = rng.randbytes(rng.randrange(1, 64))
    else:
        starts = [i for i in range(len(out) - 3) if out[i : i + 2] == b"PK"]
        base = rng.choice(starts) if kind == 3 else rng.randrange(len(out))
        width = rng.choice([2, 4, 8])
        pos = min(base + rng.randrange(0, 48), len(out) - width)
        top = 2 ** (8 * width)
        value = rng.choice([0, 1, 0xFF, top - 1, top // 2, rng.randrange(top)])
        out[pos : pos + width] = value.to_bytes(width, "little")
    return bytes(out)


def test_random_mutations_only_raise_zip_format_error() -> None:
    rng = random.Random(0)
    seeds = [
        make_zip([("archive/data.pkl", PICKLE), ("archive/data/0", bytes(64))], comment=b"c"),
        make_zip([("a.pkl", PICKLE * 20), ("b/", b""), ("b/c", b"x" * 300)], zipfile.ZIP_DEFLATED),
        build_zip64(PICKLE),
    ]
    outcomes = {"ok": 0, "error": 0}
    for i in range(300):
        data = _mutate(rng, seeds[i % len(seeds)])
        f = io.BytesIO(data)
        try:
            for entry in zipfmt.read_entries(f, len(data), max_entries=1000):
                try:
                    reader = zipmember.open_member(f, entry, max_bytes=1 << 16)
                    while reader.read(4096):
                        pass
                except ZipFormatError:
                    pass
            outcomes["ok"] += 1
        except ZipFormatError:
            outcomes["error"] += 1
    assert outcomes["ok"] > 30 and outcomes["error"] > 30, outcomes


# --- The scanner reads every member a loader could pick (zipfile, torch/miniz) -------------

EVIL = b"\x80\x02cposix\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
EVIL_P0 = b"cposix\nsystem\n(S'true'\ntR."
BENIGN = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01K\x01s."


def _caught(tmp_path: Path, name: str, data: bytes) -> set[tuple[str, ...]]:
    """Member chains of the artefacts where the dangerous import was found."""
    from mlsbom.config import ScanConfig
    from mlsbom.engine import scan

    path = tmp_path / name
    path.write_bytes(data)
    result = scan([str(path)], ScanConfig())
    return {
        f.artifact.member_chain for f in result.findings if f.rule_id == "pickle-dangerous-import"
    }


def _torch_zip(pickle: bytes, folder: str = "archive", method: int = zipfile.ZIP_STORED) -> bytes:
    return make_zip([(f"{folder}/data.pkl", pickle), (f"{folder}/version", b"3\n")], method)


@pytest.mark.parametrize(
    "stub",
    [b"#!/bin/sh\nexec python -c 'print(1)'\n", BENIGN, b"\x89PNG\r\n\x1a\n" + bytes(40), b"x"],
    ids=["shell-stub", "benign-pickle-polyglot", "png-header", "one-byte"],
)
def test_zip_behind_a_prefix_is_analysed(tmp_path: Path, stub: bytes) -> None:
    """`cat stub archive.zip`: zipfile.is_zipfile and Keras open it (offsets shifted)."""
    assert _caught(tmp_path, "model.keras", stub + _torch_zip(EVIL))


def test_prefix_with_absolute_offsets_is_analysed(tmp_path: Path) -> None:
    buf = io.BytesIO()
    buf.write(b"MZ" + bytes(200))  # a self-extractor's stub, offsets written past it
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("archive/data.pkl", date_time=DATE), EVIL)
    assert _caught(tmp_path, "setup.exe", buf.getvalue())


class _Unseekable(io.RawIOBase):
    def __init__(self) -> None:
        self.buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.buf += b
        return len(b)


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_data_descriptors(tmp_path: Path, method: int) -> None:
    """Written to a pipe, zipfile puts sizes in data descriptors (flag bit 3)."""
    out = _Unseekable()
    with zipfile.ZipFile(out, "w", method) as zf:  # type: ignore[arg-type]
        zf.writestr(zipfile.ZipInfo("archive/data.pkl", date_time=DATE), EVIL)
        zf.writestr(zipfile.ZipInfo("archive/version", date_time=DATE), b"3\n")
    data = bytes(out.buf)
    assert entries(data)[0].flags & 0x08
    assert _caught(tmp_path, "model.pt", data) == {("archive/data.pkl",)}


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_zip64_members(tmp_path: Path, method: int) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        info = zipfile.ZipInfo("archive/data.pkl", date_time=DATE)
        info.compress_type = method
        with zf.open(info, "w", force_zip64=True) as f:
            f.write(EVIL)
    assert _caught(tmp_path, "model.pt", buf.getvalue()) == {("archive/data.pkl",)}


@pytest.mark.parametrize(
    "order",
    [(BENIGN, EVIL), (EVIL, BENIGN), (BENIGN, BENIGN, EVIL), (BENIGN, EVIL_P0, BENIGN)],
    ids=["evil-last", "evil-first", "evil-third", "protocol-0-middle"],
)
def test_every_duplicate_is_analysed(tmp_path: Path, order: tuple[bytes, ...]) -> None:
    """zipfile picks the last entry of a name, miniz's binary search may pick any."""
    data = make_zip([("archive/data.pkl", p) for p in order] + [("archive/version", b"3\n")])
    assert _caught(tmp_path, "model.pt", data) == {("archive/data.pkl",)}


@pytest.mark.parametrize(
    ("names", "evil_name"),
    [
        (["archive/data.pkl", "archive/DATA.PKL"], "archive/DATA.PKL"),
        (["Archive/Data.Pkl", "Archive/version"], "Archive/Data.Pkl"),
        (["archive/data.pkl", "archive/data.pkl/"], "archive/data.pkl/"),
        (["archive\\sub/data.pkl", "archive\\sub/version"], "archive\\sub/data.pkl"),
        (["./data.pkl", "./version"], "./data.pkl"),
        (["a/b/c/data.pkl", "a/b/c/version"], "a/b/c/data.pkl"),
        (["модель/data.pkl", "модель/version"], "модель/data.pkl"),
    ],
    ids=["case-twin", "mixed-case", "trailing-slash", "backslash", "dot", "nested", "unicode"],
)
def test_unusual_names(tmp_path: Path, names: list[str], evil_name: str) -> None:
    """torch looks up `<first folder>/data.pkl` case-insensitively (miniz, flags 0)."""
    members = [(n, EVIL_P0 if n == evil_name else BENIGN) for n in names]
    assert (evil_name,) in _caught(tmp_path, "model.pt", make_zip(members))


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_zipfile_only_methods_are_read(tmp_path: Path, method: int) -> None:
    """np.load and Keras read bzip2 and LZMA members through zipfile."""
    data = make_zip([("w.npy", b"\x93NUMPY"), ("evil.pkl", EVIL)], method)
    found = entries(data)
    assert member(data, found[1]) == EVIL
    assert _caught(tmp_path, "weights.npz", data) == {("evil.pkl",)}


def test_member_stops_at_its_declared_size() -> None:
    """Both loaders stop at the declared uncompressed size; stored members are read for it."""
    data = bytearray(make_zip([("a", b"x" * 100)], zipfile.ZIP_DEFLATED))
    data[central_at(data) + 24 : central_at(data) + 28] = struct.pack("<L", 10)
    (entry,) = entries(bytes(data))
    assert member(bytes(data), entry) == b"x" * 10
    stored = bytearray(make_zip([("a", EVIL + b"tail")]))
    at = central_at(stored)
    stored[at + 20 : at + 24] = struct.pack("<L", 4)  # compressed size says 4 bytes
    (entry,) = entries(bytes(stored))
    assert member(bytes(stored), entry) == EVIL + b"tail"  # miniz reads the full size


def test_overlapping_entries_are_flagged() -> None:
    data = bytearray(make_zip([("a", b"x" * 50), ("b", b"y" * 50)]))
    second = central_at(data, 1)
    data[second + 42 : second + 46] = struct.pack("<L", 0)  # b's header offset -> a's
    found = entries(bytes(data))
    assert all("overlapping-data" in e.anomalies for e in found)
    clean = entries(make_zip([("a", b"x" * 50), ("b", b"y" * 50)]))
    assert not any("overlapping-data" in e.anomalies for e in clean)

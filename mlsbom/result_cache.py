"""A result cache for repeated scans (pre-commit hooks): `--cache`, off by default.

An entry is reused only for exactly the bytes that were analysed:
- The key is the block digest of the file (`Pinned.digest`, pinned.py): every block is read once
  through the descriptor the analysis then reads through, and every block the analysis reads is
  checked against the digest recorded for it. So the analysed bytes are, block by block, the
  bytes the key names; a block that differs, or a descriptor whose size, times or inode moved
  between opening and the end of the analysis, makes a `file-changed` fact and no entry. A
  hit needs the same: a fresh digest of the file read whole, the file unchanged meanwhile. There
  is no stat index: nothing maps a path or a stat to content without reading that content.
- The key also names the file's name (analysis reads it: extensions, config files) and a
  fingerprint of everything else that decides results (mlsbom's version, the rules, the limits).
- Entries hold facts, never findings: the rules judge a hit's facts after the scan like any
  other (judge.py), so no entry can carry a verdict of its own.
- Entries are authenticated: HMAC-SHA256 under a per-user key (`key`, 32 random bytes, created
  0600 under a temporary name and hard-linked into place, so concurrent scans agree on one key and
  never read half of it). A loaded entry must verify and fit its schema (its own key, name and
  fingerprint, unjudged results about one file at its root), so no entry can make a file pass or
  disappear.
- The cache folder, the key and every entry must be ours and not writable by group or others;
  otherwise the cache is ignored with a warning. Entries are opened without following links.
- Writes go to a temporary file in the entry's own folder, then `os.replace`: a concurrent scan
  sees the old entry, the new one, or none.
Entries are JSON (`serial.py`), never pickle. Results read through a file name rather than the
pinned descriptor (the HDF5 probe) are not cached. Files under 16 KiB are scanned again instead:
a lookup costs more than their analysis.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import json
import logging
import os
import stat
import tempfile
from pathlib import Path

from mlsbom import __version__
from mlsbom.config import ScanConfig
from mlsbom.models import ArtifactRef, ArtifactResult, Format
from mlsbom.rules import RuleSet
from mlsbom.serial import SerialError, dump, load_results

MIN_BYTES = 16 << 10  # smaller files are cheaper to scan than to look up
MAX_ENTRY = 64 << 20  # an entry larger than this is neither written nor read
SCHEMA = 4  # 3: refs carry their scan target; 4: facts only (judged after the scan)
KEY_BYTES = 32
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_READ = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_PATH_READERS = frozenset({Format.HDF5})  # analysed through the file's name, not the descriptor
_FIELDS = ("schema", "key", "name", "fingerprint", "results")
log = logging.getLogger("mlsbom")


class CacheUnusable(Exception):
    """The cache folder or key cannot be trusted; the scan goes on without a cache."""


def cache_dir() -> Path:
    """MLSBOM_CACHE_DIR, or $XDG_CACHE_HOME/mlsbom, or ~/.cache/mlsbom."""
    if os.environ.get("MLSBOM_CACHE_DIR"):
        return Path(os.environ["MLSBOM_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mlsbom"


def _rules_digest(folder: Path) -> str:
    """The rules folder's files, names and contents (what decides findings besides mlsbom)."""
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*.toml")):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _ours(st: os.stat_result, what: str, private: bool = False) -> None:
    """Owned by this user, and not writable (not even readable, if private) by anyone else."""
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise CacheUnusable(f"{what} belongs to another user (uid {st.st_uid})")
    if st.st_mode & (0o077 if private else 0o022):
        raise CacheUnusable(f"{what} is open to other users (mode {stat.S_IMODE(st.st_mode):o})")


def open_cache(config: ScanConfig, rules: RuleSet, root: Path | None = None) -> ResultCache | None:
    """The cache for this scan, or None (with a warning) where it cannot be trusted."""
    root = root or cache_dir()
    try:
        return ResultCache(config, rules, root)
    except CacheUnusable as exc:
        log.warning("warning: result cache %s ignored: %s", root, exc)
        return None


class ResultCache:
    """Authenticated, content-keyed results of walked files (see the module docstring)."""

    def __init__(self, config: ScanConfig, rules: RuleSet, root: Path) -> None:
        self.root = root
        digest = _rules_digest(rules.folder)  # the rules this scan uses, wherever they live
        settings = json.dumps([__version__, digest, dump(config.limits), config.explain])
        self.fingerprint = hashlib.sha256(settings.encode()).hexdigest()[:32]
        self.hits = 0
        try:
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
            st = os.stat(root)
        except OSError as exc:
            raise CacheUnusable(f"cannot create it ({exc.strerror})") from exc
        if not stat.S_ISDIR(st.st_mode):
            raise CacheUnusable("it is not a folder")
        _ours(st, "the folder")
        self._key = self._load_key()

    def _load_key(self) -> bytes:
        path = self.root / "key"
        for _ in range(3):
            try:
                fd = os.open(path, _READ)
            except FileNotFoundError:
                self._create_key(path)
                continue
            except OSError as exc:  # a link (O_NOFOLLOW) or unreadable
                raise CacheUnusable(f"cannot open its key ({exc.strerror})") from exc
            with os.fdopen(fd, "rb") as f:
                st = os.fstat(f.fileno())
                if not stat.S_ISREG(st.st_mode):
                    raise CacheUnusable("its key is not a regular file")
                _ours(st, "its key", private=True)
                key = f.read(KEY_BYTES + 1)
            if len(key) != KEY_BYTES:
                raise CacheUnusable("its key is not 32 bytes long")
            return key
        raise CacheUnusable("its key keeps disappearing")

    def _create_key(self, path: Path) -> None:
        """Write a fresh key under a private temporary name and link it into place: only a
        whole key is ever seen under `key`, and the first scan to link it wins."""
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".key-")  # O_EXCL, mode 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(os.urandom(KEY_BYTES))
                f.flush()
                os.fsync(f.fileno())
            with contextlib.suppress(FileExistsError):  # another scan's key won: read that
                os.link(tmp, path)
        finally:
            os.unlink(tmp)

    def wants(self, size: int) -> bool:
        """Whether a file is worth a lookup: large enough to cost more to scan than to hash."""
        return size >= MIN_BYTES

    def _mac(self, body: bytes) -> str:
        return hmac.new(self._key, body, hashlib.sha256).hexdigest()

    def _entry(self, key: str, name: str) -> Path:
        named = hashlib.sha256(f"{name}\0{self.fingerprint}".encode()).hexdigest()[:32]
        return self.root / "results" / key[:2] / f"{key}-{named}.json"

    def get(self, key: str, ref: ArtifactRef) -> list[ArtifactResult] | None:
        """The stored results for this content and name, rebased onto `ref`; None on a miss or
        on any entry that is not ours, not authentic, or not of its schema."""
        path = self._entry(key, ref.name)
        try:
            raw = _read_entry(path)
        except FileNotFoundError:
            return None
        except (OSError, CacheUnusable) as exc:
            log.warning("warning: cache entry %s ignored: %s", path, exc)
            return None
        mac, _, body = raw.partition(b"\n")
        if not hmac.compare_digest(mac, self._mac(body).encode()):
            log.warning("warning: cache entry %s ignored: it fails authentication", path)
            return None
        stored = self._check(body, key, ref.name)
        if stored is None:
            log.warning("warning: cache entry %s ignored: it does not fit its schema", path)
            return None
        self.hits += 1
        return [_rebase(r, ref) for r in stored]

    def _check(self, body: bytes, key: str, name: str) -> list[ArtifactResult] | None:
        try:
            doc = json.loads(body)
            if not isinstance(doc, dict) or sorted(doc) != sorted(_FIELDS):
                return None
            if (doc["schema"], doc["key"], doc["name"], doc["fingerprint"]) != (
                SCHEMA,
                key,
                name,
                self.fingerprint,
            ):
                return None
            stored = load_results(doc["results"])
        except (ValueError, SerialError):
            return None
        if not stored or stored[0].ref != _NOWHERE:
            return None  # an entry must describe the file itself, first
        if any((r.ref.path, r.ref.target) != ("", "") or r.findings for r in stored):
            return None  # one file's unjudged results: facts only, judged after the scan
        return stored

    def put(self, key: str, ref: ArtifactRef, results: list[ArtifactResult]) -> None:
        """Store results of the file with this content digest, unless a name-based reader
        (not the verified descriptor) took part in them."""
        if not results or any(r.format in _PATH_READERS for r in results):
            return
        doc = {
            "schema": SCHEMA,
            "key": key,
            "name": ref.name,
            "fingerprint": self.fingerprint,
            "results": dump([_rebase(r, _NOWHERE) for r in results]),
        }
        body = json.dumps(doc).encode()
        if len(body) < MAX_ENTRY:
            _write(self._entry(key, ref.name), self._mac(body).encode() + b"\n" + body)


def _read_entry(path: Path) -> bytes:
    fd = os.open(path, _READ)  # a planted link fails here (ELOOP)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise CacheUnusable("not a regular file")
        _ours(st, "the entry")
        raw = f.read(MAX_ENTRY + 1)
    if len(raw) > MAX_ENTRY:
        raise CacheUnusable("too large")
    return raw


_NOWHERE = ArtifactRef("")  # stored entries name no path and no target


def _rebase(result: ArtifactResult, file: ArtifactRef) -> ArtifactResult:
    """The same results for a file at another path and target (entries are path-free)."""
    ref = ArtifactRef(file.path, result.ref.member_chain, file.target)
    return dataclasses.replace(result, ref=ref, findings=(), sha256=None)


def _write(path: Path, data: bytes) -> None:
    """Atomic write in the entry's own folder; a cache that cannot be written is just not used."""
    try:
        for folder in (path.parent.parent, path.parent):  # results/, results/ab/
            folder.mkdir(mode=0o700, exist_ok=True)
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                return  # a link planted in place of our folder
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass

"""Targets to artefacts: a deterministic, bounded walk that never follows links out of its root."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mlsbom.errors import TargetError
from mlsbom.facts import Fact, NotRegularFile, SymlinkOutsideRoot, Unreadable
from mlsbom.file_identity import Identity
from mlsbom.hub.cache import layout, snapshot_target
from mlsbom.models import ArtifactRef, Format
from mlsbom.sources import FileSource, Source

SKIPPED_DIRS = frozenset({".git"})  # git's object store; loaders never read it


@dataclass(frozen=True, slots=True)
class WalkItem:
    """A file to analyse (`source` set) or to inventory only (`facts` say why)."""

    ref: ArtifactRef
    source: Source | None
    size: int | None
    facts: tuple[Fact, ...] = ()
    format: Format | None = None  # preset for pseudo artefacts (Format.REPOSITORY)
    identity: Identity | None = None  # the file as walked: a later read must see the same one


def _display(target: str, rel: str) -> str:
    return f"{target.rstrip('/')}/{rel}" if rel else target


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _file_type(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def _item(
    given: str, shown: str, root: str, path: str, rel: str, link_root: str | None = None
) -> WalkItem | None:
    """The walk item of `path` (`rel` under the folder displayed as `shown`, of target `given`)."""
    ref = ArtifactRef(_display(shown, rel), target=given)
    try:
        st = os.lstat(path)
    except OSError as exc:
        return WalkItem(ref, None, None, (Unreadable(f"cannot stat: {exc.strerror}"),))
    if stat.S_ISLNK(st.st_mode):
        real = os.path.realpath(path)
        if not (_within(real, root) or (link_root is not None and _within(real, link_root))):
            return WalkItem(ref, None, None, (SymlinkOutsideRoot(os.readlink(path)),))
        try:
            st = os.stat(path)
        except OSError:
            return WalkItem(ref, None, None, (NotRegularFile("dangling symlink"),))
        if stat.S_ISDIR(st.st_mode):
            return None  # its contents are walked where they really are
    if stat.S_ISREG(st.st_mode):
        ident = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        return WalkItem(ref, FileSource(Path(path), st.st_size), st.st_size, identity=ident)
    if stat.S_ISDIR(st.st_mode):
        return None
    return WalkItem(ref, None, None, (NotRegularFile(_file_type(st.st_mode)),))


def _require_regular(target: str) -> None:
    """A target named on the command line must be a file or folder: a FIFO, device or socket
    (or a link to one) is a usage error, never an inventoried pass (`stat` never opens it)."""
    try:
        mode = os.stat(target).st_mode
    except OSError as exc:
        raise TargetError(f"cannot read target {target}: {exc.strerror}") from exc
    if not stat.S_ISREG(mode):
        raise TargetError(
            f"target is a {_file_type(mode)}, not a file or folder: {target}",
            hint="scan the model file itself; mlsbom never reads FIFOs, sockets or devices",
        )


def walk(target: str) -> Iterator[WalkItem]:
    """Yield every file under `target` in sorted order; raise TargetError if it does not exist."""
    if target.startswith("hf://"):
        from mlsbom.hub.walk import walk_hub

        for ref, source, size, fmt in walk_hub(target):
            yield WalkItem(ref, source, size, format=fmt)
        return
    if "://" in target:
        raise TargetError(
            f"unsupported target {target!r}",
            hint="scan a local file or folder, or a hub repository as hf://org/name[@revision]",
        )
    if not os.path.lexists(target):
        raise TargetError(f"target not found: {target}", hint="check the path")
    link_root = None
    shown = target  # the folder paths are displayed under
    cache = layout(target) if os.path.isdir(target) else None
    if cache is not None:  # an HF cache: walk the snapshot, follow its links into blobs/ only
        shown = snapshot_target(target, cache)
        link_root = os.path.realpath(cache.repo_dir / "blobs")
    root = os.path.realpath(shown)
    if not os.path.isdir(root):
        _require_regular(shown)
        item = _item(target, shown, root, root, "")
        if item is not None:
            yield item
        return
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        try:
            with os.scandir(os.path.join(root, rel_dir)) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            ref = ArtifactRef(_display(shown, rel_dir), target=target)
            yield WalkItem(ref, None, None, (Unreadable(f"unreadable folder: {exc.strerror}"),))
            continue
        subdirs = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIPPED_DIRS:
                    subdirs.append(rel)
                continue
            item = _item(target, shown, root, entry.path, rel, link_root)
            if item is not None:
                yield item
        pending.extend(reversed(subdirs))

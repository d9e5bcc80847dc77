"""The named lists of a rules folder (`rules/lists/NAME.toml`), as analysers receive them.

Rules expand `@NAME` in their match tables; analysers that classify by data (Python call
categories, Keras modules, TensorFlow ops, chat-template methods) read the same lists from the
`Lists` their job carries, so a custom rules folder changes their classification too. What an
analyser compiles from the lists is kept on the `Lists` object (`compiled`), once per rule set,
never in a module global.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar, cast

T = TypeVar("T")


class Lists(Mapping[str, tuple[str, ...]]):
    """Read-only lists by name, with the forms analysers compiled from them."""

    def __init__(self, lists: Mapping[str, tuple[str, ...]]) -> None:
        self._lists = {name: tuple(entries) for name, entries in lists.items()}
        self._compiled: dict[Callable[[Lists], object], object] = {}

    def __getitem__(self, name: str) -> tuple[str, ...]:
        try:
            return self._lists[name]
        except KeyError:
            raise KeyError(f"the rules folder has no list {name!r} (lists/{name}.toml)") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._lists)

    def __len__(self) -> int:
        return len(self._lists)

    def __repr__(self) -> str:
        return f"Lists({sorted(self._lists)})"

    def compiled(self, build: Callable[[Lists], T]) -> T:
        """`build(self)`, computed once for these lists (e.g. patterns an analyser matches)."""
        try:
            return cast(T, self._compiled[build])
        except KeyError:
            value = self._compiled[build] = build(self)
            return value

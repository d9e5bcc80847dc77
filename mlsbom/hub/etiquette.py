"""Hub etiquette: a cap on concurrent requests per host, and HTTP 429 honoured with Retry-After.

Every request mlsbom makes to a hub (the listing and each ranged read) runs through `polite`:

- at most `MLSBOM_HUB_CONCURRENCY` requests (default 4) are in flight to one host at a time,
  across all threads of the process;
- an answer of HTTP 429 pauses every request to that host for its `Retry-After` (seconds or an
  HTTP-date), or for an exponential back-off (1, 2, 4, ... s) when it names none, each wait capped
  at `MLSBOM_HUB_MAX_WAIT` seconds (default 60);
- after `MLSBOM_HUB_RETRIES` retries (default 5) the request fails with `RateLimitExhausted`: the
  caller turns it into a finding on that file (or an error for that target), never a pass.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

DEFAULT_CONCURRENCY = 4
DEFAULT_RETRIES = 5
DEFAULT_MAX_WAIT = 60.0


class RateLimited(Exception):
    """The hub answered 429; `wait` is its Retry-After in seconds (None when it gave none)."""

    def __init__(self, wait: float | None) -> None:
        super().__init__(f"HTTP 429 (Retry-After {wait})")
        self.wait = wait


class RateLimitExhausted(Exception):
    """Still rate limited after every retry."""


def _env_number(name: str, default: float, low: float) -> float:
    try:
        return max(low, float(os.environ.get(name, default)))
    except ValueError:
        return default


def concurrency() -> int:
    """Requests in flight per host (MLSBOM_HUB_CONCURRENCY, default 4, at least 1)."""
    return int(_env_number("MLSBOM_HUB_CONCURRENCY", DEFAULT_CONCURRENCY, 1))


def retries() -> int:
    """Retries after a 429 (MLSBOM_HUB_RETRIES, default 5)."""
    return int(_env_number("MLSBOM_HUB_RETRIES", DEFAULT_RETRIES, 0))


def max_wait() -> float:
    """The longest single wait in seconds (MLSBOM_HUB_MAX_WAIT, default 60)."""
    return _env_number("MLSBOM_HUB_MAX_WAIT", DEFAULT_MAX_WAIT, 0.0)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date (RFC 9110);
    None when absent or unparseable. A date in the past is 0."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; parsedate gives naive for "-0000"
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _Host:
    """One host's request slots and the moment it said requests may resume."""

    def __init__(self, slots: int) -> None:
        self.slots = threading.BoundedSemaphore(slots)
        self.resume_at = 0.0
        self.lock = threading.Lock()

    def pause(self, seconds: float) -> None:
        with self.lock:
            self.resume_at = max(self.resume_at, time.monotonic() + seconds)

    def wait_turn(self) -> None:
        while (left := self.resume_at - time.monotonic()) > 0:
            time.sleep(left)


_HOSTS: dict[str, _Host] = {}
_HOSTS_LOCK = threading.Lock()


def _host(url: str) -> _Host:
    key = urlsplit(url).netloc.lower()
    with _HOSTS_LOCK:
        host = _HOSTS.get(key)
        if host is None:
            host = _HOSTS[key] = _Host(concurrency())
        return host


def reset() -> None:
    """Forget every host's slots and pauses (settings are read again; for tests)."""
    with _HOSTS_LOCK:
        _HOSTS.clear()


@contextmanager
def slot(url: str) -> Iterator[None]:
    """Hold one of the host's request slots, once any pause it asked for is over."""
    host = _host(url)
    host.wait_turn()
    with host.slots:
        yield


def polite(url: str, request: Callable[[], T]) -> T:
    """`request()` within the host's concurrency cap; retried after each RateLimited it raises,
    waiting as the hub asked (capped), then RateLimitExhausted."""
    host = _host(url)
    tries = retries()
    for attempt in range(tries + 1):
        host.wait_turn()
        with host.slots:
            try:
                return request()
            except RateLimited as limited:
                wait = limited.wait
        if attempt == tries:
            break
        host.pause(min(max_wait(), wait if wait is not None else float(2**attempt)))
    raise RateLimitExhausted(f"the hub still answered HTTP 429 after {tries} retries")

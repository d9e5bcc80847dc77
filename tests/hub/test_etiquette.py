"""Hub etiquette: HTTP 429 and Retry-After, the per-host concurrency cap, bytes read reported.

The hub stand-in (fixtures/hub_standin.py) answers 429 for its first N requests; nothing leaves
127.0.0.1.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mlsbom._cli import cli
from mlsbom.hub import etiquette
from mlsbom.hub.etiquette import RateLimited, RateLimitExhausted, polite, retry_after

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))
from hub_standin import Repo, StandIn, sweep_repo_files

REPOS = {"acme/tiny": Repo(sweep_repo_files(3)), "acme/clean": Repo(sweep_repo_files(1))}


@pytest.fixture(autouse=True)
def fresh_hosts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("MLSBOM_HUB_TIMEOUT", "2")
    monkeypatch.setenv("MLSBOM_HUB_MAX_WAIT", "0.05")  # Retry-After is honoured, capped short
    monkeypatch.delenv("HF_TOKEN", raising=False)
    etiquette.reset()
    yield
    etiquette.reset()


def scan(endpoint: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    result = CliRunner().invoke(cli, ["scan", *args])
    return result.exit_code, result.stdout, result.stderr


def findings(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(a["display"], f["rule_id"]) for a in doc["artifacts"] for f in a["findings"]}


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), ("0", 0.0), (" 12 ", 12.0), (None, None), ("", None), ("soon", None)],
)
def test_retry_after_seconds(header: str | None, seconds: float | None) -> None:
    assert retry_after(header) == seconds


def test_retry_after_http_date() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    earlier = format_datetime(now - timedelta(seconds=90), usegmt=True)
    assert retry_after(later, now=now.timestamp()) == pytest.approx(90.0)
    assert retry_after(earlier, now=now.timestamp()) == 0.0
    assert retry_after("Wed, 99 Foo 2015 07:28:00 GMT") is None


class FakeClock:
    """time.monotonic/sleep/time for etiquette.py: sleeping advances the clock, recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def test_waits_as_asked_capped_then_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(etiquette, "time", clock)
    monkeypatch.setenv("MLSBOM_HUB_MAX_WAIT", "30")
    monkeypatch.setenv("MLSBOM_HUB_RETRIES", "3")
    answers: list[float | None] = [5.0, 300.0, None]

    def request() -> str:
        if answers:
            raise RateLimited(answers.pop(0))
        return "ok"

    assert polite("http://hub.example", request) == "ok"
    assert clock.sleeps == [5.0, 30.0, 4.0]  # as asked, capped at 30, back-off 2**2 without one

    def always() -> str:
        raise RateLimited(1.0)

    with pytest.raises(RateLimitExhausted, match="after 3 retries"):
        polite("http://hub.example", always)


def test_concurrency_is_capped_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSBOM_HUB_CONCURRENCY", "2")
    active: dict[str, int] = {"a": 0, "b": 0}
    peak: dict[str, int] = {"a": 0, "b": 0}
    lock = threading.Lock()

    def request(host: str) -> None:
        with lock:
            active[host] += 1
            peak[host] = max(peak[host], active[host])
        time.sleep(0.02)
        with lock:
            active[host] -= 1

    threads = [
        threading.Thread(target=polite, args=(f"http://{h}.example:1", lambda h=h: request(h)))
        for h in ("a", "b")
        for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == {"a": 2, "b": 2}  # each host its own two slots


@pytest.mark.parametrize("match", ["/api/", "/resolve/"])  # the listing, then the file reads
def test_scan_through_429s_matches_an_unthrottled_scan(
    match: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with StandIn(REPOS) as hub:
        code, out, err = scan(hub.endpoint, monkeypatch, "hf://acme/tiny", "--format", "json")
    assert code == 1, err
    etiquette.reset()
    with StandIn(REPOS, throttle=5, retry_after="1", throttle_match=match) as hub:
        throttled_code, throttled_out, err = scan(
            hub.endpoint, monkeypatch, "hf://acme/tiny", "--format", "json"
        )
        assert hub.throttled == 5  # the default: five retries
    assert throttled_code == code, err
    plain, throttled = json.loads(out), json.loads(throttled_out)
    assert findings(throttled) == findings(plain)
    assert throttled["summary"] == plain["summary"]


def test_http_date_retry_after_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    past = format_datetime(datetime.now(timezone.utc) - timedelta(hours=1), usegmt=True)
    with StandIn(REPOS, throttle=2, retry_after=past) as hub:
        code, _, err = scan(hub.endpoint, monkeypatch, "hf://acme/clean")
        assert hub.throttled == 2
    assert code == 0, err


def test_listing_still_rate_limited_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSBOM_HUB_RETRIES", "2")
    with StandIn(REPOS, throttle=100, retry_after=None) as hub:
        code, _, err = scan(hub.endpoint, monkeypatch, "hf://acme/clean")
        assert hub.throttled == 3  # one try and two retries
    assert code == 2
    assert "rate limited" in err and "HTTP 429 after 2 retries" in err


def test_file_still_rate_limited_is_a_finding_not_a_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSBOM_HUB_RETRIES", "1")
    with StandIn(REPOS, throttle=1000, throttle_match="/resolve/") as hub:
        code, out, err = scan(hub.endpoint, monkeypatch, "hf://acme/clean", "--format", "json")
    assert code == 1, err
    doc = json.loads(out)
    unread = {d for d, rule in findings(doc) if rule == "unreadable"}
    assert unread == {f"hf://acme/clean/{name}" for name in sweep_repo_files(1)}
    messages = [f["message"] for a in doc["artifacts"] for f in a["findings"]]
    assert all("rate limited" in m for m in messages), messages


def test_bytes_read_per_target_and_in_total(monkeypatch: pytest.MonkeyPatch) -> None:
    with StandIn(REPOS) as hub:
        code, out, err = scan(
            hub.endpoint, monkeypatch, "hf://acme/tiny", "hf://acme/clean", "--format", "json"
        )
        _, text, _ = scan(hub.endpoint, monkeypatch, "hf://acme/tiny", "hf://acme/clean")
    assert code == 1, err
    doc = json.loads(out)
    repos = [f for a in doc["artifacts"] for f in a["facts"] if f["kind"] == "hub-repository"]
    assert len(repos) == 2 and all(r["bytes_read"] > 0 for r in repos)
    total = sum(r["bytes_read"] for r in repos)
    assert doc["summary"]["hub_bytes_read"] == total
    held = sum(r["total_bytes"] for r in repos)
    assert f"hub: read {total:,} of {held:,} bytes from 2 repositories" in text

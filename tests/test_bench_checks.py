"""The fan-out benchmark's own checks: a step it calls good must have delivered every event as
well-formed JSON, in order, with the publisher on schedule (bench/loadgen.py, bench/fanout.py)."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

from bench import fanout
from bench.loadgen import Load


def _frame(n: int, step: int = 0) -> bytes:
    data = fanout.make_data(step, n, "")
    return json.dumps({"type": "event", "id": f"1-{n}", "prev": None, "kind": "job.progress",
                       "data": data}, separators=(",", ":")).encode()


def _client(kind: str = "redline", tag: int = 0) -> SimpleNamespace:
    return SimpleNamespace(kind=kind, tag=tag)


def _report(load: Load) -> dict:
    return {"bad": load.bad, "out_of_order": load.out_of_order, "dups": load.dups, "unique": load.unique,
            "other": load.other}


def test_in_order_events_from_both_servers_are_counted_once() -> None:
    load = Load()
    load.step = 0
    rl, peer = _client("redline"), _client("engineio")
    load.on_text(rl, b'{"type":"welcome","protocol":1}', time.time_ns())
    for n in range(3):
        load.on_text(rl, _frame(n), time.time_ns())
        load.on_text(peer, b'42["event",' + _frame(n) + b"]", time.time_ns())
    assert _report(load) == {"bad": 0, "out_of_order": 0, "dups": 0, "unique": 6, "other": 1}


def test_reordered_repeated_and_garbled_events_are_caught() -> None:
    load = Load()
    load.step = 0
    c = _client()
    for n in (0, 2, 1, 2):  # 1 arrives after 2; 2 twice
        load.on_text(c, _frame(n), time.time_ns())
    load.on_text(c, _frame(3)[:-5], time.time_ns())  # cut short: not JSON
    load.on_text(c, _frame(4).replace(b'"s":0', b'"s":"0"'), time.time_ns())  # wrong type
    load.on_text(_client("engineio"), b'42["other",{}]', time.time_ns())
    assert _report(load) == {"bad": 3, "out_of_order": 1, "dups": 1, "unique": 3, "other": 0}


def _reports(**extra) -> list[dict]:
    hist = {"500": 10}  # ten events at ~150 µs
    return [{"hist": hist, "expected": 10, "unique": 10, "lost": 0, "dups": 0, "stray": 0, "bad": 0,
             "out_of_order": 0, "first_recv_ns": 1, "last_recv_ns": 1_000_000_000, "max_us": 200,
             "open": 1, "closed": {}, "event_max": [], **extra}]


def _summary(lag_ms: float = 1.0, **extra) -> dict:
    pub = {"published": 10, "publish_rate": 10.0, "publisher_lag_max_ms": lag_ms, "publish_seconds": 1.0}
    cpu = {"server": 0.1, "redis": 0.1, "loadgen": 0.1, "publisher": 0.1}
    return fanout.summarize(0, 10, 10.0, 1.0, pub, _reports(**extra), cpu, None, 0)


def test_a_step_fails_on_lag_disorder_or_bad_json() -> None:
    assert _summary()["ok"]
    assert not _summary(lag_ms=fanout.LAG_MS + 1)["ok"]
    assert not _summary(out_of_order=1)["ok"]
    assert not _summary(bad=1)["ok"]

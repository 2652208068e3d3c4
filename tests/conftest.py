"""Fixtures: a private Redis per run (the project's own launcher), `redline serve` and
`redline worker` as real processes, and websocket/HTTP clients that talk to them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import httpx
import pytest
import redis as redis_sync

from redline.jobs.redis_server import EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    r = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield r
    r.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server) -> str:
    return redis_server.url


_free_dbs = list(range(1, 16))


def fresh_db(redis_server) -> str:
    """A Redis database of its own: servers and workers started on it share no queue with others.
    Give it back with `release_db` when they are stopped."""
    db = _free_dbs.pop(0)
    url = redis_server.url.rsplit("/", 1)[0] + f"/{db}"
    redis_sync.Redis.from_url(url).flushdb()
    return url


def release_db(url: str) -> None:
    _free_dbs.append(int(url.rsplit("/", 1)[1]))


@pytest.fixture
def own_redis_url(redis_server):
    url = fresh_db(redis_server)
    yield url
    release_db(url)


def base_env(redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDLINE_", "ANTHROPIC_"))}
    env.update({"REDIS_URL": redis_url, "REDLINE_OFFLINE_PACE_MS": "20", "REDLINE_LOG_LEVEL": "WARNING", "REDLINE_RATE_UPLOAD_PER_MIN": "100000",
                "PYTHONUNBUFFERED": "1"})
    # Every test client is 127.0.0.1: per-client limits that tests do not set themselves are off.
    env.update({"REDLINE_RATE_ANALYZE_PER_MIN": "100000", "REDLINE_RATE_CHAT_PER_MIN": "100000",
                "REDLINE_RATE_DECIDE_PER_MIN": "100000", "REDLINE_RATE_LLM_TEST_PER_MIN": "100000",
                "REDLINE_WS_MAX_PER_CLIENT": "100000"})
    env.update(extra)
    return env


class Proc:
    """A `redline` process started by a test; stopped (or killed) by it."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log_path = args, env, log
        self.log = open(log, "ab")
        self.p = subprocess.Popen([sys.executable, "-m", "redline.server.cli", *args], cwd=ROOT, env=env,
                                  stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self, timeout: float = 15) -> int | None:
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()
        return self.p.returncode

    def kill(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


SERVER_PIDS: dict[str, int] = {}  # base URL -> pid of the `redline serve` behind it


def start_server(redis_url: str, tmp: Path, *, worker: bool = True, port: int | None = None,
                 **env: str) -> tuple[Proc, str]:
    port = port or free_port()
    args = ["serve", "--host", "127.0.0.1", "--port", str(port)] + ([] if worker else ["--no-worker"])
    proc = Proc(args, base_env(redis_url, REDLINE_DATA_DIR=str(tmp), **env), tmp / f"serve-{port}.log")
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/healthz", proc)
    SERVER_PIDS[url] = proc.p.pid
    return proc, url


@contextmanager
def claude_server(redis_server, tmp: Path, **env: str) -> Iterator[SimpleNamespace]:
    """`redline serve` (with its worker) reviewing with Claude, i.e. with the fake Messages API
    (tests/fake_anthropic.py), on a database of its own: yields .fake and .url. `env` adds or
    overrides settings (the defaults keep model errors quick)."""
    from tests.fake_anthropic import FakeAnthropic

    redis_url = fresh_db(redis_server)
    try:
        with FakeAnthropic() as fake:
            settings = {"ANTHROPIC_API_KEY": "test", "ANTHROPIC_BASE_URL": fake.url,
                        "REDLINE_MODEL_TIMEOUT_S": "5", "REDLINE_MODEL_RETRY_BASE_S": "0.1", **env}
            proc, url = start_server(redis_url, tmp, **settings)
            try:
                yield SimpleNamespace(fake=fake, url=url)
            finally:
                proc.stop()
    finally:
        release_db(redis_url)


def start_worker(redis_url: str, tmp: Path, name: str = "worker", **env: str) -> Proc:
    return Proc(["worker"], base_env(redis_url, REDLINE_DATA_DIR=str(tmp), **env), tmp / f"{name}.log")


def wait_http(url: str, proc: Proc, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.p.poll() is not None:
            raise RuntimeError(f"process exited ({proc.p.returncode}):\n{proc.output()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer in {timeout} s:\n{proc.output()[-3000:]}")


@pytest.fixture(scope="session")
def server(redis_url, tmp_path_factory):
    """One `redline serve` (with its in-process worker) shared by the tests that don't kill it."""
    proc, url = start_server(redis_url, tmp_path_factory.mktemp("serve"))
    yield url
    proc.stop()


@pytest.fixture
def redis_client(redis_url):
    c = redis_sync.Redis.from_url(redis_url)
    yield c
    c.close()


# ------------------------------------------------------------- reliability report ---

_RELIABILITY: list[dict] = []


@pytest.fixture
def reliability(request):
    """Record a fault or hostile input tried by a test, for docs/reliability.md
    (regenerated by `python -m tests.reliability`)."""

    def record(fault: str, tried: str | None, result: str) -> None:
        """`tried=None`: count the calls (one per generated example)."""
        for row in _RELIABILITY:
            if row["test"] == request.node.nodeid and row["fault"] == fault and tried is None:
                row["count"] += 1
                row["tried"] = f"{row['count']} generated inputs"
                return
        _RELIABILITY.append({"test": request.node.nodeid, "fault": fault, "tried": tried or "1 generated input",
                             "result": result, "count": 1})

    return record


def pytest_runtest_logreport(report):
    if report.when == "call":
        for row in _RELIABILITY:
            if row["test"] == report.nodeid and "outcome" not in row:
                row["outcome"] = report.outcome


def pytest_sessionfinish(session, exitstatus):
    out = os.environ.get("REDLINE_RELIABILITY_JSON")
    if out:
        import json

        Path(out).write_text(json.dumps(_RELIABILITY, indent=2))

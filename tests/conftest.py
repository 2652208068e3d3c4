"""Fixtures: a private Redis per run (the project's own launcher), `redline serve` and
`redline worker` as real processes, and websocket/HTTP clients that talk to them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import redis as redis_sync

from jobs.redis_server import EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    r = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield r
    r.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server) -> str:
    return redis_server.url


_next_db = iter(range(1, 16))


def fresh_db(redis_server) -> str:
    """A Redis database of its own: servers and workers started on it share no queue with others."""
    url = redis_server.url.rsplit("/", 1)[0] + f"/{next(_next_db)}"
    redis_sync.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def own_redis_url(redis_server) -> str:
    return fresh_db(redis_server)


def base_env(redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDLINE_", "ANTHROPIC_"))}
    env.update({"REDIS_URL": redis_url, "REDLINE_OFFLINE_PACE_MS": "20", "REDLINE_LOG_LEVEL": "WARNING", "REDLINE_RATE_UPLOAD_PER_MIN": "100000",
                "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


class Proc:
    """A `redline` process started by a test; stopped (or killed) by it."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log_path = args, env, log
        self.log = open(log, "ab")
        self.p = subprocess.Popen([sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env,
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

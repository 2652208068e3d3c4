"""What every benchmark shares: the machine, the processes it starts, their CPU and
memory, percentiles, and the result files that docs/benchmarks.md is rendered from.

Everything here talks to 127.0.0.1 only, and every process started is stopped by
the benchmark that started it (each is started in a session of its own and
stopped by its own pid).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
CHARTS = ROOT / "docs" / "benchmarks"
HOST = "127.0.0.1"

PACKAGES = ["quart", "hypercorn", "saq", "redis", "hiredis", "uvloop", "orjson", "websockets",
            "python-socketio", "python-engineio", "uvicorn", "httptools", "anthropic"]


def use_uvloop() -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass


# ---------------------------------------------------------------- machine ---

def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    redis_version = None
    with contextlib.suppress(Exception):
        from redline.jobs.redis_server import find_redis_binary

        out = subprocess.run([find_redis_binary(), "--version"], capture_output=True, text=True, timeout=10).stdout
        redis_version = next((p.split("=", 1)[1] for p in out.split() if p.startswith("v=")), out.strip())
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "packages": versions,
        "redis_server": redis_version,
        "loadavg_at_start": [round(x, 2) for x in load],
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


# ----------------------------------------------------------------- results ---

def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": name, "machine": machine(), **result}
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1, sort_keys=False))
    tmp.replace(path)
    print(f"[bench] wrote {path.relative_to(ROOT)}", file=sys.stderr)
    return path


def read_result(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of unsorted values."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def summary_ms(values_s: list[float]) -> dict[str, Any]:
    """p50/p95/p99/max in milliseconds of durations given in seconds."""
    if not values_s:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    s = sorted(values_s)
    return {"n": len(s), "p50": round(pct(s, 50) * 1e3, 2), "p95": round(pct(s, 95) * 1e3, 2),
            "p99": round(pct(s, 99) * 1e3, 2), "max": round(s[-1] * 1e3, 2)}


def log(*args: Any) -> None:
    print("[bench]", *args, file=sys.stderr, flush=True)


# --------------------------------------------------------------- processes ---

class Proc:
    """A child process in its own session, stopped by its pid."""

    def __init__(self, args: list[str], *, env: dict[str, str] | None = None, log_path: Path | None = None,
                 cwd: Path = ROOT, stdin: Any = subprocess.DEVNULL, stdout: Any = None) -> None:
        self.args = args
        self.log_path = log_path
        self._log = open(log_path, "ab") if log_path else subprocess.DEVNULL
        self.p = subprocess.Popen(args, cwd=cwd, env=env or os.environ.copy(), stdin=stdin,
                                  stdout=stdout if stdout is not None else self._log,
                                  stderr=self._log, start_new_session=True)
        self.pid = self.p.pid

    def alive(self) -> bool:
        return self.p.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.pid, sig)

    def stop(self, timeout: float = 10) -> int | None:
        if self.alive():
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if self._log is not subprocess.DEVNULL:
            self._log.close()
        return self.p.returncode

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""


def free_port() -> int:
    from redline.jobs.redis_server import free_port as fp

    return fp()


def wait_http(url: str, proc: Proc | None = None, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"process exited ({proc.p.returncode}): {proc.output()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout} s: {proc.output()[-3000:] if proc else ''}")


@contextlib.contextmanager
def workdir(name: str) -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix=f"redline-bench-{name}-"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@contextlib.contextmanager
def embedded_redis(tmp: Path) -> Iterator[Any]:
    from redline.jobs.redis_server import EmbeddedRedis

    r = EmbeddedRedis(tmp / "redis").start()
    try:
        yield r
    finally:
        r.stop()


def redline_env(redis_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDLINE_", "ANTHROPIC_"))}
    env.update({
        "REDIS_URL": redis_url,
        "REDLINE_DATA_DIR": str(data_dir),
        "REDLINE_LOG_LEVEL": "WARNING",
        "REDLINE_RATE_UPLOAD_PER_MIN": "1000000",
        "REDLINE_RATE_ANALYZE_PER_MIN": "1000000",
        "REDLINE_RATE_CHAT_PER_MIN": "1000000",
        "REDLINE_RATE_DECIDE_PER_MIN": "1000000",
        "REDLINE_WS_MAX_PER_CLIENT": "1000000",  # every benchmark socket comes from one address
        "REDLINE_ALLOWED_ORIGINS": "*",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
    })
    env.update(extra)
    return env


def start_redline(redis_url: str, tmp: Path, *, worker: bool = False, probe: bool = True,
                  name: str = "serve", server_root: str | None = None, **env: str) -> tuple[Proc, str]:
    """`redline serve` as a subprocess (through bench.probe, which only adds a GC recorder)."""
    port = free_port()
    cli = ["serve", "--host", HOST, "--port", str(port)] + ([] if worker else ["--no-worker"])
    args = [sys.executable, "-m", "bench.probe", "redline.server.cli", *cli] if probe else \
        [sys.executable, "-m", "redline.server.cli", *cli]
    e = redline_env(redis_url, tmp, **env)
    root = Path(server_root or ROOT)  # a scratch copy of the project, for experiments
    e["PYTHONPATH"] = str(root)
    if probe:
        e["BENCH_GC_FILE"] = str(tmp / f"{name}-{port}.gc.json")
    proc = Proc(args, env=e, log_path=tmp / f"{name}-{port}.log", cwd=root)
    url = f"http://{HOST}:{port}"
    wait_http(url + "/healthz", proc)
    proc.gc_file = e.get("BENCH_GC_FILE")  # type: ignore[attr-defined]
    return proc, url


def start_redline_worker(redis_url: str, tmp: Path, *, name: str = "worker", concurrency: int | None = None,
                         **env: str) -> Proc:
    args = [sys.executable, "-m", "redline.server.cli", "worker"] + (["--concurrency", str(concurrency)] if concurrency else [])
    return Proc(args, env=redline_env(redis_url, tmp, **env), log_path=tmp / f"{name}.log")


def wait_worker(redis_url: str, queue: str = "analysis", timeout: float = 30) -> None:
    """Until a SAQ worker of `queue` has registered itself."""
    import redis as redis_sync

    r = redis_sync.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if r.keys(f"saq:{queue}:worker_info:*"):
                return
            time.sleep(0.1)
    finally:
        r.close()


# ------------------------------------------------------------- CPU and RSS ---

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (from /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def pin(pid: int, cpus: set[int]) -> None:
    """Run every thread of process `pid` on `cpus` only (threads started later inherit it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(int(task.name), cpus)


def split_cpus() -> tuple[set[int], set[int]] | None:
    """(the server's cores, the harness's cores): the last core for the server under test, the
    rest for the load generator, the publisher and Redis. None on a one-core machine."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    return {cpus[-1]}, set(cpus[:-1])


class CpuMeter:
    """CPU share (1.0 = one core) of some processes between start() and stop()."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._t0 = 0.0
        self._c0: dict[str, float] = {}

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._c0 = {k: cpu_seconds(p) for k, p in self.pids.items()}

    def stop(self) -> dict[str, float]:
        dt = max(1e-6, time.monotonic() - self._t0)
        return {k: round((cpu_seconds(p) - self._c0.get(k, 0.0)) / dt, 3) for k, p in self.pids.items()}


# ------------------------------------------------------------------- GC ----

def read_gc(proc: Proc, reset: bool = True, timeout: float = 5) -> dict[str, Any] | None:
    """Ask a probed process (bench.probe) for its GC record since the last reset."""
    path = getattr(proc, "gc_file", None)
    if not path or not proc.alive():
        return None
    p = Path(path)
    with contextlib.suppress(FileNotFoundError):
        p.unlink()
    proc.signal(signal.SIGUSR2 if reset else signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if p.exists():
            with contextlib.suppress(ValueError):
                return json.loads(p.read_text())
        time.sleep(0.02)
    return None


async def aread_gc(proc: Proc, reset: bool = True) -> dict[str, Any] | None:
    return await asyncio.to_thread(read_gc, proc, reset)


def fmt(v: Any, nd: int = 1) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)

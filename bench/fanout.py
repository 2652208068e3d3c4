"""bench/fanout: events per second delivered to many sockets, Redline against the peer.

    python -m bench.fanout                 # full size (N = 100, 1000, 2000 on one review; 1000 over 100)
    python -m bench.fanout --quick         # small sizes, short steps (while developing)
    python -m bench.fanout --configs 1000x1 --servers redline,peer --step 8

For each server and each configuration (sockets x reviews) a fresh server process is
started against a private Redis, the sockets are opened by a separate load-generator
process (bench.loadgen, the same lean client for both servers), and a publisher (this
process) steps up the rate: each step's target is a number of *delivered* events per
second (events published per second x sockets per review). For each step: delivered
events/s, p50/p95/p99/max latency from publish to receipt, lost and duplicated events,
server CPU and RSS, and the server's garbage-collector pauses (bench.probe).

Publishing goes in through each product's real path, the events due at one tick (2 ms) in one
round trip (bench.rawpipe), as many workers on other machines would publish at once (the publisher shares the
machine's two cores with the server, Redis and the load generator, so it must cost little):
* Redline: `jobs.events.Publisher.script_args` run as EVALSHA — the event script that appends to the
  review's log and PUBLISHes the ready frame, exactly what `Publisher.publish` runs;
* the peer: the message python-socketio's `AsyncRedisManager(write_only=True).emit("event", frame,
  room=...)` publishes (how python-socketio relays events from worker processes), on its connection.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from typing import Any

from redline.jobs.settings import Settings

from bench.common import (CpuMeter, Proc, aread_gc, embedded_redis, free_port, log, pin,
                          read_result, rss_bytes, split_cpus, start_redline, use_uvloop, wait_http, workdir,
                          write_result, HOST)
from bench.loadgen import LOG_BASE

FULL_CONFIGS = ["100x1", "1000x1", "2000x1", "1000x100"]
QUICK_CONFIGS = ["50x1", "50x10"]
LADDER = [1000, 2000, 5000, 10000, 15000, 20000, 25000, 30000, 40000, 50000, 60000, 70000, 80000, 100000, 125000,
          150000, 175000, 200000, 250000, 300000]
QUICK_LADDER = [500, 1000, 2000, 5000, 10000, 20000]
P99_LIMIT_MS = 100.0
TICK_S = 0.002  # the publisher's shortest sleep
PAD = 200  # bytes of event data (JSON), the "~200-byte events"
BUSY = 0.85  # a share of a core (or of all the harness's cores) from which we call it full
LAG_MS = 50.0  # a publisher further behind its schedule than this did not offer the step's rate

SERVERS = {
    "redline": "Redline (Quart + Hypercorn, one subscription per process; its own GC settings: "
               "gc.freeze() after start-up, thresholds REDLINE_GC_THRESHOLD)",
    "peer": "python-socketio + AsyncRedisManager on uvicorn, with Redline's GC settings",
    "redline-stock": "Redline with CPython's stock GC (no freeze, thresholds 700/10/10; BENCH_GC_STOCK)",
    "peer-stock": "python-socketio + AsyncRedisManager on uvicorn, stock GC",
    "peer-hypercorn": "python-socketio + AsyncRedisManager on Hypercorn, with Redline's GC settings",
    "redline-exp": "Redline from $BENCH_EXPERIMENT_ROOT (another checkout of the project, to compare a change)",
}
# What the full run measures: every configuration for Redline and the peer, both with Redline's
# collector settings; at 1,000 sockets on one review also both with CPython's stock collector.
FULL_PLAN = {"100x1": ["redline", "peer"], "1000x1": ["redline", "peer", "redline-stock", "peer-stock"],
             "2000x1": ["redline", "peer"], "1000x100": ["redline", "peer"]}


def parse_config(c: str) -> tuple[int, int]:
    n, _, r = c.partition("x")
    return int(n), int(r or 1)


# ----------------------------------------------------------------- payload ---

def make_data(step: int, n: int, pad: str) -> dict[str, Any]:
    return {"job_id": "bench.job", "progress": 0.5, "s": step, "n": n, "t": time.time_ns(), "message": pad}


# make_data as JSON bytes, built by %-formatting (step, n, time_ns, pad) for the Redline publisher
DATA_JSON = b'{"job_id":"bench.job","progress":0.5,"s":%d,"n":%d,"t":%d,"message":"%s"}'


def pad_for(size: int) -> str:
    base = len(json.dumps(make_data(10, 100000, ""), separators=(",", ":")))
    return "x" * max(0, size - base)


# ------------------------------------------------------------ load process ---

class LoadGen:
    def __init__(self, tmp, name: str) -> None:
        self.proc = Proc([sys.executable, "-m", "bench.loadgen"], log_path=tmp / f"{name}.log",
                         stdin=-1, stdout=-1)

    async def call(self, cmd: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
        p = self.proc.p
        p.stdin.write((json.dumps(cmd) + "\n").encode())
        p.stdin.flush()
        line = await asyncio.wait_for(asyncio.to_thread(p.stdout.readline), timeout)
        if not line:
            raise RuntimeError(f"load generator exited: {self.proc.output()[-2000:]}")
        out = json.loads(line)
        if not out.get("ok"):
            raise RuntimeError(f"load generator: {out.get('error')}")
        return out

    async def quit(self) -> None:
        try:
            await self.call({"cmd": "quit"}, timeout=20)
        except Exception:
            pass
        self.proc.stop()


def merge_hist(parts: list[dict[str, int]]) -> list[tuple[float, int]]:
    total: dict[int, int] = {}
    for h in parts:
        for k, v in h.items():
            total[int(k)] = total.get(int(k), 0) + v
    return [(math.exp((b + 0.5) * LOG_BASE) if b else 1.0, total[b]) for b in sorted(total)]


def hist_pct(h: list[tuple[float, int]], p: float) -> float | None:
    n = sum(c for _, c in h)
    if not n:
        return None
    rank = max(1, math.ceil(p / 100 * n))
    acc = 0
    for v, c in h:
        acc += c
        if acc >= rank:
            return v
    return h[-1][0]


# ------------------------------------------------------------------ servers ---

class Target:
    """One server under test and how to publish to it."""

    def __init__(self, kind: str, redis_url: str, tmp) -> None:
        self.kind, self.redis_url, self.tmp = kind, redis_url, tmp
        self.proc: Proc | None = None
        self.port = 0
        self.rooms: list[dict[str, str]] = []

    async def start(self) -> None:
        if self.kind.startswith("redline"):
            root = os.environ.get("BENCH_EXPERIMENT_ROOT") if self.kind == "redline-exp" else None
            if self.kind == "redline-exp" and not root:
                raise RuntimeError("redline-exp needs BENCH_EXPERIMENT_ROOT (a scratch copy of the project)")
            self.proc, url = await asyncio.to_thread(
                start_redline, self.redis_url, self.tmp, worker=False, name=self.kind, server_root=root,
                **({"BENCH_GC_STOCK": "1"} if self.kind == "redline-stock" else {}))
            self.port = int(url.rsplit(":", 1)[1])
        else:
            self.port = free_port()
            args = [sys.executable, "-m", "bench.sio_peer", "--port", str(self.port), "--redis", self.redis_url]
            if self.kind == "peer-stock":
                args.append("--stock-gc")
            if self.kind == "peer-hypercorn":
                args += ["--server", "hypercorn"]
            env = dict(os.environ, BENCH_GC_FILE=str(self.tmp / f"{self.kind}-{self.port}.gc.json"),
                       PYTHONUNBUFFERED="1")
            self.proc = Proc(args, env=env, log_path=self.tmp / f"{self.kind}-{self.port}.log")
            self.proc.gc_file = env["BENCH_GC_FILE"]  # type: ignore[attr-defined]
            await asyncio.to_thread(wait_http, f"http://{HOST}:{self.port}/healthz", self.proc)

    async def make_rooms(self, n: int) -> list[str]:
        """Room names and, for Redline, a review with its token for each."""
        if self.kind.startswith("redline"):
            import httpx

            async with httpx.AsyncClient(base_url=f"http://{HOST}:{self.port}", timeout=30) as http:
                for i in range(n):
                    r = await http.post("/api/reviews", files={"document": (
                        "bench.md", b"# Bench\n\nA review used by the fan-out benchmark.\n")},
                        data={"title": f"bench {i}"})
                    r.raise_for_status()
                    body = r.json()
                    self.rooms.append({"rid": body["review_id"], "token": body["token"]})
        else:
            self.rooms = [{"rid": f"r{i}"} for i in range(n)]
        return [r["rid"] for r in self.rooms]

    def path(self, room: int) -> str:
        r = self.rooms[room]
        if self.kind.startswith("redline"):
            return f"/ws/reviews/{r['rid']}?token={r['token']}"
        return f"/socket.io/?EIO=4&transport=websocket&room={r['rid']}"

    @property
    def client_kind(self) -> str:
        return "redline" if self.kind.startswith("redline") else "engineio"

    async def publisher(self):
        """`publish_many(step, [(room, seq), ...], pad)` through the product's real publish path; the
        events due in one tick go in one round trip (bench.rawpipe), as many workers on other
        machines would publish at once, so that the harness costs the shared cores little."""
        from bench.rawpipe import RawPipe

        pipe = await RawPipe.open(self.redis_url)
        if self.kind.startswith("redline"):
            import hiredis
            from redis.asyncio import Redis

            from redline.jobs.events import PUBLISH_LUA, Publisher

            pub = Publisher(Redis.from_url(self.redis_url), maxlen=10_000)  # builds the script's arguments
            (sha,) = await pipe.execute([("SCRIPT", "LOAD", PUBLISH_LUA)])

            # Each room's EVALSHA, packed once around a marker where the event's data goes: per event
            # only the data is formatted (script_args still decides every other argument).
            mark = b'"__bench_data__"'
            templates = []
            for room in self.rooms:
                keys, argv = pub.script_args(room["rid"], "job.progress", "__bench_data__")
                packed = hiredis.pack_command(("EVALSHA", sha, len(keys), *keys, *argv))
                head, _, tail = packed.partition(b"$%d\r\n%s\r\n" % (len(mark), mark))
                assert tail, "the marker is not one argument of the event script"
                templates.append((head, tail))

            async def publish_many(step: int, batch: list[tuple[int, int]], pad: str) -> None:
                parts = []
                bpad = pad.encode()
                for room, n in batch:
                    head, tail = templates[room]
                    data = DATA_JSON % (step, n, time.time_ns(), bpad)
                    parts += (head, b"$%d\r\n" % len(data), data, b"\r\n", tail)
                for reply in await pipe.execute_packed(b"".join(parts), len(batch)):
                    res = pub.parse(reply)
                    assert res.ok, res.reason
        else:
            import socketio

            mgr = socketio.AsyncRedisManager(self.redis_url, write_only=True)
            seq = [0]

            async def publish_many(step: int, batch: list[tuple[int, int]], pad: str) -> None:
                # What `mgr.emit("event", frame, room=...)` publishes (AsyncPubSubManager.emit for a
                # plain emit: no callback, no binary data; python-socketio 5.x).
                cmds = []
                for room, n in batch:
                    data = make_data(step, n, pad)
                    seq[0] += 1
                    # the same frame Redline sends, so both carry the same bytes
                    frame = {"type": "event", "id": f"{int(time.time() * 1000)}-{seq[0]}",
                             "prev": f"{int(time.time() * 1000)}-{seq[0] - 1}", "kind": "job.progress", "data": data}
                    message = {"method": "emit", "event": "event", "data": [frame], "binary": False,
                               "namespace": "/", "room": self.rooms[room]["rid"], "skip_sid": None,
                               "callback": None, "host_id": mgr.host_id}
                    cmds.append(("PUBLISH", mgr.channel, mgr.json.dumps(message)))
                await pipe.execute(cmds)

        return publish_many, pipe.close

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


# --------------------------------------------------------------------- run ---

async def publish_step(publish_many, rooms: int, step: int, rate: float, duration: float, pad: str) -> dict[str, Any]:
    """Publish `rate` events/s (round robin over rooms) for `duration` s; per-room seqs from 0.
    `publish_many(step, [(room, seq), ...], pad)` publishes the events due at one tick."""
    total = max(1, int(round(rate * duration)))
    counts = [0] * rooms
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    i = 0
    lag_max = 0.0
    while i < total:
        now = loop.time()
        due = min(total, int((now - t0) * rate) + 1)
        batch = []
        while i < due:
            room = i % rooms
            batch.append((room, counts[room]))
            counts[room] += 1
            i += 1
        for j in range(0, len(batch), 64):  # at most 64 events per round trip
            await publish_many(step, batch[j:j + 64], pad)
        if batch:  # how late the oldest event of the tick went out (an empty tick is no lag)
            lag_max = max(lag_max, loop.time() - (t0 + (i - len(batch)) / rate))
        if i < total:
            # Sleep until the next event is due, but at least one tick: the event loop's timers
            # have millisecond resolution, so a shorter sleep returns at once and the loop spins
            # (it cost the publisher a whole core at 3,000 events/s). Events due within the
            # tick go out together; each carries its own send time.
            delay = t0 + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(max(delay, TICK_S))
    elapsed = loop.time() - t0
    return {"published": total, "publish_seconds": round(elapsed, 3), "publish_rate": round(total / elapsed, 1)
            if elapsed > 0 else None, "publisher_lag_max_ms": round(lag_max * 1e3, 1),
            "expected": {str(r): counts[r] for r in range(rooms)}}


async def run_config(kind: str, redis_url: str, tmp, sockets: int, rooms: int, ladder: list[int],
                     step_s: float, drain_s: float, loadgens: int, max_fail: int,
                     deflate: bool = False, server_cpus: set[int] | None = None) -> dict[str, Any]:
    target = Target(kind, redis_url, tmp)
    await target.start()
    if server_cpus:
        assert target.proc is not None
        pin(target.proc.pid, server_cpus)
    lgs: list[LoadGen] = []
    run: dict[str, Any] = {"server": kind, "label": SERVERS[kind], "config": f"{sockets}x{rooms}",
                           "sockets": sockets, "rooms": rooms, "steps": []}
    try:
        assert target.proc is not None
        rss_idle = rss_bytes(target.proc.pid)
        await target.make_rooms(rooms)
        lgs = [LoadGen(tmp, f"loadgen-{kind}-{i}") for i in range(loadgens)]
        specs = [[target.path(i % rooms), i % rooms] for i in range(sockets)]
        t0 = time.monotonic()
        res = await asyncio.gather(*(lg.call({"cmd": "connect", "host": HOST, "port": target.port,
                                              "kind": target.client_kind, "concurrency": 50,
                                              "deflate": deflate,
                                              "sockets": specs[j::loadgens]}) for j, lg in enumerate(lgs)))
        connect_s = time.monotonic() - t0
        settle = await asyncio.gather(*(lg.call({"cmd": "settle", "quiet": 1.0, "max": 180}) for lg in lgs))
        run["connect"] = {"seconds": round(connect_s, 2), "settle_seconds": round(time.monotonic() - t0 - connect_s, 2),
                          "frames_while_joining": sum(s["frames"] for s in settle),
                          "connected": sum(r["connected"] for r in res),
                          "compressed": sum(r.get("compressed", 0) for r in res)}
        rss_conn = rss_bytes(target.proc.pid)
        run["rss_idle_mb"] = round(rss_idle / 2**20, 1)
        run["rss_connected_mb"] = round(rss_conn / 2**20, 1)
        log(f"{kind} {sockets}x{rooms}: connected in {connect_s:.1f}s, settled {run['connect']['settle_seconds']}s, "
            f"{run['connect']['frames_while_joining']} frames while joining")
        publish_many, close_pub = await target.publisher()
        per_room = sockets // rooms
        pad = pad_for(PAD)
        redis_pid = _redis_pid(redis_url)
        fails = 0
        try:
            for step, delivered_target in enumerate(ladder):
                rate = delivered_target / per_room
                duration = min(max(step_s, 20 / rate), 3 * step_s)
                await asyncio.gather(*(lg.call({"cmd": "begin", "step": step}) for lg in lgs))
                await aread_gc(target.proc, reset=True)
                meter = CpuMeter({"server": target.proc.pid, "redis": redis_pid or os.getpid(),
                                  "loadgen": lgs[0].proc.pid, "publisher": os.getpid()})
                meter.start()
                pub = await publish_step(publish_many, rooms, step, rate, duration, pad)
                reports = await asyncio.gather(*(lg.call({"cmd": "report", "step": step,
                                                          "expected": pub["expected"], "drain": drain_s})
                                                 for lg in lgs))
                cpu = meter.stop()
                gcrec = await aread_gc(target.proc, reset=True)
                row = summarize(step, delivered_target, rate, duration, pub, reports, cpu, gcrec,
                                rss_bytes(target.proc.pid))
                if not row["ok"]:
                    row["bound"] = bound_of(row, server_cpus)
                run["steps"].append(row)
                ok = row["ok"]
                log(f"{kind} {sockets}x{rooms} step {step}: target {delivered_target}/s -> {row['delivered_per_s']}/s "
                    f"p50 {row['p50_ms']} p99 {row['p99_ms']} max {row['max_ms']} ms lost {row['lost']} dup {row['dups']} "
                    f"cpu {cpu['server']:.2f} gc max {row['gc_max_pause_ms']} ms {'OK' if ok else 'FAIL'}")
                if not ok:
                    fails += 1
                if fails >= max_fail or row["lost"] > 0 and row["open"] < sockets or (row["p99_ms"] or 0) > 5000:
                    break
                if not ok and row["delivered_per_s"] < 0.7 * delivered_target:
                    break  # saturated: higher steps only queue more
        finally:
            await close_pub()
        good = [s for s in run["steps"] if s["ok"]]
        run["best"] = max(good, key=lambda s: s["delivered_per_s"]) if good else None
        run["best_delivered_per_s"] = run["best"]["delivered_per_s"] if good else 0
        run["best_events_per_s"] = run["best"]["rate"] if good else 0
        above = [s for s in run["steps"] if not s["ok"] and s["target_delivered_per_s"] >
                 (run["best"]["target_delivered_per_s"] if good else 0)]
        run["stopped_by"] = above[0]["bound"] if above else "ladder top"
    finally:
        for lg in lgs:
            await lg.quit()
        target.stop()
    return run


def bound_of(row: dict[str, Any], server_cpus: set[int] | None) -> str:
    """What failed a step: "server" (its core was full), "harness" (the load generator, publisher
    and Redis had filled the rest of the machine, or the publisher fell behind its schedule, so
    the step's rate was not offered as asked), or "latency" (neither was full)."""
    if row["server_cpu"] >= BUSY:
        return "server"
    harness = row["loadgen_cpu"] + row["publisher_cpu"] + row["redis_cpu"]
    total = os.cpu_count() or 1
    cores = total - len(server_cpus) if server_cpus else total - row["server_cpu"]
    if row["publisher_lag_max_ms"] > LAG_MS or harness >= BUSY * cores:
        return "harness"
    return "latency"


def summarize(step, delivered_target, rate, duration, pub, reports, cpu, gcrec, rss) -> dict[str, Any]:
    h = merge_hist([r["hist"] for r in reports])
    expected = sum(r["expected"] for r in reports)
    unique = sum(r["unique"] for r in reports)
    lost = sum(r["lost"] for r in reports)
    dups = sum(r["dups"] for r in reports)
    first = min((r["first_recv_ns"] for r in reports if r["first_recv_ns"]), default=0)
    last = max((r["last_recv_ns"] for r in reports), default=0)
    window = max(pub["publish_seconds"], (last - first) / 1e9 if first else 0, 1e-3)
    ev: dict[tuple[str, int], int] = {}
    for r in reports:
        for room, n, v in r["event_max"]:
            k = (room, n)
            if v > ev.get(k, 0):
                ev[k] = v
    n_events = len(ev)
    stalled = sum(1 for v in ev.values() if v > P99_LIMIT_MS * 1000)
    p99 = hist_pct(h, 99)
    closed: dict[str, int] = {}
    for r in reports:
        for k, v in r["closed"].items():
            closed[k] = closed.get(k, 0) + v
    row = {
        "step": step, "target_delivered_per_s": delivered_target, "rate": round(rate, 2),
        "duration_s": round(duration, 2), **{k: pub[k] for k in ("published", "publish_rate", "publisher_lag_max_ms")},
        "expected": expected, "delivered": unique, "delivered_per_s": round(unique / window, 1),
        "p50_ms": _ms(hist_pct(h, 50)), "p95_ms": _ms(hist_pct(h, 95)), "p99_ms": _ms(p99),
        "max_ms": _ms(max((r["max_us"] or 0) for r in reports)),
        "lost": lost, "dups": dups, "stray": sum(r["stray"] for r in reports),
        "bad": sum(r["bad"] for r in reports), "out_of_order": sum(r["out_of_order"] for r in reports),
        "open": sum(r["open"] for r in reports), "closed": closed,
        "events": n_events, "events_slowest_over_100ms": stalled,
        "server_cpu": cpu["server"], "redis_cpu": cpu["redis"], "loadgen_cpu": cpu["loadgen"],
        "publisher_cpu": cpu["publisher"], "server_rss_mb": round(rss / 2**20, 1),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "gc": gcrec, "gc_max_pause_ms": gcrec["max_pause_ms"] if gcrec else None,
        "gc_gen2": gcrec["collections"]["gen2"] if gcrec else None,
    }
    # A step fails on what a user would notice (late, lost, repeated, garbled or reordered events)
    # and when the publisher fell behind: then the rate was not offered as asked.
    row["ok"] = bool(p99 is not None and p99 / 1000 <= P99_LIMIT_MS and lost == 0 and dups == 0
                     and row["bad"] == 0 and row["out_of_order"] == 0
                     and row["publisher_lag_max_ms"] <= LAG_MS
                     and row["delivered_per_s"] >= 0.9 * delivered_target)
    return row


def _ms(us: float | None) -> float | None:
    return None if us is None else round(us / 1000, 2)


def _redis_pid(url: str) -> int | None:
    import redis as redis_sync

    r = redis_sync.Redis.from_url(url)
    try:
        return int(r.info("server")["process_id"])
    except Exception:
        return None
    finally:
        r.close()


def ratios_of(runs: list[dict[str, Any]]) -> dict[str, float]:
    ratios = {}
    for config in dict.fromkeys(r["config"] for r in runs):
        by = {r["server"]: r for r in runs if r["config"] == config}
        if "redline" in by and "peer" in by and by["peer"].get("best_delivered_per_s"):
            ratios[config] = round(by["redline"]["best_delivered_per_s"] / by["peer"]["best_delivered_per_s"], 2)
    return ratios


async def main_async(args) -> dict[str, Any]:
    configs = args.configs.split(",") if args.configs else (QUICK_CONFIGS if args.quick else FULL_CONFIGS)
    servers = args.servers.split(",") if args.servers else None
    ladder = [int(x) for x in args.ladder.split(",")] if args.ladder else (QUICK_LADDER if args.quick else LADDER)
    step_s = args.step or (2.0 if args.quick else 8.0)
    runs = []
    cpus = split_cpus() if args.pin else None
    if cpus:
        pin(os.getpid(), cpus[1])  # the load generators started from here inherit it
    with workdir("fanout") as tmp, embedded_redis(tmp) as redis:
        import redis as redis_sync

        if cpus and (redis_pid := _redis_pid(redis.url)):
            pin(redis_pid, cpus[1])

        for config in configs:
            sockets, rooms = parse_config(config)
            for kind in servers or FULL_PLAN.get(config, ["redline", "peer"]):
                redis_sync.Redis.from_url(redis.url).flushall()
                log(f"--- {kind} {config}")
                try:
                    runs.append(await run_config(kind, redis.url, tmp, sockets, rooms, ladder, step_s,
                                                 args.drain, args.loadgens, args.max_fail, args.deflate,
                                                 cpus[0] if cpus else None))
                except Exception as e:
                    log(f"{kind} {config} failed: {e!r}")
                    runs.append({"server": kind, "label": SERVERS[kind], "config": config, "sockets": sockets,
                                 "rooms": rooms, "error": repr(e), "steps": [], "best_delivered_per_s": 0})
    ratios = ratios_of(runs)
    return {"params": {"configs": configs, "servers": servers or FULL_PLAN, "ladder": ladder, "step_s": step_s,
                       "drain_s": args.drain, "p99_limit_ms": P99_LIMIT_MS, "payload_bytes": PAD,
                       "lag_limit_ms": LAG_MS, "ws_queue_max": Settings().ws_queue_max,
                       "loadgens": args.loadgens, "quick": args.quick, "deflate": args.deflate,
                       "cpus": {"server": sorted(cpus[0]), "harness": sorted(cpus[1])} if cpus else None},
            "runs": runs, "ratios": ratios}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes and short steps")
    ap.add_argument("--configs", help="comma list of SOCKETSxREVIEWS, e.g. 1000x1,1000x100")
    ap.add_argument("--servers", help="comma list of: " + ", ".join(SERVERS) +
                    " (default: redline and peer, plus redline-stock and peer-stock at 1000x1)")
    ap.add_argument("--ladder", help="comma list of delivered events/s targets")
    ap.add_argument("--step", type=float, help="seconds per step")
    ap.add_argument("--drain", type=float, default=3.0)
    ap.add_argument("--loadgens", type=int, default=1, help="load-generator processes")
    ap.add_argument("--max-fail", type=int, default=3, help="stop a ladder after this many failed steps")
    ap.add_argument("--out", default="fanout", help="result name in bench/results/")
    ap.add_argument("--deflate", action="store_true",
                    help="clients offer permessage-deflate, as browsers do (both servers then compress every frame)")
    ap.add_argument("--no-pin", dest="pin", action="store_false",
                    help="let the server share every core with the harness (default: the server under test on "
                         "the last core, the load generator, publisher and Redis on the others)")
    ap.add_argument("--merge", action="store_true",
                    help="replace only these configurations' runs in the existing result file")
    args = ap.parse_args(argv)
    use_uvloop()
    result = asyncio.run(main_async(args))
    if args.merge:
        old = read_result(args.out)
        if old and old.get("runs"):
            done = {(r["server"], r["config"]) for r in result["runs"]}
            keep = [r for r in old["runs"] if (r["server"], r["config"]) not in done]
            order = {c: i for i, c in enumerate(FULL_CONFIGS + QUICK_CONFIGS)}
            result["runs"] = sorted(keep + result["runs"], key=lambda r: order.get(r["config"], 99))
            result["params"] = {**old.get("params", {}), "merged": True}
            result["ratios"] = ratios_of(result["runs"])
    write_result(args.out, result)


if __name__ == "__main__":
    main()

"""bench/memory: server RSS per idle socket, at 1,000 and 5,000 sockets.

    python -m bench.memory [--quick] [--servers redline,peer]

A fresh server; its reviews are created and 20 sockets are opened and closed to warm
it up; RSS is read (baseline); then N sockets join (10 per review, so joining is not
dominated by presence frames), the server is left idle for a few seconds, RSS is read
again. Per socket = (RSS with N idle sockets - baseline) / N. The python-socketio peer
is measured the same way for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bench.common import embedded_redis, log, rss_bytes, use_uvloop, workdir, write_result, HOST
from bench.fanout import SERVERS, LoadGen, Target

PER_REVIEW = 10


async def measure(kind: str, redis_url: str, tmp, sockets: int) -> dict[str, Any]:
    rooms = max(1, sockets // PER_REVIEW)
    target = Target(kind, redis_url, tmp)
    await target.start()
    lg = None
    try:
        await target.make_rooms(rooms)
        lg = LoadGen(tmp, f"mem-{kind}-{sockets}")
        warm = [[target.path(i % rooms), i % rooms] for i in range(20)]
        await lg.call({"cmd": "connect", "host": HOST, "port": target.port, "kind": target.client_kind,
                       "sockets": warm})
        await lg.call({"cmd": "settle", "quiet": 0.5, "max": 30})
        await lg.quit()
        await asyncio.sleep(2.0)
        base = rss_bytes(target.proc.pid)
        lg = LoadGen(tmp, f"mem-{kind}-{sockets}-b")
        specs = [[target.path(i % rooms), i % rooms] for i in range(sockets)]
        res = await lg.call({"cmd": "connect", "host": HOST, "port": target.port, "kind": target.client_kind,
                             "sockets": specs, "concurrency": 50})
        st = await lg.call({"cmd": "settle", "quiet": 1.0, "max": 300})
        await asyncio.sleep(3.0)
        full = rss_bytes(target.proc.pid)
        per = (full - base) / sockets
        out = {"server": kind, "label": SERVERS[kind], "sockets": sockets, "reviews": rooms,
               "connected": res["connected"], "open": st["open"], "connect_s": res["seconds"],
               "rss_baseline_mb": round(base / 2**20, 1), "rss_mb": round(full / 2**20, 1),
               "per_socket_kb": round(per / 1024, 1)}
        log(f"memory: {kind} {sockets} sockets: {out['per_socket_kb']} KB per socket "
            f"({out['rss_baseline_mb']} -> {out['rss_mb']} MB)")
        return out
    finally:
        if lg is not None:
            await lg.quit()
        target.stop()


async def main_async(args) -> dict[str, Any]:
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else ([200] if args.quick else [1000, 5000])
    runs = []
    with workdir("memory") as tmp, embedded_redis(tmp) as redis:
        import redis as redis_sync

        for n in sizes:
            for kind in args.servers.split(","):
                redis_sync.Redis.from_url(redis.url).flushall()
                runs.append(await measure(kind, redis.url, tmp, n))
    return {"per_review": PER_REVIEW, "runs": runs}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="server RSS per idle socket")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sizes")
    ap.add_argument("--servers", default="redline,peer")
    ap.add_argument("--out", default="memory")
    args = ap.parse_args(argv)
    use_uvloop()
    write_result(args.out, asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()

"""`redline review FILE`: a whole review from the terminal, as a client of the contract.

Without --server it runs the embedded stack (private Redis, server and worker) itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import websockets

TERMINAL = {"job.completed": "done", "job.failed": "failed", "job.cancelled": "cancelled"}


class ReviewError(Exception):
    pass


async def run_review(server: str, path: Path, guidelines: Path | None, out: Path, as_json: bool) -> int:
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        files = {"document": (path.name, path.read_bytes())}
        if guidelines:
            files["guidelines"] = (guidelines.name, guidelines.read_bytes())
        r = await http.post("/api/reviews", files=files)
        if r.status_code != 201:
            raise ReviewError(_error_text(r))
        review = r.json()
        rid, token = review["review_id"], review["token"]
        auth = {"Authorization": f"Bearer {token}"}
        titles = {s["id"]: s["title"] for s in review["sections"]}
        log = sys.stderr
        print(f"Reviewing {path.name}: {len(titles)} sections", file=log)

        ws_url = server.replace("http", "ws", 1).rstrip("/") + f"/ws/reviews/{rid}?token={token}"
        async with websockets.connect(ws_url, max_size=2**24) as ws:
            await ws.send(json.dumps({"op": "hello", "last_event_id": None, "name": "redline review"}))
            await ws.send(json.dumps({"op": "analyze", "ref": "go"}))
            jobs: dict[str, str] = {}  # job id -> section id
            state: dict[str, str] = {}
            details: dict[str, str] = {}  # job id -> why it failed
            counts: dict[str, int] = {sid: 0 for sid in titles}
            pending: set[str] | None = None
            while pending is None or pending:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 600))
                if msg.get("type") == "reply" and msg.get("ref") == "go":
                    if not msg["ok"]:
                        raise ReviewError(msg["error"]["message"])
                    jobs = {j["job_id"]: j["section_id"] for j in msg["data"]["jobs"]}
                    pending = set(jobs) - {j for j, s in state.items() if s in TERMINAL.values()}
                    for job in set(jobs) - pending:  # a fast job may end before the reply reaches us
                        _line(titles[jobs[job]], state[job], counts[jobs[job]], log, details.get(job, ""), final=True)
                if msg.get("type") != "event":
                    continue
                kind, data = msg["kind"], msg["data"]
                if kind == "item.added":
                    counts[data["item"]["section_id"]] = counts.get(data["item"]["section_id"], 0) + 1
                    continue
                job = data.get("job_id")
                if kind == "job.progress" and job in jobs:
                    _line(titles[jobs[job]], f"{int(data['progress'] * 100):3d}%", counts[jobs[job]], log)
                if kind in TERMINAL and job:
                    state[job] = TERMINAL[kind]
                    details[job] = data.get("error", "") if kind == "job.failed" else ""
                    if job in jobs:
                        _line(titles[jobs[job]], TERMINAL[kind], counts[jobs[job]], log, details[job], final=True)
                    if pending is not None:
                        pending.discard(job)

        snap = (await http.get(f"/api/reviews/{rid}", headers=auth)).json()
        docx = await http.get(f"/api/reviews/{rid}/export.docx", params={"include": "all"}, headers=auth)
        if docx.status_code != 200:
            raise ReviewError(_error_text(docx))
        out.write_bytes(docx.content)
        _print_items(snap, titles, as_json)
        failed = [j for j, s in state.items() if j in jobs and s != "done"]
        print(f"Wrote {out} with {len(snap['items'])} comments.", file=log)
        if failed:
            print(f"{len(failed)} section(s) could not be reviewed.", file=log)
            return 1
        return 0


def _line(title: str, status: str, items: int, out: Any, detail: str = "", final: bool = False) -> None:
    if not final and not out.isatty():
        return
    text = f"  {title[:48]:<48} {status:>9}  {items:>2} findings {detail}"
    end = "\n" if final else "\r"
    print(text, end=end, file=out, flush=True)


def _print_items(snap: dict[str, Any], titles: dict[str, str], as_json: bool) -> None:
    if as_json:
        json.dump({"review_id": snap["review_id"], "title": snap["title"], "items": snap["items"]},
                  sys.stdout, indent=2)
        print()
        return
    for item in snap["items"]:
        print(f"[{item['risk'].upper():6}] {item['type']:<10} {titles.get(item['section_id'], '')} · {item['category']}")
        print(f"    {item['description']}")
        if item.get("quote"):
            print(f"    > {item['quote'][:160]}")
        if item.get("suggestion"):
            print(f"    Suggestion: {item['suggestion']}")


def _error_text(r: httpx.Response) -> str:
    try:
        return r.json()["error"]["message"]
    except Exception:
        return f"HTTP {r.status_code}"


async def _with_embedded_stack(fn) -> int:
    """The embedded stack: a private Redis (in a temporary folder unless REDLINE_DATA_DIR is set),
    the web app with its worker, on a free loopback port."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from redline.jobs.redis_server import EmbeddedRedis, free_port
    from redline.jobs.settings import get_settings
    from redline.server.app import create_app

    settings = get_settings()
    with tempfile.TemporaryDirectory() as tmp:
        redis = None
        if not settings.redis_url:
            redis = EmbeddedRedis(Path(tmp) / "redis").start()
            settings.redis_url = redis.url
        try:
            port = free_port()
            app = create_app(settings, run_worker=True)
            config = Config()
            config.bind = [f"127.0.0.1:{port}"]
            config.accesslog = None
            config.errorlog = logging.getLogger("hypercorn.error")
            stop = asyncio.Event()
            task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base, timeout=1) as http:
                while True:
                    if task.done():
                        task.result()
                        raise ReviewError("the embedded server stopped at start-up")
                    try:
                        if (await http.get("/healthz")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        await asyncio.sleep(0.05)
            try:
                return await fn(f"http://127.0.0.1:{port}")
            finally:
                stop.set()
                await task
        finally:
            if redis:
                redis.stop()


def review_command(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"No such file: {path}", file=sys.stderr)
        return 2
    guidelines = Path(args.guidelines) if args.guidelines else None
    if guidelines and not guidelines.is_file():
        print(f"No such guidelines file: {guidelines}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else path.with_name(path.stem + ".reviewed.docx")

    async def go(server: str) -> int:
        return await run_review(server, path, guidelines, out, args.json)

    try:
        if args.server:
            return asyncio.run(go(args.server.rstrip("/")))
        return asyncio.run(_with_embedded_stack(go))
    except ReviewError as e:
        print(f"redline review: {e}", file=sys.stderr)
        return 1
    except (httpx.HTTPError, OSError, websockets.WebSocketException) as e:
        print(f"redline review: cannot reach the server ({e.__class__.__name__}: {e})", file=sys.stderr)
        return 1

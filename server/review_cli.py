"""`redline review FILE`: a whole review from the terminal, as a client of the contract.

Without --server it runs the embedded stack (private Redis, server and worker) itself.

Output: on a terminal, a live progress bar (rich) on stderr with a line per finished section;
piped, one plain line per event that matters (no ANSI codes). The findings go to stdout, or with
--json one JSON document and nothing else. The stack's JSON log lines go to a file under the data
folder (REDLINE_DATA_DIR/logs/review.log), or to stderr with --verbose.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import logging.handlers
import signal
import sys
import tempfile
from collections import Counter
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import websockets

TERMINAL = {"job.completed": "done", "job.failed": "failed", "job.cancelled": "cancelled"}

EXIT_OK = 0
EXIT_SECTIONS_FAILED = 1
EXIT_USAGE = 2
EXIT_BAD_FILE = 3
EXIT_UNREACHABLE = 4
EXIT_INTERRUPTED = 130

INCLUDE_CHOICES = ("accepted", "accepted_and_pending", "all")
CHANGES_CHOICES = ("both", "tracked", "comments")
JSON_VERSION = 1

EXIT_CODES_HELP = """\
the .docx:
  --include picks the findings written to it: accepted, accepted_and_pending or all.
  The terminal's default is all, since nobody accepts or rejects findings here (the
  page's default is accepted).
  --changes: both (default: accepted rewrites as tracked changes, with their comments),
  tracked (tracked changes without comments on them) or comments (rewrites quoted in
  comments, no tracked changes). Only accepted findings become tracked changes.

exit codes:
  0    done: every section reviewed and the .docx written
  1    one or more sections failed (or the server failed the review or its export)
  2    bad usage: wrong arguments, FILE or --guidelines not found
  3    a bad file: the server refused it (unsupported type, unreadable, too large, ...)
  4    the server is unreachable or unavailable (502/503/504), or the embedded stack
       could not start
  130  interrupted (Ctrl-C or SIGTERM); the review's unfinished jobs are cancelled

logs go to REDLINE_DATA_DIR/logs/review.log (printed at the end on a terminal), or
to stderr with --verbose.
"""


class ReviewError(Exception):
    """Ends the run with a message for a person and an exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_SECTIONS_FAILED, code: str = "review_failed") -> None:
        super().__init__(message)
        self.message, self.exit_code, self.code = message, exit_code, code


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The `review` subcommand's arguments, help and exit codes (called from cli.py)."""
    p.description = ("A whole review from the terminal: upload FILE, analyze every section with live\n"
                     "progress, print the findings and write the reviewed .docx (every finding as a Word\n"
                     "comment). Without --server it runs its own embedded stack.")
    p.epilog = EXIT_CODES_HELP
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("file", metavar="FILE", help="the write-up: .docx, .pdf, .md or .txt")
    p.add_argument("--guidelines", metavar="FILE", help="your own guidelines to review against (same types)")
    p.add_argument("--server", metavar="URL", help="a running Redline (http://host:port); default: the embedded stack")
    p.add_argument("--out", metavar="FILE.docx", help="where to write the reviewed .docx (default: FILE.reviewed.docx)")
    p.add_argument("--include", choices=INCLUDE_CHOICES, default="all",
                   help="findings in the .docx (default: all; the page's default is accepted)")
    p.add_argument("--changes", choices=CHANGES_CHOICES, default="both",
                   help="rewrites as tracked changes, comments, or both (default: both)")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout and nothing else there")
    p.add_argument("--verbose", "-v", action="store_true", help="write the log lines to stderr instead of the log file")


# ------------------------------------------------------------------ output ---
class PlainReporter:
    """Piped: one plain line per event that matters, on stderr."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr

    def _say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def start(self) -> None:
        pass

    def review_started(self, name: str, titles: list[str], reviewer: str | None, model: str | None) -> None:
        sections = len(titles)
        who = f" ({reviewer} reviewer{', ' + model if model else ''})" if reviewer else ""
        self._say(f"Reviewing {name}: {sections} sections{who}")

    def section_progress(self, sid: str, fraction: float) -> None:
        pass

    def finding(self, sid: str) -> None:
        pass

    def section_done(self, sid: str, done: int, total: int, title: str, status: str, findings: int,
                     error: str) -> None:
        what = f"{status}, {findings} finding{'s' if findings != 1 else ''}" if status == "done" else status
        self._say(f"[{done}/{total}] {title}: {what}{': ' + error if error else ''}")

    def note(self, text: str, dim: bool = False) -> None:
        self._say(text)

    def stop(self) -> None:
        pass


class RichReporter:
    """On a terminal: one bar for the document, a line per section as it finishes."""

    def __init__(self, starting: str = "Starting Redline…") -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, \
            TimeElapsedColumn

        self.console = Console(stderr=True, highlight=False)
        self.progress = Progress(
            SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[sections]}"), TextColumn("[cyan]{task.fields[findings]} findings"),
            TimeElapsedColumn(), console=self.console, transient=False)
        self.task = self.progress.add_task(starting, total=None, sections="", findings=0)
        self.fractions: dict[str, float] = {}
        self.total = 0
        self.done = 0
        self.findings = 0
        self.width = 0

    def start(self) -> None:
        self.progress.start()

    def review_started(self, name: str, titles: list[str], reviewer: str | None, model: str | None) -> None:
        from rich.markup import escape

        sections = len(titles)
        self.total = sections
        self.width = min(max((len(t) for t in titles), default=0), 48)
        who = f" [dim]({reviewer} reviewer{', ' + model if model else ''})[/]" if reviewer else ""
        self.console.print(f"Reviewing [bold]{escape(name)}[/]: {sections} sections{who}")
        self.progress.update(self.task, description=name[:40], total=max(sections, 1), completed=0,
                             sections=f"0/{sections} sections")

    def _refresh(self) -> None:
        self.progress.update(self.task, completed=sum(self.fractions.values()), findings=self.findings,
                             sections=f"{self.done}/{self.total} sections")

    def section_progress(self, sid: str, fraction: float) -> None:
        self.fractions[sid] = max(self.fractions.get(sid, 0.0), min(fraction, 0.99))
        self._refresh()

    def finding(self, sid: str) -> None:
        self.findings += 1
        self._refresh()

    def section_done(self, sid: str, done: int, total: int, title: str, status: str, findings: int,
                     error: str) -> None:
        from rich.markup import escape

        self.done = done
        self.fractions[sid] = 1.0
        self._refresh()
        mark = "[green]✓[/]" if status == "done" else "[red]✗[/]"
        what = f"[cyan]{findings} finding{'s' if findings != 1 else ''}[/]" if status == "done" else \
            f"[red]{status}[/]{': ' + escape(error) if error else ''}"
        self.console.print(f" {mark} {escape(title.ljust(self.width))}  {what}")

    def note(self, text: str, dim: bool = False) -> None:
        from rich.markup import escape

        self.console.print(f"[dim]{escape(text)}[/]" if dim else escape(text))

    def stop(self) -> None:
        self.progress.stop()


# ------------------------------------------------------------------ a run ---
class Run:
    """Everything known about one run; the --json document is built from it at any point."""

    def __init__(self, path: Path, out: Path, include: str, changes: str) -> None:
        self.path, self.out, self.include, self.changes = path, out, include, changes
        self.review_id: str | None = None
        self.title: str | None = None
        self.url: str | None = None
        self.reviewer: str | None = None
        self.model: str | None = None
        self.sections: list[dict[str, Any]] = []
        self.status: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self.items: list[dict[str, Any]] = []
        self.export: dict[str, Any] | None = None
        self.error: dict[str, str] | None = None
        self.exit_code = EXIT_OK

    def failed_sections(self) -> list[dict[str, Any]]:
        return [s for s in self.sections if self.status.get(s["id"]) != "done"]

    def document(self) -> dict[str, Any]:
        per_section = Counter(i["section_id"] for i in self.items)
        statuses = Counter(self.status.get(s["id"], "not_run") for s in self.sections)
        return {
            "version": JSON_VERSION,
            "ok": self.exit_code == EXIT_OK,
            "exit_code": self.exit_code,
            "error": self.error,
            "file": str(self.path),
            "review_id": self.review_id,
            "title": self.title,
            "url": self.url,
            "reviewer": self.reviewer,
            "model": self.model,
            "sections": [{"id": s["id"], "title": s["title"], "index": s.get("index"),
                          "status": self.status.get(s["id"], "not_run"), "error": self.errors.get(s["id"]) or None,
                          "items": per_section.get(s["id"], 0)} for s in self.sections],
            "items": self.items,
            "counts": {
                "sections": len(self.sections),
                "done": statuses.get("done", 0),
                "failed": statuses.get("failed", 0),
                "cancelled": statuses.get("cancelled", 0),
                "not_run": statuses.get("not_run", 0),
                "items": len(self.items),
                "by_type": dict(Counter(i.get("type") for i in self.items)),
                "by_risk": dict(Counter(i.get("risk") for i in self.items)),
            },
            "export": self.export,
        }


async def run_review(server: str, run: Run, guidelines: Path | None, rep: Any, remote: bool) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        try:
            files = {"document": (run.path.name, run.path.read_bytes())}
            if guidelines:
                files["guidelines"] = (guidelines.name, guidelines.read_bytes())
        except OSError as e:
            raise ReviewError(f"cannot read {e.filename}: {e.strerror}", EXIT_BAD_FILE, "unreadable") from None
        r = await http.post("/api/reviews", files=files)
        if r.status_code != 201:
            code, message = _error_of(r)
            if 400 <= r.status_code < 500 and r.status_code not in (401, 403, 404, 429):
                raise ReviewError(f"{run.path.name}: {message}", EXIT_BAD_FILE, code)
            if r.status_code in (502, 503, 504):  # the server (or its Redis) is not there just now
                raise ReviewError(message, EXIT_UNREACHABLE, code)
            raise ReviewError(message, EXIT_SECTIONS_FAILED, code)
        review = r.json()
        rid, token = review["review_id"], review["token"]
        run.review_id, run.title, run.sections = rid, review.get("title"), review["sections"]
        if remote:
            run.url = server.rstrip("/") + review["url"]
        auth = {"Authorization": f"Bearer {token}"}
        titles = {s["id"]: s["title"] for s in run.sections}

        ws_url = server.replace("http", "ws", 1).rstrip("/") + f"/ws/reviews/{rid}?token={token}"
        async with websockets.connect(ws_url, max_size=2**24) as ws:
            try:
                await _follow(ws, run, titles, rep)
            except asyncio.CancelledError:
                # Interrupted: the server stops the review's unfinished jobs (what matters with --server).
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.send(json.dumps({"op": "cancel", "all": True, "ref": "stop"})), 2)
                raise

        snap_r = await http.get(f"/api/reviews/{rid}", headers=auth)
        if snap_r.status_code != 200:
            raise ReviewError(_error_of(snap_r)[1], EXIT_SECTIONS_FAILED, _error_of(snap_r)[0])
        snap = snap_r.json()
        run.items = snap["items"]
        run.title = snap.get("title") or run.title
        who = snap.get("reviewer") or {}
        run.reviewer, run.model = who.get("reviewer", run.reviewer), who.get("model", run.model)

        docx = await http.get(f"/api/reviews/{rid}/export.docx",
                              params={"include": run.include, "changes": run.changes}, headers=auth)
        if docx.status_code != 200:
            code, message = _error_of(docx)
            raise ReviewError(f"the export failed ({code}): {message}", EXIT_SECTIONS_FAILED, code)
        try:
            run.out.write_bytes(docx.content)
        except OSError as e:
            raise ReviewError(f"cannot write {run.out}: {e.strerror}", EXIT_SECTIONS_FAILED, "cannot_write") from None
        run.export = {"path": str(run.out.resolve()), "include": run.include, "changes": run.changes,
                      "comments": _count_comments(docx.content)}


async def _follow(ws: Any, run: Run, titles: dict[str, str], rep: Any) -> None:
    """Start the analysis and follow it until every section's job has ended."""
    await ws.send(json.dumps({"op": "hello", "last_event_id": None, "name": "redline review"}))
    await ws.send(json.dumps({"op": "analyze", "ref": "go"}))
    jobs: dict[str, str] = {}  # job id -> section id
    state: dict[str, str] = {}  # job id -> how it ended
    details: dict[str, str] = {}  # job id -> why it failed
    counts: dict[str, int] = {sid: 0 for sid in titles}
    pending: set[str] | None = None
    shown: set[str] = set()
    started = False

    def show_end(job: str) -> None:
        sid = jobs[job]
        if sid in shown:
            return
        shown.add(sid)
        run.status[sid], run.errors[sid] = state[job], details.get(job, "")
        rep.section_done(sid, len(shown), len(titles), titles[sid], state[job], counts.get(sid, 0), details.get(job, ""))

    def begin(snapshot: dict[str, Any] | None) -> None:
        nonlocal started
        if started:
            return
        started = True
        who = (snapshot or {}).get("reviewer") or {}
        run.reviewer, run.model = who.get("reviewer"), who.get("model")
        rep.review_started(run.path.name, list(titles.values()), run.reviewer, run.model)

    while pending is None or pending:
        try:
            raw = await asyncio.wait_for(ws.recv(), 600)
        except asyncio.TimeoutError:
            raise ReviewError("no news from the server for 10 minutes; giving up", EXIT_SECTIONS_FAILED,
                              "timeout") from None
        msg = json.loads(raw)
        kind = msg.get("type")
        if kind == "welcome":
            begin(msg.get("review"))
            continue
        if kind == "reply" and msg.get("ref") == "go":
            begin(None)
            if not msg["ok"]:
                raise ReviewError(msg["error"]["message"], EXIT_SECTIONS_FAILED, msg["error"].get("code", "error"))
            jobs = {j["job_id"]: j["section_id"] for j in msg["data"]["jobs"]}
            pending = set(jobs) - set(state)
            for job in set(jobs) - pending:  # a fast job may end before the reply reaches us
                show_end(job)
            continue
        if kind != "event":
            continue
        ev, data = msg["kind"], msg["data"]
        if ev == "item.added":
            sid = data["item"]["section_id"]
            counts[sid] = counts.get(sid, 0) + 1
            rep.finding(sid)
            continue
        job = data.get("job_id")
        if ev == "job.progress" and job in jobs:
            rep.section_progress(jobs[job], float(data.get("progress") or 0))
        if ev in TERMINAL and job:
            state[job] = TERMINAL[ev]
            details[job] = str(data.get("error") or "") if ev == "job.failed" else ""
            if job in jobs:
                show_end(job)
            if pending is not None:
                pending.discard(job)


def _count_comments(docx: bytes) -> int | None:
    try:
        from docx import Document

        return len(list(Document(BytesIO(docx)).comments))
    except Exception:
        return None


def _error_of(r: httpx.Response) -> tuple[str, str]:
    try:
        e = r.json()["error"]
        return str(e["code"]), str(e["message"])
    except Exception:
        return f"http_{r.status_code}", f"the server answered HTTP {r.status_code}"


# --------------------------------------------------------- embedded stack ---
class _StackFailed(Exception):
    pass


async def _with_embedded_stack(fn) -> None:
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
        try:
            if not settings.redis_url:
                redis = EmbeddedRedis(Path(tmp) / "redis").start()
                settings.redis_url = redis.url
            port = free_port()
            app = create_app(settings, run_worker=True)
            config = Config()
            config.bind = [f"127.0.0.1:{port}"]
            config.accesslog = None
            config.errorlog = logging.getLogger("hypercorn.error")
            stop = asyncio.Event()
            task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
        except Exception as e:
            if redis:
                redis.stop()
            raise _StackFailed(f"{e.__class__.__name__}: {e}") from e
        try:
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base, timeout=1) as http:
                while True:
                    if task.done():
                        exc = task.exception()
                        raise _StackFailed(f"the embedded server stopped at start-up{': ' + str(exc) if exc else ''}")
                    try:
                        if (await http.get("/healthz")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        await asyncio.sleep(0.05)
            try:
                await fn(base)
            finally:
                stop.set()
                await task
        finally:
            if redis:
                redis.stop()


# ------------------------------------------------------------------- logs ---
class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is now (rich's live display redirects it above the bar)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _route_logs(verbose: bool) -> logging.Handler | None:
    """Logs go to REDLINE_DATA_DIR/logs/review.log (created on the first line), or with --verbose to
    stderr. Returns the file handler, if any."""
    root = logging.getLogger()
    old = list(root.handlers)
    formatter = old[0].formatter if old else None
    filters = [f for h in old for f in h.filters]
    if verbose:
        handler: logging.Handler = _CurrentStderr()
        file_handler = None
    else:
        logging.captureWarnings(True)
        from redline.jobs.settings import get_settings

        try:
            folder = get_settings().data_dir / "logs"
            folder.mkdir(parents=True, exist_ok=True)
        except Exception:
            folder = Path(tempfile.gettempdir()) / "redline-logs"
            folder.mkdir(parents=True, exist_ok=True)
        handler = file_handler = logging.handlers.RotatingFileHandler(
            folder / "review.log", maxBytes=5 * 1024 * 1024, backupCount=3, delay=True, encoding="utf-8")
    if formatter:
        handler.setFormatter(formatter)
    for f in filters:
        handler.addFilter(f)
    root.handlers[:] = [handler]
    return file_handler


# ------------------------------------------------------------ the command ---
def _print_items(run: Run) -> None:
    titles = {s["id"]: s["title"] for s in run.sections}
    for item in run.items:
        print(f"[{item['risk'].upper():6}] {item['type']:<10} {titles.get(item['section_id'], '')} · {item['category']}")
        print(f"    {item['description']}")
        if item.get("quote"):
            print(f"    > {item['quote'][:160]}")
        if item.get("suggestion"):
            print(f"    Suggestion: {item['suggestion']}")


def review_command(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"redline review: No such file: {path}", file=sys.stderr)
        return EXIT_USAGE
    guidelines = Path(args.guidelines) if args.guidelines else None
    if guidelines and not guidelines.is_file():
        print(f"redline review: No such guidelines file: {guidelines}", file=sys.stderr)
        return EXIT_USAGE
    server = args.server.rstrip("/") if args.server else None
    if server is not None and not server.startswith(("http://", "https://")):
        print(f"redline review: --server must be an http:// or https:// URL, not {args.server!r}", file=sys.stderr)
        return EXIT_USAGE
    out = Path(args.out) if args.out else path.with_name(path.stem + ".reviewed.docx")
    include = getattr(args, "include", "all") or "all"
    changes = getattr(args, "changes", "both") or "both"

    log_file = _route_logs(bool(getattr(args, "verbose", False)))
    tty = sys.stderr.isatty()
    rep: Any = RichReporter("Connecting…" if server else "Starting Redline…") if tty else PlainReporter()
    run = Run(path, out, include, changes)

    async def main() -> None:
        me = asyncio.current_task()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, me.cancel)  # type: ignore[union-attr]

        async def go(base: str) -> None:
            await run_review(base, run, guidelines, rep, remote=server is not None)

        if server:
            await go(server)
        else:
            await _with_embedded_stack(go)

    def fail(code: int, error: str, message: str) -> None:
        run.exit_code, run.error = code, {"code": error, "message": message}

    rep.start()
    try:
        asyncio.run(main())
        failed = run.failed_sections()
        if failed:
            names = ", ".join(s["title"] for s in failed[:5]) + (", …" if len(failed) > 5 else "")
            fail(EXIT_SECTIONS_FAILED, "sections_failed",
                 f"{len(failed)} of {len(run.sections)} sections could not be reviewed: {names}")
    except ReviewError as e:
        fail(e.exit_code, e.code, e.message)
    except _StackFailed as e:
        fail(EXIT_UNREACHABLE, "stack_failed", f"the embedded stack could not start: {e}")
    except (KeyboardInterrupt, asyncio.CancelledError):
        fail(EXIT_INTERRUPTED, "interrupted", "interrupted; the review's unfinished jobs were cancelled")
    except (httpx.TransportError, OSError, websockets.WebSocketException) as e:
        where = server or "the embedded server"
        fail(EXIT_UNREACHABLE, "unreachable", f"cannot reach {where} ({e.__class__.__name__}: {e})")
    except Exception as e:  # noqa: BLE001 - a run ends with a message, not a traceback
        logging.getLogger("redline.review").exception("review failed")
        fail(EXIT_SECTIONS_FAILED, "internal_error", f"{e.__class__.__name__}: {e}")
    finally:
        rep.stop()

    if run.export:
        n = run.export["comments"]
        rep.note(f"Wrote {run.export['path']}" + (f" with {n} comments" if n is not None else "")
                 + f" (include {include}, changes {changes}).")
    if run.url and run.exit_code != EXIT_INTERRUPTED:
        rep.note(f"Open it in the browser: {run.url}", dim=True)
    if log_file is not None and log_file.stream is not None:
        log_file.flush()
        if tty or run.exit_code != EXIT_OK:
            rep.note(f"Log: {log_file.baseFilename}", dim=True)
    if run.error:
        rep.note(f"redline review: {run.error['message']}")

    if args.json:
        json.dump(run.document(), sys.stdout, indent=2, ensure_ascii=False)
        print()
    elif run.items:
        _print_items(run)
    sys.stdout.flush()
    return run.exit_code

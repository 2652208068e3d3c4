"""`redline review FILE`: a whole review from the terminal, as a client of the contract.

Without --server it runs the embedded stack (private Redis, server and worker) itself.

With --previous it runs a round: the previous version (a file, reviewed first, or an existing
review's URL with its token) gets FILE as its next version (POST /api/reviews/{id}/versions), only
the changed and added sections are analyzed, and the round is summed up: how many earlier findings
were resolved, are still open, are outdated, and how many are new.

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
import re
import signal
import sys
import tempfile
from collections import Counter
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
  --audit appends the review record (who did what, when and why) as a table at the end.

rounds (--previous):
  redline review v2.docx --previous v1.docx reviews v1.docx, uploads v2.docx as its next
  version, analyzes only the changed and added sections, and prints the round first: how
  many earlier findings were resolved (their quote is gone or rewritten), are still open,
  are outdated (their section is gone), and how many are new; then every finding with its
  resolution. --previous may also be a review's URL with its token, as the page shows it
  (http://host:port/r/<id>#token=<token>) or in the API form
  (http://host:port/api/reviews/<id>?token=<token>): FILE becomes the next version of that
  review, on the server the URL names (or on --server). With --json the document gains
  "round" and each item a "resolution" (open, resolved, outdated, or new).

exit codes:
  0    done: every section reviewed and the .docx written
  1    one or more sections failed (or the server failed the review or its export)
  2    bad usage: wrong arguments, FILE, --guidelines or the --previous file not found,
       a malformed --previous URL, or a review URL whose token the server refuses
  3    a bad file: the server refused it (unsupported type, unreadable, too large, ...),
       the previous version or FILE as the next version alike
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
    p.add_argument("--previous", metavar="FILE|URL",
                   help="a round: the previous version (reviewed first) or a review's URL with its token; "
                        "FILE becomes its next version and only changed sections are analyzed")
    p.add_argument("--audit", action="store_true", help="append the review record (the audit trail) as a table")
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
        self.done, self.findings, self.fractions = 0, 0, {}  # a round's second analysis starts afresh
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
        self.audit = False  # --audit: the review record appended to the .docx
        self.error: dict[str, str] | None = None
        self.exit_code = EXIT_OK
        # --previous: a file reviewed first, or an existing review (its id and token)
        self.previous_path: Path | None = None
        self.previous_review: tuple[str, str] | None = None
        self.analyzed: set[str] | None = None  # the sections this run analyzed (None: all of them)
        self.round: dict[str, Any] | None = None

    def failed_sections(self) -> list[dict[str, Any]]:
        """The sections this run analyzed that did not end done (a round leaves unchanged ones alone)."""
        return [s for s in self.sections if (self.analyzed is None or s["id"] in self.analyzed)
                and self.status.get(s["id"]) != "done"]

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
                          "items": per_section.get(s["id"], 0),
                          **({"change": s.get("change"), "analyzed": s["id"] in self.round["analyzed"]}
                             if self.round is not None else {})} for s in self.sections],
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
            "round": self.round,  # --previous: the round (null otherwise)
        }


async def run_review(server: str, run: Run, guidelines: Path | None, rep: Any, remote: bool) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        if run.previous_review:  # --previous URL: the review is there already, with its findings
            rid, token = run.previous_review
            run.review_id = rid
            if remote:
                run.url = f"{server.rstrip('/')}/r/{rid}#token={token}"
        else:
            first = run.previous_path or run.path  # --previous FILE: the previous version is reviewed first
            try:
                files = {"document": (first.name, first.read_bytes())}
                if guidelines:
                    files["guidelines"] = (guidelines.name, guidelines.read_bytes())
            except OSError as e:
                raise ReviewError(f"cannot read {e.filename}: {e.strerror}", EXIT_BAD_FILE, "unreadable") from None
            r = await http.post("/api/reviews", files=files)
            if r.status_code != 201:
                code, message = _error_of(r)
                if 400 <= r.status_code < 500 and r.status_code not in (401, 403, 404, 429):
                    raise ReviewError(f"{first.name}: {message}", EXIT_BAD_FILE, code)
                if r.status_code in (502, 503, 504):  # the server (or its Redis) is not there just now
                    raise ReviewError(message, EXIT_UNREACHABLE, code)
                raise ReviewError(message, EXIT_SECTIONS_FAILED, code)
            review = r.json()
            rid, token = review["review_id"], review["token"]
            run.review_id, run.title, run.sections = rid, review.get("title"), review["sections"]
            if remote:
                run.url = server.rstrip("/") + review["url"]
            await _analyze(server, rid, token, run, rep, first.name, None)
            run.analyzed = {s["id"] for s in run.sections}
        auth = {"Authorization": f"Bearer {token}"}
        if run.previous_path or run.previous_review:
            await _next_version(http, server, rid, token, run, rep)

        snap = await _snapshot(http, rid, auth)
        run.items = snap["items"]
        if run.round is not None:
            _settle_round(run, snap)
        run.title = snap.get("title") or run.title
        who = snap.get("reviewer") or {}
        run.reviewer, run.model = who.get("reviewer", run.reviewer), who.get("model", run.model)

        docx = await http.get(f"/api/reviews/{rid}/export.docx",
                              params={"include": run.include, "changes": run.changes,
                                      **({"audit": "1"} if run.audit else {})}, headers=auth)
        if docx.status_code != 200:
            code, message = _error_of(docx)
            raise ReviewError(f"the export failed ({code}): {message}", EXIT_SECTIONS_FAILED, code)
        try:
            run.out.write_bytes(docx.content)
        except OSError as e:
            raise ReviewError(f"cannot write {run.out}: {e.strerror}", EXIT_SECTIONS_FAILED, "cannot_write") from None
        run.export = {"path": str(run.out.resolve()), "include": run.include, "changes": run.changes,
                      "comments": _count_comments(docx.content), **({"audit": True} if run.audit else {})}


async def _analyze(server: str, rid: str, token: str, run: Run, rep: Any, name: str,
                   sections: list[str] | None) -> None:
    """Analyze the review's sections (all, or the ones given) over its websocket, with progress."""
    titles = {s["id"]: s["title"] for s in run.sections if sections is None or s["id"] in sections}
    ws_url = server.replace("http", "ws", 1).rstrip("/") + f"/ws/reviews/{rid}?token={token}"
    async with websockets.connect(ws_url, max_size=2**24) as ws:
        try:
            await _follow(ws, run, titles, rep, name, sections)
        except asyncio.CancelledError:
            # Interrupted: the server stops the review's unfinished jobs (what matters with --server).
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.send(json.dumps({"op": "cancel", "all": True, "ref": "stop"})), 2)
            raise


async def _snapshot(http: httpx.AsyncClient, rid: str, auth: dict[str, str]) -> dict[str, Any]:
    r = await http.get(f"/api/reviews/{rid}", headers=auth)
    if r.status_code != 200:
        code, message = _error_of(r)
        raise ReviewError(message, EXIT_SECTIONS_FAILED, code)
    return r.json()


async def _next_version(http: httpx.AsyncClient, server: str, rid: str, token: str, run: Run, rep: Any) -> None:
    """A round: FILE goes up as the review's next version, which settles every earlier finding
    (open, resolved, outdated); then only the changed and added sections are analyzed."""
    auth = {"Authorization": f"Bearer {token}"}
    try:
        data = run.path.read_bytes()
    except OSError as e:
        raise ReviewError(f"cannot read {e.filename}: {e.strerror}", EXIT_BAD_FILE, "unreadable") from None
    r = await http.post(f"/api/reviews/{rid}/versions", files={"document": (run.path.name, data)},
                        data={"by": "redline review"}, headers=auth)
    if r.status_code != 201:
        code, message = _error_of(r)
        if r.status_code in (401, 403, 404):  # a wrong or expired --previous URL
            raise ReviewError(f"--previous: the server refused review {rid} ({code}): {message}", EXIT_USAGE, code)
        if r.status_code in (502, 503, 504):
            raise ReviewError(message, EXIT_UNREACHABLE, code)
        if 400 <= r.status_code < 500 and r.status_code not in (409, 429):
            raise ReviewError(f"{run.path.name}: {message}", EXIT_BAD_FILE, code)
        raise ReviewError(message, EXIT_SECTIONS_FAILED, code)
    out = r.json()
    snap = await _snapshot(http, rid, auth)
    run.title = snap.get("title") or run.title
    run.sections = out["sections"]
    version, changes = out["version"], out.get("changes") or {}
    targets = [s["id"] for s in out["sections"] if s.get("change") in ("changed", "added")]
    run.analyzed = (run.analyzed or set()) | set(targets)
    previous: dict[str, Any] = {"file": str(run.previous_path)} if run.previous_path else {"review_id": rid}
    run.round = {"version": version, "previous": previous, "file": str(run.path),
                 **{k: out.get(k, 0) for k in ("resolved", "open", "outdated")}, "new": 0,
                 "sections": {k: changes.get(k, 0) for k in ("unchanged", "changed", "added", "removed")},
                 "analyzed": targets, "removed_sections": [], "versions": []}
    rep.note(f"Version {version} ({run.path.name}): {_sections_line(run.round['sections'])}; "
             + (f"analyzing {len(targets)} section{'s' if len(targets) != 1 else ''}" if targets
                else "no section to analyze"))
    if targets:
        await _analyze(server, rid, token, run, rep, f"{run.path.name} (version {version})", targets)


def _sections_line(c: dict[str, int]) -> str:
    return f"{c['changed']} changed, {c['added']} added, {c['removed']} removed, {c['unchanged']} unchanged"


RESOLUTION_ORDER = {"new": 0, "open": 1, "resolved": 2, "outdated": 3}


def _settle_round(run: Run, snap: dict[str, Any]) -> None:
    """The round's findings, each with its resolution, and its counts. Analyzing a changed
    section again keeps the earlier findings (the server's rule: they are what the round is
    checked against) and does not raise them twice, so a finding without a resolution is `new`."""
    version = run.round["version"]  # type: ignore[index]
    items = [i if i.get("resolution") else {**i, "resolution": "new"} for i in snap["items"]]
    items.sort(key=lambda i: RESOLUTION_ORDER.get(i.get("resolution") or "", 4))
    run.items = items

    def this_round(res: str) -> int:
        return sum(1 for i in items if i.get("resolution") == res
                   and (res in ("open", "new") or i.get("settled_in") == version))

    removed = snap.get("removed_sections") or []
    run.round.update({  # type: ignore[union-attr]
        **{res: this_round(res) for res in ("resolved", "open", "outdated", "new")},
        "removed_sections": [{"id": r["id"], "title": r["title"]} for r in removed if r.get("version") == version],
        "versions": snap.get("versions") or []})
    statuses = {s["id"]: s.get("status") for s in snap["sections"]}
    for s in run.sections:  # the sections this run left alone: as the server has them
        if s["id"] not in run.status:
            st = statuses.get(s["id"])
            run.status[s["id"]] = st if st in ("done", "failed", "cancelled") else "not_run"


async def _follow(ws: Any, run: Run, titles: dict[str, str], rep: Any, name: str | None = None,
                  sections: list[str] | None = None) -> None:
    """Start the analysis (of every section, or of the ones given) and follow it until every
    section's job has ended."""
    await ws.send(json.dumps({"op": "hello", "last_event_id": None, "name": "redline review"}))
    which = {"sections": sections} if sections is not None else {}
    await ws.send(json.dumps({"op": "analyze", "ref": "go", **which}))
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
        rep.review_started(name or run.path.name, list(titles.values()), run.reviewer, run.model)

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

    from redline.jobs.redis_server import free_port
    from redline.jobs.settings import get_settings
    from redline.server.app import create_app
    from redline.server.stack import EmbeddedRedis, hypercorn_config

    settings = get_settings()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as redis:
        try:
            redis.enter_context(EmbeddedRedis(settings, Path(tmp) / "redis", announce=False))
            port = free_port()
            config = hypercorn_config(settings, [f"127.0.0.1:{port}"])
            app = create_app(settings, run_worker=True)
            stop = asyncio.Event()
            task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
        except Exception as e:
            raise _StackFailed(f"{e.__class__.__name__}: {e}") from e
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
_REVIEW_PATH = re.compile(r"/(?:r|api/reviews)/([0-9A-Za-z_-]{1,64})/?")
_TOKEN = re.compile(r"[0-9A-Za-z_~.%-]{8,512}")


def looks_like_url(text: str) -> bool:
    """--previous names a review (not a file) when it is a URL, or the page's path with a token."""
    return "://" in text or (text.startswith(("/r/", "/api/reviews/")) and "token=" in text and not Path(text).exists())


def parse_review_url(text: str, server: str | None) -> tuple[str, str, str]:
    """(the server's origin, review id, token) from a review's URL: the page's form
    (http://host:port/r/<id>#token=<token>) or the API's (…/api/reviews/<id>?token=<token>);
    a bare path takes --server's origin. ValueError with a message for a person otherwise."""
    want = "a review's URL with its token, like http://host:port/r/<id>#token=<token>"
    try:
        u = urlsplit(text.strip())
        u.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        raise ValueError(f"not {want}: {text!r}") from None
    if u.scheme or u.netloc:
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"not {want}: {text!r}")
        origin = f"{u.scheme}://{u.netloc}"
    elif server:
        origin = server
    else:
        raise ValueError(f"not {want} (or give --server): {text!r}")
    m = _REVIEW_PATH.fullmatch(u.path)
    tokens = parse_qs(u.fragment).get("token") or parse_qs(u.query).get("token") or []
    if not m:
        raise ValueError(f"no review in {text!r}: want {want}")
    if not tokens or not _TOKEN.fullmatch(tokens[0]):
        raise ValueError(f"no token in {text!r}: want {want}")
    return origin, m.group(1), tokens[0]


def round_summary(r: dict[str, Any]) -> list[str]:
    """The round in two lines (stdout before the findings; stderr too with --json)."""
    return [f"Round {r['version']}: {r['resolved']} resolved, {r['open']} still open, {r['outdated']} outdated, "
            f"{r['new']} new",
            f"Sections: {_sections_line(r['sections'])}; {len(r['analyzed'])} analyzed"]


def _print_items(run: Run) -> None:
    titles = {s["id"]: s["title"] for s in run.sections}
    if run.round is not None:  # outdated findings name a section the new version dropped
        titles = {r["id"]: r["title"] for r in run.round["removed_sections"]} | titles
    for item in run.items:
        res = f" ({item['resolution']})" if run.round is not None and item.get("resolution") else ""
        print(f"[{item['risk'].upper():6}] {item['type']:<10} {titles.get(item['section_id'], '')} · "
              f"{item['category']}{res}")
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
    previous = getattr(args, "previous", None)
    previous_path: Path | None = None
    previous_review: tuple[str, str] | None = None
    if previous is not None and looks_like_url(previous):
        try:
            origin, rid, token = parse_review_url(previous, server)
        except ValueError as e:
            print(f"redline review: --previous: {e}", file=sys.stderr)
            return EXIT_USAGE
        if guidelines:
            print("redline review: --guidelines goes with a new review; the review --previous names has its own",
                  file=sys.stderr)
            return EXIT_USAGE
        server, previous_review = server or origin, (rid, token)
    elif previous is not None:
        previous_path = Path(previous)
        if not previous_path.is_file():
            print(f"redline review: No such previous file: {previous_path}", file=sys.stderr)
            return EXIT_USAGE
    out = Path(args.out) if args.out else path.with_name(path.stem + ".reviewed.docx")
    include = getattr(args, "include", "all") or "all"
    changes = getattr(args, "changes", "both") or "both"

    log_file = _route_logs(bool(getattr(args, "verbose", False)))
    tty = sys.stderr.isatty()
    rep: Any = RichReporter("Connecting…" if server else "Starting Redline…") if tty else PlainReporter()
    run = Run(path, out, include, changes)
    run.audit = bool(getattr(args, "audit", False))
    run.previous_path, run.previous_review = previous_path, previous_review

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
    # --previous URL refused or unreachable: the review is as it was, and its URL is the one just given
    untouched = run.previous_review is not None and run.exit_code in (EXIT_USAGE, EXIT_BAD_FILE, EXIT_UNREACHABLE)
    if run.url and run.exit_code != EXIT_INTERRUPTED and not untouched:
        rep.note(f"Open it in the browser: {run.url}", dim=True)
    if log_file is not None and log_file.stream is not None:
        log_file.flush()
        if tty or run.exit_code != EXIT_OK:
            rep.note(f"Log: {log_file.baseFilename}", dim=True)
    if run.error:
        rep.note(f"redline review: {run.error['message']}")

    if args.json:
        if run.round is not None and run.exit_code != EXIT_INTERRUPTED:
            for line in round_summary(run.round):
                rep.note(line)
        json.dump(run.document(), sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        if run.round is not None and run.exit_code != EXIT_INTERRUPTED:
            print("\n".join(round_summary(run.round)))
        if run.items:
            _print_items(run)
    sys.stdout.flush()
    return run.exit_code

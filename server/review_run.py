"""One `redline review` run as a client of the contract: upload (or take the --previous review),
analyze over the review's websocket following every section's job, with --previous upload FILE
as the next version and analyze only its changed and added sections (a round), then read the
snapshot and fetch the export. `Run` holds everything known, and builds the --json document."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import websockets

from redline.server.review_exits import (
    EXIT_BAD_FILE,
    EXIT_OK,
    EXIT_SECTIONS_FAILED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    ReviewError,
)
from redline.server.review_output import sections_line as _sections_line

TERMINAL = {"job.completed": "done", "job.failed": "failed", "job.cancelled": "cancelled"}
JSON_VERSION = 1


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

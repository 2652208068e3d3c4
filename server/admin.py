"""The operators' queue dashboard under /admin, behind REDLINE_ADMIN_TOKEN (and nothing else opens it).

Queues, workers, running and queued jobs (abort), recently finished jobs (retry: the
same work as a new job)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, current_app, request, send_from_directory

from redline.jobs.keys import RECENT_JOBS, rid_of_job
from redline.jobs.models import UNFINISHED_JOB_STATUSES
from redline.server.api import ok
from redline.server.auth import admin_ok
from redline.server.services import ServiceError, Services

admin = Blueprint("admin", __name__)


def svc() -> Services:
    return current_app.config["SERVICES"]


@admin.before_request
async def require_admin_token() -> None:
    if not admin_ok(request, svc().settings.admin_token):
        closed = "" if svc().settings.admin_token else " The admin pages are closed: set REDLINE_ADMIN_TOKEN to open them."
        raise ServiceError("unauthorized", "The admin pages need the admin token." + closed, 401)


@admin.get("/admin/queues")
async def queues_page() -> Response:
    from redline.server.pages import STATIC

    resp = await send_from_directory(STATIC, "admin.html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@admin.get("/admin/api/overview")
async def overview() -> Response:
    s = svc()
    queues: dict[str, Any] = {}
    for name, q in s.jobs.queues.items():
        info = await q.info(jobs=True, limit=50)
        queues[name] = {
            "queued": info["queued"], "active": info["active"], "scheduled": info.get("scheduled", 0),
            "workers": [{"id": wid, **(w or {})} for wid, w in info["workers"].items()],
            "jobs": [{"job_id": j.get("key"), "function": j.get("function"), "status": j.get("status"),
                      "attempts": j.get("attempts", 0), "queued": j.get("queued"), "started": j.get("started")}
                     for j in info["jobs"]],
        }
    recent = []
    for raw in await s.redis.lrange(RECENT_JOBS, 0, 49):
        job_id = raw.decode()
        rec = await s.store.job(job_id, rid_of_job(job_id))
        if rec:
            recent.append({k: rec.get(k) for k in ("job_id", "review_id", "kind", "status", "section_id", "error")})
    return ok({"queues": queues, "recent": recent})


@admin.post("/admin/api/jobs/<job_id>/abort")
async def abort(job_id: str) -> Response:
    return ok(await svc().cancel(job_id))


@admin.post("/admin/api/jobs/<job_id>/retry")
async def retry(job_id: str) -> Response:
    """A finished job is never resurrected (its end was published); the same work runs as a new job."""
    s = svc()
    rid = rid_of_job(job_id)
    rec = await s.store.job(job_id, rid)
    if rec is None:
        raise ServiceError("not_found", "No such job.", 404)
    if rec["status"] in UNFINISHED_JOB_STATUSES:
        raise ServiceError("still_running", "The job has not finished; abort it first.", 409)
    if rec["kind"] != "analyze" or not rec.get("section_id"):
        raise ServiceError("not_retryable", "Only analysis jobs can be retried from here.", 409)
    new_id = await s.jobs.enqueue(rid, "analyze", section_id=rec["section_id"])
    return ok({"job_id": new_id, "retry_of": job_id}, 202)

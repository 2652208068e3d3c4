"""The HTTP API (CONTRACT.md, "HTTP"). Every error is {"error": {"code", "message"}}."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import orjson
from quart import Blueprint, Response, current_app, request

from redline.jobs.events import AUDIT_FIELDS
from redline.jobs.keys import rid_of_job
from redline.server.auth import admin_ok, token_of
from redline.server.limits import client_address
from redline.server.services import ServiceError, Services

api = Blueprint("api", __name__)


def svc() -> Services:
    return current_app.config["SERVICES"]


def error(code: str, message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    resp = Response(_json({"error": {"code": code, "message": message}}), status=status,
                    content_type="application/json")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _json(obj: Any) -> bytes:
    return orjson.dumps(obj)


def ok(obj: Any, status: int = 200) -> Response:
    return Response(_json(obj), status=status, content_type="application/json")


async def authorize(rid: str) -> None:
    """401 unless the request carries this review's token (a 404 would tell ids apart)."""
    if not await svc().store.check_token(rid, token_of(request)):
        raise ServiceError("unauthorized", "This review needs its token (Authorization: Bearer … or ?token=…).", 401)


def client() -> str:
    return client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                          svc().settings.trust_proxy_headers)


def rate_limit(kind: str, per_min: int | None = None) -> None:
    """429 with Retry-After when this client is over the kind's rate (shared with its websockets).
    `per_min` is ignored: the rate is the kind's setting (kept for older callers)."""
    svc().check_rate(kind, client())


async def json_body() -> dict[str, Any]:
    """The request's JSON object ({} for an empty body); 400 for anything else."""
    raw = await request.get_data(as_text=False)
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ServiceError("bad_json", "The body is not valid JSON (UTF-8).") from None
    if not isinstance(body, dict):
        raise ServiceError("bad_json", "The body must be a JSON object.")
    return body


# ----------------------------------------------------------------- reviews ---
@api.post("/api/reviews")
async def create_review() -> Response:
    files = await request.files  # read the body first: answering before it is read resets the connection
    form = await request.form
    rate_limit("upload")
    doc = files.get("document")
    if doc is None or not doc.filename:
        raise ServiceError("missing_document", "Attach the document to review as the multipart field 'document'.")
    guidelines = files.get("guidelines")
    g = (guidelines.filename or "guidelines.txt", guidelines.read()) if guidelines and guidelines.filename else None
    out = await svc().create_review(filename=doc.filename, data=doc.read(), title=form.get("title"), guidelines=g)
    return ok(out, 201)


@api.post("/api/reviews/<rid>/versions")
async def add_version(rid: str) -> Response:
    """The next version of the write-up (multipart `document`, optional form field `by`): its
    sections matched to the current ones, every earlier finding settled as open, resolved or
    outdated; every viewer gets review.version."""
    files = await request.files  # read the body first (see create_review)
    form = await request.form
    await authorize(rid)
    rate_limit("upload")
    doc = files.get("document")
    if doc is None or not doc.filename:
        raise ServiceError("missing_document", "Attach the next version as the multipart field 'document'.")
    by = svc().person_name(form.get("by") or form.get("name"), "by")
    return ok(await svc().add_version(rid, filename=doc.filename, data=doc.read(), by=by), 201)


@api.get("/api/reviews/<rid>")
async def get_review(rid: str) -> Response:
    await authorize(rid)
    snap = await svc().store.snapshot(rid)
    if snap is None:
        raise ServiceError("not_found", "No such review.", 404)
    snap["reviewer"] = svc().reviewer_info()
    return ok(snap)


@api.delete("/api/reviews/<rid>")
async def delete_review(rid: str) -> Response:
    await authorize(rid)
    await svc().delete_review(rid)
    return ok({"review_id": rid, "deleted": True})


@api.post("/api/reviews/<rid>/analyze")
async def analyze(rid: str) -> Response:
    await authorize(rid)
    body = await json_body()
    rate_limit("analyze")
    sections = body.get("sections")
    if sections is not None and (not isinstance(sections, list) or not all(isinstance(s, str) for s in sections)):
        raise ServiceError("invalid_sections", "sections must be a list of section ids.")
    return ok(await svc().analyze(rid, sections), 202)


@api.post("/api/reviews/<rid>/chat")
async def chat(rid: str) -> Response:
    await authorize(rid)
    body = await json_body()
    rate_limit("chat")
    message, section_id = body.get("message"), body.get("section_id")
    if not isinstance(message, str) or not message.strip() or len(message) > 4000:
        raise ServiceError("invalid_message", "message must be a non-empty string of at most 4000 characters.")
    if section_id is not None and not isinstance(section_id, str):
        raise ServiceError("invalid_message", "section_id must be a string.")
    author = svc().person_name(body.get("author"), "author")
    return ok(await svc().chat(rid, message, section_id, author), 202)


@api.post("/api/reviews/<rid>/items")
async def add_item(rid: str) -> Response:
    await authorize(rid)
    body = await json_body()
    author = svc().person_name(body.get("author"), "author")
    return ok({"item": await svc().add_user_item(rid, body, author)}, 201)


@api.patch("/api/reviews/<rid>/items/<item_id>")
async def edit_item(rid: str, item_id: str) -> Response:
    await authorize(rid)
    return ok({"item": await svc().edit_user_item(rid, item_id, await json_body())})


@api.delete("/api/reviews/<rid>/items/<item_id>")
async def delete_item(rid: str, item_id: str) -> Response:
    await authorize(rid)
    await svc().delete_user_item(rid, item_id)
    return ok({"item_id": item_id, "deleted": True})


@api.post("/api/reviews/<rid>/items/<item_id>/decision")
async def decide(rid: str, item_id: str) -> Response:
    await authorize(rid)
    body = await json_body()
    rate_limit("decide")
    by = svc().person_name(body.get("by"), "by")
    return ok({"item": await svc().decide(rid, item_id, str(body.get("decision")), by,
                                          replacement=body.get("replacement"), reason=body.get("reason"))})


@api.post("/api/reviews/<rid>/decisions")
async def decide_many(rid: str) -> Response:
    await authorize(rid)
    body = await json_body()
    ids = body.get("item_ids")
    if not isinstance(ids, list) or not ids or len(ids) > 500 or not all(isinstance(i, str) for i in ids):
        raise ServiceError("invalid_items", "item_ids must be a list of 1 to 500 item ids.")
    rate_limit("decide")
    by = svc().person_name(body.get("by"), "by")
    return ok({"items": await svc().decide_many(rid, ids, str(body.get("decision")), by,
                                                replacement=body.get("replacement"), reason=body.get("reason"))})


@api.get("/api/reviews/<rid>/export.docx")
async def export(rid: str) -> Response:
    """?include=accepted (default) | accepted_and_pending | all, ?changes=both (default) | tracked |
    comments, ?audit=1 (default 0): the review record appended as a table, ?by= (or ?name=): who
    exported, for the audit trail."""
    await authorize(rid)
    s = svc()
    by = s.person_name(request.args.get("by") or request.args.get("name"), "by")
    flag = request.args.get("audit", "0").strip().lower()
    if flag not in ("0", "1", "true", "false", "yes", "no", ""):
        raise ServiceError("invalid_audit", "audit must be 1 (append the review record) or 0.")
    data, filename = await s.export(rid, request.args.get("include", "accepted"),
                                    request.args.get("changes", "both"), by=by,
                                    audit=flag in ("1", "true", "yes"))
    return Response(data, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@api.get("/api/reviews/<rid>/audit")
async def audit(rid: str) -> Response:
    """Every change to the review, in order: ?format=json (default) or csv."""
    await authorize(rid)
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ServiceError("invalid_format", "format must be 'json' or 'csv'.")
    entries = await svc().audit(rid)
    if fmt == "json":
        return ok({"entries": entries})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", *AUDIT_FIELDS])
    for e in entries:
        writer.writerow([e.get("id", "")] + [_csv_cell(e.get(f)) for f in AUDIT_FIELDS])
    return Response(out.getvalue(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="review-{rid}-audit.csv"'})


def _csv_cell(value: Any) -> str:
    """A CSV cell: text that a spreadsheet would run as a formula (=, +, -, @) gets a leading '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# -------------------------------------------------------------------- jobs ---
@api.get("/api/jobs/<job_id>")
async def get_job(job_id: str) -> Response:
    rid = rid_of_job(job_id)
    await authorize(rid)
    rec = await svc().store.job(job_id, rid)
    if rec is None:
        raise ServiceError("not_found", "No such job.", 404)
    return ok(rec)


@api.post("/api/jobs/<job_id>/cancel")
async def cancel_job(job_id: str) -> Response:
    rid = rid_of_job(job_id)
    await authorize(rid)
    return ok(await svc().cancel(job_id), 202)


@api.get("/api/queues")
async def queues() -> Response:
    return ok({"queues": await svc().jobs.stats()})


@api.post("/api/llm/test")
async def llm_test() -> Response:
    """The job runs under the caller's review when its token is given, else under a probe review that
    expires (with its log and job) after `llm_test_probe_ttl_s`. Without a review, the admin token is
    needed when REDLINE_ADMIN_TOKEN is set. Rate limited per client either way."""
    s = svc()
    body = await json_body()
    rid = body.get("review_id") if isinstance(body.get("review_id"), str) else None
    token = None
    if rid:
        await authorize(rid)
    elif s.settings.admin_token and not admin_ok(request, s.settings.admin_token):
        raise ServiceError("unauthorized", "The model test needs the admin token (Authorization: Bearer …), "
                           "or a review_id with that review's token.", 401)
    rate_limit("llm_test")
    if not rid:
        rid, token = await s.store.create_review(title="Model connection test", kind="probe", filename="",
                                                 sections=[], original=None, guidelines=None,
                                                 ttl_s=s.settings.llm_test_probe_ttl_s)
    job_id = await s.jobs.enqueue(rid, "test")
    out: dict[str, Any] = {"job_id": job_id, "review_id": rid}
    if token:
        out["token"] = token
        out["expires_in_s"] = round(s.settings.llm_test_probe_ttl_s)
    return ok(out, 202)


@api.get("/metrics")
async def metrics() -> Response:
    from redline.server.metrics import render

    return Response(await render(svc()), content_type="text/plain; version=0.0.4; charset=utf-8")


@api.get("/openapi.json")
async def openapi() -> Response:
    from redline.server.openapi import SPEC

    return ok(SPEC)


# ------------------------------------------------------------------ health ---
@api.get("/healthz")
async def healthz() -> Response:
    return ok({"ok": True, "time": time.time()})


@api.get("/readyz")
async def readyz() -> Response:
    s = svc()
    missing = []
    try:
        await s.redis.ping()
        stats = await s.jobs.stats()
        if not any(q["workers"] for q in stats.values()):
            missing.append("worker")
    except Exception:
        missing.append("redis")
    if missing:
        return ok({"ok": False, "missing": missing}, 503)
    return ok({"ok": True})

"""Review data in Redis (key layout: jobs/keys.py).

Reads are plain; every change goes through `Publisher.publish` with the writes
that the event describes, so a change and its event are one atomic step.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson
from redis.asyncio import Redis

from redline.jobs.events import (Publisher, Published, Write, dumps, gone_frame, job_state, read_audit,
                                 section_state)
from redline.jobs.keys import REVIEWS_INDEX, ReviewKeys
from redline.jobs.models import DECISION_FIELDS, UNFINISHED_JOB_STATUSES, ChatMessage, Item, JobRecord, Section, iso_time


def new_review_id() -> str:
    return secrets.token_hex(8)


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_job_id(rid: str) -> str:
    return f"{rid}.{secrets.token_hex(6)}"


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else v


class Store:
    def __init__(self, redis: Redis, publisher: Publisher) -> None:
        self.redis = redis
        self.publisher = publisher

    # ------------------------------------------------------------ reviews ---
    async def create_review(self, *, title: str, kind: str, filename: str, sections: list[Section],
                            original: bytes | None, guidelines: str | None,
                            ttl_s: float | None = None, date: str | None = None) -> tuple[str, str]:
        """`ttl_s`: a short-lived review (a model test's probe): its hash expires, the event script
        gives every key written for it the same TTL, and it is not listed for retention."""
        rid, token = new_review_id(), new_token()
        k = ReviewKeys(rid)
        meta = {"title": title, "kind": kind, "filename": filename, "token": token_hash(token),
                "created": str(time.time())}
        if date:
            meta["date"] = date  # the day the document gives itself (ParsedDocument.date)
        files: dict[str, bytes | str] = {}
        if original is not None:
            files["original"] = original
        if guidelines:
            files["guidelines"] = guidelines
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(k.review, mapping=meta)
            if sections:
                pipe.hset(k.sections, mapping={s.id: s.model_dump_json() for s in sections})
            if files:
                pipe.hset(k.files, mapping=files)
            if ttl_s:
                ttl_ms = max(1000, int(ttl_s * 1000))
                for key in [k.review] + ([k.sections] if sections else []) + ([k.files] if files else []):
                    pipe.pexpire(key, ttl_ms)
            else:
                pipe.zadd(REVIEWS_INDEX, {rid: time.time()})
                pipe.xadd(k.audit, {"a": dumps({"at": iso_time(time.time()), "kind": "review.created",
                                                "detail": f"upload {filename or title} ({kind}, "
                                                          f"{len(sections)} sections)"})})
            await pipe.execute()
        return rid, token

    async def delete_review(self, rid: str) -> bool:
        """Remove a review, its event log and its files at once; its sockets are told it is gone."""
        k = ReviewKeys(rid)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(*k.all_data_keys()).zrem(REVIEWS_INDEX, rid)
            pipe.publish(k.channel, gone_frame("deleted"))
            deleted, *_ = await pipe.execute()
        return bool(deleted)

    async def expired_reviews(self, older_than: float, limit: int = 100) -> list[str]:
        raw = await self.redis.zrangebyscore(REVIEWS_INDEX, "-inf", older_than, start=0, num=limit)
        return [_s(r) for r in raw]

    async def exists(self, rid: str) -> bool:
        return bool(await self.redis.exists(ReviewKeys(rid).review))

    async def check_token(self, rid: str, token: str | None) -> bool:
        stored = await self.redis.hget(ReviewKeys(rid).review, "token")
        expected = _s(stored) if stored else "0" * 64
        ok = hmac.compare_digest(expected, token_hash(token or ""))
        return ok and stored is not None and bool(token)

    async def meta(self, rid: str) -> dict[str, str]:
        raw = await self.redis.hgetall(ReviewKeys(rid).review)
        return {_s(a): _s(b) for a, b in raw.items() if a != b"token"}

    async def sections(self, rid: str) -> list[Section]:
        raw = await self.redis.hvals(ReviewKeys(rid).sections)
        return sorted((Section.model_validate_json(v) for v in raw), key=lambda s: s.index)

    async def section(self, rid: str, section_id: str) -> Section | None:
        raw = await self.redis.hget(ReviewKeys(rid).sections, section_id)
        return Section.model_validate_json(raw) if raw else None

    async def file(self, rid: str, name: str) -> bytes | None:
        return await self.redis.hget(ReviewKeys(rid).files, name)

    async def guidelines(self, rid: str) -> str | None:
        raw = await self.file(rid, "guidelines")
        return raw.decode() if raw else None

    async def snapshot(self, rid: str) -> dict[str, Any] | None:
        """The whole review and the id of the last event it includes, read in one atomic step."""
        k = ReviewKeys(rid)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(k.review).hvals(k.sections).hgetall(k.secstate).hvals(k.items)
            pipe.hgetall(k.decisions).lrange(k.chat, 0, -1).get(k.last).hgetall(k.usage)
            pipe.hgetall(k.jobs).hgetall(k.jobstate).hgetall(k.jobprogress).hgetall(k.jobresult)
            (meta, sections, secstate, items, decisions, chat, last, usage, jobs, jobstate, jobprog,
             jobresult) = await pipe.execute()
        if not meta:
            return None
        states = {_s(a): orjson.loads(b) for a, b in secstate.items()}
        secs = sorted((Section.model_validate_json(v) for v in sections), key=lambda s: s.index)
        order = {s.id: s.index for s in secs}
        decided = {_s(a): orjson.loads(b) for a, b in decisions.items()}
        item_list = [merge_decision(orjson.loads(v), decided) for v in items]
        item_list.sort(key=lambda i: (order.get(i["section_id"], 1 << 30), i.get("created_at", 0), i["id"]))
        job_list = []
        for jid, raw in jobs.items():
            rec = orjson.loads(raw)
            status, _ = job_state(jobstate.get(jid))
            rec["status"] = status
            rec["progress"] = float(jobprog.get(jid, 0) or 0)
            if jid in jobresult:
                rec.update(orjson.loads(jobresult[jid]))
            job_list.append(rec)
        job_list.sort(key=lambda j: j.get("created_at", 0))
        return {
            "review_id": rid,
            "title": _s(meta.get(b"title", b"")),
            "kind": _s(meta.get(b"kind", b"")),
            "filename": _s(meta.get(b"filename", b"")),
            "created": float(meta.get(b"created", 0) or 0),
            "sections": [section_view(s, states.get(s.id)) for s in secs],
            "items": item_list,
            **version_view(meta, item_list),
            "chat": [orjson.loads(m) for m in chat],
            "jobs": job_list,
            "usage": {_s(a): (float(b) if b"." in b or b"e" in b else int(b)) for a, b in usage.items()},
            "last_event_id": _s(last) if last else None,
        }

    # -------------------------------------------------------------- items ---
    async def item(self, rid: str, item_id: str) -> dict[str, Any] | None:
        k = ReviewKeys(rid)
        raw, dec = await self.redis.hmget(k.items, item_id), await self.redis.hget(k.decisions, item_id)
        if not raw[0]:
            return None
        return merge_decision(orjson.loads(raw[0]), {item_id: orjson.loads(dec)} if dec else {})

    async def items(self, rid: str) -> list[dict[str, Any]]:
        snap = await self.snapshot(rid)
        return snap["items"] if snap else []

    def item_writes(self, rid: str, item: Item) -> list[Write]:
        k = ReviewKeys(rid)
        body = item.model_dump(mode="json", exclude=DECISION_FIELDS)
        decision = item.decision
        writes = [Write("hset", k.items, item.id, dumps(body))]
        if decision != "pending" or item.source == "user":
            writes.append(Write("hset", k.decisions, item.id, dumps(
                {"decision": decision, "by": item.decided_by or item.author,
                 "at": item.decided_at or item.created_at, "reason": item.reason})))
        return writes

    def item_body_write(self, rid: str, item: dict[str, Any]) -> Write:
        """The items-hash write of an item as read (`item`), its decision fields left out."""
        body = {k: v for k, v in item.items() if k not in DECISION_FIELDS}
        return Write("hset", ReviewKeys(rid).items, item["id"], dumps(body))

    async def add_user_item(self, rid: str, item: Item) -> Published:
        return await self.publisher.publish(rid, "item.added", {"item": item.model_dump(mode="json")},
                                            writes=self.item_writes(rid, item))

    async def update_user_item(self, rid: str, item: Item) -> Published:
        return await self.publisher.publish(rid, "item.updated", {"item": item.model_dump(mode="json")},
                                            writes=self.item_writes(rid, item))

    async def remove_item(self, rid: str, item_id: str, **gate: Any) -> Published:
        k = ReviewKeys(rid)
        return await self.publisher.publish(
            rid, "item.removed", {"item_id": item_id},
            writes=[Write("hdel", k.items, item_id), Write("hdel", k.decisions, item_id)], **gate)

    async def decide(self, rid: str, item_id: str, decision: str, by: str | None, *,
                     reason: str | None = None, at: float | None = None) -> Published:
        """Record a decision (who, when, why) and publish item.decided."""
        k = ReviewKeys(rid)
        at = time.time() if at is None else at
        data: dict[str, Any] = {"item_id": item_id, "decision": decision, "at": iso_time(at)}
        if by:
            data["by"] = by
        if reason:
            data["reason"] = reason
        record = {"decision": decision, "by": by, "at": at, "reason": reason or None}
        return await self.publisher.publish(rid, "item.decided", data,
                                            writes=[Write("hset", k.decisions, item_id, dumps(record))])

    async def set_replacement(self, rid: str, item: dict[str, Any], replacement: str | None,
                              by: str | None = None) -> Published:
        """Change an item's `replacement` and publish item.updated {"item"} (the stored item is
        written in the same step)."""
        item = {**item, "replacement": replacement}
        audit = {"by": by} if by else None
        return await self.publisher.publish(rid, "item.updated", {"item": item},
                                            writes=[self.item_body_write(rid, item)], audit=audit)

    async def audit(self, rid: str) -> list[dict[str, Any]]:
        return await read_audit(self.redis, rid)

    # ----------------------------------------------------------- versions ---
    async def add_version(self, rid: str, v: NewVersion) -> Published:
        """Put the next version in place in one step, and publish review.version: the sections
        replaced (an unchanged one keeps its analysis state), the moved/resolved items rewritten,
        the review's version fields and original file set. Decisions are not touched."""
        k = ReviewKeys(rid)
        new_ids = {s.id for s in v.sections}
        writes = [Write("hdel", k.sections, sid) for sid in v.old_ids if sid not in new_ids]
        writes += [Write("hdel", k.secstate, sid) for sid in v.old_ids if sid not in v.states]
        writes += [Write("hset", k.sections, s.id, s.model_dump_json()) for s in v.sections]
        writes += [self.item_body_write(rid, i) for i in v.items]
        meta = {"version": v.version, "version_at": repr(v.at), "kind": v.kind, "filename": v.filename,
                "round": dumps(v.summary), "versions": dumps(v.history),
                "removed_sections": dumps(v.removed)}
        writes += [Write("hset", k.review, f, val) for f, val in meta.items()]
        writes.append(Write("hset", k.review, "date", v.date) if v.date else Write("hdel", k.review, "date"))
        writes.append(Write("hset", k.files, "original", v.original) if v.original is not None
                      else Write("hdel", k.files, "original"))
        data = {"version": v.version, "sections": [section_view(s, v.states.get(s.id)) for s in v.sections],
                "items": v.items, "removed_sections": [{"id": r["id"], "title": r["title"]} for r in v.removed],
                "round": v.summary, "by": v.by, "detail": v.detail, "filename": v.filename, "kind": v.kind,
                "at": iso_time(v.at)}
        return await self.publisher.publish(rid, "review.version", data, writes=writes)

    # --------------------------------------------------------------- chat ---
    async def chat_history(self, rid: str) -> list[ChatMessage]:
        raw = await self.redis.lrange(ReviewKeys(rid).chat, 0, -1)
        return [ChatMessage.model_validate_json(m) for m in raw]

    async def add_chat_message(self, rid: str, msg: ChatMessage) -> Published:
        data = {"message_id": msg.message_id, "role": msg.role, "text": msg.text}
        if msg.author:
            data["author"] = msg.author
        if msg.section_id:
            data["section_id"] = msg.section_id
        return await self.publisher.publish(
            rid, "chat.message", data,
            writes=[Write("rpush", ReviewKeys(rid).chat, "", msg.model_dump_json())])

    # --------------------------------------------------------------- jobs ---
    async def create_job(self, rec: JobRecord) -> Published:
        """Record a job as queued and publish job.queued (before it is enqueued in SAQ)."""
        k = ReviewKeys(rec.review_id)
        data: dict[str, Any] = {"job_id": rec.job_id, "kind": rec.kind}
        writes = [Write("hset", k.jobs, rec.job_id, rec.model_dump_json())]
        if rec.message_id:
            data["message_id"] = rec.message_id
        if rec.section_id:
            data["section_id"] = rec.section_id
            writes.append(section_state(rec.review_id, rec.section_id, "queued", job_id=rec.job_id))
        return await self.publisher.publish(rec.review_id, "job.queued", data, writes=writes,
                                            job_id=rec.job_id, guard="create", job_status="queued")

    async def job(self, job_id: str, rid: str) -> dict[str, Any] | None:
        k = ReviewKeys(rid)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(k.jobs, job_id).hget(k.jobstate, job_id).hget(k.jobprogress, job_id).hget(k.jobresult, job_id)
            rec, state, progress, result = await pipe.execute()
        if not rec:
            return None
        out = orjson.loads(rec)
        status, attempt = job_state(state)
        out.update(status=status, attempt=attempt, progress=float(progress or 0))
        if result:
            out.update(orjson.loads(result))
        return out

    async def unfinished_jobs(self, rid: str) -> list[str]:
        raw = await self.redis.hgetall(ReviewKeys(rid).jobstate)
        return [_s(j) for j, st in raw.items() if job_state(st)[0] in UNFINISHED_JOB_STATUSES]


@dataclass(frozen=True, slots=True)
class NewVersion:
    """What `Store.add_version` writes (built by `Services.add_version`)."""

    version: int
    at: float
    by: str | None
    kind: str
    filename: str
    original: bytes | None  # the .docx to export into (None: built from the text)
    old_ids: list[str]
    sections: list[Section]
    states: dict[str, dict[str, Any]]  # analysis state of the sections that keep theirs
    items: list[dict[str, Any]]  # the items whose resolution or place changed
    removed: list[dict[str, Any]]  # every section dropped so far: id, title, text, version
    summary: dict[str, Any]
    history: list[dict[str, Any]]
    detail: str
    date: str | None = None  # the day the new version gives itself (ParsedDocument.date)


@dataclass(frozen=True)
class Document:
    """What never changes after a review is created: read once per worker process."""

    title: str
    sections: tuple[Section, ...]
    guidelines: str | None
    date: str | None = None  # the day the document gives itself (ParsedDocument.date)

    @cached_property
    def outline(self) -> list[str]:
        return [s.title for s in self.sections]

    @cached_property
    def _by_id(self) -> dict[str, Section]:
        return {s.id: s for s in self.sections}

    def section(self, section_id: str | None) -> Section | None:
        return self._by_id.get(section_id) if section_id else None


_ASK = object()  # DocumentCache.get: read the version


class DocumentCache:
    """Sections, title and guidelines of recently used reviews (one version of a review never
    changes), so a job does not re-read and re-parse the whole document from Redis: one HGET
    asks which version is current. Jobs that miss the same document at once (a worker's
    concurrent jobs right after "Analyze all") share one load instead of each parsing every
    section: the pipeline benchmark's profile had a fifth of the worker's time there."""

    def __init__(self, store: Store, size: int = 128) -> None:
        self.store = store
        self.size = size
        self._docs: OrderedDict[tuple[str, bytes | None], Document] = OrderedDict()
        self._loading: dict[tuple[str, bytes | None], asyncio.Future[Document | None]] = {}

    async def get(self, rid: str, version: bytes | None | object = _ASK) -> Document | None:
        """The review's current document; `version` is the review's `version` field when the
        caller has just read it (an analysis reads it with its job.started), else it is asked."""
        if version is _ASK:
            version = await self.store.redis.hget(ReviewKeys(rid).review, "version")
        key = (rid, version)
        doc = self._docs.get(key)
        if doc is not None:
            self._docs.move_to_end(key)
            return doc
        load = self._loading.get(key)
        if load is None:
            load = self._loading[key] = asyncio.ensure_future(self._load(rid))
            load.add_done_callback(lambda _: self._loading.pop(key, None))
        return await asyncio.shield(load)  # a cancelled job does not cancel the others' load

    async def _load(self, rid: str) -> Document | None:
        k = ReviewKeys(rid)
        async with self.store.redis.pipeline(transaction=True) as pipe:
            pipe.hget(k.review, "title").hvals(k.sections).hget(k.files, "guidelines").hget(k.review, "version")
            pipe.hget(k.review, "date")
            title, sections, guidelines, version, date = await pipe.execute()
        if title is None:
            return None
        key = (rid, version)  # what was read, read in one step
        doc = Document(title=_s(title), guidelines=guidelines.decode() if guidelines else None,
                       date=_s(date) if date else None,
                       sections=tuple(sorted((Section.model_validate_json(v) for v in sections), key=lambda x: x.index)))
        self._docs[key] = doc
        if len(self._docs) > self.size:
            self._docs.popitem(last=False)
        return doc


def section_view(s: Section, state: dict[str, Any] | None) -> dict[str, Any]:
    """A section as the snapshot and `review.version` show it: its text, what changed since the
    previous version (only after one), and its analysis state."""
    state = state or {}
    view = {**s.model_dump(exclude_none=True), "status": state.get("status", "idle"),
            "progress": state.get("progress", 0.0), "job_id": state.get("job_id")}
    if state.get("error"):
        view["error"] = state["error"]
    return view


def version_view(meta: dict[bytes, bytes], items: list[dict[str, Any]]) -> dict[str, Any]:
    """The snapshot's rounds fields: `version` (1 for the first upload) and, after a new version,
    `versions` (each upload with its summary), `removed_sections` (sections the latest versions
    dropped, with their text, where outdated findings stay) and `round` (the latest round:
    resolved / open / outdated findings, and `new` ones raised since the version arrived)."""
    version = int(meta.get(b"version", b"1") or 1)
    out: dict[str, Any] = {"version": version}
    if version == 1:
        return out
    at = float(meta.get(b"version_at", b"0") or 0)
    summary = orjson.loads(meta.get(b"round") or b"{}")
    counts = {r: 0 for r in ("resolved", "open", "outdated")}
    new = 0
    for i in items:
        res = i.get("resolution")
        if res == "open" or (res in counts and i.get("settled_in") == version):
            counts[res] += 1
        elif res is None and i.get("created_at", 0) >= at:
            new += 1
    out["versions"] = orjson.loads(meta.get(b"versions") or b"[]")
    out["removed_sections"] = orjson.loads(meta.get(b"removed_sections") or b"[]")
    out["round"] = {**summary, **counts, "new": new, "version": version, "at": iso_time(at)}
    return out




def merge_decision(item: dict[str, Any], decided: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """An item as stored plus its last decision: decision, decided_by, decided_at (ISO 8601),
    reason (each null when there is none)."""
    d = decided.get(item["id"]) or {}
    item["decision"] = d.get("decision") or "pending"
    item["decided_by"] = d.get("by") or None
    at = d.get("at")
    item["decided_at"] = iso_time(at) if isinstance(at, (int, float)) else None
    item["reason"] = d.get("reason") or None
    return item

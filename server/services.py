"""What the web process holds (Redis, store, jobs, hub...) and the review operations
that the HTTP API and the websocket share, so each is written once.

Over 400 lines on purpose: the Services class is kept whole, as the one place every operation
goes through. What it uses lives beside it: server/service_errors.py (ServiceError,
RateLimited, store_refused), server/uploads.py (parsing an upload), server/new_version.py
(build_version, a round's next version) and server/text_controls.py (strip_controls,
strip_bidi); their public names are importable from here as before."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import orjson
from redis.asyncio import Redis

from redline.jobs.events import Publisher
from redline.jobs.keys import RETENTION_LOCK, ReviewKeys, rid_of_job
from redline.jobs.export import CHANGE_MODES, INCLUDE_CHOICES, export_docx, export_note, select_items
from redline.jobs.models import DECISIONS, ChatMessage, Item, Section, iso_time
from redline.jobs.queues import Jobs
from redline.jobs.settings import Settings
from redline.jobs.store import Store, merge_decision
from redline.server.hub import Hub
from redline.server.limits import Limiter, SocketCounter
from redline.server.new_version import build_version
from redline.server.presence import Presence
from redline.server.service_errors import (  # noqa: F401 (STORE_REFUSED_MESSAGE, store_refused: re-exported)
    STORE_REFUSED_MESSAGE,
    RateLimited,
    ServiceError,
    store_refused,
)
from redline.server.service_errors import first_error as _first_error
from redline.server.text_controls import strip_bidi, strip_controls
from redline.server.uploads import parse_document as _parse


log = logging.getLogger("redline.services")


_RETRY = object()  # a shared welcome that could not be made: each waiter makes its own

# Per-client rate limits: kind -> the setting with its rate per minute.
RATE_SETTINGS = {"upload": "rate_upload_per_min", "analyze": "rate_analyze_per_min", "chat": "rate_chat_per_min",
                 "decide": "rate_decide_per_min", "llm_test": "rate_llm_test_per_min"}


@dataclass
class Services:
    settings: Settings
    redis: Redis
    publisher: Publisher
    store: Store
    jobs: Jobs
    hub: Hub
    presence: Presence
    limiter: Limiter = field(default_factory=Limiter)
    sockets: SocketCounter = field(default_factory=SocketCounter)
    slow_closes: int = 0
    _welcomes: dict[str, asyncio.Future] = field(default_factory=dict)

    async def welcome_frame(self, rid: str, build: Any) -> tuple[Any, str | None]:
        """A welcome with the review's snapshot, made once for the sockets that ask for it at the
        same moment (`build()` -> (frame, last_event_id), or None when the review is gone). A socket
        that subscribed after the snapshot was read finds any event it missed by `prev` and fills
        it from the log, as after a lost pub/sub message."""
        fut = self._welcomes.get(rid)
        if fut is not None:
            made = await asyncio.shield(fut)
            return await build() if made is _RETRY else made  # the first one failed: our own try
        fut = self._welcomes[rid] = asyncio.get_running_loop().create_future()
        made = _RETRY
        try:
            made = await build()
            return made
        finally:
            self._welcomes.pop(rid, None)
            fut.set_result(made)

    def over_rate(self, kind: str, client: str) -> float:
        """Seconds this client must still wait for a call of this kind (0: it may go); counts nothing.
        Lets the server answer a flood before any request handling (`server/app.py`)."""
        per_min = getattr(self.settings, RATE_SETTINGS[kind])
        return self.limiter.waiting(f"{kind}:{client}", rate_per_s=per_min / 60.0) if per_min > 0 else 0.0

    def check_rate(self, kind: str, client: str) -> None:
        """One limiter per kind and client address, whether the call came over HTTP or a websocket."""
        per_min = getattr(self.settings, RATE_SETTINGS[kind])
        if per_min <= 0:
            return
        wait = self.limiter.retry_after(f"{kind}:{client}", rate_per_s=per_min / 60.0, burst=max(1, per_min // 3))
        if wait:
            raise RateLimited(kind, wait)

    def person_name(self, value: object, what: str, default: str | None = None) -> str | None:
        """A chat author, a decision's `by`, a hello name: controls (bidi overrides included) removed,
        cut to `name_max_chars`; a string longer than `name_hard_max_chars` is refused."""
        if not isinstance(value, str):
            return default
        if len(value) > self.settings.name_hard_max_chars:
            raise ServiceError("name_too_long", f"{what} is too long (at most {self.settings.name_max_chars} "
                               "characters are kept).")
        cleaned = " ".join(strip_controls(value).split())[: self.settings.name_max_chars].strip()
        return cleaned or default

    def metrics_slow_close(self) -> None:
        self.slow_closes += 1

    def reviewer_info(self) -> dict[str, Any]:
        s = self.settings
        return {"reviewer": s.reviewer, "model": s.model if s.reviewer == "claude" else None}

    # ------------------------------------------------------------- reviews ---
    async def create_review(self, *, filename: str, data: bytes, title: str | None,
                            guidelines: tuple[str, bytes] | None) -> dict[str, Any]:
        limit = self.settings.max_upload_bytes
        doc = await _parse(filename, data, limit)
        guide_text = None
        if guidelines is not None:
            gdoc = await _parse(guidelines[0], guidelines[1], limit, what="guidelines file")
            guide_text = "\n\n".join(f"{s.title}\n{s.text}" for s in gdoc.sections)
        # Bidi overrides and isolates are removed from titles and text: they can make a passage read
        # differently from what it says, in the page, the findings and the export.
        sections = [Section(id=f"s{i + 1}", title=strip_bidi(s.title), index=i, text=strip_bidi(s.text),
                            level=s.level, marks=s.marks)  # the parser already removed bidi controls: marks hold
                    for i, s in enumerate(doc.sections)]
        if guide_text is not None:
            guide_text = strip_bidi(guide_text)
        title = (" ".join(strip_controls(title or "").split())[:200] or strip_controls(doc.title or "").strip()
                 or strip_controls(PurePath(filename).stem) or "Untitled review")
        filename = strip_controls(filename)
        rid, token = await self.store.create_review(
            title=title, kind=doc.kind, filename=PurePath(filename).name[:200], sections=sections,
            original=data if doc.kind == "docx" else None, guidelines=guide_text, date=doc.date)
        return {"review_id": rid, "token": token, "title": title, "url": f"/r/{rid}#token={token}",
                "kind": doc.kind, "has_guidelines": guide_text is not None,
                "sections": [{"id": s.id, "title": s.title, "index": s.index, "chars": len(s.text)}
                             for s in sections]}

    async def add_version(self, rid: str, *, filename: str, data: bytes, by: str | None) -> dict[str, Any]:
        """The next version of the write-up (a round): parse it, stop what still analyzes the old
        text, match its sections to the current ones (redline.jobs.versions), settle every earlier
        finding as open, resolved or outdated, and put it all in place in one event
        (review.version), then one item.updated per finding that changed."""
        doc = await _parse(filename, data, self.settings.max_upload_bytes)
        lock = f"{ReviewKeys(rid).review}:versioning"
        if not await self.redis.set(lock, "1", nx=True, ex=120):
            raise ServiceError("busy", "Another version of this review is being uploaded; try again.", 409)
        try:
            await self.jobs.cancel_all(rid)  # an analysis of the old text must not land on the new one
            snap = await self.store.snapshot(rid)
            if snap is None:
                raise ServiceError("not_found", "No such review.", 404)
            v = build_version(snap, doc, filename=strip_controls(PurePath(filename).name)[:200], data=data, by=by)
            decided = {a.decode(): orjson.loads(b) for a, b in
                       (await self.redis.hgetall(ReviewKeys(rid).decisions)).items()}
            for item in v.items:  # the decisions as they are now, not as the snapshot read them
                merge_decision(item, decided)
            published = await self.store.add_version(rid, v)
            if not published.ok:
                raise ServiceError("not_found", "No such review.", 404)
            for settled in v.items:
                # as stored now, with its decision as it is now (one may have been made meanwhile)
                item = await self.store.item(rid, settled["id"])
                if item is not None:
                    await self.store.publisher.publish(rid, "item.updated", {"item": item}, audit={
                        "by": by, "detail": f"version {v.version}: {item.get('resolution')}"})
        finally:
            await self.redis.delete(lock)
        log.info("review version", extra={"review_id": rid, "version": v.version})
        return {"version": v.version, **{k: v.summary[k] for k in ("resolved", "open", "outdated")},
                "changes": v.summary["sections"],
                "sections": [{"id": s.id, "title": s.title, "index": s.index, "chars": len(s.text),
                              "change": s.change} for s in v.sections]}

    async def delete_review(self, rid: str) -> None:
        """Cancel what still runs, then remove the review, its log and its files."""
        await self.jobs.cancel_all(rid)
        await self.store.delete_review(rid)
        log.info("review deleted", extra={"review_id": rid})

    async def sweep_expired(self) -> int:
        """Delete reviews older than the retention setting (one server at a time does it)."""
        if not await self.redis.set(RETENTION_LOCK, self.presence.server_id, nx=True, ex=300):
            return 0
        cutoff = time.time() - self.settings.retention_days * 86400
        n = 0
        try:
            while rids := await self.store.expired_reviews(cutoff):
                for rid in rids:
                    await self.delete_review(rid)
                    n += 1
        finally:
            await self.redis.delete(RETENTION_LOCK)
        return n

    async def retention_forever(self) -> None:
        while True:
            try:
                n = await self.sweep_expired()
                if n:
                    log.info("retention removed %d expired reviews", n)
            except Exception as e:
                log.warning("retention sweep failed: %s", e)
            await asyncio.sleep(self.settings.retention_sweep_s)

    # ------------------------------------------------------------ analysis ---
    async def analyze(self, rid: str, section_ids: list[str] | None) -> dict[str, Any]:
        sections = await self.store.sections(rid)
        known = {s.id for s in sections}
        if section_ids is None:
            wanted = [s.id for s in sections]
        else:
            unknown = [s for s in section_ids if s not in known]
            if unknown:
                raise ServiceError("unknown_section", f"No such section: {', '.join(unknown[:5])}.", 404)
            wanted = list(dict.fromkeys(section_ids))
        states = await self.redis.hgetall(ReviewKeys(rid).secstate)
        jobs, skipped = [], []
        for sid in wanted:
            state = orjson.loads(states[sid.encode()]) if sid.encode() in states else {}
            if state.get("status") in ("queued", "running"):
                skipped.append({"section_id": sid, "job_id": state.get("job_id"), "reason": "already running"})
                continue
            job_id = await self.jobs.enqueue(rid, "analyze", section_id=sid)
            jobs.append({"job_id": job_id, "section_id": sid})
        return {"jobs": jobs, "skipped": skipped}

    # -------------------------------------------------------------- cancel ---
    async def cancel(self, job_id: str, rid: str | None = None) -> dict[str, Any]:
        """Cancel one job ({"job_id", "status"}); 404 `not_found` when there is no such job (in
        review `rid`, when given)."""
        if rid is not None and rid_of_job(job_id) != rid:
            raise ServiceError("not_found", "No such job in this review.", 404)
        status = await self.jobs.cancel(job_id)
        if status == "unknown":
            raise ServiceError("not_found", "No such job in this review." if rid else "No such job.", 404)
        return {"job_id": job_id, "status": status}

    async def cancel_all(self, rid: str) -> dict[str, Any]:
        """Cancel every unfinished job of a review: {"cancelled": [job ids]}."""
        return {"cancelled": await self.jobs.cancel_all(rid)}

    # ---------------------------------------------------------------- chat ---
    async def chat(self, rid: str, message: str, section_id: str | None, author: str | None) -> dict[str, Any]:
        message = message.strip()
        if not message:
            raise ServiceError("invalid_message", "The message is empty.")
        if section_id is not None and await self.store.section(rid, section_id) is None:
            raise ServiceError("unknown_section", f"No such section: {section_id}.", 404)
        msg = ChatMessage(message_id=f"m{int(time.time() * 1000):x}{secrets.token_hex(3)}", role="user",
                          text=message, author=author, section_id=section_id)
        await self.store.add_chat_message(rid, msg)
        job_id = await self.jobs.enqueue(rid, "chat", message_id=msg.message_id, question=message,
                                         chat_section_id=section_id)
        return {"job_id": job_id, "message_id": msg.message_id}

    # --------------------------------------------------------------- items ---
    REPLACEMENT_MAX = 4000
    REASON_MAX = 1000

    def _decision_extras(self, replacement: object, reason: object) -> tuple[str | None, str | None]:
        """Check a decision's optional `replacement` (the rewrite of the quote; "" deletes it) and
        `reason`: strings of at most 4000 and 1000 characters. Returns them cleaned."""
        if replacement is not None:
            if not isinstance(replacement, str):
                raise ServiceError("invalid_replacement", "replacement must be a string (the text to stand "
                                   "where the quote stands).")
            if len(replacement) > self.REPLACEMENT_MAX:
                raise ServiceError("invalid_replacement", f"replacement is too long (at most "
                                   f"{self.REPLACEMENT_MAX} characters).")
            replacement = strip_bidi(replacement).replace("\x00", "")
        if reason is not None:
            if not isinstance(reason, str):
                raise ServiceError("invalid_reason", "reason must be a string.")
            if len(reason) > self.REASON_MAX:
                raise ServiceError("invalid_reason", f"reason is too long (at most {self.REASON_MAX} characters).")
            reason = " ".join(strip_controls(reason).split()) or None
        return replacement, reason

    @staticmethod
    def _check_rewritable(item: dict[str, Any]) -> None:
        if not (item.get("quote") or "").strip():
            raise ServiceError("no_quote", "This finding quotes no text of the document, so it has nothing "
                               "a rewrite could replace; add the rewrite as a suggestion instead.")

    async def decide(self, rid: str, item_id: str, decision: str, by: str | None, *,
                     replacement: object = None, reason: object = None) -> dict[str, Any]:
        """Accept, reject or revert an item, optionally with the reviewer's rewrite of its quote
        (`replacement`: published as item.updated before the item.decided) and a `reason`."""
        if decision not in DECISIONS:
            raise ServiceError("invalid_decision", "decision must be accepted, rejected or pending.")
        replacement, reason = self._decision_extras(replacement, reason)
        item = await self.store.item(rid, item_id)
        if item is None:
            raise ServiceError("not_found", "No such item in this review.", 404)
        return await self._decide_one(rid, item, decision, by, replacement, reason)

    async def _decide_one(self, rid: str, item: dict[str, Any], decision: str, by: str | None,
                          replacement: str | None, reason: str | None) -> dict[str, Any]:
        if replacement is not None and replacement != item.get("replacement"):
            self._check_rewritable(item)
            await self.store.set_replacement(rid, item, replacement, by)
            item = {**item, "replacement": replacement}
        at = time.time()
        await self.store.decide(rid, item["id"], decision, by, reason=reason, at=at)
        return {**item, "decision": decision, "decided_by": by, "decided_at": iso_time(at), "reason": reason}

    async def decide_many(self, rid: str, item_ids: list[str], decision: str, by: str | None, *,
                          replacement: object = None, reason: object = None) -> list[dict[str, Any]]:
        """Accept, reject or revert several items; unknown ids (and, with a `replacement`, items
        without a quote) are refused before anything changes."""
        if decision not in DECISIONS:
            raise ServiceError("invalid_decision", "decision must be accepted, rejected or pending.")
        replacement, reason = self._decision_extras(replacement, reason)
        ids = list(dict.fromkeys(item_ids))
        items = [await self.store.item(rid, i) for i in ids]
        missing = [i for i, item in zip(ids, items) if item is None]
        if missing:
            raise ServiceError("not_found", f"No such item in this review: {', '.join(missing[:5])}.", 404)
        if replacement is not None:
            for item in items:
                self._check_rewritable(item)
        out = []
        for item in items:
            if item["decision"] != decision or reason or (replacement is not None
                                                          and replacement != item.get("replacement")):
                out.append(await self._decide_one(rid, item, decision, by, replacement, reason))
            else:
                out.append({**item, "decision": decision})
        return out

    # -------------------------------------------------------------- export ---
    async def export(self, rid: str, include: str = "accepted", changes: str = "both",
                     by: str | None = None, audit: bool = False) -> tuple[bytes, str]:
        """The reviewed .docx and its file name: the items chosen by `include` (INCLUDE_CHOICES) as
        comments, accepted rewrites as tracked changes per `changes` (CHANGE_MODES), a note on the
        first paragraph saying so, and with `audit` the review record as an appendix table
        (jobs.export_audit). The export is recorded in the review's audit trail."""
        from redline.jobs.export_audit import add_audit_appendix  # the record's table (only here)

        if include not in INCLUDE_CHOICES:
            raise ServiceError("invalid_include", f"include must be one of: {', '.join(INCLUDE_CHOICES)}.")
        if changes not in CHANGE_MODES:
            raise ServiceError("invalid_changes", f"changes must be one of: {', '.join(CHANGE_MODES)}.")
        snap = await self.store.snapshot(rid)
        if snap is None:
            raise ServiceError("not_found", "No such review.", 404)
        every = [Item.model_validate(i) for i in snap["items"]]
        items = select_items(every, include)
        sections = [Section.model_validate(x) for x in snap["sections"]]
        original = await self.store.file(rid, "original")
        note = export_note(include, changes, chosen=len(items), total=len(every))
        # The record up to this export (this export's own entry is written after the file is made).
        entries = await self.store.audit(rid) if audit else None
        findings = {i.id: i.description for i in every}
        if entries is not None:
            note += " The review record is appended."
        data = await asyncio.to_thread(export_docx, items=items, sections=sections, original_docx=original,
                                       title=snap["title"], changes=changes, note=note,  # type: ignore[arg-type]
                                       appendix=None if entries is None else
                                       (lambda doc: add_audit_appendix(doc, entries, findings)))
        await self.publisher.audit(rid, "export", by=by, detail=f"include={include} changes={changes}"
                                   f"{' audit=1' if audit else ''} ({len(items)} of {len(every)} findings)")
        name = (snap["filename"].rsplit(".", 1)[0] or "review") + "-reviewed.docx"
        safe = "".join(c for c in name if c.isalnum() or c in "-_. ") or "review.docx"
        return data, safe

    async def audit(self, rid: str) -> list[dict[str, Any]]:
        if not await self.store.exists(rid):
            raise ServiceError("not_found", "No such review.", 404)
        return await self.store.audit(rid)

    async def add_user_item(self, rid: str, body: dict[str, Any], author: str | None) -> dict[str, Any]:
        section = await self.store.section(rid, str(body.get("section_id", "")))
        if section is None:
            raise ServiceError("unknown_section", "section_id must name a section of this review.", 404)
        quote = body.get("quote") or None
        if quote is not None and (not isinstance(quote, str) or quote not in section.text):
            raise ServiceError("quote_not_found", "The quote must be exact text of the section.")
        try:
            item = Item(id=f"u{secrets.token_hex(6)}", section_id=section.id, source="user", decision="accepted",
                        author=(author or body.get("author") or "Reviewer")[:60],
                        type=body.get("type") or "suggestion", risk=body.get("risk") or "medium",
                        category=body.get("category") or "Reviewer note",
                        description=body.get("description") or "", suggestion=body.get("suggestion") or "",
                        quote=quote, questions=body.get("questions") or [], refs=body.get("refs") or [],
                        confidence=1.0)
        except Exception as e:
            raise ServiceError("invalid_item", f"The item is not valid: {_first_error(e)}") from None
        item.decided_by, item.decided_at = item.author, item.created_at  # accepted by its author, as added
        await self.store.add_user_item(rid, item)
        return item.model_dump(mode="json")


    async def edit_user_item(self, rid: str, item_id: str, body: dict[str, Any]) -> dict[str, Any]:
        current = await self._own_item(rid, item_id)
        editable = {"description", "suggestion", "type", "risk", "category", "quote", "questions"}
        changes = {k: v for k, v in body.items() if k in editable}
        section = await self.store.section(rid, current["section_id"])
        quote = changes.get("quote", current.get("quote")) or None
        if quote is not None and (not isinstance(quote, str) or section is None or quote not in section.text):
            raise ServiceError("quote_not_found", "The quote must be exact text of the section.")
        try:
            item = Item.model_validate({**current, **changes, "quote": quote})
        except Exception as e:
            raise ServiceError("invalid_item", f"The item is not valid: {_first_error(e)}") from None
        await self.store.update_user_item(rid, item)
        return item.model_dump(mode="json")

    async def delete_user_item(self, rid: str, item_id: str) -> None:
        await self._own_item(rid, item_id)
        await self.store.remove_item(rid, item_id)

    async def _own_item(self, rid: str, item_id: str) -> dict[str, Any]:
        item = await self.store.item(rid, item_id)
        if item is None:
            raise ServiceError("not_found", "No such item in this review.", 404)
        if item.get("source") != "user":
            raise ServiceError("not_editable", "Only reviewers' own findings can be edited or deleted; "
                               "reject a model finding instead.", 409)
        return item

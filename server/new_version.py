"""A review's next version (a round) built from its snapshot and the parsed upload, without I/O:
its sections matched to the current ones (jobs.versions), every earlier finding settled as
open, resolved or outdated, the removed sections, the summary and the history entry; what
Services.add_version then stores in one event (jobs.store.add_version)."""

from __future__ import annotations

import time
from typing import Any

from redline.jobs.models import Section, iso_time
from redline.jobs.store import NewVersion
from redline.jobs.versions import Old, match_sections, resolve
from redline.server.text_controls import strip_bidi


def build_version(snap: dict[str, Any], doc: Any, *, filename: str, data: bytes, by: str | None) -> NewVersion:
    """The next version of a review from its snapshot and the parsed upload (pure)."""
    version = int(snap.get("version", 1)) + 1
    removed_before = list(snap.get("removed_sections", []))
    used = [s["id"] for s in snap["sections"]] + [r["id"] for r in removed_before]
    seq = iter(range(max((int(x[1:]) for x in used if x[1:].isdigit()), default=0) + 1, 1 << 30))
    old = [Old(s["id"], s["title"], s["text"]) for s in snap["sections"]]
    new = [(strip_bidi(s.title), strip_bidi(s.text)) for s in doc.sections]
    matching = match_sections(old, new, lambda: f"s{next(seq)}")
    sections = [Section(id=m.id, title=m.title, index=m.index, text=m.text, level=p.level, marks=p.marks,
                        change=m.change, previous_ids=m.previous_ids or None, previous_title=m.previous_title,
                        previous_text=m.previous_text, moved=m.moved or None)
                for m, p in zip(matching.sections, doc.sections)]
    texts = {s.id: s.text for s in sections}
    settled_all = [resolve(item, matching, texts, version) for item in snap["items"]]
    items = [after for after, before in zip(settled_all, snap["items"]) if after != before]
    by_id = {s["id"]: s for s in snap["sections"]}
    removed = [{"id": oid, "title": by_id[oid]["title"], "text": by_id[oid]["text"], "version": version}
               for oid in matching.removed] + removed_before
    kinds = [s.change for s in sections]
    changes = {"unchanged": kinds.count("unchanged"), "changed": kinds.count("changed"),
               "added": kinds.count("added"), "removed": len(matching.removed)}
    settled = [i["resolution"] for i in items if i.get("settled_in") == version]
    still_open = sum(1 for i in settled_all if i.get("resolution") == "open")
    summary = {"resolved": settled.count("resolved"), "outdated": settled.count("outdated"),
               "open": still_open, "sections": changes}
    at = time.time()
    history = list(snap.get("versions") or [{"version": 1, "at": iso_time(snap.get("created")),
                                            "filename": snap.get("filename")}])
    history.append({"version": version, "at": iso_time(at), "filename": filename, "by": by,
                    **{k: summary[k] for k in ("resolved", "open", "outdated")}, "sections": changes})
    states = {s["id"]: {k: s[k] for k in ("status", "progress", "job_id") if s.get(k) is not None}
              for s in snap["sections"] if s.get("status") in ("done", "failed")}
    detail = (f"version {version} ({filename}): {summary['resolved']} resolved, {summary['open']} open, "
              f"{summary['outdated']} outdated; sections {changes['changed']} changed, {changes['added']} added, "
              f"{changes['removed']} removed")
    return NewVersion(version=version, at=at, by=by, kind=doc.kind, filename=filename,
                      original=data if doc.kind == "docx" else None, old_ids=[s["id"] for s in snap["sections"]],
                      sections=sections, states={s.id: states[s.id] for s in sections
                                                 if s.change == "unchanged" and s.id in states},
                      items=items, removed=removed, summary=summary, history=history, detail=detail,
                      date=doc.date)

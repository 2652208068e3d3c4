"""Decisions with who, when, why and the reviewer's rewrite; the export choice; the audit trail.

Against a real `redline serve` (offline reviewer) over the contract's websocket and HTTP API.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from io import BytesIO

import httpx
import pytest
from docx import Document

from redline.jobs.export import INCLUDE_CHOICES, export_docx, export_note, select_items
from redline.jobs.models import Item, Section
from redline.jobs.redlines import tracked_changes
from tests.client import Socket, upload


async def _analyzed(server: str, section: str = "s8") -> tuple[dict, Socket, list[dict]]:
    """A review with one analysed section: (review, socket, the items added)."""
    review = await upload(server)
    sock = await Socket(server, review["review_id"], review["token"], "Ann").connect()
    job = (await sock.request({"op": "analyze", "sections": [section]}))["data"]["jobs"][0]["job_id"]
    await sock.wait_for(lambda: sock.terminal(job))
    items = [e["data"]["item"] for e in sock.events if e["kind"] == "item.added"]
    return review, sock, items


def _http(server: str, review: dict) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {review['token']}"}, timeout=30)


async def test_decide_with_replacement_and_reason_reaches_every_tab_and_the_snapshot(server):
    review, ann, items = await _analyzed(server)
    rid = review["review_id"]
    quoted = [i for i in items if i.get("quote")]
    assert quoted, "the offline reviewer quotes the text"
    target = quoted[0]
    bo = await Socket(server, rid, review["token"], "Bo").connect()
    start = len(bo.events)
    rewrite = "The valve was closed at 14:05 by the shift lead."
    reply = await ann.request({"op": "decide", "item_id": target["id"], "decision": "accepted",
                               "replacement": rewrite, "reason": "Matches the operator log."})
    assert reply["ok"], reply
    item = reply["data"]["item"]
    assert item["replacement"] == rewrite and item["decided_by"] == "Ann" and item["reason"] == "Matches the operator log."
    await bo.wait_for(lambda: [e["kind"] for e in bo.events[start:]] == ["item.updated", "item.decided"])
    updated, decided = bo.events[start:]
    assert updated["data"]["item"]["id"] == target["id"] and updated["data"]["item"]["replacement"] == rewrite
    assert decided["data"]["decision"] == "accepted" and decided["data"]["by"] == "Ann"
    assert decided["data"]["reason"] == "Matches the operator log."
    at = datetime.fromisoformat(decided["data"]["at"].replace("Z", "+00:00"))
    assert abs(at.timestamp() - datetime.now().timestamp()) < 60

    # the same replacement again changes nothing: no item.updated
    reply = await ann.request({"op": "decide", "item_id": target["id"], "decision": "accepted", "replacement": rewrite})
    assert reply["ok"]
    await bo.wait_for(lambda: len(bo.events) >= start + 3)
    assert bo.events[-1]["kind"] == "item.decided" and "reason" not in bo.events[-1]["data"]

    async with _http(server, review) as http:
        snap = (await http.get(f"/api/reviews/{rid}")).json()
    got = next(i for i in snap["items"] if i["id"] == target["id"])
    assert got["replacement"] == rewrite and got["decision"] == "accepted" and got["decided_by"] == "Ann"
    assert got["reason"] is None  # the last decision gave none
    assert got["decided_at"] == bo.events[-1]["data"]["at"]
    others = [i for i in snap["items"] if i["id"] != target["id"]]
    assert all(i["decided_by"] is None and i["decided_at"] is None and i["reason"] is None for i in others)
    # a reload over the socket shows the same
    fresh = await Socket(server, rid, review["token"], "Cy").connect()
    assert next(i for i in fresh.welcome["review"]["items"] if i["id"] == target["id"]) == got
    for s in (ann, bo, fresh):
        await s.close()


async def test_replacement_needs_a_quote_and_limits_are_kept(server):
    review, sock, items = await _analyzed(server)
    rid = review["review_id"]
    async with _http(server, review) as http:
        r = await http.post(f"/api/reviews/{rid}/items", json={"section_id": "s2", "description": "General point."})
        general = r.json()["item"]
        assert general["quote"] is None
        r = await http.post(f"/api/reviews/{rid}/items/{general['id']}/decision",
                            json={"decision": "accepted", "replacement": "Something new."})
        assert r.status_code == 400 and r.json()["error"]["code"] == "no_quote"
        assert "quote" in r.json()["error"]["message"]
        quoted = next(i for i in items if i.get("quote"))
        r = await http.post(f"/api/reviews/{rid}/items/{quoted['id']}/decision",
                            json={"decision": "accepted", "replacement": "x" * 4001})
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_replacement"
        r = await http.post(f"/api/reviews/{rid}/items/{quoted['id']}/decision",
                            json={"decision": "rejected", "reason": "y" * 1001})
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_reason"
        # bulk: one item without a quote refuses the whole call before anything changes
        r = await http.post(f"/api/reviews/{rid}/decisions", json={
            "item_ids": [quoted["id"], general["id"]], "decision": "accepted", "replacement": "New."})
        assert r.status_code == 400 and r.json()["error"]["code"] == "no_quote"
        snap = (await http.get(f"/api/reviews/{rid}")).json()
        assert next(i for i in snap["items"] if i["id"] == quoted["id"])["decision"] == "pending"
        # bulk with a reason
        r = await http.post(f"/api/reviews/{rid}/decisions", json={
            "item_ids": [quoted["id"]], "decision": "rejected", "reason": "Out of scope.", "by": "Bo"})
        assert r.status_code == 200 and r.json()["items"][0]["reason"] == "Out of scope."
    reply = await sock.request({"op": "decide", "item_id": general["id"], "decision": "accepted",
                                "replacement": "Anything."})
    assert not reply["ok"] and reply["error"]["code"] == "no_quote"
    reply = await sock.request({"op": "decide", "item_id": general["id"], "decision": "rejected",
                                "reason": "z" * 1001})
    assert not reply["ok"]
    await sock.close()


async def test_audit_lists_every_decision_with_reasons_in_order_as_json_and_csv(server):
    review, sock, items = await _analyzed(server)
    rid = review["review_id"]
    plan = [(items[0]["id"], "accepted", "Clear evidence."), (items[1]["id"], "rejected", "Duplicate."),
            (items[2]["id"], "rejected", None), (items[0]["id"], "pending", "Reopened for Bo.")]
    for item_id, decision, reason in plan:
        msg = {"op": "decide", "item_id": item_id, "decision": decision}
        if reason:
            msg["reason"] = reason
        assert (await sock.request(msg))["ok"]
    async with _http(server, review) as http:
        r = await http.get(f"/api/reviews/{rid}/export.docx", params={"by": "Dana", "include": "all"})
        assert r.status_code == 200
        r = await http.get(f"/api/reviews/{rid}/audit")
        assert r.status_code == 200
        entries = r.json()["entries"]
        r = await http.get(f"/api/reviews/{rid}/audit", params={"format": "csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        bad = await http.get(f"/api/reviews/{rid}/audit", params={"format": "xml"})
        assert bad.status_code == 400
        assert (await http.get(f"/api/reviews/{rid}/audit", headers={"Authorization": "Bearer nope"})).status_code == 401
    kinds = [e["kind"] for e in entries]
    assert kinds[0] == "review.created"
    assert kinds[1] == "job.queued" and kinds[-1] == "export"
    assert "job.completed" in kinds and kinds.count("item.added") == len(items)
    assert all(e["at"] for e in entries) and [e["id"] for e in entries] == sorted(
        (e["id"] for e in entries), key=lambda i: tuple(int(x) for x in i.split("-")))
    decided = [(e["item_id"], e["decision"], e.get("reason"), e.get("by")) for e in entries if e["kind"] == "item.decided"]
    assert decided == [(i, d, r, "Ann") for i, d, r in plan]
    assert entries[-1]["by"] == "Dana" and "include=all" in entries[-1]["detail"] and "changes=both" in entries[-1]["detail"]
    assert list(rows[0].keys()) == ["id", "at", "by", "kind", "item_id", "decision", "reason", "detail"]
    assert [r["kind"] for r in rows] == kinds
    assert [(r["item_id"], r["decision"], r["reason"] or None) for r in rows if r["kind"] == "item.decided"] == \
        [(i, d, r) for i, d, r in plan]
    await sock.close()


def _comments(data: bytes) -> list[str]:
    return ["\n".join(p.text for p in c.paragraphs) for c in Document(BytesIO(data)).comments]


async def test_export_include_choices_counts_note_and_tracked_changes(server):
    review, sock, items = await _analyzed(server)
    rid = review["review_id"]
    quoted = [i for i in items if i.get("quote")]
    assert len(items) >= 3 and len(quoted) >= 2
    # accepted with a rewrite; rejected with a rewrite; one more rejected; the rest pending
    acc, rej = quoted[0], quoted[1]
    other = next(i for i in items if i["id"] not in (acc["id"], rej["id"]))
    assert (await sock.request({"op": "decide", "item_id": acc["id"], "decision": "accepted",
                                "replacement": "ACCEPTED REWRITE"}))["ok"]
    assert (await sock.request({"op": "decide", "item_id": rej["id"], "decision": "rejected",
                                "replacement": "REJECTED REWRITE", "reason": "No."}))["ok"]
    assert (await sock.request({"op": "decide", "item_id": other["id"], "decision": "rejected"}))["ok"]
    total = len(items)
    expected = {"accepted": 1, "accepted_and_pending": total - 2, "all": total}
    async with _http(server, review) as http:
        for include in INCLUDE_CHOICES:
            r = await http.get(f"/api/reviews/{rid}/export.docx", params={"include": include})
            assert r.status_code == 200, r.text
            doc = Document(BytesIO(r.content))
            first = doc.paragraphs[0]
            assert first.text.startswith("Reviewed with Redline on ")
            assert f"({expected[include]} of {total} findings)" in first.text
            assert all(run.italic for run in first.runs)
            changes = tracked_changes(r.content)
            assert [c["text"] for c in changes if c["kind"] == "ins"] == ["ACCEPTED REWRITE"], include
            assert len(_comments(r.content)) == expected[include]
            if include == "all":  # the rejected rewrite is quoted in its comment, never applied
                assert any("Replace with: \u201cREJECTED REWRITE\u201d" in c for c in _comments(r.content))
        r = await http.get(f"/api/reviews/{rid}/export.docx", params={"changes": "comments"})
        assert tracked_changes(r.content) == [] and "no tracked changes" in Document(BytesIO(r.content)).paragraphs[0].text
        r = await http.get(f"/api/reviews/{rid}/export.docx", params={"changes": "tracked"})
        assert len(tracked_changes(r.content)) == 2 and _comments(r.content) == []
        for bad in ({"include": "pending"}, {"changes": "redline"}):
            r = await http.get(f"/api/reviews/{rid}/export.docx", params=bad)
            assert r.status_code == 400 and r.json()["error"]["code"] in ("invalid_include", "invalid_changes")
            assert "accepted_and_pending" in r.json()["error"]["message"] or "tracked" in r.json()["error"]["message"]
    await sock.close()


# ------------------------------------------------------------------ units of the export choice ---

SECTIONS = [Section(id="s1", title="Summary", index=0, text="The pump failed twice before the alarm sounded.")]


def _item(id: str, decision: str, replacement: str | None = None) -> Item:
    return Item(id=id, section_id="s1", source="claude", type="important", category="C", risk="low",
                description=f"About {id}.", quote="failed twice", replacement=replacement, decision=decision)


def test_select_items_and_note() -> None:
    items = [_item("a", "accepted"), _item("p", "pending"), _item("r", "rejected")]
    assert [i.id for i in select_items(items, "accepted")] == ["a"]
    assert [i.id for i in select_items(items, "accepted_and_pending")] == ["a", "p"]
    assert [i.id for i in select_items(items, "all")] == ["a", "p", "r"]
    with pytest.raises(ValueError):
        select_items(items, "pending")
    note = export_note("accepted", "both", chosen=3, total=12)
    assert note.startswith("Reviewed with Redline on ") and "accepted findings only (3 of 12 findings)" in note
    assert note.endswith("accepted rewrites as tracked changes.")


@pytest.mark.parametrize("decision", ["pending", "rejected"])
def test_only_accepted_items_become_tracked_changes(decision: str) -> None:
    data = export_docx(items=[_item("x", decision, "failed once")], sections=SECTIONS, title="T", note="N")
    assert tracked_changes(data) == []
    (comment,) = _comments(data)
    assert "Replace with: \u201cfailed once\u201d" in comment
    assert Document(BytesIO(data)).paragraphs[0].text == "N"
    data = export_docx(items=[_item("x", "accepted", "failed once")], sections=SECTIONS, title="T")
    assert [c["text"] for c in tracked_changes(data)] == ["failed twice", "failed once"]

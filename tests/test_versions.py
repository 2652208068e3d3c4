"""Rounds: the next version of a write-up, re-checked against every earlier finding.

The matching itself (redline.jobs.versions) is tested on plain data; the round trip
against a real `redline serve` (offline reviewer) over the contract's HTTP API and
websocket: POST /api/reviews/{id}/versions, review.version and item.updated to every
viewer, decisions kept, the audit record.
"""

from __future__ import annotations

import itertools

import httpx

from redline.jobs.versions import Old, match_sections, norm_title, resolve
from tests.client import Socket, upload

# ------------------------------------------------------------- matching ---

TIMELINE = ("14:02 the pump tripped on low suction pressure. 14:05 the operator acknowledged the alarm "
            "and started the standby pump. 14:20 the standby pump was running at full flow again.")
CAUSE = ("The suction strainer was blocked by debris from the tank cleaning the week before. The strainer "
         "had not been inspected after the cleaning because the work order was closed early.")
ACTIONS = ("Inspect every strainer after tank cleaning, owner maintenance lead, due 30 June. Add a "
           "differential pressure alarm on the suction strainer, owner instrument engineer, due 31 July.")
OLD = [Old("s1", "Summary", "The pump tripped and was restarted after eighteen minutes with no harm done."),
       Old("s2", "Timeline", TIMELINE), Old("s3", "Root cause", CAUSE), Old("s4", "Actions", ACTIONS)]


def _ids(start: int = 5):
    n = itertools.count(start)
    return lambda: f"s{next(n)}"


def test_unchanged_sections_keep_their_ids_and_a_new_one_is_added():
    m = match_sections(OLD, [(o.title, o.text) for o in OLD] + [("Lessons", "Clean strainers.")], _ids())
    assert [(s.id, s.change) for s in m.sections] == [
        ("s1", "unchanged"), ("s2", "unchanged"), ("s3", "unchanged"), ("s4", "unchanged"), ("s5", "added")]
    assert m.removed == [] and all(s.previous_text is None and not s.moved for s in m.sections)


def test_renamed_moved_edited_and_removed():
    new = [("2. Sequence of events", TIMELINE),  # renamed (numbered, new words) and moved first
           ("Summary", "The pump tripped and was restarted after fifteen minutes with no harm done."),  # edited
           ("Root cause", CAUSE)]  # Actions removed
    m = match_sections(OLD, new, _ids())
    by_title = {s.title: s for s in m.sections}
    seq = by_title["2. Sequence of events"]
    assert seq.id == "s2" and seq.change == "unchanged" and seq.previous_title == "Timeline"
    summary = by_title["Summary"]
    assert summary.id == "s1" and summary.change == "changed" and "eighteen" in summary.previous_text
    assert seq.moved or summary.moved  # one of them is out of its old order
    assert not by_title["Root cause"].moved
    assert m.removed == ["s4"] and m.targets["s4"] == []


def test_split_and_merged_sections():
    first, second = CAUSE.split(". ", 1)
    split = match_sections(OLD, [(o.title, o.text) for o in OLD[:2]] + [
        ("Root cause", first + "."), ("Contributing factors", second + " Nobody checked it."),
        (OLD[3].title, OLD[3].text)], _ids())
    parts = [s for s in split.sections if s.previous_ids == ["s3"]]
    assert [p.title for p in parts] == ["Root cause", "Contributing factors"]
    assert parts[0].id == "s3" and parts[1].id == "s5" and all(p.change == "changed" for p in parts)
    assert split.targets["s3"] == ["s3", "s5"] and split.removed == []

    merged = match_sections(OLD, [(o.title, o.text) for o in OLD[:2]] + [
        ("Root cause and actions", CAUSE + "\n\n" + ACTIONS)], _ids())
    last = merged.sections[-1]
    assert last.previous_ids == ["s3", "s4"] and last.change == "changed"
    assert merged.targets["s3"] == [last.id] and merged.targets["s4"] == [last.id] and merged.removed == []


def test_numbering_and_case_do_not_make_a_new_title():
    assert norm_title("2.1 Root Cause") == norm_title("root cause") == "root cause"
    assert norm_title("(3) Actions") == "actions"
    assert norm_title("2021 in review") == "in review"  # a number then a space is numbering


def test_resolution_of_each_kind_of_finding():
    new = [("Summary", "The pump tripped and was restarted after fifteen minutes with no harm done."),
           ("Timeline", TIMELINE), ("Root cause", CAUSE)]
    m = match_sections(OLD, new, _ids())
    texts = {s.id: s.text for s in m.sections}

    def settle(section_id: str, quote: str | None, **extra):
        return resolve({"id": "x", "section_id": section_id, "quote": quote, **extra}, m, texts, 2)

    assert settle("s1", "eighteen minutes")["resolution"] == "resolved"  # the quote is gone
    assert settle("s1", "eighteen minutes", replacement="fifteen minutes")["resolution"] == "resolved"
    assert settle("s2", "started the standby pump")["resolution"] == "open"
    assert settle("s2", "started   the standby\npump")["resolution"] == "open"  # whitespace only
    assert settle("s2", None)["resolution"] == "open"
    gone = settle("s4", "due 30 June")
    assert gone["resolution"] == "outdated" and gone["section_id"] == "s4" and gone["settled_in"] == 2
    moved = settle("s1", "blocked by debris")  # now found in another section: it follows its quote
    assert moved["resolution"] == "open" and moved["section_id"] == "s3"
    assert "settled_in" not in settle("s2", None)
    # settled in an earlier round: stays as it was
    assert settle("s1", "pump tripped", resolution="resolved", settled_in=1)["resolution"] == "resolved"
    related = settle("s2", None, related_section_id="s4", related_quote="due 30 June")
    assert related["related_section_id"] is None and related["related_quote"] is None


def test_matching_is_linear_on_repetitive_text():
    """Boilerplate repeated in every section is skipped (bounded work per 3-gram)."""
    block = "the same words again and again " * 200
    old = [Old(f"s{i}", f"Part {i}", block + f" unique {i}") for i in range(300)]
    m = match_sections(old, [(o.title, o.text) for o in old], _ids(1000))
    assert [s.id for s in m.sections] == [o.id for o in old]


# ------------------------------------------------------------ end to end ---

DOC_V1 = f"""# Pump trip report

## Summary

The pump tripped and was restarted after eighteen minutes with no harm done.

## Timeline

{TIMELINE}

## Root cause

{CAUSE}

## Actions

{ACTIONS}
"""

# v2 fixes two flagged passages ("eighteen minutes", "closed early"), deletes Actions, keeps the rest
DOC_V2 = (DOC_V1.replace("restarted after eighteen minutes", "restarted at 14:20, eighteen minutes after the trip,")
          .replace("the work order was closed early", "the work order was closed before the inspection")
          .split("## Actions")[0])


async def test_a_new_version_settles_every_finding_and_every_tab_sees_it(server):
    review = await upload(server, filename="pump-trip.md", data=DOC_V1.encode())
    rid, token = review["review_id"], review["token"]
    ann = await Socket(server, rid, token, "Ann").connect()
    bo = await Socket(server, rid, token, "Bo").connect()
    ids = {s["title"]: s["id"] for s in ann.welcome["review"]["sections"]}
    findings = {  # (section, quote) -> the reviewer's own finding
        "minutes": ("Summary", "restarted after eighteen minutes"),
        "closed": ("Root cause", "the work order was closed early"),
        "acked": ("Timeline", "14:05 the operator acknowledged the alarm"),
        "owner": ("Actions", "owner maintenance lead"),
        "summary": ("Summary", None),
    }
    made = {}
    async with httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        for key, (title, quote) in findings.items():
            r = await http.post(f"/api/reviews/{rid}/items", json={
                "section_id": ids[title], "description": f"Check {key}.", "quote": quote, "author": "Ann"})
            assert r.status_code == 201, r.text
            made[key] = r.json()["item"]
        r = await http.post(f"/api/reviews/{rid}/items/{made['acked']['id']}/decision",
                            json={"decision": "rejected", "by": "Bo", "reason": "The log agrees."})
        assert r.status_code == 200, r.text
        await bo.wait_for(lambda: any(e["kind"] == "item.decided" for e in bo.events))
        start = len(bo.events)

        bad = await http.post(f"/api/reviews/{rid}/versions", files={"document": ("v2.md", b"")})
        assert bad.status_code == 400 and bad.json()["error"]["code"]  # a broken upload loses nothing
        r = await http.post(f"/api/reviews/{rid}/versions", files={"document": ("pump-trip-v2.md", DOC_V2.encode())},
                            data={"by": "Ann"})
        assert r.status_code == 201, r.text
        out = r.json()
        assert (out["version"], out["resolved"], out["open"], out["outdated"]) == (2, 2, 2, 1)
        assert {s["title"]: s["change"] for s in out["sections"]} == {
            "Summary": "changed", "Timeline": "unchanged", "Root cause": "changed"}
        nobody = await httpx.AsyncClient(base_url=server).post(
            f"/api/reviews/{rid}/versions", files={"document": ("v3.md", DOC_V2.encode())})
        assert nobody.status_code == 401

        # the second tab saw the version arrive, then each settled finding
        await bo.wait_for(lambda: sum(e["kind"] == "item.updated" for e in bo.events[start:]) == 5)
        kinds = [e["kind"] for e in bo.events[start:]]
        assert kinds[0] == "review.version" and kinds[1:] == ["item.updated"] * 5
        version = bo.events[start]["data"]
        assert version["version"] == 2 and [s["title"] for s in version["sections"]] == ["Summary", "Timeline", "Root cause"]
        assert version["removed_sections"] == [{"id": ids["Actions"], "title": "Actions"}]
        settled = {e["data"]["item"]["id"]: e["data"]["item"]["resolution"] for e in bo.events[start + 1:]}
        want = {"minutes": "resolved", "closed": "resolved", "acked": "open", "owner": "outdated", "summary": "open"}
        assert settled == {made[k]["id"]: v for k, v in want.items()}

        snap = (await http.get(f"/api/reviews/{rid}")).json()
        assert snap["version"] == 2
        items = {i["id"]: i for i in snap["items"]}
        assert {k: items[made[k]["id"]]["resolution"] for k in want} == want
        # decisions are kept: the rejection with its reason, the reviewer's own findings accepted
        acked = items[made["acked"]["id"]]
        assert (acked["decision"], acked["decided_by"], acked["reason"]) == ("rejected", "Bo", "The log agrees.")
        assert items[made["minutes"]["id"]]["decision"] == "accepted"
        sections = {s["title"]: s for s in snap["sections"]}
        assert sections["Timeline"]["change"] == "unchanged" and "previous_text" not in sections["Timeline"]
        assert sections["Summary"]["previous_text"].startswith("The pump tripped and was restarted after eighteen")
        assert snap["removed_sections"][0]["title"] == "Actions" and "owner maintenance lead" in snap["removed_sections"][0]["text"]
        assert snap["round"]["resolved"] == 2 and snap["round"]["outdated"] == 1 and snap["round"]["open"] == 2
        assert snap["round"]["sections"] == {"unchanged": 1, "changed": 2, "added": 0, "removed": 1}
        assert [v["version"] for v in snap["versions"]] == [1, 2] and snap["versions"][1]["by"] == "Ann"
        # a tab that connects now gets the same in its snapshot
        cy = await Socket(server, rid, token, "Cy").connect()
        assert cy.welcome["review"]["round"] == snap["round"]

        # only the changed sections need analysis; the unchanged one needs none
        r = await http.post(f"/api/reviews/{rid}/analyze", json={"sections": [sections["Summary"]["id"]]})
        assert r.status_code == 202, r.text
        job = r.json()["jobs"][0]["job_id"]
        await bo.wait_for(lambda: bo.terminal(job))
        assert bo.terminal(job)[0]["kind"] == "job.completed"
        # analyzing it again keeps the earlier round's findings (the record the round is checked against)
        after = (await http.get(f"/api/reviews/{rid}")).json()
        assert {k: v for k, v in after["round"].items() if k != "new"} == {
            k: v for k, v in snap["round"].items() if k != "new"}
        assert {made[k]["id"] for k in want} <= {i["id"] for i in after["items"]}

        audit = (await http.get(f"/api/reviews/{rid}/audit")).json()
        entries = audit["entries"] if isinstance(audit, dict) else audit
        version_rows = [e for e in entries if e["kind"] == "review.version"]
        assert len(version_rows) == 1 and version_rows[0]["by"] == "Ann"
        assert "2 resolved, 2 open, 1 outdated" in version_rows[0]["detail"]
    for s in (ann, bo, cy):
        await s.close()


async def test_a_third_version_counts_only_its_own_round(server):
    review = await upload(server, filename="pump-trip.md", data=DOC_V1.encode())
    rid, token = review["review_id"], review["token"]
    async with httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        snap = (await http.get(f"/api/reviews/{rid}")).json()
        sid = next(s["id"] for s in snap["sections"] if s["title"] == "Summary")
        r = await http.post(f"/api/reviews/{rid}/items", json={
            "section_id": sid, "description": "Say when.", "quote": "restarted after eighteen minutes"})
        assert r.status_code == 201
        for n, doc in ((2, DOC_V2), (3, DOC_V2.replace("no harm done", "nobody hurt"))):
            r = await http.post(f"/api/reviews/{rid}/versions", files={"document": (f"v{n}.md", doc.encode())})
            assert r.status_code == 201, r.text
        out = r.json()
        assert out["version"] == 3 and out["resolved"] == 0 and out["outdated"] == 0  # settled in round 2
        snap = (await http.get(f"/api/reviews/{rid}")).json()
        assert snap["round"]["resolved"] == 0 and [v["version"] for v in snap["versions"]] == [1, 2, 3]
        assert snap["items"][0]["resolution"] == "resolved" and snap["items"][0]["settled_in"] == 2
        assert [r["title"] for r in snap["removed_sections"]] == ["Actions"]  # removed once, listed once


async def test_the_export_after_a_new_version_comments_only_what_is_still_open(server):
    from io import BytesIO

    from docx import Document

    review = await upload(server, filename="pump-trip.md", data=DOC_V1.encode())
    rid, token = review["review_id"], review["token"]
    async with httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        snap = (await http.get(f"/api/reviews/{rid}")).json()
        ids = {s["title"]: s["id"] for s in snap["sections"]}
        for title, quote, text in (("Summary", "restarted after eighteen minutes", "Fixed later."),
                                   ("Timeline", "14:05 the operator acknowledged the alarm", "Still here."),
                                   ("Actions", "owner maintenance lead", "Section goes.")):
            r = await http.post(f"/api/reviews/{rid}/items", json={"section_id": ids[title], "description": text,
                                                                  "quote": quote})
            assert r.status_code == 201
        r = await http.post(f"/api/reviews/{rid}/versions", files={"document": ("v2.md", DOC_V2.encode())})
        assert r.status_code == 201
        r = await http.get(f"/api/reviews/{rid}/export.docx", params={"include": "all"})
        assert r.status_code == 200
    doc = Document(BytesIO(r.content))
    comments = [" ".join(p.text for p in c.paragraphs) for c in doc.comments]
    assert any("Still here." in c for c in comments)
    assert not any("Fixed later." in c or "Section goes." in c for c in comments)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "eighteen minutes after the trip" in text and "owner maintenance lead" not in text  # the new version

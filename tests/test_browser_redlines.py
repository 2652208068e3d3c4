"""Rewrites and reasons in the review page, in a real Chromium, with Claude (the local fake).

A finding with a `replacement` shows it as an inline word diff of its quote (deletions struck
through, insertions marked, all text); the reviewer edits the rewrite before accepting (Accept
sends it with the decision, every tab and a reload see it), adds one to a finding that has a
quote, and is asked for an optional reason on Reject (Enter keeps it, Skip leaves none). The
export control offers the three include choices and the changes mode, remembered, and the
download asks for them. Screenshots go to /tmp, not into the repository.
"""

from __future__ import annotations

import json
import re
from io import BytesIO
from types import SimpleNamespace

import httpx
import pytest
from docx import Document

from tests import samples
from tests.browser_helpers import browser, new_page, open_review, snapshot, upload, wait_js  # noqa: F401 (browser: a fixture)
from tests.conftest import fresh_db, release_db, start_server
from tests.fake_anthropic import FakeAnthropic, Text, prompt_text

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")

VIEWPORT = {"width": 1280, "height": 800}
SHOTS = "/tmp"

SECTION_ID_RE = re.compile(r'This is section \d+ of \d+, id "([^"]+)"')
SUMMARY = ("The pump tripped at 14:20 and the alarm was acknowledged within two minutes. "
           "Nobody was injured and the line restarted the same evening.")
TIMELINE = "At 14:05 the pressure alarm sounded in the control room. The fire brigade was called at 14:24."
SECTIONS = [("Summary", SUMMARY), ("Timeline", TIMELINE)]
DOC = samples.markdown_from_sections("Pump trip on Press Line 3", SECTIONS)

Q_ACK = "the alarm was acknowledged within two minutes"
R_ACK = "the alarm was acknowledged after <b>fourteen</b> minutes"
Q_RESTART = "the line restarted the same evening"
R_RESTART = "the line restarted the next morning"
Q_BRIGADE = "The fire brigade was called at 14:24."


def finding(**kw) -> dict:
    base = {"type": "important", "category": "Consistency", "risk": "high", "description": "", "suggestion": "",
            "quote": None, "questions": [], "refs": [], "confidence": 0.9,
            "related_section_id": None, "related_quote": None, "replacement": None}
    return {**base, **kw}


FINDINGS = [
    finding(description="The summary understates the delay.", quote=Q_ACK, replacement=R_ACK),
    finding(type="suggestion", risk="low", category="Clarity", description="The restart time is wrong.",
            quote=Q_RESTART, replacement=R_RESTART),
    finding(type="suggestion", risk="low", category="Clarity", description="Say who called the brigade.",
            quote=Q_BRIGADE),
    finding(type="suggestion", risk="medium", category="Scope", description="Say what was damaged."),
]


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    """`redline serve` (with its worker) reviewing with Claude, i.e. with the fake."""
    redis_url = fresh_db(redis_server)
    with FakeAnthropic() as fake:
        proc, url = start_server(redis_url, tmp_path_factory.mktemp("redlines-browser"),
                                 ANTHROPIC_API_KEY="test", ANTHROPIC_BASE_URL=fake.url,
                                 REDLINE_MODEL_TIMEOUT_S="5", REDLINE_MODEL_RETRY_BASE_S="0.1")
        yield SimpleNamespace(fake=fake, url=url)
        proc.stop()
    release_db(redis_url)


def responder(summary_id: str):
    """The fake model's answers: three findings on the summary, one on the other section, no chat."""
    def answer(body: dict):
        if not ((body.get("output_config") or {}).get("format")):
            return Text("No chat in this test.")
        m = SECTION_ID_RE.search(prompt_text(body, system=False))
        if m and m.group(1) == summary_id:
            return Text(json.dumps({"findings": FINDINGS[:2] + FINDINGS[3:]}), chunk_size=60)
        return Text(json.dumps({"findings": FINDINGS[2:3]}), chunk_size=60)
    return answer


def item_by_quote(page, quote: str) -> dict:
    return page.evaluate("(q) => window.redline.state.items.find((i) => i.quote === q)", quote)


def test_rewrites_diff_edit_accept_and_reject_reason(stack, browser):
    review = upload(stack.url, filename="pump-trip.md", data=DOC.encode(), title="Pump trip")
    snap = snapshot(stack.url, review)
    summary, timeline = snap["sections"]

    stack.fake.default = responder(summary["id"])
    ines = new_page(browser, "Ines", VIEWPORT, accept_downloads=True)
    bo = new_page(browser, "Bo", VIEWPORT, accept_downloads=True)
    open_review(ines, stack.url, review)
    open_review(bo, stack.url, review)
    h = {"Authorization": f"Bearer {review['token']}"}
    r = httpx.post(f"{stack.url}/api/reviews/{review['review_id']}/analyze", json={}, headers=h, timeout=10)
    assert r.status_code == 202, r.text
    wait_js(ines, "() => window.redline.state.items.length === 4 && window.redline.state.sections"
                  ".every((s) => s.status === 'done')", timeout=30)

    ack, restart, brigade = (item_by_quote(ines, q) for q in (Q_ACK, Q_RESTART, Q_BRIGADE))
    assert ack["replacement"] == R_ACK and brigade["replacement"] is None

    # 1. The inline diff: the changed words struck through and marked; the "<b>" is text.
    card = ines.locator(f'.card[data-item-id="{ack["id"]}"]')
    diff = card.locator(".rewrite-diff")
    assert diff.is_visible()
    assert diff.locator("del").all_text_contents() == ["within two"]
    assert diff.locator("ins").all_text_contents() == ["after <b>fourteen</b>"]
    assert diff.text_content() == "the alarm was acknowledged within twoafter <b>fourteen</b> minutes"
    assert card.locator(".rewrite-diff b").count() == 0
    assert ines.locator(f'.card[data-item-id="{brigade["id"]}"] .rewrite-diff').count() == 0
    no_quote = next(i for i in ines.evaluate("() => window.redline.state.items") if not i["quote"])
    card_nq = ines.locator(f'.card[data-item-id="{no_quote["id"]}"]')
    card_nq.click()
    assert card_nq.locator(".edit-rewrite").count() == 0  # nothing to rewrite without a quote

    # 2. Edit the rewrite before accepting: Accept sends it with the decision.
    card.click()
    card.locator(".edit-rewrite").click()
    area = card.locator("textarea.rewrite-text")
    assert area.is_visible() and area.input_value() == R_ACK
    assert ines.evaluate("() => document.activeElement.dataset.action") == "rewrite-text"
    area.fill("the alarm was acknowledged after fourteen minutes")
    assert card.locator(".rewrite-preview ins").all_text_contents() == ["after fourteen"]
    ines.screenshot(path=f"{SHOTS}/redline-rewrite-edit.png")
    card.locator('[data-action="accept"]').click()
    wait_js(ines, """(id) => { const i = window.redline.state.items.find((x) => x.id === id);
        return i.decision === 'accepted' && i.replacement === 'the alarm was acknowledged after fourteen minutes'
          && i.decided_by === 'Ines' && !!i.decided_at; }""", ack["id"], timeout=10)
    assert card.locator("textarea").count() == 0
    assert card.locator(".rewrite-diff ins").all_text_contents() == ["after fourteen"]
    # the other tab sees the new rewrite and the decision
    wait_js(bo, """(id) => { const i = window.redline.state.items.find((x) => x.id === id);
        return i.decision === 'accepted' && i.replacement === 'the alarm was acknowledged after fourteen minutes'; }""",
            ack["id"], timeout=10)
    assert bo.locator(f'.card[data-item-id="{ack["id"]}"] .rewrite-diff ins').all_text_contents() == ["after fourteen"]

    # 3. Add a rewrite to a finding that had none (it has a quote), with the editor's own button.
    cb = ines.locator(f'.card[data-item-id="{brigade["id"]}"]')
    cb.click()
    edit = cb.locator(".edit-rewrite")
    assert edit.inner_text().strip() == "Add rewrite"
    edit.click()
    assert cb.locator("textarea.rewrite-text").input_value() == Q_BRIGADE
    cb.locator("textarea.rewrite-text").fill("The shift lead called the fire brigade at 14:24.")
    cb.locator('[data-action="accept-rewrite"]').click()
    wait_js(ines, """(id) => { const i = window.redline.state.items.find((x) => x.id === id);
        return i.decision === 'accepted' && i.replacement === 'The shift lead called the fire brigade at 14:24.'; }""",
            brigade["id"], timeout=10)

    # 4. Reject asks for a reason: typed and Enter keeps it ...
    cr = ines.locator(f'.card[data-item-id="{restart["id"]}"]')
    cr.click()
    cr.locator('[data-action="reject"]').click()
    reason = cr.locator("input.reason-text")
    assert reason.is_visible()
    assert ines.evaluate("() => document.activeElement.dataset.action") == "reason-text"
    assert ines.evaluate("(id) => window.redline.state.items.find((x) => x.id === id).decision", restart["id"]) == "pending"
    ines.screenshot(path=f"{SHOTS}/redline-reject-reason.png")
    reason.type("The restart time is right in the shift log.")
    reason.press("Enter")
    wait_js(ines, """(id) => { const i = window.redline.state.items.find((x) => x.id === id);
        return i.decision === 'rejected' && i.reason === 'The restart time is right in the shift log.'; }""",
            restart["id"], timeout=10)
    assert cr.locator("input.reason-text").count() == 0
    wait_js(bo, """(id) => window.redline.state.items.find((x) => x.id === id).reason
        === 'The restart time is right in the shift log.'""", restart["id"], timeout=10)
    # ... and Skip rejects without one.
    card_nq.click()
    card_nq.locator('[data-action="reject"]').click()
    card_nq.locator('[data-action="skip-reason"]').click()
    wait_js(ines, """(id) => { const i = window.redline.state.items.find((x) => x.id === id);
        return i.decision === 'rejected' && i.reason === null; }""", no_quote["id"], timeout=10)

    # 5. A reload shows the same.
    snap = snapshot(stack.url, review)
    ines.reload()
    ines.wait_for_selector("body[data-ready=true]", timeout=15000)
    fields = ("decision", "replacement", "reason", "decided_by", "decided_at")
    page_items = {i["id"]: {f: i.get(f) for f in fields} for i in ines.evaluate("() => window.redline.state.items")}
    assert page_items == {i["id"]: {f: i.get(f) for f in fields} for i in snap["items"]}
    assert page_items[restart["id"]]["decided_by"] == "Ines"

    # 6. The export control: three include choices and the changes mode, remembered; the
    # download asks for them (and the file says which).
    assert ines.locator("#docx-include-all").count() == 0
    assert ines.locator("#docx-options-toggle").inner_text().strip() == "Accepted"
    ines.click("#docx-options-toggle")
    assert ines.locator("#docx-include").is_visible()
    assert ines.locator("#docx-include").input_value() == "accepted"
    assert ines.locator("#docx-changes").input_value() == "both"
    assert ines.locator("#docx-include option").evaluate_all("(os) => os.map((o) => o.value)") == \
        ["accepted", "accepted_and_pending", "all"]
    ines.select_option("#docx-include", "all")
    ines.select_option("#docx-changes", "tracked")
    ines.reload()
    ines.wait_for_selector("body[data-ready=true]", timeout=15000)
    assert ines.locator("#docx-include").input_value() == "all"
    assert ines.locator("#docx-changes").input_value() == "tracked"
    assert ines.locator("#docx-options-toggle").inner_text().strip() == "All"
    ines.screenshot(path=f"{SHOTS}/redline-export-choice.png")
    with ines.expect_request(lambda req: "/export.docx" in req.url) as req_info, ines.expect_download() as dl:
        ines.click("#download-docx")
    assert "include=all" in req_info.value.url and "changes=tracked" in req_info.value.url
    data = open(dl.value.path(), "rb").read()
    first = Document(BytesIO(data)).paragraphs[0].text
    assert "all findings" in first and "(4 of 4 findings)" in first and "without comments" in first

    # 7. The history in the stats dialog: the review's audit trail, newest first, with reasons.
    ines.click("#open-stats")
    ines.wait_for_selector("#history-list li", timeout=10000)
    lines = ines.locator("#history-list li .history-text").all_text_contents()
    assert lines[0].startswith("Ines exported the .docx (include=all changes=tracked")
    assert any(t.startswith("Ines rejected “The restart time is wrong.”")
               and t.endswith("The restart time is right in the shift log.") for t in lines), lines
    assert any(t.startswith("Ines accepted “The summary understates the delay.”") for t in lines), lines
    assert lines[-1].startswith("Review created")
    ines.screenshot(path=f"{SHOTS}/redline-history.png")

    assert ines.errors == [] and bo.errors == []
    ines.context.close()
    bo.context.close()


def test_r_asks_for_a_reason_the_export_attaches_the_record_and_the_history_filters(stack, browser):
    """`r` opens the card's reason prompt (Esc cancels, Enter keeps, Skip leaves none); the export
    options' "Attach the review record" asks for ?audit=1 and the .docx ends with the record's table;
    the stats dialog's History filters by kind of change and by person, with counts, text as text."""
    from redline.jobs.export_audit import COLUMNS

    review = upload(stack.url, filename="pump-trip.md", data=DOC.encode(), title="Pump trip record")
    snap = snapshot(stack.url, review)
    summary = snap["sections"][0]

    stack.fake.default = responder(summary["id"])
    ines = new_page(browser, "Ines", VIEWPORT, accept_downloads=True)
    open_review(ines, stack.url, review)
    h = {"Authorization": f"Bearer {review['token']}"}
    rid = review["review_id"]
    r = httpx.post(f"{stack.url}/api/reviews/{rid}/analyze", json={}, headers=h, timeout=10)
    assert r.status_code == 202, r.text
    wait_js(ines, "() => window.redline.state.items.length === 4 && window.redline.state.sections"
                  ".every((s) => s.status === 'done')", timeout=30)
    ack, restart = item_by_quote(ines, Q_ACK), item_by_quote(ines, Q_RESTART)
    no_quote = next(i for i in ines.evaluate("() => window.redline.state.items") if not i["quote"])
    decision_of = "(id) => window.redline.state.items.find((x) => x.id === id).decision"

    # 1. `r` on the selected card opens its reason prompt (nothing decided yet); Esc cancels.
    cr = ines.locator(f'.card[data-item-id="{restart["id"]}"]')
    cr.click()
    wait_js(ines, "(id) => window.redline.ui.selectedId === id", restart["id"])
    ines.keyboard.press("r")
    wait_js(ines, "() => document.activeElement && document.activeElement.dataset.action === 'reason-text'")
    assert cr.locator("input.reason-text").is_visible() and cr.locator("input.reason-text").input_value() == ""
    assert ines.evaluate(decision_of, restart["id"]) == "pending"
    ines.keyboard.press("Escape")
    wait_js(ines, "(id) => !document.querySelector(`.card[data-item-id=\"${id}\"] input.reason-text`)", restart["id"])
    assert ines.evaluate(decision_of, restart["id"]) == "pending"
    # ... `r` again, a reason typed (markup in it stays text) and Enter keeps it
    reason = "Not what the <b>shift log</b> says."
    ines.keyboard.press("r")
    wait_js(ines, "() => document.activeElement && document.activeElement.dataset.action === 'reason-text'")
    ines.screenshot(path=f"{SHOTS}/redline-reject-shortcut.png")
    ines.keyboard.type(reason)
    ines.keyboard.press("Enter")
    wait_js(ines, """([id, why]) => { const i = window.redline.state.items.find((x) => x.id === id);
        return i.decision === 'rejected' && i.reason === why && i.decided_by === 'Ines'; }""", [restart["id"], reason])
    assert cr.locator("input.reason-text").count() == 0
    # ... and on another card, `r` then Skip rejects without one.
    cn = ines.locator(f'.card[data-item-id="{no_quote["id"]}"]')
    cn.click()
    wait_js(ines, "(id) => window.redline.ui.selectedId === id", no_quote["id"])
    ines.keyboard.press("r")
    cn.locator('[data-action="skip-reason"]').click()
    wait_js(ines, """(id) => { const i = window.redline.state.items.find((x) => x.id === id);
        return i.decision === 'rejected' && i.reason === null; }""", no_quote["id"])
    # Bo accepts one from elsewhere (HTTP), with a reason.
    r = httpx.post(f"{stack.url}/api/reviews/{rid}/items/{ack['id']}/decision", headers=h, timeout=10,
                   json={"decision": "accepted", "by": "Bo", "reason": "Agreed with the author."})
    assert r.status_code == 200, r.text
    wait_js(ines, "(id) => window.redline.state.items.find((x) => x.id === id).decision === 'accepted'", ack["id"])

    # 2. The export options: "Attach the review record", off by default, remembered, sent as ?audit=1.
    ines.click("#docx-options-toggle")
    box = ines.locator("#docx-audit")
    assert box.is_visible() and not box.is_checked()
    assert ines.locator("label.docx-options-check").inner_text().strip() == "Attach the review record"
    box.check()
    ines.screenshot(path=f"{SHOTS}/redline-export-record.png")
    ines.reload()
    ines.wait_for_selector("body[data-ready=true]", timeout=15000)
    assert ines.locator("#docx-audit").is_checked()
    assert ines.locator("#docx-options-toggle").inner_text().strip() == "Accepted + record"
    with ines.expect_request(lambda req: "/export.docx" in req.url) as req_info, ines.expect_download() as dl:
        ines.click("#download-docx")
    assert "audit=1" in req_info.value.url and "by=Ines" in req_info.value.url
    doc = Document(BytesIO(open(dl.value.path(), "rb").read()))
    table = next(t for t in doc.tables if tuple(c.text for c in t.rows[0].cells) == COLUMNS)
    rows = [dict(zip(COLUMNS, (c.text for c in row.cells))) for row in table.rows[1:]]
    assert [(r["Who"], r["Finding"], r["Decision"], r["Reason"]) for r in rows if r["What"] == "Decided"] == [
        ("Ines", "The restart time is wrong.", "Rejected", reason),
        ("Ines", "Say what was damaged.", "Rejected", ""),
        ("Bo", "The summary understates the delay.", "Accepted", "Agreed with the author.")]

    # 3. The History: filter chips by kind of change, with counts; a person picker.
    ines.click("#open-stats")
    ines.wait_for_selector("#history-list li", timeout=10000)
    all_n = ines.locator("#history-list li").count()
    chip = lambda group: ines.locator(f'#history .hchip[data-group="{group}"]')  # noqa: E731
    assert chip("decisions").locator(".fchip-n").inner_text() == "3"
    assert chip("exports").locator(".fchip-n").inner_text() == "1"
    assert chip("findings").locator(".fchip-n").inner_text() == "4"
    assert chip("chat").is_disabled() and chip("chat").locator(".fchip-n").inner_text() == "0"
    chip("decisions").click()
    wait_js(ines, "() => [...document.querySelectorAll('#history-list li')].every((li) => li.dataset.group === "
                  "'decisions') && document.querySelectorAll('#history-list li').length === 3")
    assert chip("decisions").get_attribute("aria-pressed") == "true"
    assert ines.evaluate("() => document.activeElement.dataset.group") == "decisions", "focus stays on the chip"
    lines = ines.locator("#history-list li .history-text").all_text_contents()
    assert lines[0] == "Bo accepted “The summary understates the delay.” — Agreed with the author."
    assert lines[2] == f"Ines rejected “The restart time is wrong.” — {reason}"
    assert ines.locator("#history-list b").count() == 0, "a reason is text, never markup"
    people = ines.locator("#history-person option").all_text_contents()
    assert people[:3] == ["Everyone (3)", "Ines (2)", "Bo (1)"]
    ines.select_option("#history-person", "=Bo")
    wait_js(ines, "() => document.querySelectorAll('#history-list li').length === 1")
    assert ines.locator("#history-list li").get_attribute("data-by") == "Bo"
    assert chip("decisions").locator(".fchip-n").inner_text() == "1" and chip("exports").is_disabled()
    assert "(1 of " in ines.locator("#history-count").text_content()
    ines.screenshot(path=f"{SHOTS}/redline-history-filter.png")
    # Ines's export only: no match for decisions + exports by Bo... clear the kinds, pick Ines
    chip("decisions").click()
    ines.select_option("#history-person", "=Ines")
    wait_js(ines, "() => [...document.querySelectorAll('#history-list li')].every((li) => li.dataset.by === 'Ines')")
    assert sorted({li for li in ines.locator("#history-list li").evaluate_all("(ls) => ls.map((l) => l.dataset.group)")}) \
        == ["decisions", "exports"]
    ines.select_option("#history-person", "*")
    wait_js(ines, "(n) => document.querySelectorAll('#history-list li').length === n", all_n)

    assert ines.errors == []
    ines.context.close()

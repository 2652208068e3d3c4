"""The reviewer's page in a real Chromium (Debian's), driven by Playwright's sync API.

What a reviewer does all day: upload, analyze, watch findings stream in, decide, add
their own comments, chat; with a colleague in another browser; through a server restart.
The page keeps its CSP (no 'unsafe-eval'): waits use function forms, never strings.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest
import redis as redis_sync

from redline.jobs.redis_server import EmbeddedRedis, free_port
from tests import samples
from tests.browser_helpers import (
    browser, counts, decisions, select_text, set_name, snapshot,  # noqa: F401 (browser: a fixture)
    new_page, open_review, screenshot_dir, snapshot_counts, upload, wait_js, wait_until,
)
from tests.conftest import start_server, start_worker

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")

VIEWPORT = {"width": 1280, "height": 720}

EVIL_MD = """# Evil <b>report</b> <img src=x onerror=alert(1)>

## Summary <script>alert(1)</script>

The pump failed. <img src=x onerror=alert(1)> It appears that the valve was opened by someone.
<script>alert(1)</script> Possibly the alarm was acknowledged.

## Actions

- Improve operator training.
- **bold** and `code` <a href="javascript:alert(1)">link</a> <iframe src="javascript:alert(1)"></iframe>
"""


# ------------------------------------------------------------------ fixtures ---

class Tab:
    """A browser context + page that records console errors, page errors and dialogs."""

    def __init__(self, browser, name: str, **ctx) -> None:
        self.context = browser.new_context(viewport=VIEWPORT, accept_downloads=True, **ctx)
        set_name(self.context, name)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))

        def on_dialog(d):
            self.dialogs.append(f"{d.type}: {d.message}")
            d.dismiss()

        self.page.on("dialog", on_dialog)

    def open(self, base: str, review: dict, query: str = "") -> "Tab":
        url = review["url"]
        path, frag = url.split("#", 1)
        self.page.goto(f"{base}{path}{query}#{frag}")
        self.page.wait_for_selector("body[data-ready=true]", timeout=15000)
        return self

    def close(self) -> None:
        self.context.close()

    def real_errors(self) -> list[str]:
        # A websocket refused while a test stops the server is expected, not a page bug.
        return [e for e in self.errors if "WebSocket" not in e and "ERR_CONNECTION_REFUSED" not in e]


@pytest.fixture
def tabs(browser):
    opened: list[Tab] = []

    def make(name: str = "Alice", **ctx) -> Tab:
        t = Tab(browser, name, **ctx)
        opened.append(t)
        return t

    yield make
    for t in opened:
        t.close()


@pytest.fixture(scope="module")
def slow_stack(tmp_path_factory):
    """A private Redis and a server whose offline reviewer is slow (400 ms a step)."""
    tmp = tmp_path_factory.mktemp("slow")
    r = EmbeddedRedis(tmp / "redis").start()
    proc, base = start_server(r.url, tmp, REDLINE_OFFLINE_PACE_MS="400")
    yield base
    proc.stop()
    r.stop()


def analyze_all_and_wait(page, timeout: float = 60) -> None:
    page.click("#analyze-all")
    wait_js(page, "() => window.redline.state.sections.length && window.redline.state.sections.every("
                  "s => ['done', 'failed', 'cancelled'].includes(s.status))", timeout=timeout)


def card(page, item_id: str, decision: str | None = None) -> str:
    sel = f'.card[data-item-id="{item_id}"]'
    return sel + (f'[data-decision="{decision}"]' if decision else "")


# --------------------------------------------------------------------- tests ---

def test_upload_analyze_decide_and_collaborate(server, tabs):
    alice = tabs("Alice")
    page = alice.page
    page.goto(server + "/")
    page.set_input_files("#document", files=[{"name": "report.docx", "buffer": samples.sample_docx(),
                                              "mimeType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}])
    page.fill("#title", "Press Line 3 fire")
    page.uncheck("#analyze-on-upload")  # this test starts the analysis itself (test_browser_layout: on upload)
    page.click("#upload-submit")
    page.wait_for_url(re.compile(r"/r/[0-9a-f]+"), timeout=15000)
    page.wait_for_selector("body[data-ready=true]")
    # The token left the address bar for sessionStorage; reloads still work.
    assert "token=" not in page.url
    rid = page.evaluate("() => window.redline.state.reviewId")
    token = page.evaluate("(rid) => sessionStorage.getItem('redline.token.' + rid)", rid)
    assert token
    review = {"review_id": rid, "token": token, "url": f"/r/{rid}#token={token}"}
    assert page.inner_text("#review-title") == "Press Line 3 fire"
    assert page.locator(".section-row").count() == 8

    # Items appear while the analysis streams: the list grows in several steps.
    page.evaluate("""() => {
        window.__cardCounts = [];
        const list = document.getElementById('findings-list');
        new MutationObserver(() => window.__cardCounts.push(list.querySelectorAll('.card').length))
            .observe(list, {childList: true});
    }""")
    analyze_all_and_wait(page)
    steps = page.evaluate("() => window.__cardCounts")
    assert len(set(steps)) >= 3, steps
    snap = snapshot(server, review)
    assert page.locator(".card").count() == len(snap["items"]) > 5
    assert counts(page) == snapshot_counts(snap)
    assert page.locator("mark.q").count() > 0  # quotes highlighted in the document

    # A colleague opens the same link.
    bob = tabs("Bob").open(server, review)
    wait_js(page, "() => document.querySelector('#presence .avatar[data-name=\"Bob\"]')")
    wait_js(bob.page, "() => document.querySelector('#presence .avatar[data-name=\"Alice\"]')")

    items = [i["id"] for i in snap["items"]]
    accept, reject = items[:3], items[3:5]
    for item_id in accept:
        page.click(card(page, item_id) + " .decide-accept")
        bob.page.wait_for_selector(card(page, item_id, "accepted"), timeout=1000)
    for n, item_id in enumerate(reject):
        page.click(card(page, item_id) + " .decide-reject")
        # Reject asks for an optional reason first: Enter on an empty one, or Skip, rejects without.
        if n == 0:
            page.press(card(page, item_id) + " input.reason-text", "Enter")
        else:
            page.click(card(page, item_id) + ' [data-action="skip-reason"]')
        bob.page.wait_for_selector(card(page, item_id, "rejected"), timeout=1000)
    # Revert from the other tab; Alice sees it.
    bob.page.click(card(page, accept[0]) + " .decide-revert")
    page.wait_for_selector(card(page, accept[0], "pending"), timeout=1000)

    # Keyboard: j selects the first card, then a accepts it.
    page.click("#document-pane .doc-head")
    page.keyboard.press("j")
    first = page.evaluate("() => window.redline.ui.selectedId")
    assert first == page.get_attribute(".findings-list .card >> nth=0", "data-item-id")
    page.keyboard.press("a")
    bob.page.wait_for_selector(card(page, first, "accepted"), timeout=1000)

    # Bulk: reject every low-risk finding through the filter.
    page.click('.fchip[data-facet="risk"][data-value="low"]')
    low = [i["id"] for i in snap["items"] if i["risk"] == "low"]
    wait_js(page, "(n) => document.querySelectorAll('.findings-list .card').length === n", len(low), timeout=2)
    page.click("#reject-all")
    for item_id in low:
        bob.page.wait_for_selector(card(page, item_id, "rejected"), timeout=3000)
    page.click("#clear-filters")

    # A reviewer's own comment on a selected quote.
    section = snap["sections"][4]
    quote = section["text"].split(".")[0].strip()
    select_text(page, section["id"], quote)
    page.wait_for_selector("#add-comment:not([hidden])")
    page.click("#add-comment")
    page.fill("#comment-description", "The root cause stops at <b>human error</b>; ask why the torque was wrong.")
    page.fill("#comment-suggestion", "Describe the *system* conditions that allowed it.")
    page.click('.risk-radio.risk-high')
    page.click("#comment-save")
    user_card = '.card[data-source="user"]'
    page.wait_for_selector(user_card, timeout=3000)
    bob.page.wait_for_selector(user_card, timeout=1000)
    mine = page.evaluate("() => window.redline.state.items.find(i => i.source === 'user')")
    assert mine["quote"] == quote and mine["decision"] == "accepted" and mine["risk"] == "high"
    assert mine["author"] == "Alice"
    assert "<b>human error</b>" in bob.page.inner_text(user_card)  # text, not markup

    # Both tabs and the server agree on everything.
    final = snapshot_counts(snapshot(server, review))
    wait_js(bob.page, "(n) => window.redline.state.items.length === n", final["items"])
    assert counts(page) == counts(bob.page) == final
    assert decisions(page) == decisions(bob.page)
    assert not alice.real_errors() and not bob.real_errors(), alice.errors + bob.errors


def test_chat_answer_grows_in_place(slow_stack, tabs):
    review = upload(slow_stack, filename="report.docx", data=samples.sample_docx())
    tab = tabs("Carol").open(slow_stack, review)
    page = tab.page
    page.click('.section-row[data-section-id="s5"] .section-open')
    page.evaluate("""() => {
        window.__answer = {el: null, texts: [], replaced: false};
        const log = document.getElementById('chat-log');
        new MutationObserver(() => {
            const el = log.querySelector('.msg-assistant');
            if (!el) return;
            const a = window.__answer;
            if (a.el && a.el !== el) a.replaced = true;
            a.el = el;
            const t = el.querySelector('.msg-text').textContent;
            if (el.dataset.state === 'streaming' && a.texts[a.texts.length - 1] !== t) a.texts.push(t);
        }).observe(log, {childList: true, subtree: true, characterData: true});
    }""")
    page.keyboard.press("c")
    assert page.evaluate("() => document.activeElement.id") == "chat-input"
    page.keyboard.type("What is the root cause?")
    page.keyboard.press("Enter")
    page.wait_for_selector('.msg-user:has-text("What is the root cause?")')
    page.wait_for_selector(".msg-assistant[data-state=done]", timeout=30000)
    seen = page.evaluate("() => ({n: window.__answer.texts.filter(t => t.replace('Thinking…', '')).length, "
                         "replaced: window.__answer.replaced, texts: window.__answer.texts})")
    assert seen["n"] >= 3, seen  # several renders while streaming
    assert not seen["replaced"]  # the same element grew
    texts = [t for t in seen["texts"] if t and "Thinking" not in t]
    assert all(b.startswith(a.rstrip()[:20]) for a, b in zip(texts, texts[1:]))
    final = page.evaluate("() => window.redline.state.chat.find(m => m.role === 'assistant')")
    assert final["text"] and not final["streaming"]
    shown = page.inner_text(".msg-assistant .msg-text")
    assert final["text"].split("\n")[0][:40] in shown
    # The question carried the current section as context.
    user = page.evaluate("() => window.redline.state.chat.find(m => m.role === 'user')")
    assert user["section_id"] == "s5" and user["author"] == "Carol"
    assert not tab.real_errors(), tab.errors


def test_cancel_running_analysis(slow_stack, tabs):
    review = upload(slow_stack, filename="report.docx", data=samples.sample_docx())
    tab = tabs("Dan").open(slow_stack, review)
    page = tab.page
    page.hover('.section-row[data-section-id="s1"]')  # the row's tools show on hover (and on focus)
    page.click('.section-row[data-section-id="s1"] .section-analyze')
    page.wait_for_selector('.section-row[data-section-id="s1"][data-status="running"]', timeout=15000)
    job_id = page.evaluate("() => window.redline.state.sections[0].job_id")
    page.click('.section-row[data-section-id="s1"] .section-cancel')
    page.wait_for_selector('.section-row[data-section-id="s1"][data-status="cancelled"]', timeout=5000)
    assert page.inner_text('#doc-s1 .status-chip') == "Cancelled"
    n_items = page.evaluate("(j) => window.redline.state.items.filter(i => i.job_id === j).length", job_id)
    log_len = page.evaluate("() => window.redline.eventLog.length")
    # The reviewer was on a 400 ms step: over 2 s a live job would have added items.
    time.sleep(2.0)
    assert page.evaluate("(j) => window.redline.state.items.filter(i => i.job_id === j).length", job_id) == n_items
    assert page.evaluate("() => window.redline.eventLog.length") == log_len
    snap = snapshot(slow_stack, review)
    assert len([i for i in snap["items"] if i.get("job_id") == job_id]) == n_items
    assert next(s for s in snap["sections"] if s["id"] == "s1")["status"] == "cancelled"

    # Several sections by checkbox, then cancel all.
    page.check('.section-row[data-section-id="s2"] .section-check')
    page.check('.section-row[data-section-id="s3"] .section-check')
    page.wait_for_selector('#analyze-selected:has-text("Analyze selected (2)")', timeout=2000)
    page.click("#analyze-selected")
    page.wait_for_selector('.section-row[data-section-id="s2"][data-status="running"], '
                           '.section-row[data-section-id="s3"][data-status="running"]', timeout=15000)
    page.wait_for_selector("#cancel-all:not([hidden])")
    page.click("#cancel-all")
    wait_js(page, "() => ['s2', 's3'].every(id => window.redline.state.sections.find(s => s.id === id).status"
                  " === 'cancelled')", timeout=10)
    page.wait_for_selector("#cancel-all[hidden]", state="attached")
    assert not tab.real_errors(), tab.errors


def test_reconnects_after_server_restart(tmp_path, tabs):
    """The web server restarts mid-review while a separate worker keeps publishing events:
    the page reconnects by itself and applies every missed event exactly once."""
    r = EmbeddedRedis(tmp_path / "redis").start()
    worker = start_worker(r.url, tmp_path, REDLINE_OFFLINE_PACE_MS="700")
    port = free_port()
    proc, base = start_server(r.url, tmp_path, worker=False, port=port)
    rc = redis_sync.Redis.from_url(r.url)
    try:
        review = upload(base, filename="report.docx", data=samples.sample_docx())
        tab = tabs("Erin").open(base, review)
        page = tab.page
        page.click("#analyze-all")
        wait_js(page, "() => window.redline.state.items.length >= 1", timeout=20)

        stream = f"rl:{{{review['review_id']}}}:events"
        assert rc.xlen(stream) > 0, rc.keys("*events*")
        proc.stop()
        wait_js(page, "() => window.redline.connection.state !== 'open'", timeout=10)
        page.wait_for_selector("#banner .banner-warn", timeout=5000)
        before = rc.xlen(stream)
        wait_until(lambda: rc.xlen(stream) >= before + 4, timeout=20, message="events while the server is down")

        proc, base2 = start_server(r.url, tmp_path, worker=False, port=port)
        assert base2 == base
        wait_js(page, "() => window.redline.connection.state === 'open' && window.redline.connection.stats.recovered >= 1",
                timeout=30)
        page.wait_for_selector("#banner .banner-ok", timeout=10000)
        assert "missed update" in page.inner_text("#banner")
        wait_js(page, "() => window.redline.state.sections.every(s => s.status === 'done')", timeout=60)
        # Quiet: the server's log has stopped growing and the page has all of it.
        wait_until(lambda: page.evaluate("() => window.redline.state.lastEventId")
                   == rc.get(f"rl:{{{review['review_id']}}}:last").decode(), timeout=10, message="caught up")

        all_ids = [eid.decode() for eid, _ in rc.xrange(stream)]
        log = page.evaluate("() => window.redline.eventLog")
        assert len(log) == len(set(log))  # none twice
        assert log == all_ids  # every event, in order (the first load had no events yet)
        assert page.evaluate("() => window.redline.snapshots.length") == 1  # replayed, not reloaded

        fresh = tabs("Frank").open(base, review)
        assert counts(fresh.page) == counts(page) == snapshot_counts(snapshot(base, review))
        assert page.locator(".card").count() == fresh.page.locator(".card").count()
    finally:
        rc.close()
        proc.stop()
        worker.stop()
        r.stop()


def test_untrusted_text_stays_text(server, tabs):
    review = upload(server, filename="evil.md", data=EVIL_MD.encode(), title="<img src=x onerror=alert(1)>")
    tab = tabs("<script>alert(1)</script>").open(server, review)
    page = tab.page
    analyze_all_and_wait(page)
    # A reviewer's comment and a question with markup in them, too.
    httpx.post(f"{server}/api/reviews/{review['review_id']}/items",
               headers={"Authorization": f"Bearer {review['token']}"},
               json={"section_id": "s1", "description": "<img src=x onerror=alert(2)> **really**",
                     "suggestion": "<script>alert(3)</script>", "quote": "The pump failed."}, timeout=10)
    page.wait_for_selector('.card[data-source="user"]')
    page.fill("#chat-input", "<img src=x onerror=alert(4)> what happened?")
    page.press("#chat-input", "Enter")
    page.wait_for_selector(".msg-assistant[data-state=done]", timeout=20000)

    assert "<img src=x onerror=alert(1)>" in page.inner_text("#review-title")
    doc = page.inner_text("#doc-body")
    assert "<img src=x onerror=alert(1)>" in doc and "<script>alert(1)</script>" in doc
    assert '<a href="javascript:alert(1)">link</a>' in doc
    assert "<img src=x onerror=alert(2)>" in page.inner_text('.card[data-source="user"]')
    assert page.locator('.card[data-source="user"] .card-desc strong').inner_text() == "really"
    assert "<img src=x onerror=alert(4)>" in page.inner_text(".msg-user")
    # Nothing of the input became an element.
    assert page.evaluate("() => document.querySelectorAll('img, iframe, #doc-body script, #findings-list script, "
                         "#chat-log script, a[href^=javascript]').length") == 0
    assert page.evaluate("() => [...document.scripts].every(s => s.src.startsWith(location.origin + '/static/'))")
    assert tab.dialogs == []
    assert not tab.real_errors(), tab.errors


def test_keyboard_help_and_typing(server, tabs):
    review = upload(server, filename="report.md", data=samples.sample_markdown().encode())
    tab = tabs("Gus").open(server, review)
    page = tab.page
    analyze_all_and_wait(page)
    page.click("#document-pane .doc-head")
    page.keyboard.press("j")
    page.keyboard.press("j")
    ids = page.evaluate("() => [...document.querySelectorAll('.findings-list .card')].map(c => c.dataset.itemId)")
    assert page.evaluate("() => window.redline.ui.selectedId") == ids[1]
    page.keyboard.press("k")
    assert page.evaluate("() => window.redline.ui.selectedId") == ids[0]
    page.keyboard.press("r")  # asks for a reason first, as the Reject button does; Enter with none rejects
    page.wait_for_selector(f'.card[data-item-id="{ids[0]}"] input.reason-text')
    assert page.evaluate("() => document.activeElement.dataset.action") == "reason-text"
    page.keyboard.press("Enter")
    page.wait_for_selector(card(page, ids[0], "rejected"))
    page.keyboard.press("u")
    page.wait_for_selector(card(page, ids[0], "pending"))
    page.keyboard.press("]")
    assert page.evaluate("() => window.redline.ui.currentSectionId") == "s2"
    page.keyboard.press("[")
    assert page.evaluate("() => window.redline.ui.currentSectionId") == "s1"
    page.keyboard.press("?")
    page.wait_for_selector("#help-dialog[open]")
    page.keyboard.press("Escape")
    page.wait_for_selector("#help-dialog:not([open])", state="attached")
    # Letters typed in the chat box are text, not shortcuts.
    page.click("#chat-input")
    page.keyboard.type("jjaa")
    assert page.input_value("#chat-input") == "jjaa"
    assert page.evaluate("() => window.redline.ui.selectedId") == ids[0]
    assert page.get_attribute(card(page, ids[0]), "data-decision") == "pending"
    assert not tab.real_errors(), tab.errors


def test_exports_and_docx(server, tabs, tmp_path):
    review = upload(server, filename="report.docx", data=samples.sample_docx())
    tab = tabs("Hana").open(server, review)
    page = tab.page
    analyze_all_and_wait(page)
    first = page.get_attribute(".findings-list .card >> nth=0", "data-item-id")
    page.click(card(page, first) + " .decide-accept")
    page.wait_for_selector(card(page, first, "accepted"))
    page.fill("#chat-input", "Which actions lack an owner?")
    page.press("#chat-input", "Enter")
    page.wait_for_selector(".msg-assistant[data-state=done]", timeout=20000)

    page.click("#open-stats")
    page.wait_for_selector("#stats-dialog[open] #stats")
    stats_text = page.inner_text("#stats")
    n = page.evaluate("() => window.redline.state.items.length")
    assert f"1 / {n}" in stats_text  # findings decided
    assert "8 / 8" in stats_text  # sections analyzed
    with page.expect_download() as d:
        page.click("#export-csv")
    csv = Path(d.value.path()).read_text(encoding="utf-8-sig")
    assert csv.splitlines()[0].startswith('"id","section_id","section_title"')
    assert len([line for line in csv.splitlines() if line.startswith('"')]) >= n + 1
    with page.expect_download() as d:
        page.click("#export-json")
    data = json.loads(Path(d.value.path()).read_text())
    assert len(data["items"]) == n and data["review_id"] == review["review_id"]
    with page.expect_download() as d:
        page.click("#export-chat")
    md = Path(d.value.path()).read_text()
    assert "Which actions lack an owner?" in md and "**Hana**" in md
    page.keyboard.press("Escape")

    with page.expect_download() as d:
        page.click("#download-docx")
    assert d.value.suggested_filename.endswith(".docx")
    assert Path(d.value.path()).read_bytes()[:2] == b"PK"
    assert not tab.real_errors(), tab.errors


def test_upload_errors_and_recent_reviews(server, tabs):
    tab = tabs("Uma")
    page = tab.page
    page.goto(server + "/")
    page.set_input_files("#document", files=[{"name": "broken.docx", "buffer": b"this is not a zip",
                                              "mimeType": "application/octet-stream"}])
    page.click("#upload-submit")
    page.wait_for_selector("#upload-error:not([hidden])", timeout=10000)
    assert "couldn't read" in page.inner_text("#upload-error")  # the server's own message
    assert page.url.rstrip("/") == server  # stayed on the page
    # A good upload is then remembered in "Recent reviews".
    page.set_input_files("#document", files=[{"name": "report.md", "buffer": samples.sample_markdown().encode(),
                                              "mimeType": "text/markdown"}])
    page.click("#upload-submit")
    page.wait_for_url(re.compile(r"/r/[0-9a-f]+"), timeout=15000)
    page.wait_for_selector("body[data-ready=true]")
    rid = page.evaluate("() => window.redline.state.reviewId")
    page.goto(server + "/")
    link = page.locator("#recent-list a").first
    assert link.inner_text() == samples.SAMPLE_TITLE
    link.click()
    page.wait_for_selector("body[data-ready=true]")
    assert page.evaluate("() => window.redline.state.reviewId") == rid
    # The refused upload is logged by the browser itself; nothing else.
    assert [e for e in tab.real_errors() if "status of 400" not in e] == [], tab.errors


def test_bad_token_stops(server, tabs):
    review = upload(server, filename="report.md", data=samples.sample_markdown().encode())
    tab = tabs("Ivy")
    page = tab.page
    page.goto(f"{server}/r/{review['review_id']}#token=not-the-token")
    page.wait_for_selector("#fatal:not([hidden])", timeout=10000)
    assert "token is not valid" in page.inner_text("#fatal")
    connects = page.evaluate("() => window.redline.connection.stats.connects")
    time.sleep(1.5)  # a reconnect loop would have tried again by now
    assert page.evaluate("() => window.redline.connection.stats.connects") == connects <= 2
    assert page.evaluate("() => window.redline.connection.state") == "closed"


def test_gap_and_duplicate_handling(server, tabs):
    """A frame whose `prev` is not the last applied id triggers a resync from the log; an
    event already applied is ignored; applyEvent is pure."""
    review = upload(server, filename="report.md", data=samples.sample_markdown().encode())
    tab = tabs("Jo").open(server, review)
    page = tab.page
    analyze_all_and_wait(page)
    out = page.evaluate("""async () => {
        const {applyEvent} = await import('/static/js/state.js');
        const r = window.redline;
        const s = r.state;
        const last = s.lastEventId;
        const dup = {type: 'event', id: last, prev: '', kind: 'item.removed', data: {item_id: s.items[0].id}};
        const same = applyEvent(s, dup) === s;
        const fake = {type: 'event', id: '1-0', prev: '', kind: 'item.removed', data: {item_id: s.items[0].id}};
        const old = applyEvent(s, fake) === s;
        const newer = {type: 'event', id: '99999999999999-0', prev: last, kind: 'item.removed', data: {item_id: s.items[0].id}};
        const next = applyEvent(s, newer);
        const pure = next !== s && s.items.length === next.items.length + 1 && r.state === s;
        r.connection.onEvent(dup);  // duplicate: ignored by the socket layer
        const before = {log: r.eventLog.length, connects: r.connection.stats.connects};
        r.connection.onEvent({type: 'event', id: '99999999999999-5', prev: '99999999999999-4',
                              kind: 'item.removed', data: {item_id: s.items[0].id}});  // a gap
        return {same, old, pure, before, dupes: r.connection.stats.duplicates};
    }""")
    assert out["same"] and out["old"] and out["pure"], out
    assert out["dupes"] >= 1
    wait_js(page, "(n) => window.redline.connection.stats.connects > n && window.redline.connection.state === 'open' "
                  "&& window.redline.connection.stats.recovered >= 1", out["before"]["connects"], timeout=10)
    assert page.evaluate("() => window.redline.connection.stats.gaps") == 1
    # The fake events changed nothing: the state still matches the server.
    assert counts(page) == snapshot_counts(snapshot(server, review))
    log = page.evaluate("() => window.redline.eventLog")
    assert len(log) == len(set(log)) == out["before"]["log"]


def test_edit_and_delete_own_comment(server, tabs):
    review = upload(server, filename="report.md", data=samples.sample_markdown().encode())
    tab = tabs("Kim").open(server, review)
    other = tabs("Lee").open(server, review)
    page = tab.page
    text = snapshot(server, review)["sections"][0]["text"]
    quote = text.split(".")[0].strip()
    select_text(page, "s1", quote)
    page.click("#add-comment")
    page.fill("#comment-description", "First wording.")
    page.click("#comment-save")
    page.wait_for_selector('.card[data-source="user"]')
    page.click('.card[data-source="user"] [data-action="edit"]')
    page.fill("#comment-description", "Second wording.")
    page.click("#comment-save")
    other.page.wait_for_selector('.card[data-source="user"]:has-text("Second wording.")', timeout=3000)
    page.click('.card[data-source="user"] [data-action="delete"]')
    page.click('dialog[open] .btn-danger-solid')
    other.page.wait_for_selector('.card[data-source="user"]', state="detached", timeout=3000)
    assert not [i for i in snapshot(server, review)["items"] if i["source"] == "user"]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screenshots(server, tabs, theme, tmp_path):
    """review-{light,dark}.png: a review in progress, at 1280x720. Into a temporary folder, so
    the suite leaves the checkout as it was; `python -m tests.screenshots` writes docs/screenshots."""
    review = upload(server, filename="report.docx", data=samples.sample_docx())
    tab = tabs("Maya")
    tab.open(server, review, query=f"?theme={theme}")
    page = tab.page
    analyze_all_and_wait(page)
    colleague = tabs("Noor").open(server, review)
    ids = page.evaluate("() => window.redline.state.items.map(i => i.id)")
    for item_id in ids[:3]:
        page.click(card(page, item_id) + " .decide-accept")
    page.click(card(page, ids[3]) + " .decide-reject")
    page.fill(card(page, ids[3]) + " input.reason-text", "Covered by the maintenance finding.")
    page.press(card(page, ids[3]) + " input.reason-text", "Enter")
    page.wait_for_selector(card(page, ids[3], "rejected"))
    page.fill("#chat-input", "Is the root cause supported by the evidence?")
    page.press("#chat-input", "Enter")
    page.wait_for_selector(".msg-assistant[data-state=done]", timeout=20000)
    wait_js(page, "() => document.querySelector('#presence .avatar[data-name=\"Noor\"]')")
    page.click(card(page, ids[2]) + " .card-desc")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.wait_for_timeout(400)
    page.evaluate("() => document.getElementById('findings-list').scrollTo(0, 0)")
    page.wait_for_selector('#queue-status:has-text("Queue idle")', timeout=15000)
    page.wait_for_timeout(700)  # smooth scrolling and the highlight's flash settle
    bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    rgb = [int(x) for x in re.findall(r"\d+", bg)[:3]]
    assert (sum(rgb) < 150) == (theme == "dark"), bg
    out = screenshot_dir(tmp_path)
    page.screenshot(path=str(out / f"review-{theme}.png"))
    assert (out / f"review-{theme}.png").stat().st_size > 10_000
    assert colleague.page.locator(".card").count() == len(ids)
    assert not tab.real_errors(), tab.errors


def test_analyzing_twice_leaves_the_distinct_pending_findings_unchanged(server, tabs):
    """Analyze all, then again: the second run replaces its own pending findings (the page sees
    item.removed, then item.added), so no card is there twice and a decided one stays."""
    review = upload(server, filename="report.docx", data=samples.sample_docx())
    tab = tabs("Maya").open(server, review)
    page = tab.page
    analyze_all_and_wait(page)
    sections = len(snapshot(server, review)["sections"])

    def cards() -> list[tuple[str, str, str]]:
        return page.evaluate("() => window.redline.state.items.map(i => [i.section_id, i.description, "
                             "i.quote || '', i.decision])")

    first = cards()
    kept = page.evaluate("() => window.redline.state.items[0].id")
    page.click(card(page, kept) + " .decide-accept")
    page.wait_for_selector(card(page, kept, "accepted"))
    page.click("#analyze-all")
    wait_until(lambda: sum(j["kind"] == "analyze" and j["status"] == "complete"
                           for j in snapshot(server, review)["jobs"]) == 2 * sections, timeout=60)
    final = len(snapshot(server, review)["items"])
    wait_js(page, "(n) => window.redline.state.items.length === n", final, timeout=10)
    second = cards()
    distinct = lambda rows: {tuple(r[:3]) for r in rows}  # noqa: E731
    assert len(second) == len(distinct(second)), "no finding twice on the page"
    assert distinct(second) == distinct(first), "the same distinct findings"
    assert page.locator(".card").count() == len(second)
    assert [r for r in second if r[3] == "accepted"] and page.locator(card(page, kept, "accepted")).count() == 1
    assert not tab.real_errors(), tab.errors


def test_renders_do_not_cancel_the_pages_timers(server, browser):
    """The queue chip's poll, a toast's timeout and a reconnect's backoff are timers; renders run on
    animation frames. The render scheduler cancelled its frame with clearTimeout too, and frame
    ids and timer ids are separate counters: a render cancelled whichever timer had its frame's
    number (on a real 50-section report the chip stayed at '4 running · 42 waiting' after the
    analysis ended). Here 200 timers are set where the frame counter is about to pass, then
    400 renders run through those numbers: every timer must still fire."""
    review = upload(server, filename="report.md", data=samples.sample_markdown().encode())
    page = new_page(browser, "Ines")
    try:
        open_review(page, server, review)
        fired = page.evaluate("""async () => {
            const nextFrame = () => new Promise((r) => requestAnimationFrame(r));
            const f = requestAnimationFrame(() => {}); cancelAnimationFrame(f);
            for (let t = setTimeout(() => {}, 0); t < f + 50; t = setTimeout(() => {}, 0)) clearTimeout(t);
            const fired = new Set();
            for (let i = 0; i < 200; i++) setTimeout(() => fired.add(i), 800);
            const sid = window.redline.state.sections[0].id;
            for (let i = 0; i < 400; i++) { window.redline.actions.checkSection(sid, i % 2 === 0); await nextFrame(); }
            const t0 = performance.now();
            while (performance.now() - t0 < 1500 && fired.size < 200) await nextFrame();
            return fired.size;
        }""")
        assert fired == 200
        assert page.errors == []
    finally:
        page.context.close()

"""The review page's layout in a real Chromium: analysis started by the upload, the
laptop split (document | findings over chat), phones (one pane at a time behind tabs,
nothing wider than the screen), and what the browser remembers across reloads.

`take_layout_screenshots(base_url, out_dir)` makes the docs' screenshots on demand
(docs/screenshots/review-laptop.png and review-phone.png); the tests only ever call it
with a temporary folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests import samples
from tests.browser_helpers import (  # noqa: F401 (browser: a fixture)
    CHROMIUM_ARGS, browser, chromium_path, screenshot_dir, set_name, snapshot, upload, wait_js,
)

pytestmark = pytest.mark.browser

pytest.importorskip("playwright.sync_api")

LAPTOP = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}

LONG_WORD = "Hydraulicpowerunitpressurereliefvalvesetpointverificationrecord" * 3
LONG_TITLE = ("Investigation of the hydraulic oil fire on Press Line 3 — "
              "Northfieldstampingplantnightshiftincidentreference2024031400017")
WIDE_SECTIONS = [
    ("Summary", "The fire started at the hydraulic power unit. It appears that oil leaked from a hose fitting. "
                f"See {LONG_WORD} for the relief valve history."),
    ("Timeline of events",
     "Time | Source | Event | Who | Evidence reference | Alarm state | Pressure (bar) | Remarks on the record\n"
     "02:10 | SCADA | Pressure drop on the HPU return line | Operator on duty | SCADA-LOG-2024-03-14-0210 | "
     "Unacknowledged | 184 | The trend shows a slow fall over eleven minutes\n"
     "02:14 | Camera 7 | Smoke seen above the pump motor | Night-shift lead | CCTV-0007-021400 | "
     "Acknowledged | 171 | Footage kept for the investigation\n"
     "02:24 | Fire panel | Fire out, area made safe | Fire team | FIRE-PANEL-EXPORT-2024-03-14 | "
     "Reset | 0 | Extinguisher use recorded"),
    (f"Findings about {LONG_WORD[:70]}",
     "The configuration snippet as found:\n"
     "    hpu.relief_valve.setpoint_bar=210;hpu.relief_valve.last_verified=2019-02-11T00:00:00Z;"
     "hpu.relief_valve.owner=maintenance-planning-northfield-line3\n"
     "Possibly the operator acknowledged the alarm without checking the pressure."),
    ("Actions", "- Improve operator training.\n- Replace the hose fittings."),
]


# ----------------------------------------------------------------- helpers ---

def new_page(browser, viewport: dict[str, int], name: str = "Lena"):
    context = browser.new_context(viewport=viewport)
    set_name(context, name)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text}"))
    page.errors = errors  # type: ignore[attr-defined]
    return context, page


def open_review(page, base: str, review: dict[str, Any]) -> None:
    page.goto(base + review["url"])
    page.wait_for_selector("body[data-ready=true]", timeout=15000)
    wait_js(page, "() => window.redline.connection.state === 'open'", timeout=15)


def analyze_and_wait(base: str, review: dict[str, Any], page=None) -> dict[str, Any]:
    import httpx

    r = httpx.post(f"{base}/api/reviews/{review['review_id']}/analyze", json={},
                   headers={"Authorization": f"Bearer {review['token']}"}, timeout=10)
    assert r.status_code == 202, r.text
    if page is not None:
        wait_js(page, "() => window.redline.state.sections.every(s => ['done', 'failed', 'cancelled'].includes(s.status))",
                timeout=60)
    return r.json()


def analyze_jobs(base: str, review: dict[str, Any]) -> list[dict[str, Any]]:
    return [j for j in snapshot(base, review)["jobs"] if j["kind"] == "analyze"]


def review_of_page(page) -> dict[str, Any]:
    rid = page.evaluate("() => window.redline.state.reviewId")
    token = page.evaluate("(rid) => sessionStorage.getItem('redline.token.' + rid)", rid)
    assert rid and token
    return {"review_id": rid, "token": token, "url": f"/r/{rid}#token={token}"}


def upload_through_form(page, base: str, *, filename: str, data: bytes) -> None:
    page.goto(base + "/")
    page.set_input_files("#document", files=[{"name": filename, "buffer": data, "mimeType": "text/markdown"}])
    page.click("#upload-submit")
    page.wait_for_url(re.compile(r"/r/[0-9a-f]+"), timeout=15000)
    page.wait_for_selector("body[data-ready=true]", timeout=15000)
    wait_js(page, "() => window.redline.connection.state === 'open'", timeout=15)


def settle(page) -> None:
    """A round trip through the page's websocket and the server (a ping of the queue chip):
    anything the page sent on load has been handled by then."""
    wait_js(page, "() => document.querySelector('#queue-status') && document.querySelector('#queue-status').textContent")
    page.evaluate("() => window.redline.connection.request('ping', {})")


# A check of horizontal overflow: the page does not scroll sideways, no element sticks out of
# the viewport unless a box that fits clips it (ellipsis, line clamp), and no box scrolls
# sideways (long words, tables and code wrap in the document; nothing else is wider).
OVERFLOW_JS = """() => {
    const vw = document.documentElement.clientWidth;
    const out = [];
    const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    if (document.documentElement.scrollWidth > vw) out.push(`page scrollWidth ${document.documentElement.scrollWidth} > ${vw}`);
    if (document.body.scrollWidth > vw) out.push(`body scrollWidth ${document.body.scrollWidth} > ${vw}`);
    const fits = (r) => r.left >= -0.5 && r.right <= vw + 0.5;
    for (const el of document.body.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (!r.width && !r.height) continue;
        const cs = getComputedStyle(el);
        if (cs.visibility === 'hidden') continue;
        if ((cs.overflowX === 'auto' || cs.overflowX === 'scroll') && el.scrollWidth > el.clientWidth + 1 && el.tagName !== 'TEXTAREA') {
            out.push(`${name(el)} scrolls sideways (${el.scrollWidth} > ${el.clientWidth})`);
        }
        if (fits(r)) continue;
        let clipped = false;
        for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
            const ox = getComputedStyle(a).overflowX;
            if (ox !== 'visible' && fits(a.getBoundingClientRect())) { clipped = true; break; }
        }
        if (!clipped) out.push(`${name(el)} ${Math.round(r.left)}..${Math.round(r.right)} of ${vw}`);
    }
    return out.slice(0, 20);
}"""


def overflow(page) -> list[str]:
    return page.evaluate(OVERFLOW_JS)


CARDS_IN_VIEW_JS = """() => {
    const list = document.getElementById('findings-list').getBoundingClientRect();
    return [...document.querySelectorAll('#findings-list .card')].filter((c) => {
        const r = c.getBoundingClientRect();
        return r.top >= list.top - 0.5 && r.bottom <= list.bottom + 0.5 && r.left >= list.left - 0.5 && r.right <= list.right + 0.5;
    }).length;
}"""


def visible_pane(page) -> list[str]:
    return page.evaluate("""() => ['sections-pane', 'document-pane', 'findings-pane', 'chat-pane']
        .filter((id) => { const r = document.getElementById(id).getBoundingClientRect(); return r.width > 0 && r.height > 0; })""")


# -------------------------------------------------------------------- tests ---

def test_upload_starts_the_analysis_once(server, browser):
    context, page = new_page(browser, LAPTOP)
    try:
        page.goto(server + "/")
        assert page.is_checked("#analyze-on-upload")  # on by default
        upload_through_form(page, server, filename="report.md", data=samples.sample_markdown().encode())
        review = review_of_page(page)
        n_sections = page.evaluate("() => window.redline.state.sections.length")
        # Findings arrive without anyone pressing "Analyze all".
        wait_js(page, "() => window.redline.state.items.length > 0", timeout=30)
        wait_js(page, "() => window.redline.state.sections.every(s => s.status === 'done')", timeout=60)
        jobs = analyze_jobs(server, review)
        assert len(jobs) == n_sections == len({j["section_id"] for j in jobs}), jobs

        # A reload and a second tab of the same review start nothing.
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        wait_js(page, "() => window.redline.connection.state === 'open'")
        second = context.new_page()
        open_review(second, server, review)
        settle(page)
        settle(second)
        assert len(analyze_jobs(server, review)) == n_sections
        assert page.evaluate("() => window.redline.state.sections.every(s => s.status === 'done')")
        second.close()

        # Unchecked: the upload only uploads; the choice is remembered.
        page.goto(server + "/")
        page.uncheck("#analyze-on-upload")
        page.reload()
        page.wait_for_selector("#upload-form")
        wait_js(page, "() => document.getElementById('analyze-on-upload').checked === false")
        upload_through_form(page, server, filename="report.md", data=samples.sample_markdown().encode())
        quiet = review_of_page(page)
        settle(page)
        assert analyze_jobs(server, quiet) == []
        assert page.evaluate("() => window.redline.state.sections.every(s => s.status === 'idle')")
        assert page.evaluate("() => window.redline.state.items.length") == 0
        assert not page.is_disabled("#analyze-all")

        # Checked again: remembered too.
        page.goto(server + "/")
        assert not page.is_checked("#analyze-on-upload")
        page.check("#analyze-on-upload")
        page.reload()
        page.wait_for_selector("#upload-form")
        wait_js(page, "() => document.getElementById('analyze-on-upload').checked === true")
        assert not page.errors, page.errors
    finally:
        context.close()


def test_laptop_shows_three_cards_with_chat_open(server, browser):
    review = upload(server, filename="report.docx", data=samples.sample_docx())
    context, page = new_page(browser, LAPTOP)
    try:
        open_review(page, server, review)
        analyze_and_wait(server, review, page)
        assert page.get_attribute("#chat-collapse", "aria-expanded") == "true"
        assert page.is_visible("#chat-input") and page.is_visible("#chat-log")
        wait_js(page, "() => document.querySelectorAll('#findings-list .card').length >= 3")
        n = page.evaluate(CARDS_IN_VIEW_JS)
        assert n >= 3, n
        # The chat still has room for a conversation.
        chat_h = page.evaluate("() => document.getElementById('chat-log').getBoundingClientRect().height")
        assert chat_h >= 80, chat_h
        # A selected card shows everything; the compact ones show the decision buttons.
        first = page.get_attribute("#findings-list .card >> nth=0", "data-item-id")
        assert page.is_visible(f'.card[data-item-id="{first}"] .decide-accept')
        page.click(f'.card[data-item-id="{first}"] .card-desc')
        page.wait_for_selector(f'.card.is-selected[data-item-id="{first}"] .card-meta')
        assert page.is_visible(f'.card[data-item-id="{first}"] .card-meta')
        assert not (o := overflow(page)), o
        assert not page.errors, page.errors
    finally:
        context.close()


def test_phone_one_pane_at_a_time_and_nothing_too_wide(server, browser):
    context, page = new_page(browser, PHONE)
    try:
        # The upload page, empty and with a long file name chosen.
        page.goto(server + "/")
        page.wait_for_selector("#upload-form")
        assert not (o := overflow(page)), o
        page.set_input_files("#document", files=[{"name": LONG_WORD + ".docx", "buffer": b"x",
                                                  "mimeType": "application/octet-stream"}])
        assert not (o := overflow(page)), o

        data = samples.docx_from_sections(LONG_TITLE, WIDE_SECTIONS)
        review = upload(server, filename=LONG_WORD[:80] + ".docx", data=data, title=LONG_TITLE)
        open_review(page, server, review)
        assert page.inner_text("#review-title") == LONG_TITLE
        analyze_and_wait(server, review, page)
        wait_js(page, "() => document.querySelectorAll('#findings-list .card').length > 0")

        tabs = page.locator("#pane-tabs [role=tab]")
        assert tabs.count() == 3
        assert [t.strip().split()[0] for t in tabs.all_inner_texts()] == ["Document", "Findings", "Chat"]
        assert page.get_attribute("#pane-tabs", "role") == "tablist"
        assert page.get_attribute("#tab-document", "aria-selected") == "true"
        assert visible_pane(page) == ["sections-pane", "document-pane"]
        assert page.get_attribute("#document-pane", "role") == "tabpanel"
        assert page.get_attribute("#document-pane", "aria-labelledby") == "tab-document"
        assert not (o := overflow(page)), o
        # The section list unfolds above the document, and fits too.
        page.click("#sections-fold")
        page.wait_for_selector("#section-list .section-row")
        assert page.get_attribute("#sections-fold", "aria-expanded") == "true"
        assert not (o := overflow(page)), o
        page.click("#sections-fold")

        page.click("#tab-findings")
        assert page.get_attribute("#tab-findings", "aria-selected") == "true"
        assert page.get_attribute("#tab-document", "aria-selected") == "false"
        assert visible_pane(page) == ["findings-pane"]
        assert page.locator(".card").first.is_visible()
        assert not (o := overflow(page)), o

        # Keyboard: arrows move between the tabs (roving tabindex), Home / End jump.
        page.focus("#tab-findings")
        page.keyboard.press("ArrowRight")
        assert page.evaluate("() => document.activeElement.id") == "tab-chat"
        assert page.get_attribute("#tab-chat", "aria-selected") == "true"
        assert visible_pane(page) == ["chat-pane"]
        assert page.is_visible("#chat-input")
        assert [page.get_attribute(f"#tab-{t}", "tabindex") for t in ("document", "findings", "chat")] == ["-1", "-1", "0"]
        assert not (o := overflow(page)), o
        page.keyboard.press("ArrowRight")  # wraps around
        assert page.evaluate("() => document.activeElement.id") == "tab-document"
        page.keyboard.press("End")
        assert page.evaluate("() => document.activeElement.id") == "tab-chat"
        page.keyboard.press("Home")
        assert page.evaluate("() => document.activeElement.id") == "tab-document"
        page.keyboard.press("ArrowLeft")
        assert page.evaluate("() => document.activeElement.id") == "tab-chat"
        page.keyboard.press("ArrowLeft")
        assert page.get_attribute("#tab-findings", "aria-selected") == "true"

        # The statistics dialog fits too.
        page.click("#open-stats")
        page.wait_for_selector("#stats-dialog[open] #stats")
        assert not (o := overflow(page)), o
        page.keyboard.press("Escape")
        page.wait_for_selector("#stats-dialog:not([open])", state="attached")

        # A finding's quote shows the document, at the quote.
        quoted = page.locator(".card .card-quote:not(.not-found)").first
        item_id = quoted.evaluate("(el) => el.closest('.card').dataset.itemId")
        quoted.click()
        assert page.get_attribute("#tab-document", "aria-selected") == "true"
        wait_js(page, """(id) => {
            const m = [...document.querySelectorAll('#doc-body mark[data-items]')].find((x) => x.dataset.items.split(' ').includes(id));
            const pane = document.getElementById('document-pane').getBoundingClientRect();
            const r = m && m.getBoundingClientRect();
            return r && r.top >= pane.top && r.bottom <= pane.bottom;
        }""", item_id, timeout=5)
        assert not (o := overflow(page)), o

        # A tablet or a small window: no tabs, two columns, still nothing too wide.
        page.set_viewport_size({"width": 820, "height": 700})
        wait_js(page, "() => !document.body.classList.contains('is-narrow')")
        assert not page.is_visible("#pane-tabs")
        assert visible_pane(page) == ["sections-pane", "document-pane", "findings-pane", "chat-pane"]
        assert page.get_attribute("#findings-pane", "role") is None
        assert page.get_attribute("#findings-pane", "aria-label") == "Findings"
        assert not (o := overflow(page)), o
        assert not page.errors, page.errors
    finally:
        context.close()


def test_split_and_chat_are_remembered(server, browser):
    review = upload(server, filename="report.md", data=samples.sample_markdown().encode())
    context, page = new_page(browser, LAPTOP)
    width = "() => document.getElementById('findings-pane').getBoundingClientRect().width"
    chat_h = "() => document.getElementById('chat-pane').getBoundingClientRect().height"
    try:
        open_review(page, server, review)
        assert page.get_attribute("#side-resizer", "role") == "separator"
        assert page.get_attribute("#side-resizer", "aria-orientation") == "vertical"
        before = page.evaluate(width)
        # Drag the separator 120 px to the left: the side column grows by as much.
        box = page.locator("#side-resizer").bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x - 60, y, steps=4)
        page.mouse.move(x - 120, y, steps=4)
        page.mouse.up()
        dragged = page.evaluate(width)
        assert abs(dragged - (before + 120)) <= 3, (before, dragged)
        # The keyboard: two steps back to the right.
        page.focus("#side-resizer")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        keyed = page.evaluate(width)
        assert keyed < dragged - 40, (dragged, keyed)
        # The chat's height (its own separator) and its collapse.
        page.focus(".chat-resizer")
        page.keyboard.press("ArrowUp")
        chat_before = page.evaluate(chat_h)

        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        assert abs(page.evaluate(width) - keyed) <= 1
        assert abs(page.evaluate(chat_h) - chat_before) <= 1

        page.click("#chat-collapse")
        page.wait_for_selector("#chat-body", state="hidden")
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        assert page.evaluate("() => document.body.classList.contains('chat-collapsed')")
        assert page.get_attribute("#chat-collapse", "aria-expanded") == "false"
        assert not page.is_visible("#chat-body")
        assert abs(page.evaluate(width) - keyed) <= 1
        # Collapsed, the findings take the height.
        assert page.evaluate("() => document.getElementById('findings-pane').getBoundingClientRect().height") > 560

        page.click("#chat-collapse")
        page.wait_for_selector("#chat-body", state="visible")
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        assert page.is_visible("#chat-input")
        # Double-click on the separator: back to the default split.
        page.dblclick("#side-resizer")
        assert abs(page.evaluate(width) - before) <= 1
        assert not page.errors, page.errors
    finally:
        context.close()


def test_layout_screenshots(server, browser, tmp_path):
    """review-laptop.png and review-phone.png: into a temporary folder, or docs/screenshots
    when `python -m tests.screenshots` runs this."""
    paths = take_layout_screenshots(server, screenshot_dir(tmp_path), browser=browser, all_tabs=True)
    assert [p.name for p in paths] == ["review-laptop.png", "review-phone.png", "review-phone-findings.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -------------------------------------------------------------- screenshots ---

def take_layout_screenshots(base_url: str, out_dir, *, browser=None, all_tabs: bool = False) -> list[Path]:
    """review-laptop.png (1280x720, chat open) and review-phone.png (390x844, the Document
    tab; with all_tabs, also review-phone-findings.png) of a review of the sample .docx,
    analyzed, in `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if browser is None:
        from playwright.sync_api import sync_playwright

        exe = chromium_path()
        if exe is None:
            raise RuntimeError("Chromium not found (apt-get install -y chromium)")
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
            try:
                return take_layout_screenshots(base_url, out, browser=b, all_tabs=all_tabs)
            finally:
                b.close()

    review = upload(base_url, filename="report.docx", data=samples.sample_docx())
    paths: list[Path] = []
    context, page = new_page(browser, LAPTOP, name="Maya")
    try:
        open_review(page, base_url, review)
        analyze_and_wait(base_url, review, page)
        ids = page.evaluate("() => window.redline.state.items.map(i => i.id)")
        for item_id in ids[:2]:
            page.click(f'.card[data-item-id="{item_id}"] .decide-accept')
        page.click(f'.card[data-item-id="{ids[2]}"] .decide-reject')
        page.click(f'.card[data-item-id="{ids[2]}"] [data-action="skip-reason"]')  # no reason given
        page.wait_for_selector(f'.card[data-item-id="{ids[2]}"][data-decision="rejected"]')
        page.fill("#chat-input", "Is the root cause supported by the evidence?")
        page.press("#chat-input", "Enter")
        page.wait_for_selector(".msg-assistant[data-state=done]", timeout=20000)
        page.click(f'.card[data-item-id="{ids[1]}"] .card-desc')
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.evaluate("() => document.getElementById('findings-list').scrollTo(0, 0)")
        wait_js(page, "() => !document.getAnimations().some((a) => a.playState === 'running' && isFinite(a.effect.getTiming().duration) "
                      "&& a.effect.getTiming().iterations !== Infinity)", timeout=5)
        page.wait_for_selector('#queue-status:has-text("Queue idle")', timeout=15000)
        paths.append(out / "review-laptop.png")
        page.screenshot(path=str(paths[-1]))
    finally:
        context.close()

    context, page = new_page(browser, PHONE, name="Maya")
    try:
        open_review(page, base_url, review)
        page.click("#tab-document")
        wait_js(page, "() => document.querySelectorAll('#doc-body mark.q').length > 0")
        page.wait_for_selector('#queue-status:has-text("Queue idle")', timeout=15000)
        paths.append(out / "review-phone.png")
        page.screenshot(path=str(paths[-1]))
        if all_tabs:
            page.click("#tab-findings")
            page.wait_for_selector("#findings-list .card")
            wait_js(page, "() => !document.getAnimations().some((a) => a.playState === 'running' && isFinite(a.effect.getTiming().duration) "
                          "&& a.effect.getTiming().iterations !== Infinity)", timeout=5)
            paths.append(out / "review-phone-findings.png")
            page.screenshot(path=str(paths[-1]))
    finally:
        context.close()
    return paths

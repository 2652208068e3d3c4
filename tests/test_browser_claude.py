"""The review page with the Claude reviewer (the local fake Messages API), in a real Chromium.

What a reviewer notices of Claude's extras: a finding that compares two sections shows
"Compare with: <section>" and shows the other passage in the document; a chat answer lists
the passages it quotes, each one showing exactly that passage in the document; the usage
panel shows the server's cost (and "—" when there is none) and the thinking tokens.
Everything model-made stays text. Screenshots go to /tmp, not into the repository.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests import samples
from tests.browser_helpers import browser, snapshot, upload, wait_js  # noqa: F401 (browser: a fixture)
from tests.conftest import claude_server
from tests.fake_anthropic import Cite, Text, prompt_text

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")

VIEWPORT = {"width": 1280, "height": 720}
SHOTS = "/tmp"

FILLER = " ".join(
    f"Paragraph {n}: the press line ran at normal load, the hydraulic unit was inspected on schedule and "
    f"no earlier leak had been reported for this circuit." for n in range(1, 40))
SUMMARY = ("The pump tripped at 14:20 and the alarm was acknowledged within two minutes. "
           "Nobody was injured and the line restarted the same evening.")
TIMELINE = ("At 14:05 the pressure alarm sounded in the control room. "
            "The operator acknowledged the alarm at 14:19 <b>after</b> finishing a phone call. "
            "The pump tripped at 14:20 and the fire brigade was called at 14:24.")
RELATED_SENTENCE = "The operator acknowledged the alarm at 14:19 <b>after</b> finishing a phone call."
CITED = "At 14:05 the pressure alarm sounded in the control room."
SECTIONS = [
    ("Summary", SUMMARY),
    ("Background", FILLER),
    ("Timeline <i>of events</i>", TIMELINE),
    ("Actions", "Review alarm handling with the shift team by 31 January."),
]
DOC = samples.markdown_from_sections("Pump trip on Press Line 3", SECTIONS)

SECTION_ID_RE = re.compile(r'This is section \d+ of \d+, id "([^"]+)"')


# The highlighted passage of a section is on screen in the document pane.
MARK_IN_VIEW = """(sid) => {
    const m = document.querySelector(`.section-text[data-section-id="${sid}"] mark.ref-hl`);
    if (!m) return false;
    const pane = document.getElementById('document-pane').getBoundingClientRect();
    const r = m.getBoundingClientRect();
    return r.top >= pane.top && r.bottom <= pane.bottom;
}"""


# ------------------------------------------------------------------ fixtures ---

@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    """`redline serve` (with its worker) reviewing with Claude, i.e. with the fake."""
    with claude_server(redis_server, tmp_path_factory.mktemp("claude-browser")) as stack:
        yield stack


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script("try { localStorage.setItem('redline.name', 'Ines'); } catch (e) {}")
    p = context.new_page()
    p.errors = []
    p.on("pageerror", lambda e: p.errors.append(f"pageerror: {e}"))
    p.on("console", lambda m: m.type == "error" and p.errors.append(f"console: {m.text}"))
    p.on("dialog", lambda d: (p.errors.append(f"dialog: {d.message}"), d.dismiss()))
    yield p
    context.close()


def open_review(page, base: str, review: dict) -> None:
    path, frag = review["url"].split("#", 1)
    page.goto(f"{base}{path}#{frag}")
    page.wait_for_selector("body[data-ready=true]", timeout=15000)


def new_review(stack) -> tuple[dict, dict]:
    review = upload(stack.url, filename="pump-trip.md", data=DOC.encode(), title="Pump trip")
    snap = snapshot(stack.url, review)
    assert [s["title"] for s in snap["sections"]] == [t for t, _ in SECTIONS], snap["sections"]
    return review, {s["title"]: s for s in snap["sections"]}


def is_analysis(body: dict) -> bool:
    return bool(((body.get("output_config") or {}).get("format")))


def finding(**kw) -> dict:
    base = {"type": "important", "category": "Consistency", "risk": "high", "description": "", "suggestion": "",
            "quote": None, "questions": [], "refs": ["C3"], "confidence": 0.9,
            "related_section_id": None, "related_quote": None}
    return {**base, **kw}


def doc_scroll_state(page, section_id: str) -> dict:
    """Where a section's highlighted passage is: its marks' text, and whether they are on screen."""
    return page.evaluate(
        """(sid) => {
            const pane = document.getElementById('document-pane').getBoundingClientRect();
            const box = document.querySelector(`.section-text[data-section-id="${sid}"]`);
            const marks = [...document.querySelectorAll('#doc-body mark.ref-hl')];
            const inBox = marks.filter((m) => box.contains(m));
            const r = inBox.length ? inBox[0].getBoundingClientRect() : null;
            return {
                all: marks.length, text: inBox.map((m) => m.textContent).join(''),
                visible: !!r && r.top >= pane.top && r.bottom <= pane.bottom,
                current: window.redline.ui.currentSectionId,
            };
        }""", section_id)


# --------------------------------------------------------------------- tests ---

def test_compare_with_shows_the_related_passage(stack, page):
    review, secs = new_review(stack)
    summary, timeline = secs["Summary"], secs["Timeline <i>of events</i>"]
    assert RELATED_SENTENCE in timeline["text"]

    def responder(body: dict):
        if not is_analysis(body):
            return Text("No chat in this test.")
        m = SECTION_ID_RE.search(prompt_text(body, system=False))
        if not m or m.group(1) != summary["id"]:
            return Text(json.dumps({"findings": []}))
        return Text(json.dumps({"findings": [
            finding(description="The summary says the alarm was acknowledged within two minutes; the timeline "
                                "says 14 minutes.",
                    suggestion="Make the summary agree with the timeline.",
                    quote="the alarm was acknowledged within two minutes",
                    related_section_id=timeline["id"], related_quote=RELATED_SENTENCE),
            finding(type="suggestion", risk="low", category="Clarity", description="Say who restarted the line.",
                    quote="the line restarted the same evening"),
        ]}), chunk_size=40)

    stack.fake.default = responder
    open_review(page, stack.url, review)
    r = httpx.post(f"{stack.url}/api/reviews/{review['review_id']}/analyze", json={"sections": [summary["id"]]},
                   headers={"Authorization": f"Bearer {review['token']}"}, timeout=10)
    assert r.status_code == 202, r.text
    wait_js(page, "() => window.redline.state.items.length === 2 && window.redline.state.sections"
                  ".every((s) => s.status !== 'queued' && s.status !== 'running')", timeout=30)

    items = page.evaluate("() => window.redline.state.items")
    related = next(i for i in items if i.get("related_section_id"))
    plain = next(i for i in items if not i.get("related_section_id"))
    assert related["related_section_id"] == timeline["id"] and related["related_quote"] == RELATED_SENTENCE

    card = page.locator(f'.card[data-item-id="{related["id"]}"]')
    compare = card.locator(".card-compare")
    assert compare.is_visible()
    assert compare.inner_text().strip() == "Compare with: Timeline <i>of events</i>"  # the title, as text
    assert card.locator(".card-related-quote").text_content() == RELATED_SENTENCE  # short: not cut
    assert card.locator(".card-related i, .card-related b").count() == 0  # no markup from data
    assert page.locator(f'.card[data-item-id="{plain["id"]}"] .card-compare').count() == 0

    # The Timeline is far below (a long Background section comes first): not on screen yet.
    before = doc_scroll_state(page, timeline["id"])
    assert before["all"] == 0
    title_visible = """(sid) => {
        const pane = document.getElementById('document-pane').getBoundingClientRect();
        const r = document.getElementById('sec-' + sid).getBoundingClientRect();
        return r.bottom > pane.top && r.top < pane.bottom;
    }"""
    assert not page.evaluate(title_visible, timeline["id"])

    compare.click()
    wait_js(page, MARK_IN_VIEW, timeline["id"], timeout=5)
    after = doc_scroll_state(page, timeline["id"])
    assert after["text"] == RELATED_SENTENCE and after["visible"], after
    assert after["current"] == timeline["id"]
    assert page.locator("#doc-body mark.ref-hl b").count() == 0  # the document's "<b>" is text
    wait_js(page, "() => [...document.querySelectorAll('#doc-body mark.ref-hl')].every((m) => !m.getAnimations().length)",
            timeout=5)  # the highlight's flash has settled
    page.screenshot(path=f"{SHOTS}/redline-compare-with.png")

    # Selecting a finding puts its own quote back in focus; the comparison highlight goes.
    page.locator(f'.card[data-item-id="{plain["id"]}"] .card-quote').click()
    wait_js(page, "() => !document.querySelector('#doc-body mark.ref-hl')", timeout=5)

    # A related id that is no section of the review shows nothing (the server already drops
    # such ids; the page does not trust it either).
    shown = page.evaluate(
        """async (item) => {
            const { renderCard } = await import('/static/js/views/card.js');
            const el = document.createElement('article');
            const view = { decision: 'pending', sectionTitle: 'Summary', selected: false, pending: false,
                           hasQuote: true, relatedTitle: '' };
            renderCard(el, { ...item, related_section_id: 'no-such-section' }, view, {});
            return el.querySelectorAll('.card-compare, .card-related').length;
        }""", related)
    assert shown == 0
    assert not page.errors, page.errors


def test_chat_quotes_show_their_passage(stack, page):
    review, secs = new_review(stack)
    summary, timeline = secs["Summary"], secs["Timeline <i>of events</i>"]
    order = [t for t, _ in SECTIONS]
    start = timeline["text"].index(CITED)

    def responder(body: dict):
        if is_analysis(body):
            return Text(json.dumps({"findings": []}))
        return Text("The timeline contradicts the summary: ", citations=[
            Cite(CITED, order.index("Timeline <i>of events</i>"), start, start + len(CITED)),
            " while the summary says ",
            Cite("within two minutes", order.index("Summary"), SUMMARY.index("the alarm"),
                 SUMMARY.index("the alarm") + len("the alarm was acknowledged within two minutes")),
            ". <img src=x onerror=alert(1)>",
        ], chunk_size=12)

    stack.fake.default = responder
    page.context.add_init_script("try { localStorage.setItem('redline.chatHeight', '0.6'); } catch (e) {}")
    open_review(page, stack.url, review)
    page.fill("#chat-input", "Do the summary and the timeline agree?")
    page.press("#chat-input", "Enter")
    page.wait_for_selector(".msg-assistant[data-state=done] .msg-cites:not([hidden])", timeout=30000)

    msg = page.evaluate("() => window.redline.state.chat.find((m) => m.role === 'assistant')")
    cites = msg["citations"]
    assert [c["section_id"] for c in cites] == [timeline["id"], summary["id"]], cites
    assert cites[0]["text"] == CITED

    buttons = page.locator(".msg-assistant .msg-cites .cite")
    assert page.locator(".msg-assistant .msg-cites-label").inner_text().strip().lower() == "quotes"
    assert buttons.count() == 2
    assert buttons.nth(0).locator(".cite-section").inner_text().strip() == "Timeline <i>of events</i>"
    assert buttons.nth(0).locator(".cite-text").text_content() == CITED
    assert buttons.nth(1).locator(".cite-text").text_content() == "the alarm was acknowledged within two minutes"
    assert page.locator("#chat-log img, #chat-log i, #chat-log b").count() == 0  # model output stays text

    # Click: the document shows exactly that range of the Timeline.
    buttons.nth(0).click()
    wait_js(page, MARK_IN_VIEW, timeline["id"], timeout=5)
    got = doc_scroll_state(page, timeline["id"])
    assert got["text"] == CITED and got["all"] == 1 and got["visible"], got
    offsets = page.evaluate(
        """(sid) => {
            const box = document.querySelector(`.section-text[data-section-id="${sid}"]`);
            const m = box.querySelector('mark.ref-hl');
            const r = document.createRange();
            r.setStart(box, 0);
            r.setEndBefore(m);
            return [r.toString().length, r.toString().length + m.textContent.length];
        }""", timeline["id"])
    assert offsets == [start, start + len(CITED)]
    assert "is-active" in (buttons.nth(0).get_attribute("class") or "")
    wait_js(page, "() => [...document.querySelectorAll('#doc-body mark.ref-hl')].every((m) => !m.getAnimations().length)",
            timeout=5)  # the highlight's flash (and the smooth scroll) have settled
    page.screenshot(path=f"{SHOTS}/redline-chat-quotes.png")

    # Another quote: the first highlight goes, the new one is in the Summary.
    buttons.nth(1).click()
    wait_js(page, "(sid) => document.querySelector(`.section-text[data-section-id=\"${sid}\"] mark.ref-hl`)",
            summary["id"], timeout=5)
    assert doc_scroll_state(page, timeline["id"])["text"] == ""
    assert doc_scroll_state(page, summary["id"])["text"] == "the alarm was acknowledged within two minutes"

    # After a reload the citations come from the snapshot.
    page.reload()
    page.wait_for_selector("body[data-ready=true]", timeout=15000)
    page.wait_for_selector(".msg-assistant .msg-cites .cite", timeout=10000)
    assert page.locator(".msg-assistant .msg-cites .cite").count() == 2
    assert snapshot(stack.url, review)["chat"][-1]["citations"] == cites

    # Offsets that do not hold the text fall back to the text; text not in the section is not shown.
    last = page.evaluate("() => window.redline.state.lastEventId")
    ms = int(last.split("-")[0])
    wrong_offsets = {"section_id": timeline["id"], "start": 0, "end": 5, "text": "the fire brigade was called"}
    page.evaluate("(ev) => window.redline.store.apply(ev)", {
        "id": f"{ms + 1}-0", "kind": "chat.completed", "data": {
            "message_id": "local-test.a", "text": "Another answer.",
            "citations": [wrong_offsets,
                          {"section_id": timeline["id"], "start": 0, "end": 4, "text": "not in the document"},
                          {"section_id": "no-such-section", "start": 0, "end": 3, "text": "The"}]}})
    bubble = page.locator('.msg[data-message-id="local-test.a"]')
    bubble.wait_for(timeout=5000)
    assert bubble.locator(".cite").count() == 1
    assert bubble.locator(".cite-text").text_content() == "the fire brigade was called"
    bubble.locator(".cite").click()
    at = timeline["text"].index("the fire brigade was called")
    wait_js(page, "(sid) => document.querySelector(`.section-text[data-section-id=\"${sid}\"] mark.ref-hl`)",
            timeline["id"], timeout=5)
    assert doc_scroll_state(page, timeline["id"])["text"] == "the fire brigade was called"
    assert page.evaluate("() => window.redline.ui.refHighlight")["start"] == at
    assert not page.errors, page.errors


def test_usage_panel_shows_server_cost_and_thinking(stack, page):
    review, secs = new_review(stack)
    stack.fake.default = lambda body: Text(json.dumps({"findings": []}) if is_analysis(body) else "Yes.")
    open_review(page, stack.url, review)
    r = httpx.post(f"{stack.url}/api/reviews/{review['review_id']}/analyze", json={"sections": [secs["Summary"]["id"]]},
                   headers={"Authorization": f"Bearer {review['token']}"}, timeout=10)
    assert r.status_code == 202, r.text
    usage = wait_js(page, "() => { const u = window.redline.state.usage; return u && u.requests > 0 "
                          "&& u.cost_usd !== undefined && u; }", timeout=30)
    page.click("#open-stats")
    page.wait_for_selector("#stats-dialog[open] #usage-cost")
    cost = page.inner_text("#usage-cost").strip()
    assert cost.startswith("$") or cost == "< $0.01", cost
    assert "estimated" not in page.inner_text("#stats").lower()
    if usage.get("thinking_tokens", 0) > 0:
        assert page.locator("#usage-thinking").is_visible()
    else:
        assert page.locator("#usage-thinking").count() == 0

    # No cost from the server: "—", never a price of the page's own; thinking tokens shown.
    ms = int(page.evaluate("() => window.redline.state.lastEventId").split("-")[0])
    page.evaluate("(ev) => window.redline.store.apply(ev)", {
        "id": f"{ms + 1}-0", "kind": "usage.updated",
        "data": {"usage": {"input_tokens": 120000, "output_tokens": 3000, "thinking_tokens": 1500, "requests": 2}}})
    page.wait_for_function("() => document.getElementById('usage-cost').textContent.trim() === '—'", timeout=5000)
    assert page.inner_text("#usage-thinking").strip() == "1.5 k"
    page.locator("#stats-dialog .stat-block", has_text="Model usage").screenshot(path=f"{SHOTS}/redline-usage.png")
    assert not page.errors, page.errors

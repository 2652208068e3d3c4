"""Rounds in the review page, in a real Chromium: the next version of the write-up uploaded from
the page, seen live in a second tab.

Tab 1 uploads version 2 through the header's "New version…" (a refused file first: an error,
nothing changed); both tabs then show the round summary, each finding's resolution (open,
resolved, outdated; outdated ones kept under "Removed sections"), and the sections marked
changed / new / renamed. The Changes view shows each changed section as a word diff (a <del>
and an <ins> with the right words, all text), the removed section with its old text, and its
"Analyze changed sections" queues only the changed and the new sections. The round's "new"
count follows findings raised after the version, and a reload shows the same.
Screenshots go to /tmp (as in test_browser_redlines.py), at 1280x720 and 390 px wide.
"""

from __future__ import annotations


import httpx
import pytest

from tests.browser_helpers import browser, new_page, open_review, snapshot, upload, wait_js  # noqa: F401 (browser: a fixture)
from tests.test_browser_layout import overflow
from tests.test_versions import ACTIONS, CAUSE, TIMELINE  # the same pump-trip passages

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")

VIEWPORT = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}
SHOTS = "/tmp"

SUMMARY = "The pump tripped and the alarm was acknowledged within two minutes. Nobody was injured."
LESSONS = "Clean <b>every</b> strainer before a restart."

DOC_V1 = (f"# Pump trip report\n\n## Summary\n\n{SUMMARY}\n\n## Timeline\n\n{TIMELINE}\n\n"
          f"## Root cause\n\n{CAUSE}\n\n## Actions\n\n{ACTIONS}\n")
# v2: two flagged passages fixed, Timeline renamed (same text), Actions deleted, Lessons added
DOC_V2 = (f"# Pump trip report\n\n## Summary\n\n{SUMMARY.replace('within two minutes', 'within five minutes')}\n\n"
          f"## Sequence of events\n\n{TIMELINE}\n\n"
          f"## Root cause\n\n{CAUSE.replace('closed early', 'closed before the inspection')}\n\n"
          f"## Lessons\n\n{LESSONS}\n")

FINDINGS = {  # key -> (section title, quote): the reviewer's own findings
    "minutes": ("Summary", "acknowledged within two minutes"),
    "closed": ("Root cause", "the work order was closed early"),
    "acked": ("Timeline", "14:05 the operator acknowledged the alarm"),
    "owner": ("Actions", "owner maintenance lead"),
}
WANT = {"minutes": "resolved", "closed": "resolved", "acked": "open", "owner": "outdated"}
ROUND = "Version 2: 2 resolved · 1 still open · 0 new · 1 outdated"


def choose_version(page, name: str, data: bytes, confirm: bool = True) -> None:
    """The header's "New version…": the file chooser, then the confirmation."""
    page.set_input_files("#version-file", files=[{"name": name, "mimeType": "text/markdown", "buffer": data}])
    if confirm:
        page.get_by_role("button", name="Upload version 2").click()


def resolutions(page, ids: dict[str, str]) -> dict[str, str]:
    """What each card's resolution badge says."""
    return {k: page.locator(f'.card[data-item-id="{i}"] .res-badge').text_content() for k, i in ids.items()}


def test_upload_a_new_version_from_the_page_and_see_the_round(server, browser):
    review = upload(server, filename="pump-trip.md", data=DOC_V1.encode())
    rid, token = review["review_id"], review["token"]
    auth = {"Authorization": f"Bearer {token}"}
    sec = {s["title"]: s["id"] for s in snapshot(server, review)["sections"]}
    made = {}
    for key, (title, quote) in FINDINGS.items():
        r = httpx.post(f"{server}/api/reviews/{rid}/items", headers=auth, timeout=10, json={
            "section_id": sec[title], "description": f"Check {key}.", "quote": quote, "author": "Ann"})
        assert r.status_code == 201, r.text
        made[key] = r.json()["item"]["id"]

    ann = new_page(browser, "Ann", VIEWPORT, ignore_console=("the server responded with a status of 400",))
    bo = new_page(browser, "Bo", VIEWPORT, ignore_console=("the server responded with a status of 400",))
    open_review(ann, server, review)
    open_review(bo, server, review)
    for page in (ann, bo):
        assert page.locator("#round-bar").is_hidden()  # one version: no round yet
        assert page.locator(".fgroup-resolution").is_hidden()
        assert page.locator("#new-version").is_visible() and page.locator("#doc-new-version").is_visible()

    # 1. Refused files: a wrong kind is caught on the page, a broken one by the server (400); the
    #    error says so and stays; nothing changes.
    choose_version(ann, "notes.exe", b"MZ", confirm=False)
    ann.wait_for_selector(".toast-error:has-text('is not a .docx, .pdf, .md or .txt file')")
    choose_version(ann, "v2.md", b"")
    ann.wait_for_selector(".toast-error:has-text('Version 2 was not uploaded')")
    assert "The review is unchanged." in ann.locator(".toast-error").last.text_content()
    assert ann.evaluate("() => window.redline.state.version") == 1
    assert snapshot(server, review)["version"] == 1
    while ann.locator(".toast [aria-label=Dismiss]").count():
        ann.locator(".toast [aria-label=Dismiss]").first.click()

    # 2. Version 2 through the page; both tabs see it arrive.
    choose_version(ann, "pump-trip-v2.md", DOC_V2.encode())
    for page in (ann, bo):
        wait_js(page, "() => window.redline.state.version === 2 && window.redline.state.items"
                      ".every((i) => i.resolution)", timeout=20)
        wait_js(page, "(t) => document.querySelector('#round-summary').textContent === t", ROUND)
    assert snapshot(server, review)["versions"][1]["by"] == "Ann"  # the page sent the reviewer's name
    bo.wait_for_selector(".toast:has-text('Ann uploaded version 2')")

    v2 = {s["title"]: s for s in snapshot(server, review)["sections"]}
    assert set(v2) == {"Summary", "Sequence of events", "Root cause", "Lessons"}
    changed = {v2["Summary"]["id"], v2["Root cause"]["id"], v2["Lessons"]["id"]}
    for page in (ann, bo):
        # resolution badges; resolved and outdated cards dimmed; the outdated one still listed
        assert resolutions(page, made) == {k: v.capitalize() for k, v in WANT.items()}
        assert page.locator(f'.card[data-item-id="{made["owner"]}"]').evaluate("(el) => getComputedStyle(el).opacity") < "1"
        order = page.evaluate("() => [...document.querySelectorAll('#findings-list > *')].map((el) => el.dataset.itemId || el.id)")
        assert order.index("findings-removed-group") == order.index(made["owner"]) - 1
        # sections marked in the list: changed / new / renamed; the unchanged text not "changed"
        marks = page.evaluate("() => Object.fromEntries([...document.querySelectorAll('#section-list .section-row')]"
                              ".map((r) => [r.querySelector('.section-name').textContent, r.dataset.change]))")
        assert marks == {"Summary": "changed", "Sequence of events": "renamed", "Root cause": "changed", "Lessons": "added"}
        assert page.locator("#section-list .change-badge").all_text_contents() == ["Changed", "Renamed", "Changed", "New"]
        assert page.locator(".section-text b").count() == 0 and LESSONS in page.locator("#doc-body").text_content()

    # 3. The Changes view: it opened in the uploader's tab; a word diff per changed section.
    ann.wait_for_selector("#changes-dialog[open]")
    dlg = ann.locator("#changes-dialog")
    summary = dlg.locator(f'.change-section[data-section-id="{v2["Summary"]["id"]}"]')
    assert summary.locator("del").all_text_contents() == ["two"]
    assert summary.locator("ins").all_text_contents() == ["five"]
    cause = dlg.locator(f'.change-section[data-section-id="{v2["Root cause"]["id"]}"]')
    assert cause.locator("del").all_text_contents() == ["early."]
    assert cause.locator("ins").all_text_contents() == ["before the inspection."]
    lessons = dlg.locator(f'.change-section[data-section-id="{v2["Lessons"]["id"]}"]')
    assert lessons.locator("ins").all_text_contents() == [LESSONS] and dlg.locator("b").count() == 0  # text, not HTML
    renamed = dlg.locator(f'.change-section[data-section-id="{v2["Sequence of events"]["id"]}"]')
    assert "Renamed from “Timeline”" in renamed.text_content() and renamed.locator("del, ins").count() == 0
    removed = dlg.locator(f'.change-removed[data-section-id="{sec["Actions"]}"]')
    assert "Actions" in removed.text_content() and removed.locator("del").text_content() == ACTIONS
    assert dlg.locator(".version-entry").count() == 2
    assert dlg.locator("#analyze-changed").text_content() == "Analyze changed sections (3)"
    ann.screenshot(path=f"{SHOTS}/redline-versions-changes.png")
    removed.scroll_into_view_if_needed()
    ann.screenshot(path=f"{SHOTS}/redline-versions-removed.png")

    # The other tab opens it from the round bar, and filters the findings by resolution.
    bo.screenshot(path=f"{SHOTS}/redline-versions.png")
    bo.click('.fchip-resolution[data-value="outdated"]')
    wait_js(bo, "() => document.querySelectorAll('#findings-list .card').length === 1")
    assert bo.locator("#findings-list .card").get_attribute("data-item-id") == made["owner"]
    bo.click("#clear-filters")
    wait_js(bo, "() => document.querySelectorAll('#findings-list .card').length === 4")

    # 4. 390 px wide: the header, the round bar and the Changes view fit.
    bo.set_viewport_size(PHONE)
    wait_js(bo, "() => document.querySelector('#round-bar').getBoundingClientRect().width <= 390")
    assert not (o := overflow(bo)), o
    assert bo.locator("#new-version").is_visible() and bo.locator("#show-changes").is_visible()
    bo.screenshot(path=f"{SHOTS}/redline-versions-phone.png")
    bo.click("#show-changes")
    bo.wait_for_selector("#changes-dialog[open] .change-section")
    assert not (o := overflow(bo)), o
    bo.screenshot(path=f"{SHOTS}/redline-versions-changes-phone.png")
    bo.keyboard.press("Escape")
    bo.click("#tab-findings")
    bo.locator("#findings-removed-group").scroll_into_view_if_needed()
    assert not (o := overflow(bo)), o
    bo.screenshot(path=f"{SHOTS}/redline-versions-findings-phone.png")

    # 5. "Analyze changed sections" queues only the changed and the new ones (one analyze op).
    dlg.locator("#analyze-changed").click()
    for page in (ann, bo):
        queued = wait_js(page, "(n) => { const ids = Object.values(window.redline.state.jobs)"
                               ".filter((j) => j.kind === 'analyze').map((j) => j.section_id);"
                               " return ids.length === n && ids; }", len(changed))
        assert set(queued) == changed
    wait_js(ann, "(ids) => window.redline.state.sections.filter((s) => ids.includes(s.id))"
                 ".every((s) => s.status === 'done')", sorted(changed), timeout=30)
    assert ann.evaluate("(id) => window.redline.state.sections.find((s) => s.id === id).status",
                        v2["Sequence of events"]["id"]) == "idle"

    # 6. Findings raised now count as new, live in both tabs and after a reload.
    new_items = ann.evaluate("() => window.redline.state.items.filter((i) => !i.resolution).length")
    r = httpx.post(f"{server}/api/reviews/{rid}/items", headers=auth, timeout=10, json={
        "section_id": v2["Lessons"]["id"], "description": "Say who cleans.", "quote": "strainer", "author": "Bo"})
    assert r.status_code == 201, r.text
    want = ROUND.replace("0 new", f"{new_items + 1} new")
    for page in (ann, bo):
        wait_js(page, "(t) => document.querySelector('#round-summary').textContent === t", want)
        assert page.locator(f'.card[data-item-id="{r.json()["item"]["id"]}"] .res-badge').text_content() == "New"
    bo.reload()
    bo.wait_for_selector("body[data-ready=true]")
    wait_js(bo, "(t) => document.querySelector('#round-summary').textContent === t", want)
    assert resolutions(bo, made) == {k: v.capitalize() for k, v in WANT.items()}
    assert ann.errors == [] and bo.errors == []
    for page in (ann, bo):
        page.context.close()

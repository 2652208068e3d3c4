"""A Markdown write-up in the document pane, in a real Chromium (issue 13).

The section text is plain text; the formatting comes from the section's marks and is drawn over
the same characters, so no Markdown syntax shows, raw HTML stays text, and a finding's quote is
still highlighted on exactly its characters. The page keeps its CSP: waits use function forms.
"""

from __future__ import annotations

import httpx
import pytest

from tests.browser_helpers import browser, snapshot, upload, wait_js  # noqa: F401 (browser: a fixture)

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")

REPORT_MD = """# Hub outage on 13 March

## Summary

The **hub pod** was stuck on a lost node; `kubectl delete` did not help.<br>See [the Gitter log](https://gitter.im/jupyterhub/binder) and *the dashboard*.

<script>window.__pwned = 1</script>

A raw image: <img src=x onerror="window.__pwned = 2"> stays text, and so does
[a bad link](javascript:window.__pwned=3).

Written by: Sen Lu  
Last modified: 2019-02-08

## Timeline

All times in CET.

### 2018-03-13 07:28

* launch success rate at **zero**
* pods in state `Unknown`

### 07:33

| Node | Action |
|------|--------|
| `n2sk` | cordoned |

> We assumed the node would recover.

## Action items

1. Alert on the **launch success rate**
2. Document the PVC recovery
"""


def test_markdown_write_up_renders_formatting_safely_and_quotes_still_highlight(server, browser):
    review = upload(server, filename="hub.md", data=REPORT_MD.encode())
    sections = snapshot(server, review)["sections"]
    assert any(s.get("marks") for s in sections), "the sections keep their formatting marks"
    by_title = {s["title"]: s for s in sections}
    assert list(by_title) == ["Summary", "Timeline", "Action items"]  # the dated entries are one section
    summary = by_title["Summary"]
    assert "**" not in summary["text"] and "<br>" not in summary["text"]

    # A reviewer's finding whose quote runs across bold, code and plain text.
    quote = "The hub pod was stuck on a lost node; kubectl delete did not help."
    assert quote in summary["text"]
    r = httpx.post(f"{server}/api/reviews/{review['review_id']}/items",
                   headers={"Authorization": f"Bearer {review['token']}"},
                   json={"section_id": summary["id"], "description": "Which node?", "quote": quote}, timeout=10)
    assert r.status_code in (200, 201), r.text
    item_id = r.json()["id"] if "id" in r.json() else r.json()["item"]["id"]

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        path, frag = review["url"].split("#", 1)
        page.goto(f"{server}{path}#{frag}")
        page.wait_for_selector("body[data-ready=true]", timeout=15000)
        page.wait_for_selector(f'.card[data-item-id="{item_id}"]', timeout=15000)

        pane = page.inner_text("#doc-body")
        for literal in ("**", "`", "<br>", "[the Gitter log]", "](https", "### ", "| Node"):
            assert literal not in pane, literal
        assert "[a bad link](javascript:window.__pwned=3)" in pane  # not a link: shown as written
        # raw HTML other than <br> is shown as text, never run
        assert "<script>window.__pwned = 1</script>" in pane
        assert '<img src=x onerror="window.__pwned = 2">' in pane
        assert page.evaluate("() => window.__pwned === undefined")
        assert page.evaluate("() => document.querySelectorAll('#doc-body img, #doc-body script, "
                             "#doc-body a[href^=javascript]').length") == 0
        assert dialogs == [] and errors == []

        # the formatting is drawn: bold, code, links, lists, a table, a quote, the timeline's entries
        text_box = f'.section-text[data-section-id="{summary["id"]}"]'
        assert page.locator(f"{text_box} strong", has_text="hub pod").count() >= 1
        assert page.locator(f"{text_box} code", has_text="kubectl delete").count() >= 1
        link = page.locator(f'{text_box} a[href="https://gitter.im/jupyterhub/binder"]')
        assert link.count() == 1 and link.inner_text() == "the Gitter log"
        assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")
        timeline = f'.section-text[data-section-id="{by_title["Timeline"]["id"]}"]'
        assert page.locator(f"{timeline} .md-h").all_inner_texts() == ["2018-03-13 07:28", "07:33"]
        assert page.locator(f"{timeline} ul > li").count() == 2
        assert page.locator(f"{timeline} table td").all_inner_texts() == ["n2sk", "cordoned"]
        assert page.locator(f"{timeline} blockquote").inner_text().strip() == "We assumed the node would recover."
        actions = f'.section-text[data-section-id="{by_title["Action items"]["id"]}"]'
        assert page.locator(f"{actions} ol > li").count() == 2

        # the DOM holds the section text, character for character (offsets in the page are offsets
        # in the text), with the source's line wraps inside a paragraph shown as spaces
        for s in sections:
            dom_text = page.evaluate(
                """(sid) => { const box = document.querySelector(`.section-text[data-section-id="${sid}"]`);
                              const r = document.createRange(); r.selectNodeContents(box); return r.toString(); }""",
                s["id"])
            assert dom_text == shown(s), s["title"]
        # a wrapped line reads as one line, as Markdown shows it; a hard break ("  " at the end) stays
        shown_text = page.locator(text_box).inner_text()
        assert "stays text, and so does [a bad link](javascript:window.__pwned=3)." in shown_text
        assert "Written by: Sen Lu\nLast modified: 2019-02-08" in shown_text
        assert "stays text, and so does\n" in summary["text"]  # the reviewers still read the author's lines

        # clicking the finding highlights exactly its quote
        page.click(f'.card[data-item-id="{item_id}"] .card-quote')
        wait_js(page, "(id) => document.querySelectorAll('#doc-body mark.is-active').length > 0", item_id)
        highlighted = page.evaluate(
            """(id) => [...document.querySelectorAll('#doc-body mark[data-items]')]
                 .filter(m => m.dataset.items.split(' ').includes(id)).map(m => m.textContent).join('')""", item_id)
        assert highlighted == quote
        assert page.evaluate("() => [...document.querySelectorAll('#doc-body mark.is-active')]"
                             ".every(m => m.closest('.section-text'))")
        # the highlight inside the bold text is a finding's mark too (clicking it selects the finding)
        assert page.locator(f"{text_box} strong mark[data-items]").count() >= 1
        assert page.locator(f"{text_box} code mark[data-items]").count() >= 1
    finally:
        context.close()


def shown(section: dict) -> str:
    """The section's text as the page holds it: each soft line break (a "soft" mark) as a space."""
    text = list(section["text"])
    for start, end, kind, *_ in section.get("marks") or []:
        if kind == "soft":
            text[start] = " "
    return "".join(text)


def test_rendered_text_is_the_section_text_for_many_shapes(server, browser):
    """renderMarked keeps every character, in order, for random Markdown (and random highlights);
    only a soft line break is shown as a space."""
    import random

    from redline.jobs.documents import parse_document

    rng = random.Random(13)
    atoms = ["*", "**", "_", "`", "[a](https://x.org)", "[b](javascript:x)", "<br>", "<img src=x>", "\n", "\n\n",
             "- ", "1. ", "  - ", "> ", "### 07:33\n", "| a | b |\n|---|---|\n| c | d |\n", "word ", "x", "~~s~~",
             "```\ncode\n```\n", "&lt;", "\\*"]
    cases = []
    for _ in range(150):
        src = "## S\n\n" + "".join(rng.choice(atoms) for _ in range(rng.randint(1, 60)))
        for s in parse_document("f.md", src.encode(), max_bytes=1 << 20).sections:
            cuts = sorted(rng.sample(range(len(s.text) + 1), min(4, len(s.text) + 1)))
            cases.append({"text": s.text, "marks": s.marks, "cuts": cuts,
                          "shown": shown({"text": s.text, "marks": s.marks})})
    context = browser.new_context()
    page = context.new_page()
    try:
        review = upload(server, filename="one.md", data=b"## One\n\nText.\n")
        path, frag = review["url"].split("#", 1)
        page.goto(f"{server}{path}#{frag}")
        page.wait_for_selector("body[data-ready=true]", timeout=15000)
        bad = page.evaluate("""async (cases) => {
            const { renderMarked } = await import("/static/js/markdown.js");
            const bad = [];
            for (const c of cases) {
              const points = [...new Set([0, ...c.cuts, c.text.length])].sort((a, b) => a - b);
              const runs = [];
              for (let i = 0; i + 1 < points.length; i++) {
                if (points[i + 1] > points[i]) runs.push({ start: points[i], end: points[i + 1], items: i % 2 ? [{ id: "x" }] : [], ref: false });
              }
              const decorate = (node, run) => {
                if (!run.items.length) return node;
                const m = document.createElement("mark"); m.appendChild(node); return m;
              };
              const box = document.createElement("div");
              box.appendChild(renderMarked(c.text, c.marks, runs, decorate));
              const r = document.createRange(); r.selectNodeContents(box);
              if (r.toString() !== c.shown || box.querySelector("script, img, a[href^=javascript]")) bad.push(c.text);
            }
            return bad;
        }""", cases)
        assert bad == []
    finally:
        context.close()


def word_section(server, browser, document, filename: str):
    """Upload a one-section python-docx document and open its review: the section as the server
    holds it, its text box on the page, and the browser context (the caller closes it)."""
    import io

    buffer = io.BytesIO()
    document.save(buffer)
    review = upload(server, filename=filename, data=buffer.getvalue())
    (section,) = snapshot(server, review)["sections"]
    context = browser.new_context()
    page = context.new_page()
    path, frag = review["url"].split("#", 1)
    page.goto(f"{server}{path}#{frag}")
    page.wait_for_selector("body[data-ready=true]", timeout=15000)
    return section, page.locator(f'.section-text[data-section-id="{section["id"]}"]'), context


def test_a_word_upload_with_links_shows_all_its_text_and_its_links(server, browser):
    """A Word upload's sections carry their links' addresses as "link" marks and no block marks:
    the page draws their text as written (drawn as Markdown, every character outside a block would
    be hidden as syntax), and its web links as links, so a reviewer can open the issue an action
    names; an address that is not a web one stays text."""
    import docx

    from tests.test_documents import _add_link

    document = docx.Document()
    document.add_heading("Action items", 1)
    item = document.add_paragraph("Diagnose the original ")
    _add_link(item, "issue", "https://github.com/jupyterhub/binderhub/issues/140")
    item.add_run(", which still has not been identified.")
    document.add_paragraph("1.")  # a paragraph of list-marker characters only: shown, not hidden as syntax
    other = document.add_paragraph("See ")
    _add_link(other, "this", "javascript:window.__pwned=1")
    section, box, context = word_section(server, browser, document, "links.docx")
    assert [m[2] for m in section["marks"]] == ["link"]
    try:
        assert box.inner_text().strip() == ("Diagnose the original issue, which still has not been identified."
                                            "\n\n1.\n\nSee this")
        link = box.locator("a")
        assert link.count() == 1 and link.inner_text() == "issue"
        assert link.get_attribute("href") == "https://github.com/jupyterhub/binderhub/issues/140"
        assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")
        assert box.locator(".md-syn").count() == 0 and not box.evaluate("el => el.classList.contains('is-marked')")
    finally:
        context.close()


def test_a_word_upload_with_a_code_block_shows_its_columns_and_all_its_text(server, browser):
    """A log pasted into Word in Consolas is drawn as code, its columns as written; the paragraphs
    around it are shown as written, a paragraph of list-marker characters included (drawn as
    Markdown it would be hidden as syntax), and its link still opens."""
    import docx

    from tests.test_documents import _add_link

    document = docx.Document()
    document.add_heading("Timeline", 1)
    document.add_paragraph("16:11 Mount errors on build pods:")
    for line in ("Events:", "  Type     Reason        Age", "  Warning  FailedMount   4m"):
        document.add_paragraph().add_run(line).font.name = "Consolas"
    document.add_paragraph("1.")
    item = document.add_paragraph("17:21 Cluster resized, see the ")
    _add_link(item, "issue", "https://github.com/jupyterhub/mybinder.org-deploy/issues/528")
    section, box, context = word_section(server, browser, document, "log.docx")
    assert sorted(m[2] for m in section["marks"]) == ["link", "pre"]
    try:
        code = box.locator("pre.md-pre")
        assert code.count() == 1
        assert code.inner_text() == "Events:\n  Type     Reason        Age\n  Warning  FailedMount   4m"
        assert code.evaluate("el => getComputedStyle(el).fontFamily").lower().find("mono") >= 0
        shown = box.inner_text()
        assert shown.startswith("16:11 Mount errors on build pods:") and "\n1.\n" in shown
        assert shown.rstrip().endswith("17:21 Cluster resized, see the issue")
        assert box.locator("a").get_attribute("href") == "https://github.com/jupyterhub/mybinder.org-deploy/issues/528"
        assert box.locator(".md-syn:not([hidden])").count() == 0
    finally:
        context.close()


def test_a_word_heading_over_sub_sections_is_their_heading_not_an_empty_section(server, browser):
    """Word keeps a heading over only sub-headings ("Action items" over "BinderHub") as a section
    of its own with no text. The page draws it as the heading of the sections below it, not as a
    card saying it has no text; a heading left empty with nothing under it still says so."""
    import io

    import docx

    document = docx.Document()
    document.add_heading("Summary", 1)
    document.add_paragraph("The hub was down for an hour.")
    document.add_heading("Action items", 1)
    document.add_heading("BinderHub", 2)
    document.add_paragraph("Alert on the launch success rate (owner: Min, due 2018-04-01).")
    document.add_heading("Lessons", 1)
    buffer = io.BytesIO()
    document.save(buffer)
    review = upload(server, filename="outline.docx", data=buffer.getvalue())
    sections = {s["title"]: s for s in snapshot(server, review)["sections"]}
    assert sections["Action items"]["text"] == "" and sections["Lessons"]["text"] == ""
    assert sections["BinderHub"]["level"] > sections["Action items"]["level"]
    context = browser.new_context()
    page = context.new_page()
    try:
        path, frag = review["url"].split("#", 1)
        page.goto(f"{server}{path}#{frag}")
        page.wait_for_selector("body[data-ready=true]", timeout=15000)

        def article(title: str):
            return page.locator(f'article.doc-section[data-section-id="{sections[title]["id"]}"]')

        wait_js(page, "id => document.querySelector(`article.doc-section[data-section-id='${id}']`)",
                sections["Lessons"]["id"])
        assert article("Action items").locator(".empty-text").count() == 0
        assert "is-group" in article("Action items").get_attribute("class")
        assert article("Lessons").locator(".empty-text").inner_text() == "This section has no text."
        assert "is-group" not in article("Lessons").get_attribute("class")
        assert article("BinderHub").inner_text().count("Alert on the launch success rate") == 1
    finally:
        context.close()


def test_a_word_quotation_is_drawn_as_the_plain_text_it_is(server, browser):
    """A "Quote" paragraph carries a "cite" mark (the rules read it as someone's words): the page
    draws the section as a Word upload's plain text, every character shown, not as Markdown."""
    import docx

    document = docx.Document()
    document.add_heading("Details", 1)
    document.add_paragraph("The reporter wrote:")
    document.add_paragraph("- I was removed from a organization team.", style="Quote")
    section, box, context = word_section(server, browser, document, "quote.docx")
    assert [m[2] for m in section["marks"]] == ["cite"]
    try:
        assert box.inner_text().strip() == "The reporter wrote:\n\n- I was removed from a organization team."
        assert not box.evaluate("el => el.classList.contains('is-marked')")
    finally:
        context.close()

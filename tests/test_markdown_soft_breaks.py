"""A Markdown paragraph wrapped at a fixed width in its source reads as one paragraph: the page
and the Word export show each wrap as a space, as Markdown does, and a hard break (two spaces
at the end of a line, or <br>) stays a line break. The section text keeps the author's lines,
which is what the reviewers read and quote.

Found as a newcomer on a real post-mortem (Kubernetes Prow, 2019-02-08, wrapped at 100
columns): the document pane and the .docx broke every sentence where the source wrapped it."""

from __future__ import annotations

import io

import docx

from redline.jobs.documents import parse_document
from redline.jobs.export import export_docx
from redline.jobs.models import Item
from tests.samples import review_sections

WRAPPED = """## Summary

Prow was scheduling test jobs onto the service cluster,
which causes these jobs not finishing, and the
service cluster running out of resources.

Created By: Sen Lu  
Last Modified: 2019-02-08
"""


def soft_breaks(section) -> list[int]:
    return [m[0] for m in section.marks if m[2] == "soft"]


def test_each_wrap_in_a_paragraph_is_marked_soft_and_a_hard_break_is_not():
    # a plain paragraph (the parser's fast path) and one with inline Markdown (markdown-it's path)
    for source in (WRAPPED, WRAPPED.replace("service cluster,", "**service** cluster,")):
        (s,) = parse_document("w.md", source.encode(), max_bytes=1 << 20).sections
        assert s.text.count("\n") >= 4  # the text keeps the author's lines
        wraps = [s.text.index("cluster,\n") + len("cluster,"), s.text.index("the\nservice") + len("the")]
        assert soft_breaks(s) == wraps, source
        assert s.text.index("Sen Lu\nLast") + len("Sen Lu") not in soft_breaks(s)


def test_soft_breaks_in_list_items_and_quotes():
    source = "## Timeline\n\n* [13:20] The bump PR is merged, triggering a deploy.\n  And Prow starts to schedule.\n\n> We assumed the node\n> would recover.\n"
    (s,) = parse_document("t.md", source.encode(), max_bytes=1 << 20).sections
    for at in soft_breaks(s):
        assert s.text[at] == "\n"
    assert len(soft_breaks(s)) == 2, (s.text, s.marks)


def test_the_word_export_writes_a_wrapped_paragraph_as_one_line_and_anchors_a_quote_across_a_wrap():
    (section,) = review_sections("w.md", WRAPPED)
    quote = "onto the service cluster,\nwhich causes these jobs not finishing"
    assert quote in section.text
    item = Item(id="i1", section_id="s1", source="user", type="important", category="Clarity", risk="low",
                description="Which jobs?", quote=quote)
    document = docx.Document(io.BytesIO(export_docx(items=[item], sections=[section], title="Prow")))
    texts = [p.text for p in document.paragraphs]
    assert ("Prow was scheduling test jobs onto the service cluster, which causes these jobs not finishing, "
            "and the service cluster running out of resources.") in texts
    assert "Created By: Sen Lu\nLast Modified: 2019-02-08" in texts  # python-docx reads a w:br as "\n"
    commented = "".join(t.text or "" for t in document.element.body.iter(docx.oxml.ns.qn("w:t"))
                        if _inside_comment(t))
    assert commented == "onto the service cluster, which causes these jobs not finishing"


def _inside_comment(t) -> bool:
    """Is this w:t between a w:commentRangeStart and its w:commentRangeEnd (in document order)?"""
    body = t.getroottree().getroot()
    inside = False
    for el in body.iter():
        if el.tag == docx.oxml.ns.qn("w:commentRangeStart"):
            inside = True
        elif el.tag == docx.oxml.ns.qn("w:commentRangeEnd"):
            inside = False
        elif el is t:
            return inside
    return False


WRAPPED_TIMELINE = """## Timeline

All times in UTC.

- 2025-04-14 17:02 UTC
    PyPI Security acknowledges reciept of the report,
    and starts to look into it.
- 2025-04-14 17:22 UTC
    PyPI Security validates the report as a true finding and fixes the
    the bug.
"""


async def test_the_offline_reviewer_reads_wrapped_lines_as_one_and_quotes_the_text_as_written():
    """The rules read a Markdown item whose text the source wrapped as one line (its entry and
    its words together), and every quote they make is the section text's own characters."""
    from redline.jobs.reviewers.base import AnalysisRequest, ChatRequest
    from redline.jobs.reviewers.offline_reviewer import OfflineReviewer
    from redline.jobs.settings import Settings

    sections = review_sections("t.md", WRAPPED_TIMELINE)
    (timeline,) = sections
    assert "17:02 UTC\nPyPI Security acknowledges reciept of the report,\nand" in timeline.text
    reviewer = OfflineReviewer(Settings(offline_pace_ms=0))
    try:
        found = [x async for x in reviewer.analyze(AnalysisRequest("Leak", timeline, [timeline.title], sections=sections))
                 if hasattr(x, "quote")]
        typo = [f for f in found if f.category == "spelling"]
        assert [f.quote for f in typo] == ["PyPI Security acknowledges reciept of the report,"]
        # "fixes the" / "the bug." on two source lines: one line to a reader, and a doubled word
        doubled = [f for f in found if f.category == "spelling: doubled word"]
        assert [f.quote for f in doubled] == ["the\nthe"]  # quoted as the text has it
        assert all(f.quote is None or f.quote in timeline.text for f in found)
        answer = "".join([x async for x in reviewer.chat(
            ChatRequest("Leak", "when did PyPI Security acknowledge the report?", sections)) if isinstance(x, str)])
        assert "2025-04-14 17:02 UTC PyPI Security acknowledges reciept of the report, and starts" in answer
    finally:
        await reviewer.aclose()


def test_the_whole_document_rules_quote_an_entry_across_a_wrap_as_written():
    """PyPI's account takeover report wraps a timeline entry ("- 14:44 PyPI Admins discuss options ...
    \\n  with two other PyPI Admins"), listed after 14:46: the order finding must survive, its quote the
    text's own characters (it was dropped, read with a space, not found in the text as written)."""
    from redline.jobs.reviewers import consistency

    source = ("## Timeline\n\nAll times in UTC\n\n- 14:33 An email arrives from the user\n"
              "- 14:46 A PyPI Admin responds\n- 14:44 PyPI Admins discuss options in the Slack channel\n"
              "  with two other PyPI Admins\n- 15:53 PyPI Admins close the incident\n")
    (timeline,) = sections = review_sections("t.md", source)
    found = [f for f in consistency.document_findings(sections)[timeline.id] if f.category == "timeline order"]
    assert [f.quote for f in found] == ["- 14:44 PyPI Admins discuss options in the Slack channel\nwith two other "
                                        "PyPI Admins"]
    assert found[0].quote in timeline.text and found[0].related_quote == "- 14:46 A PyPI Admin responds"


def test_a_timeline_typed_one_entry_a_line_keeps_its_lines():
    """Students' post-mortems (ALX, not in the corpus) type a timeline as plain lines with no list
    marks: "10:05 AM Sitewide update deployed" / "10:07 AM Error logs checked", or "June 7th, 2024,
    13:00 (UTC): ..." lines, and fields a line ("Duration: ..." / "Impact: ..."). Each line is an
    entry, not a wrap (Markdown would run them into one line); a wrap that happens to put a time at
    a line's start is still a wrap."""
    source = ("## Timeline\n\nAll times are WAT:\nDuration: From 6:00 PM to 8:00 PM\nImpact: 80% of users are "
              "affected.\n-Implement code reviews\n10:05 AM Sitewide update deployed; outage begins\n"
              "10:07 AM Error logs checked by DevOps team\nJune 7th, 2024, 13:00 (UTC): Issue detected.\n"
              "June 7th, 2024, 13:15 (UTC): Investigation began.\n\nThe alarm sounded at\n14:05 and the operator "
              "answered it.\n")
    for md in (source, source.replace("deployed;", "**deployed**;")):  # the fast path and markdown-it's
        (s,) = parse_document("t.md", md.encode(), max_bytes=1 << 20).sections
        assert soft_breaks(s) == [s.text.index("at\n14:05") + 2], md


def test_actions_typed_one_a_line_without_full_stops_keep_their_lines():
    """Students' post-mortems (ALX, not in the corpus) type their measures one a line with no list
    marks and no full stops ("Modifying configuration files to increase max open files at times" /
    "Test before deploying to production"): each line is an action, not a wrap, so the rules and the
    chat read three actions, not one run-on sentence. A wrap that happens to open a line with a verb
    is still a wrap: after a line that is not an action, or one that runs on (",")."""
    source = ("## Corrective and Preventative Measures\n\n"
              "Modifying configuration files to increase max open files at times\n"
              "Test before deploying to production\nAdd monitoring on open file descriptors\n\n"
              "The on-call engineer decided that we should\nUpdate the runbook later.\n\n"
              "Add a check for the limit,\nUpdate the dashboards and alerts.\n\n"
              "Add a disk monitor\nTest the alerts weekly\n")  # "monitor" ends in "or": no run-on
    (s,) = parse_document("t.md", source.encode(), max_bytes=1 << 20).sections
    assert soft_breaks(s) == [s.text.index("should\nUpdate") + 6, s.text.index("limit,\nUpdate") + 6]

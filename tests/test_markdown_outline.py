"""Markdown read as Markdown (issue 13): plain section text plus formatting marks, and outlines
as a reviewer reads them (groups, timelines of dated sub-headings, stable section keys).

The model (jobs/documents/marks.py, "The text/format model"): ``ParsedSection.text`` is the readable
plain text that findings quote; ``ParsedSection.marks`` is ``[start, end, kind, attr]`` over it.
"""

from __future__ import annotations


from redline.jobs.documents import ParsedDocument, ParsedSection, parse_document

MB = 1 << 20


def parse(text: str, name: str = "r.md") -> ParsedDocument:
    return parse_document(name, text.encode(), max_bytes=4 * MB)


def marked(section: ParsedSection, kind: str) -> list[str]:
    """The text under each mark of `kind`, in order."""
    return [section.text[start:end] for start, end, k, _ in section.marks if k == kind]


def attrs(section: ParsedSection, kind: str) -> list[tuple[str, str]]:
    return [(section.text[start:end], attr) for start, end, k, attr in section.marks if k == kind]


def check_marks(doc: ParsedDocument) -> None:
    for section in doc.sections:
        for mark in section.marks:
            start, end, kind, attr = mark
            assert isinstance(kind, str) and isinstance(attr, str)
            assert 0 <= start < end <= len(section.text), (section.title, mark)


# ------------------------------------------------------------------ inline formatting


def test_inline_markup_is_plain_text_with_marks() -> None:
    doc = parse("## Summary\n\nThe **pump** failed; `systemctl restart` ran, _twice_. See "
                "[the log](https://example.org/log?a=1&b=2) and <mailto:ops@example.org>.<br>Next line.\n")
    check_marks(doc)
    section = doc.sections[0]
    assert section.text == ("The pump failed; systemctl restart ran, twice. See the log and mailto:ops@example.org.\n"
                            "Next line.")
    assert marked(section, "strong") == ["pump"]
    assert marked(section, "code") == ["systemctl restart"]
    assert marked(section, "em") == ["twice"]
    assert attrs(section, "link") == [("the log", "https://example.org/log?a=1&b=2"),
                                      ("mailto:ops@example.org", "mailto:ops@example.org")]
    for literal in ("**", "`", "<br>", "](", "_twice_"):
        assert literal not in section.text


def test_unsafe_links_and_raw_html_stay_text() -> None:
    doc = parse("## Notes\n\n[click](javascript:alert(1)) <img src=x onerror=alert(1)> "
                "<a href=\"javascript:alert(2)\">x</a>\n\n<script>alert(3)</script>\n")
    section = doc.sections[0]
    assert "<img src=x onerror=alert(1)>" in section.text
    assert '<a href="javascript:alert(2)">x</a>' in section.text
    assert "<script>alert(3)</script>" in section.text
    assert "[click](javascript:alert(1))" in section.text  # not a link: shown as written
    assert attrs(section, "link") == []


def test_br_variants_become_line_breaks() -> None:
    doc = parse("## T\n\none<br>two<BR/>three<br />four\n\n| a | b<br>c |\n|---|---|\n| 1 | 2 |\n")
    text = doc.sections[0].text
    assert text.startswith("one\ntwo\nthree\nfour")
    assert "<br" not in text.lower()
    assert "a | b c" in text  # a table cell stays on its row


# ------------------------------------------------------------------ blocks


def test_lists_tables_quotes_and_code_as_lines_with_block_marks() -> None:
    md = ("## Actions\n\n* first **bold**\n* second\n    1. nested one\n    2. nested two\n\n"
          "3. three\n4. four\n\n| Time | Event |\n|------|-------|\n| 02:10 | `alarm` |\n\n"
          "> a quote\n> continues\n\n```\ncode  line\n```\n")
    doc = parse(md)
    check_marks(doc)
    section = doc.sections[0]
    assert section.text == ("- first bold\n- second\n1. nested one\n2. nested two\n\n3. three\n4. four\n\n"
                            "Time | Event\n02:10 | alarm\n\n> a quote\n> continues\n\ncode  line")
    assert attrs(section, "li") == [("first bold", "ul 0"), ("second", "ul 0"), ("nested one", "ol 1 1"),
                                    ("nested two", "ol 1 2"), ("three", "ol 0 3"), ("four", "ol 0 4")]
    assert marked(section, "table") == ["Time | Event\n02:10 | alarm"]
    assert marked(section, "tr") == ["Time | Event", "02:10 | alarm"]
    assert marked(section, "th") == ["Time", "Event"] and marked(section, "td") == ["02:10", "alarm"]
    assert marked(section, "code") == ["alarm"]
    assert marked(section, "quote") == ["> a quote\n> continues"]
    assert marked(section, "pre") == ["code  line"]


def test_a_code_block_keeps_its_indentation_and_columns() -> None:
    # mybinder.org 2018-03-31: `kubectl describe` events, whose columns only line up as written
    md = ("## Timeline\n\n16:11  Mount   errors on build pods:\n\n```\nEvents:\n  Type     Reason   Age\n"
          "  ----     ------   ---\n  Warning  Failed\tMount  4m   \n\n\n\n  Normal   Pulled   5m\n```\n\n"
          "    indented:\n      yaml: true\n\nAfter  the block.\n")
    doc = parse(md)
    check_marks(doc)
    section = doc.sections[0]
    assert marked(section, "pre") == [
        "Events:\n  Type     Reason   Age\n  ----     ------   ---\n  Warning  Failed   Mount  4m\n\n"
        "  Normal   Pulled   5m",
        "indented:\n  yaml: true"]
    # prose around it is tidied as before
    assert section.text.startswith("16:11 Mount errors on build pods:\n\nEvents:") and \
        section.text.endswith("\n\nAfter the block.")


def test_pipe_rows_without_a_delimiter_row_stay_as_written() -> None:
    doc = parse("## Timeline\n\n02:10 | alarm\n02:15 | pump stopped\n")
    assert doc.sections[0].text == "02:10 | alarm\n02:15 | pump stopped"


def test_text_is_stable_and_quotes_are_exact() -> None:
    md = "# Report\n\n## Summary\n\nThe **seal** wore out; see [ticket](https://t.example/1).\n\n- a `b`\n"
    first, second = parse(md), parse(md)
    assert [(s.title, s.text, s.marks, s.key) for s in first.sections] == \
           [(s.title, s.text, s.marks, s.key) for s in second.sections]
    summary = first.sections[0]
    quote = "The seal wore out; see ticket."
    assert quote in summary.text  # what a reviewer quotes is an exact substring


def test_heading_titles_lose_inline_markup() -> None:
    doc = parse("## Root `cause` and **impact**\n\nText.\n\n## [Actions](https://x.org)\n\nMore.\n")
    assert [s.title for s in doc.sections] == ["Root cause and impact", "Actions"]


# ------------------------------------------------------------------ outline


def test_parent_with_only_sub_headings_is_not_an_empty_section() -> None:
    md = ("# Incident\n\n## Summary\n\nThe hub was down.\n\n## Analysis\n\n### Root cause\n\nA worn seal.\n\n"
          "### Contributing factors\n\nNo inspection.\n")
    doc = parse(md)
    assert [(s.title, s.level) for s in doc.sections] == [
        ("Summary", 1), ("Analysis", 1), ("Contributing factors", 2)]
    analysis = doc.sections[1]
    assert analysis.text == "Root cause\n\nA worn seal."  # the first sub-heading, shown inside
    assert attrs(analysis, "h") == [("Root cause", "3")]
    assert all(s.text.strip() for s in doc.sections)  # nothing left for "This section is empty"


def test_nested_groups_fold_into_the_outer_heading() -> None:
    doc = parse("# Report\n\n## Intro\n\nText.\n\n## Part A\n\n### A.1\n\n#### A.1.a\n\nBody.\n\n### A.2\n\nMore.\n")
    assert [(s.title, s.text) for s in doc.sections][1:] == [("Part A", "A.1\n\nA.1.a\n\nBody."), ("A.2", "More.")]


def test_dated_timeline_sub_headings_are_one_section() -> None:
    md = ("# 2018-03-13, PVC for hub is locked\n\n## Summary\n\nThe hub was locked.\n\n## Timeline\n\n"
          "All times in CET\n\n### 2018-03-13 07:28\n\nProblem is identified\n\n* launch rate at zero\n\n"
          "### 07:33\n\nAttempts to cordon nodes.\n\n### 07:39\n\n* bhub can't talk to jhub\n\n"
          "## Lessons learnt\n\nMonitor the PVC.\n")
    doc = parse(md)
    assert [s.title for s in doc.sections] == ["Summary", "Timeline", "Lessons learnt"]
    timeline = doc.sections[1]
    assert timeline.text.startswith("All times in CET\n\n2018-03-13 07:28\n\nProblem is identified")
    assert marked(timeline, "h") == ["2018-03-13 07:28", "07:33", "07:39"]
    assert "- bhub can't talk to jhub" in timeline.text


def test_numbered_and_day_sub_headings_fold_but_named_ones_do_not() -> None:
    folded = parse("## Response\n\nIntro.\n\n### Day 1\n\nStarted.\n\n### Day 2\n\nFixed.\n")
    assert [s.title for s in folded.sections] == ["Response"]
    assert marked(folded.sections[0], "h") == ["Day 1", "Day 2"]
    named = parse("## Analysis\n\nIntro.\n\n### Root cause\n\nSeal.\n\n### Impact\n\nNone.\n")
    assert [s.title for s in named.sections] == ["Analysis", "Root cause", "Impact"]
    numbered_outline = parse("## 3 Analysis\n\nIntro.\n\n### 3.1 Data\n\nRows.\n\n### 3.2 Results\n\nOk.\n")
    assert [s.title for s in numbered_outline.sections] == ["3 Analysis", "3.1 Data", "3.2 Results"]


def test_title_heading_is_not_a_group_and_appears_once() -> None:
    doc = parse("# Pump report\n\n## Summary\n\nText.\n\n## Actions\n\n- Fix it.\n")
    assert doc.title == "Pump report"
    assert [s.title for s in doc.sections] == ["Summary", "Actions"]


# ------------------------------------------------------------------ keys


def test_section_keys_are_stable_and_follow_the_title_path() -> None:
    md = ("# Report\n\n## Summary\n\nA.\n\n## Analysis\n\nIntro.\n\n### Findings\n\nB.\n\n## Actions\n\nSome.\n\n"
          "### Findings\n\nC.\n\n## Summary\n\nAgain.\n")
    keys = [s.key for s in parse(md).sections]
    assert keys == [s.key for s in parse(md).sections]  # same document, same keys
    assert keys == ["summary", "analysis", "analysis_findings", "actions", "actions_findings", "summary__2"]
    # Editing one section's text leaves every key alone; adding a section keeps the others'.
    edited = parse(md.replace("Intro.", "Intro, rewritten.").replace("## Actions", "## Impact\n\nD.\n\n## Actions"))
    assert [s.key for s in edited.sections] == [
        "summary", "analysis", "analysis_findings", "impact", "actions", "actions_findings", "summary__2"]
    assert len(set(keys)) == len(keys)


def test_keys_for_other_formats_too() -> None:
    doc = parse_document("r.txt", b"Pump Report\n===========\n\nSummary\n\nThe pump failed.\n", max_bytes=MB)
    assert all(s.key for s in doc.sections)


# ------------------------------------------------------------------ bounds


def test_marks_survive_a_section_split_into_parts() -> None:
    from redline.jobs.documents import ParseLimits

    paragraph = "The **pump** failed and `x` ran. " * 40
    md = "## Findings\n\n" + "\n\n".join(paragraph.strip() for _ in range(12)) + "\n"
    doc = parse_document("r.md", md.encode(), max_bytes=MB, limits=ParseLimits(max_section_chars=5_000))
    assert len(doc.sections) > 1
    check_marks(doc)
    for section in doc.sections:
        assert set(marked(section, "strong")) == {"pump"} and set(marked(section, "code")) == {"x"}


def test_pathological_inline_markup_keeps_exact_marks() -> None:
    """Inputs that make naive inline parsers quadratic: parsed, with every mark inside its text.
    (Their time is a benchmark's business; markdown-it-py < 4.2 took 6-8 s on the first one.)"""
    for text in ("*a " * 60_000, "[" * 100_000 + "x", "`" * 100_000, "<br>" * 40_000, "**" + " " * 200_000 + "x**"):
        check_marks(parse("## T\n\n" + text))


# ------------------------------------------------------------------ through the child process


async def test_parse_upload_carries_marks_and_keys_from_the_child() -> None:
    from redline.jobs.parsing import parse_upload
    from redline.jobs.settings import Settings

    md = b"# R\n\n## Summary\n\nThe **pump** failed.\n\n## Timeline\n\n### 02:10\n\nAlarm.\n\n### 02:15\n\nStop.\n"
    doc = await parse_upload("r.md", md, max_bytes=MB, settings=Settings())
    direct = parse_document("r.md", md, max_bytes=MB)
    assert [(s.title, s.text, s.level, s.marks, s.key) for s in doc.sections] == \
           [(s.title, s.text, s.level, s.marks, s.key) for s in direct.sections]
    assert doc.sections[0].marks and doc.sections[0].key == "summary"
    # and they fit the Section model as stored and sent to the page
    from redline.jobs.models import Section

    section = Section(id="s1", title=doc.sections[0].title, index=0, text=doc.sections[0].text,
                      marks=doc.sections[0].marks)
    assert section.model_dump(mode="json")["marks"] == [[0, 16, "p", ""], [4, 8, "strong", ""]]


def test_html_heading_lines_are_sections_and_other_html_stays_text() -> None:
    """A README that centres its title and sections with HTML ('<h2 align="center">Timeline</h2>')
    is sectioned as its author wrote it; the heading's inner tags and entities are read as its
    words. HTML that only shapes text is still shown as written."""
    doc = parse('<h1 align="center">Postmortem: Web Stack Outage</h1>\n'
                '<p align="center"><img src="x.png"></p>\n\n'
                "<h2>Issue Summary</h2>\n\nOn June 9th 2024 our servers returned 500 errors.\n\n"
                "<H2><b>Root Cause</b> &amp; Resolution</H2>\n\nA typo in <i>wp-settings.php</i>.\n\n"
                "<h3>Corrective Measures</h3>\n- Add a test for the settings file.\n\n"
                "Some text with <h2>Not alone</h2> on its line.\n")
    assert doc.title == "Postmortem: Web Stack Outage"
    assert [s.title for s in doc.sections] == ["Postmortem: Web Stack Outage", "Issue Summary",
                                               "Root Cause & Resolution", "Corrective Measures"]
    assert doc.sections[0].text == '<p align="center"><img src="x.png"></p>'
    assert "<i>wp-settings.php</i>" in doc.sections[2].text
    assert marked(doc.sections[3], "li") == ["Add a test for the settings file."]  # a list, not HTML
    assert "<h2>Not alone</h2>" in doc.sections[3].text
    check_marks(doc)


def test_an_html_table_reads_row_by_row_as_a_word_table_does() -> None:
    """Red Hat Insights' post-mortem (pandoc's Markdown, not in the corpus) writes its timeline as an
    HTML <table>: the whole of it was shown as raw HTML, and the timeline read no entry. Its rows read
    as a Word table's do ("2:30 | Pete paged SRE"), blank rows dropped; the cells' tags and
    entities are read as words. HTML with words outside any cell is still shown as written."""
    doc = parse("## Timeline\n\n<table>\n<thead>\n<tr class=\"header\">\n<th><strong>Time (EST)</strong></th>\n"
                "<th><strong>Notes</strong></th>\n</tr>\n</thead>\n<tbody>\n<tr><td>2:30</td><td>Pete paged SRE"
                "</td></tr>\n<tr><td></td><td></td></tr>\n<tr><td>3:00</td><td>Mark ran <code>oc delete job</code> "
                "&amp; disabled<br />\nthe cronjob</td></tr>\n<tr><td>Perhaps set a policy</td><td></td></tr>\n"
                "</tbody>\n</table>\n\n## Notes\n\n<div>Some <b>raw</b> words <table><tr><td>x</td></tr></table></div>\n")
    timeline, notes = doc.sections
    assert timeline.text == ("Time (EST) | Notes\n\n2:30 | Pete paged SRE\n\n3:00 | Mark ran oc delete job & disabled "
                             "the cronjob\n\nPerhaps set a policy |")
    assert "<b>raw</b>" in notes.text
    check_marks(doc)

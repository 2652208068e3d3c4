"""Leftover template text and placeholders: TODO/TBD/FIXME/XXX, `{placeholder}`, `[insert ...]`,
`<name>`, `{{ field }}`, a letter where a number goes ("wait 'x' minutes"), "Lorem ipsum", known
template instructions, and a section that is only empty bullets.

Markers in code, URLs and commands are a template parameter or a real name, not a leftover; so
are HTML elements ("<summary>Logs</summary>") and the fields of a line of HTML or template code.
"""

from __future__ import annotations

import re

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_text import Lines, code_mask, in_spans, sentence_around, url_spans
from redline.jobs.reviewers.hygiene_text import MAX_PER_RULE, _prose_line


MARKERS = ("TODO", "TBD", "FIXME", "XXX", "TBC", "TKTK")
PLACEHOLDER_WORDS = frozenset("""name names date dates time owner owners person team link url ticket issue number
value description summary title here something someone details detail placeholder insert add fill your todo tbd
author reviewer amount count duration service system component customer customers""".split())
TEMPLATE_PHRASES = (
    "lorem ipsum", "things that could have gone better. ideally", "ideally these should result in concrete action items",
    "replace this text", "replace this section", "delete this section", "remove this section before",
    "describe what happened here", "write a summary here", "add a description here", "insert summary here",
    "insert timeline here", "fill in the", "fill this in", "[insert", "<insert", "{insert", "(insert ",
    "describe the impact here", "list the action items here", "template instructions", "delete these instructions",
    # the instructions of a widely copied post-mortem template (mybinder.org-deploy's incident reports)
    "list of things that went well. for example", "these are good things that happened to us but not because",
    "these are only sample subheadings",
)


QUERY_MARKS = re.compile(r"\[\?{2,}\]|\(\?{2,}\)|(?<!\S)\?{3,}(?!\S)")
# a letter where the number goes: "wait approximately 'x' minutes", "for N hours", "XX users"
NUMBER_LETTER = re.compile(
    r"(?<![\w'\"\u2018\u201c*/+.-])(['\"\u2018\u201c]?)(x|X|n|N|XX|NN)['\"\u2019\u201d]?"
    r" (?:seconds?|minutes?|mins|hours?|hrs|days?|weeks?|months?|users?|customers?|accounts?|packages?|requests?)\b")


def _markup_line(line: str) -> bool:
    """A line of HTML or template code ('<a href="{{ user.url }}">'): its fields are the code's."""
    return '="' in line or "='" in line or re.search(r"</?[a-z][a-z0-9]{0,10}[ >]", line) is not None


def _placeholder_findings(section: Section) -> list[Finding]:
    text = section.text
    mask = code_mask(text)
    urls = url_spans(text)
    out: list[Finding] = []
    low = text.lower()
    lines = Lines(text)
    reported: list[tuple[int, int]] = []

    def add(a: int, b: int, what: str, conf: float, risk: str = "medium", q: str | None = None) -> None:
        if len(out) >= MAX_PER_RULE or any(a < y and x < b for x, y in reported):
            return
        reported.append((a, b))
        if q is None:
            ls, le = lines.span(a)
            q = text[ls:le].strip()
        if len(q) > 200 or not q:
            q = text[a:b]
        out.append(Finding(type="important", category="placeholder", risk=risk,
                           description=f"Leftover template text or placeholder: {what}.",
                           suggestion="Fill this in or remove it before publishing.", quote=q, confidence=conf))

    # TODO / TBD / FIXME / XXX as words, in prose (not code, not URLs)
    for marker in MARKERS:
        k = text.find(marker)
        while k >= 0 and len(out) < MAX_PER_RULE:
            end = k + len(marker)
            before = text[k - 1:k] if k else ""
            after = text[end:end + 1]
            if not before.isalnum() and before not in ("_", "-", "/", ".") and not after.isalnum() and \
                    after not in ("_", "-", "/") and not mask[k] and not in_spans(k, urls):
                # "a leftover TODO note" names the marker in a sentence; "TODO: credit", "Owner: TBD" use it
                noun = text[k - 2:k - 1].isalpha() and before == " " and after == " " and \
                    text[end + 1:end + 2].islower()
                if not noun:
                    add(k, end, f"'{marker}'", 0.9)
            k = text.find(marker, end)
    # "[???]", "(???)" or a lone "???": a value the author meant to look up and fill in
    for m in QUERY_MARKS.finditer(text):
        if len(out) >= MAX_PER_RULE:
            break
        if not mask[m.start()] and not in_spans(m.start(), urls):
            add(m.start(), m.end(), f"'{m.group()}'", 0.8)
    for m in NUMBER_LETTER.finditer(text):
        if len(out) >= MAX_PER_RULE:
            break
        before = text[max(0, m.start() - 3):m.start()].rstrip()
        if not mask[m.start()] and not in_spans(m.start(), urls) and not before[-1:].isdigit():
            add(m.start(), m.end(), f"{m.group()} (a letter where the number goes)", 0.8,
                q=sentence_around(text, m.start(), m.end(), 200))
    for phrase in TEMPLATE_PHRASES:
        k = low.find(phrase)
        if k >= 0 and not mask[k]:
            add(k, k + len(phrase), f"template wording ('{text[k:k + len(phrase)]}')", 0.8)
    # {placeholder}, <placeholder>, [placeholder] in prose: words from a placeholder vocabulary only
    for m in re.finditer(r"[{<\[]([A-Za-z][A-Za-z _-]{0,40})[}>\]]", text):
        if len(out) >= MAX_PER_RULE:
            break
        a = m.start()
        inner = m.group(1).strip().lower().replace("-", " ").replace("_", " ")
        words = inner.split()
        if not words or mask[a] or in_spans(a, urls):
            continue
        if m.group()[0] == "[" and text[m.end():m.end() + 1] in ("(", "[", ":"):
            continue  # a Markdown link or footnote
        if m.group()[0] == "[" and text[a - 1:a] == "!":
            continue
        if m.group()[0] == "<" and text.find("</" + m.group(1).strip(), m.end(), m.end() + 400) >= 0:
            continue  # an HTML element ("<summary>Tables</summary>"), not a placeholder
        if not lines.test(a, "prose", _prose_line) or text[a - 1:a] in ("'", '"', "/") or \
                lines.test(a, "eq", lambda ln: "=" in ln):
            continue  # code, commands, queries: a template parameter, not a leftover
        if words[0] in ("insert", "add", "fill", "todo", "tbd", "your") or \
                (len(words) <= 2 and all(w in PLACEHOLDER_WORDS for w in words)):
            add(a, m.end(), f"'{m.group()}'", 0.8)
    # {{ mustache }} template fields: never legitimate in a published write-up's prose
    k = text.find("{{")
    while k >= 0 and len(out) < MAX_PER_RULE:
        end = text.find("}}", k + 2, k + 80)
        if end < 0:
            break
        if not mask[k] and not in_spans(k, urls) and not lines.test(k, "markup", _markup_line):
            add(k, end + 2, f"'{text[k:end + 2]}'", 0.9)
        k = text.find("{{", end + 2)
    # a section that is nothing but empty bullets / numbers
    stripped = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if stripped and all(ln in ("*", "-", "•", "+", "1.", "1)", "- [ ]", "* [ ]") for ln in stripped):
        k = text.find(stripped[0])
        out.append(Finding(type="important", category="placeholder", risk="medium",
                           description=f"The section '{section.title}' holds only an empty bullet: "
                                       f"template left unfilled.",
                           suggestion="Write the content or remove the heading.", quote=stripped[0], confidence=0.8))
    return out

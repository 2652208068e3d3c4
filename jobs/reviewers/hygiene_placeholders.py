"""Leftover template text and placeholders: TODO/TBD/FIXME/XXX, `{placeholder}`, `[insert ...]`,
`<name>`, `{{ field }}`, a letter where a number goes ("wait 'x' minutes"), a template's field left
as given ("YYYY-MM-DD HH:MM UTC", "SEV-1 / SEV-2 / SEV-3", "(Explain the underlying cause.)"),
"Lorem ipsum", known template instructions, and a section that is only empty bullets.

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
    # a template describing its own section to the author ("This section should include the duration")
    "this section should",
    # a figure's or a form's drafting notes: "Add detailed map and delete this text box"
    "delete this text box", "delete this box", "move as required", "add location info",
    # a post-mortem template's action section ("Include action items such as: (1) fixes required ...")
    "include action items such as",
)


QUERY_MARKS = re.compile(r"\[\?{2,}\]|\(\?{2,}\)|(?<!\S)\?{3,}(?!\S)")
# a letter where the number goes: "wait approximately 'x' minutes", "for N hours", "XX users"
NUMBER_LETTER = re.compile(
    r"(?<![\w'\"\u2018\u201c*/+.-])(['\"\u2018\u201c]?)(x|X|n|N|XX|NN)['\"\u2019\u201d]?"
    r" (?:seconds?|minutes?|mins|hours?|hrs|days?|weeks?|months?|users?|customers?|accounts?|packages?|requests?)\b")

# a template's fields left as the template gave them: a date or time format where the date goes
# ("Resolved: YYYY-MM-DD HH:MM UTC"), choices left to pick ("SEV-1 / SEV-2 / SEV-3"), an instruction
# in brackets ("(Explain the underlying cause, not the symptoms.)", "(e.g., API 5xx for 20% of traffic)")
DATE_MASK = re.compile(r"(?<![\w-])(?:YYYY[-/.]MM(?:[-/.]DD)?|DD[-/.]MM[-/.]YYYY|MM[-/.]DD[-/.]YYYY|HH:MM(?::SS)?)(?![\w-])")
CHOICES = re.compile(r"`?([A-Z]{1,4}-?)(\d)`?\s?/\s?`?\1\d`?\s?/\s?`?\1\d`?(?:\s?/\s?`?\1\d`?)*")
_STATES = r"`?(?:open|closed|resolved|mitigated|ongoing|investigating|monitoring|draft|final|yes|no|high|medium|low)`?"
# "Open / Resolved", as a value ("|" is a table's cell, not a choice: "| Yes | No |")
STATE_CHOICES = re.compile(rf"{_STATES}(?:\s?/\s?{_STATES}){{1,5}}", re.IGNORECASE)
HANDLE = re.compile(r"@(?:[a-z]+[_-])?(?:handle|username|user|name|owner|someone|person)(?![\w-])", re.IGNORECASE)
INSTRUCTION = re.compile(r"[(\[](?:e\.g\.|(?:for example|describe|explain|list|add|include|summari[sz]e|provide|enter|"
                         r"give|state|write|note|fill|link|mention|outline|detail|one sentence)\b)[^()\[\]\n]{0,300}[)\]]",
                         re.IGNORECASE)
# a template's instruction to its author, leading in to its list: "Detail the steps taken to investigate
# the incident, including:", "Outline specific actions to prevent recurrence:" (about the report's
# content, so "Add the following alerts:" in an action list is not one)
INSTRUCTION_LEAD = re.compile(
    r"^[ \t]*(?:Detail|Document|Outline|Describe|List|Provide|Summari[sz]e|Explain|Give|State|Record|Note|Identify|"
    r"Insert|Enter)\b(?=[^:\n]{0,150}\b(?:incident|investigation|findings|recurrence|evidence|observations|root\s+cause"
    r"|timeline|impact|steps\s+taken|details|what\s+happened))[^.:\n]{3,150}:[ \t]*$", re.MULTILINE)
# ... or telling the author what to write, as a paragraph of its own (not an item: "- Include a description
# of the rollback in the runbook" is an action): "Include a short sentence or two summarizing the
# contributing factors", "Include a description what solved the problem" (a widely used post-mortem template)
INSTRUCTION_SENTENCE = re.compile(
    r"^[ \t*_]*((?:Include|Provide|Add|Write|Give)\s+(?:a|an)\s+(?:short\s+|brief\s+)?(?:sentence|description|summary"
    r"|paragraph|overview|explanation)\b(?:\s+or\s+two)?\s+(?:of|summari[sz]ing|describing|about|explaining|what)\b)",
    re.MULTILINE)
# before a field's value: the start of a line, a bullet, a table's cell, or a "Label:" / "**Label:**"
_FIELD_START = re.compile(r"(?:^|[|:]|\*\*)[\s*_`>-]*$")
_FIELD_END = re.compile(r"[\s*_`|]*")


def _field_value(text: str, lines: Lines, a: int, b: int) -> bool:
    """text[a:b] is all of a field's value: the whole line, a table's cell, or what follows a label."""
    ls, le = lines.span(a)
    return _FIELD_START.search(text, ls, a) is not None and _FIELD_END.fullmatch(text, b, le) is not None


_DATE_BEFORE = re.compile(r"\b(?:at|on|from|until|till|since|by|to|between|and)\s+$", re.IGNORECASE)


def _date_left(text: str, lines: Lines, a: int) -> bool:
    """A date format where a field's date goes ("End time: YYYY-MM-DD HH:MM (or ongoing)", "resolved at
    HH:MM"), not one named in quotes ("set it to `YYYY-MM-DD - Meeting Name`", "listed as _"YYYY-MM-DD"_")."""
    if text[a - 1:a] in ("`", "'", '"', "_", "*", "\u201c", "\u2018"):
        return False
    ls, _ = lines.span(a)
    return _FIELD_START.search(text, ls, a) is not None or _DATE_BEFORE.search(text, max(ls, a - 12), a) is not None


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
    for pattern, what in ((DATE_MASK, "a date or time format where the value goes"),
                          (CHOICES, "choices left for the author to pick"),
                          (STATE_CHOICES, "choices left for the author to pick"),
                          (HANDLE, "a handle where a person goes"),
                          (INSTRUCTION, "the template's instruction")):
        for m in pattern.finditer(text):
            if len(out) >= MAX_PER_RULE:
                break
            a, b = m.start(), m.end()
            inline = text[a:a + 1] == "`" or text[a - 1:a] == "`"  # a field value set as `code`, not a code block
            if (mask[a] and not inline) or in_spans(a, urls) or "format" in low[max(0, a - 40):a]:
                continue  # "dates are written in the format YYYY-MM-DD" explains it
            if _field_value(text, lines, a, b) or pattern is DATE_MASK and _date_left(text, lines, a) \
                    or pattern is HANDLE:
                add(a, b, f"'{m.group()}' ({what})", 0.8)
    # the template's wording, once per section: one leftover instruction says the template was left in
    hits = sorted((k, phrase) for phrase in TEMPLATE_PHRASES if (k := low.find(phrase)) >= 0 and not mask[k])
    hits += [(m.start() + len(m.group()) - len(m.group().lstrip()), m.group().strip().lower())
             for m in INSTRUCTION_LEAD.finditer(text) if not mask[m.start()]][:MAX_PER_RULE]
    hits += [(m.start(1), m.group(1).lower()) for m in INSTRUCTION_SENTENCE.finditer(text) if not mask[m.start()]][:MAX_PER_RULE]
    hits.sort()
    if hits:
        k, phrase = hits[0]
        others = len({lines.span(at)[0] for at, _ in hits}) - 1  # other lines with it
        add(k, k + len(phrase), f"template wording ('{text[k:k + len(phrase)]}')"
            + (f", and {others} more piece{'s' if others > 1 else ''} of it in this section" if others else ""), 0.8)
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

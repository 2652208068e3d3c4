"""Write-up hygiene, one section at a time (with the whole document for context).

`section_findings(section, sections)` flags what a careful copy-editor would:

- leftover template text and placeholders: TODO/TBD/FIXME/XXX, `{placeholder}`, `[insert ...]`,
  `<name>`, "Lorem ipsum", a section that is only empty bullets, known template instructions;
- malformed clock times (25:10, 14:75) and dates without a year when the document names none;
- a timeline with clock times and no time zone anywhere in the document (once per document);
- doubled words ("the the");
- broken internal references ("see section 7" with five sections, "see Appendix B" with none);
- spelling, with pyspellchecker's offline English dictionary plus a technical vocabulary and the
  document's own words; only a single, close, frequent correction is offered; plus short
  misspellings no dictionary rule can risk ("hav", "teh"), a technical term one edit off
  ("reop2docker"), and real-word errors with a certain fix ("I though I");
- numbered headings that change style mid-list ("1)", "2)", then "3.").

Everything is linear in the text (str methods, bounded regexes, one pass per rule).
Confidences are the precision measured on the tuning half of bench/quality/corpus
(bench/quality/try_rules.py).
"""

from __future__ import annotations

import re
from functools import lru_cache

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers import consistency as C

# --------------------------------------------------------------------------------------------
# Spelling
# --------------------------------------------------------------------------------------------

TECH_WORDS = frozenset("""
api apis auth authn authz backend backends backoff bool boolean cdn cdns changelog checkbox checkboxes cli config
configs cron crons csv daemon daemons dataset datasets dedupe deduplicate deploy deploys deployment dev devops dns
dockerfile downtime egress endpoint endpoints env failover failovers fallback filesystem firewall frontend github
gitlab grafana hostname hostnames hotfix html http https iframe ingress inode inodes ip ips json jwt k8s kubectl
kubernetes lifecycle linter localhost login logins logout loopback metadata microservice microservices middleware
misconfiguration misconfigured monorepo mutex namespace namespaces nginx nodepool oauth onboarding oncall param params
passwordless pentest plaintext postgres postmortem postmortems prometheus proxied proxying readme realtime rebase
rebased reboot rebooted reboots redeploy redeployed redis refactor refactored repo repos repro reupload rollback
rollbacks rollout rollouts runbook runbooks runtime sandbox sandboxed scalability serverless sharding sql ssh ssl
stacktrace stderr stdout subdomain subdomains subnet sudo syscall teardown timestamp timestamps timeout timeouts tls
tooling totp typosquatting typosquat uptime url urls usb username usernames uuid uuids vm vms vpn walkthrough webhook
webhooks whitelist wifi workflow workflows yaml yml tokenize unauthenticated unencrypted untrusted unpatched
autoscaler autoscaling autoscale cordon cordoned uncordon kubelet pods pod repo2docker binderhub jupyterhub mybinder
hasn't doesn't didn't wasn't weren't isn't aren't couldn't wouldn't shouldn't can't won't we've we're we'd we'll i'm
i've i'd it's that's there's what's let's they're they've you're you've
""".split())

# Real-word errors that a dictionary cannot see, only fixed where the neighbour makes them certain.
CONFUSABLES: list[tuple[str, str, frozenset[str]]] = [
    ("rouge", "rogue", frozenset("""pod pods process processes node nodes actor actors agent agents employee employees
admin admins user users script scripts container containers device devices server servers package packages code
account accounts bot bots job jobs task tasks thread threads worker workers instance instances machine machines host
hosts commit commits certificate certificates key keys token tokens app apps application applications deployment
deploy query queries operator operators insider insiders access ap""".split())),
]
CERTAIN_PHRASES: list[tuple[str, str]] = [
    ("should of ", "should have "), ("could of ", "could have "), ("would of ", "would have "),
    ("must of ", "must have "), ("per say", "per se"), ("for all intensive purposes", "for all intents and purposes"),
    ("sneak peak", "sneak peek"), ("it's own ", "its own "),
    ("i though i ", "i thought i "), ("i though that ", "i thought that "), ("we though we ", "we thought we "),
    ("we though that ", "we thought that "),
]
# Misspellings too short for the dictionary rule (it skips words under four letters, most of which
# are abbreviations), but never words themselves.
SHORT_TYPOS = {"teh": "the", "hte": "the", "adn": "and", "hav": "have", "yuo": "you", "taht": "that"}
MIN_TECH_TYPO = 6  # a technical term at least this long, one edit away: "reop2docker" for "repo2docker"


@lru_cache(maxsize=1)
def _spell():
    try:
        from spellchecker import SpellChecker
    except ImportError:  # pragma: no cover - the dependency is declared; degrade to no spelling rule
        return None
    sp = SpellChecker(language="en", distance=1)
    return sp


def is_known_word(w: str) -> bool:
    sp = _spell()
    w = w.lower()
    if w in TECH_WORDS:
        return True
    return sp is not None and w in sp.word_frequency.dictionary


def _freq(w: str) -> float:
    sp = _spell()
    return sp.word_usage_frequency(w) if sp is not None else 0.0


def _edits1_known(w: str) -> list[str]:
    sp = _spell()
    if sp is None:
        return []
    return [c for c in sp.edit_distance_1(w) if c in sp.word_frequency.dictionary]


MAX_PER_RULE = 12  # per rule and section: enough to make the point, and bounds the work on hostile text
MIN_CORRECTION_FREQ = 2e-6  # the correction must be a common word
DOMINANCE = 20.0  # ... and at least this many times more frequent than any other one-edit candidate


def _doc_words(sections: list[Section]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for s in sections:
        for t in (s.title, s.text):
            for m in C.WORD.finditer(t):
                w = m.group().lower().strip("'")
                counts[w] = counts.get(w, 0) + 1
    return counts


def _prose_line(line: str) -> bool:
    """A line of prose (not code, a command, a table or a log line)."""
    s = line.strip()
    if not s:
        return False
    low = s.lower()
    if low.startswith(("select ", "from ", "where ", "and ", "join ", "on ", "order by", "kubectl ", "curl ", "grep ",
                       "$ ", "# ", ">>> ", "import ", "def ", "for ", "if ", "print(", "cmd ", "resource.")) and \
            not low.startswith(("for example", "for the", "for a", "for an", "if the", "if a", "if you", "if we",
                                "from the", "from a", "and the", "on the", "on a", "# ")):
        return False
    if s.count("|") >= 2 or s.count("=") >= 2 or s.count("{") + s.count("}") >= 2 or s.count("(") >= 3:
        return False
    letters = sum(ch.isalpha() or ch == " " for ch in s)
    return letters >= 0.8 * len(s)


def _spelling(section: Section, words: dict[str, int]) -> list[Finding]:
    sp = _spell()
    if sp is None:
        return []
    text = section.text
    mask = C.code_mask(text)
    urls = C.url_spans(text)
    out: list[Finding] = []
    lines = C.Lines(text)
    pos = 0
    for raw in text.splitlines(keepends=True):
        if len(out) >= MAX_PER_RULE:
            break
        line_start = pos
        pos += len(raw)
        if not _prose_line(raw):
            continue
        for m in C.WORD.finditer(raw):
            a = line_start + m.start()
            b = line_start + m.end()
            w = m.group()
            if "'" in w or "\u2019" in w or not w.islower() or len(w) < 4 or len(w) > 20:
                continue
            if mask[a] or C.in_spans(a, urls):
                continue
            nxt, prv = text[b:b + 1], text[a - 1:a] if a else ""
            if nxt in ("_", "-", "/", "@", ".") and text[b + 1:b + 2].isalnum() or prv in ("_", "-", "/", "@", ".", "#"):
                continue  # part of an identifier, path, domain or file name
            if nxt.isdigit() or prv.isdigit():
                continue
            if words.get(w, 0) >= 2 or is_known_word(w):
                continue
            if w.endswith("s") and is_known_word(w[:-1]):
                continue  # a plural or possessive the dictionary lacks
            if _british(w):
                continue  # colour, organise, analyse, centre: not typos
            if any(w.startswith(p) and len(w) - len(p) >= 3 and is_known_word(w[len(p):]) for p in PREFIXES):
                continue  # unban, reupload, prebuilt, autoheal: a prefix and a known word
            cands = _edits1_known(w)
            if not cands:
                continue
            cands.sort(key=_freq, reverse=True)
            best = cands[0]
            f_best = _freq(best)
            f_next = _freq(cands[1]) if len(cands) > 1 else 0.0
            if f_best < MIN_CORRECTION_FREQ or (f_next and f_best < DOMINANCE * f_next):
                continue
            if sorted(best) != sorted(w) and abs(len(best) - len(w)) != 1 and len(w) < 5:
                continue
            ls, le = lines.span(a)
            quote = _context(text, a, b, ls, le)
            out.append(Finding(
                type="suggestion", category="spelling", risk="low",
                description=f"Typo: '{w}' should probably be '{best}'.",
                suggestion=quote.replace(w, best, 1), quote=quote, confidence=0.8))
    # "int he" -> "in the": a letter moved across a space, making a non-word
    toks = list(re.finditer(r"[a-z]{1,12}", text))
    for t1, t2 in zip(toks, toks[1:]):
        if len(out) >= MAX_PER_RULE:
            break
        if text[t1.end():t2.start()] != " " or (t1.start() and text[t1.start() - 1].isalnum()) or \
                text[t2.end():t2.end() + 1].isalnum():
            continue
        a, b = t1.group(), t2.group()
        if is_known_word(a) and is_known_word(b) or mask[t1.start()]:
            continue
        for x, y in ((a[:-1], a[-1] + b), (a + b[0], b[1:])):
            if x and y and _freq(x) >= 1e-4 and _freq(y) >= 1e-4 and is_known_word(x) and is_known_word(y):
                q = text[t1.start():t2.end()]
                out.append(Finding(
                    type="suggestion", category="spelling", risk="low",
                    description=f"Typo: '{q}' should be '{x} {y}'.", suggestion=f"{x} {y}",
                    quote=q, confidence=0.8))
                break
    low = text.lower()
    for wrong, right, nouns in CONFUSABLES:
        k = low.find(wrong)
        while k >= 0:
            end = k + len(wrong)
            if (k == 0 or not low[k - 1].isalpha()) and not low[end:end + 1].isalpha() and not mask[k]:
                nxt = re.match(r"\s{1,3}([a-z]{1,20})", low[end:end + 25])
                if nxt and nxt.group(1) in nouns:
                    q = text[k:end + nxt.end()]
                    out.append(Finding(
                        type="suggestion", category="spelling", risk="low",
                        description=f"Typo: '{text[k:end]}' should be '{right}' here.",
                        suggestion=q.replace(text[k:end], right, 1), quote=q, confidence=0.8))
            k = low.find(wrong, end)
    for wrong, right in CERTAIN_PHRASES:
        k = low.find(wrong)
        if k >= 0 and (k == 0 or not low[k - 1].isalpha()) and not mask[k]:
            q = text[k:k + len(wrong)]
            fixed = _recased(q, wrong, right)
            out.append(Finding(type="suggestion", category="spelling", risk="low",
                               description=f"'{q.strip()}' should be '{fixed.strip()}'.", suggestion=fixed.strip(),
                               quote=q.strip(), confidence=0.8))
    return out + _short_and_technical_typos(section, words, mask, urls)


def _recased(q: str, wrong: str, right: str) -> str:
    """`right` in the case of `q` (the text that matched `wrong`): only the differing middle
    changes ("I though I" -> "I thought I", not "i thought i")."""
    p = 0
    while p < min(len(wrong), len(right)) and wrong[p] == right[p]:
        p += 1
    n = 0
    while n < min(len(wrong), len(right)) - p and wrong[-1 - n] == right[-1 - n]:
        n += 1
    return q[:p] + right[p:len(right) - n] + q[len(wrong) - n:]


@lru_cache(maxsize=1)
def _tech_index() -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for w in TECH_WORDS:
        if len(w) >= MIN_TECH_TYPO and w.isalnum():
            for v in C._variants(w):
                index.setdefault(v, []).append(w)
    return index


def _short_and_technical_typos(section: Section, words: dict[str, int], mask: list[bool],
                               urls: list[tuple[int, int]]) -> list[Finding]:
    """'hav been' (a short misspelling) and 'reop2docker' (a technical term one edit off, which the
    dictionary does not know and the document never spells right)."""
    text = section.text
    lines = C.Lines(text)
    out: list[Finding] = []
    index = _tech_index()
    for m in re.finditer(r"[A-Za-z][A-Za-z0-9]{2,30}", text):
        if len(out) >= MAX_PER_RULE:
            break
        a, b, w = m.start(), m.end(), m.group()
        low = w.lower()
        if (a and (text[a - 1].isalnum() or text[a - 1] in "_-/@.#'")) or text[b:b + 1] in ("_", "-", "/", "@", "'") \
                or text[b:b + 1] == "." and text[b + 1:b + 2].isalnum() or mask[a] or C.in_spans(a, urls):
            continue
        fix = SHORT_TYPOS.get(w) if w.islower() else None
        if fix is None and len(low) >= MIN_TECH_TYPO and not is_known_word(low) and words.get(low, 0) < 2:
            cands = {c for v in C._variants(low) for c in index.get(v, ())
                     if C._one_edit(low, c) and not (c.startswith(low) or low.startswith(c))}  # not a plural
            fix = next(iter(cands)) if len(cands) == 1 else None
        if fix is None or not lines.test(a, "prose", _prose_line):
            continue
        ls, le = lines.span(a)
        quote = _context(text, a, b, ls, le)
        out.append(Finding(type="suggestion", category="spelling", risk="low",
                           description=f"Typo: '{w}' should probably be '{fix}'.",
                           suggestion=quote.replace(w, fix, 1), quote=quote, confidence=0.8))
    return out


BRITISH = (("our", "or"), ("ise", "ize"), ("ised", "ized"), ("ising", "izing"), ("isation", "ization"),
           ("yse", "yze"), ("ysed", "yzed"), ("tre", "ter"), ("ogue", "og"), ("ence", "ense"), ("lled", "led"),
           ("lling", "ling"), ("ours", "ors"), ("ises", "izes"), ("isations", "izations"), ("mme", "m"))


PREFIXES = ("un", "re", "de", "pre", "non", "sub", "auto", "multi", "over", "under", "mis", "co")


def _british(w: str) -> bool:
    """A British spelling whose American form the dictionary knows."""
    for gb, us in BRITISH:
        if gb in w and is_known_word(w.replace(gb, us, 1)):
            return True
    return False


def _context(text: str, a: int, b: int, ls: int, le: int) -> str:
    """A few words around text[a:b], within its line (exact substring)."""
    lo = a
    for _ in range(3):
        k = text.rfind(" ", ls, lo - 1)
        if k < 0:
            lo = ls
            break
        lo = k + 1
    hi = b
    for _ in range(3):
        k = text.find(" ", hi + 1, le)
        if k < 0:
            hi = le
            break
        hi = k
    return text[lo:hi].strip()


# --------------------------------------------------------------------------------------------
# Doubled words
# --------------------------------------------------------------------------------------------

LEGIT_DOUBLES = frozenset({"that", "had", "bye", "no", "ha", "so", "very", "knock", "tsk", "blah", "yada", "chop",
                           "hush", "meow", "dum", "la", "boo", "bla", "tut", "pooh", "ho", "hey"})


def _doubled(section: Section) -> list[Finding]:
    text = section.text
    mask = None
    lines = C.Lines(text)
    out = []
    prev = None
    for m in C.WORD.finditer(text):
        if len(out) >= MAX_PER_RULE:
            break
        if prev is not None:
            gap = text[prev.end():m.start()]
            w1, w2 = prev.group(), m.group()
            if w1.lower() == w2.lower() and gap and not gap.strip() and len(gap) <= 3 and \
                    w1.lower() not in LEGIT_DOUBLES and w1 == w2 or (w1.lower() == w2.lower() and gap == " " and
                                                                     w1[0].isupper() and w2[0].islower() and
                                                                     w1.lower() not in LEGIT_DOUBLES):
                if mask is None:
                    mask = C.code_mask(text)
                if not mask[prev.start()] and lines.test(prev.start(), "prose", _prose_line) and not w1.isupper():
                    q = text[prev.start():m.end()]
                    out.append(Finding(type="suggestion", category="spelling: doubled word", risk="low",
                                       description=f"Doubled word: '{q}'.", suggestion=w1, quote=q, confidence=0.9))
        prev = m
    return out


# --------------------------------------------------------------------------------------------
# Placeholders and template text
# --------------------------------------------------------------------------------------------

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


def _placeholder_findings(section: Section) -> list[Finding]:
    text = section.text
    mask = C.code_mask(text)
    urls = C.url_spans(text)
    out: list[Finding] = []
    low = text.lower()
    lines = C.Lines(text)
    reported: list[tuple[int, int]] = []

    def add(a: int, b: int, what: str, conf: float, risk: str = "medium") -> None:
        if len(out) >= MAX_PER_RULE or any(a < y and x < b for x, y in reported):
            return
        reported.append((a, b))
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
                    after not in ("_", "-", "/") and not mask[k] and not C.in_spans(k, urls):
                # "a leftover TODO note" names the marker in a sentence; "TODO: credit", "Owner: TBD" use it
                noun = text[k - 2:k - 1].isalpha() and before == " " and after == " " and \
                    text[end + 1:end + 2].islower()
                if not noun:
                    add(k, end, f"'{marker}'", 0.9)
            k = text.find(marker, end)
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
        if not words or mask[a] or C.in_spans(a, urls):
            continue
        if m.group()[0] == "[" and text[m.end():m.end() + 1] in ("(", "[", ":"):
            continue  # a Markdown link or footnote
        if m.group()[0] == "[" and text[a - 1:a] == "!":
            continue
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
        if not mask[k] and not C.in_spans(k, urls):
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


# --------------------------------------------------------------------------------------------
# Dates, times and time zones
# --------------------------------------------------------------------------------------------


def _malformed_times(section: Section) -> list[Finding]:
    text = section.text
    mask = None
    out = []
    for m in C.CLOCK.finditer(text):
        h, mi = int(m.group(1)), int(m.group(2))
        sec = int(m.group(3)) if m.group(3) else 0
        if h < 24 and mi < 60 and sec < 61 or (h == 24 and mi == 0):
            continue
        if len(out) >= MAX_PER_RULE:
            break
        if mask is None:
            mask = C.code_mask(text)
            lines = C.Lines(text)
        ls, le = lines.span(m.start())
        starts_line = text[ls:min(le, ls + 12)].lstrip("-*• ").startswith(m.group())
        if mask[m.start()] or not lines.test(m.start(), "prose", _prose_line) and not starts_line:
            continue
        # ratios and scores ("3:45" is fine, "40:60 split" is not a clock)
        if any(w in text[m.end():m.end() + 12].lower() for w in ("split", "ratio", "odds")):
            continue
        out.append(Finding(type="important", category="date format: malformed time", risk="medium",
                           description=f"'{m.group()}' is not a valid clock time.",
                           suggestion="Correct the time.", quote=m.group(), confidence=0.8))
    return out


def _document_facts(sections: list[Section]) -> tuple[bool, bool]:
    """(names a time zone, names a year): once per document, not once per section (that was
    quadratic in the number of sections: 30 s on a 1,400-section write-up)."""
    return _facts_cached(tuple((s.id, s.title, s.text) for s in sections))


@lru_cache(maxsize=8)
def _facts_cached(key: tuple) -> tuple[bool, bool]:
    secs = [Section(id=i, title=t, index=k, text=x) for k, (i, t, x) in enumerate(key)]
    return C.states_zone(secs), bool(C.doc_years(secs))


def _timeline_entries(sections: list[Section]):
    return _entries_cached(tuple((s.id, s.title, s.text, s.level) for s in sections))


@lru_cache(maxsize=8)
def _entries_cached(key: tuple):
    secs = [Section(id=i, title=t, index=k, text=x, level=lv) for k, (i, t, x, lv) in enumerate(key)]
    return C.extract_timeline(secs)


def _missing_zone(section: Section, sections: list[Section]) -> list[Finding]:
    """Once per document: the first timeline entry with a clock time, when no zone is named anywhere."""
    entries = _timeline_entries(sections)
    timed = [e for e in entries if e.has_time]
    if len(timed) < 2 or _document_facts(sections)[0]:
        return []
    first = timed[0]
    pos = next((i for i, s in enumerate(sections) if s.id == section.id), None)
    if pos != first.section:
        return []
    return [Finding(type="important", category="timezone", risk="medium",
                    description="The timeline gives clock times but the document never says which time zone "
                                "they are in.",
                    suggestion="State the time zone once at the top of the timeline (e.g. 'All times in UTC').",
                    quote=first.quote, confidence=0.7)]


def _yearless_dates(section: Section, sections: list[Section]) -> list[Finding]:
    """Dates with no year in a document that never names a year: the timeline cannot be placed."""
    if _document_facts(sections)[1]:
        return []
    text = section.text
    m = C.NAMED_DATE.search(text)
    while m and (m.group(1)[0].islower() or m.group(3)):
        m = C.NAMED_DATE.search(text, m.end())
    if not m:
        return []
    # only the first such date in the document
    for s in sections:
        if s.id == section.id:
            break
        mm = C.NAMED_DATE.search(s.text)
        while mm and mm.group(1)[0].islower():
            mm = C.NAMED_DATE.search(s.text, mm.end())
        if mm:
            return []
    q = C.sentence_around(text, m.start(), m.end(), 80)
    return [Finding(type="suggestion", category="date format: no year", risk="low",
                    description=f"'{m.group()}' has no year, and the document never gives one.",
                    suggestion="Give full dates (with the year, and times with a time zone where they matter).",
                    quote=q, confidence=0.7)]


# --------------------------------------------------------------------------------------------
# Internal references
# --------------------------------------------------------------------------------------------

REF = re.compile(r"\b(?:see|in|under|per|cf\.?)\s(?:the\s)?(section|appendix|annex|figure|fig\.|table|step)\s"
                 r"([0-9]{1,3}(?:\.[0-9]{1,3})?|[A-Z])\b", re.IGNORECASE)


def _broken_refs(section: Section, sections: list[Section]) -> list[Finding]:
    text = section.text
    out = []
    all_text = None
    titles = [s.title.strip() for s in sections]
    for m in REF.finditer(text):
        if len(out) >= MAX_PER_RULE:
            break
        kind, ref = m.group(1).lower().rstrip("."), m.group(2)
        if kind == "section":
            if ref.isdigit():
                n = int(ref)
                numbered = any(t.startswith((f"{n}.", f"{n} ", f"{n})", f"Section {n}")) for t in titles)
                if numbered or (n <= len(sections) and not any(t[:1].isdigit() for t in titles)):
                    continue
            else:
                if any(t.startswith((f"{ref}.", f"{ref} ", f"{ref})")) for t in titles):
                    continue
        elif kind in ("appendix", "annex"):
            if any(t.lower().startswith((f"{kind} {ref.lower()}",)) or f"{kind} {ref.lower()}" in t.lower()
                   for t in titles):
                continue
        else:
            if all_text is None:
                all_text = "\n".join(s.text for s in sections)
            label = f"{m.group(1)} {ref}"
            # a caption elsewhere ("Figure 3:" / "Table 2." at a line start) makes the reference good
            if any(line.strip().lower().startswith(label.lower()) for line in all_text.splitlines()):
                continue
            if kind == "step":
                continue  # step numbers usually refer to a list, which we do not parse
        out.append(Finding(type="important", category="reference", risk="medium",
                           description=f"'{m.group()}' points to a {kind} the document does not have.",
                           suggestion="Fix the reference or add the missing part.",
                           quote=m.group(), confidence=0.7))
    return out


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def _empty_section(section: Section, sections: list[Section]) -> list[Finding]:
    """A heading with no text and no subsections under it: a template section left unfilled."""
    if section.text.strip():
        return []
    pos = next((i for i, s in enumerate(sections) if s.id == section.id), None)
    if pos is None:
        return []
    nxt = sections[pos + 1] if pos + 1 < len(sections) else None
    if nxt is not None:
        if nxt.level > section.level:
            return []  # a parent heading
        head = section.title.strip().split(" ")[0].rstrip(".):")
        if head and nxt.title.strip().startswith(head) and head[:1].isalnum():
            return []  # "3. Connection records" followed by "3a. Project events": a numbered parent
        if C._title_stamp(nxt.title, None) is not None:
            return []  # a date heading over timeline entries
    core = any(w in section.title.lower() for w in ("summary", "root cause", "impact", "resolution"))
    if pos == 0 and nxt is not None and not core:
        return []  # a document title heading
    if all(s.level == 1 for s in sections) and not core:
        return []  # heading levels unknown: only a core section, which cannot be a mere parent heading
    return [Finding(type="important", category="placeholder: empty section", risk="medium",
                    description=f"The section '{section.title}' is empty: a template heading left unfilled.",
                    suggestion="Write the section or remove the heading.", quote=None, confidence=0.6)]


# --------------------------------------------------------------------------------------------
# Heading numbering
# --------------------------------------------------------------------------------------------

HEADING_NUMBER = re.compile(r"(\d{1,3})([.)])\s")


def _numbering_switch(section: Section, sections: list[Section]) -> list[Finding]:
    """'1) Names', '2) Addresses', then '3. Connection records': the numbered headings change
    style mid-list. Said once, on the first heading in the new style (without a quote: the heading
    is not part of the section's text)."""
    m = HEADING_NUMBER.match(section.title)
    pos = next((i for i, s in enumerate(sections) if s.id == section.id), None)
    if m is None or pos is None:
        return []
    for prev in reversed(sections[:pos]):  # the numbered heading before it ("3a." sub-numbers are skipped)
        pm = HEADING_NUMBER.match(prev.title)
        if pm is None:
            continue
        if int(pm.group(1)) + 1 != int(m.group(1)) or pm.group(2) == m.group(2):
            return []
        return [Finding(type="suggestion", category="clarity: heading numbering", risk="low",
                        description=(f"The headings are numbered '{pm.group(1)}{pm.group(2)}' then "
                                     f"'{m.group(1)}{m.group(2)}': the numbering changes style in the middle "
                                     f"of the list, at '{section.title[:60]}'."),
                        suggestion="Number the headings in one style.", quote=None, confidence=0.8)]
    return []


def section_findings(section: Section, sections: list[Section]) -> list[Finding]:
    """Hygiene findings for one section; `sections` is the whole document (for context)."""
    words = _doc_words_cached(tuple((s.id, s.title, s.text) for s in sections)) if sections else {}
    out: list[Finding] = []
    for f in (_placeholder_findings(section) + _doubled(section) + _spelling(section, words)
              + _malformed_times(section) + _missing_zone(section, sections)
              + _yearless_dates(section, sections) + _broken_refs(section, sections)
              + _empty_section(section, sections) + _numbering_switch(section, sections)):
        if f.quote is not None and f.quote not in section.text:
            continue
        if any(g.quote == f.quote and g.category == f.category for g in out):
            continue
        if f.category.startswith("spelling") and f.quote and f.suggestion and f.suggestion != f.quote:
            # a typo or a doubled word has one certain fix: the suggestion is the quote rewritten,
            # offered as the finding's replacement (a Word tracked change once accepted)
            f = f.model_copy(update={"replacement": f.suggestion})
        out.append(f)
    return out


@lru_cache(maxsize=8)
def _doc_words_cached(key: tuple) -> dict[str, int]:
    return _doc_words([Section(id=i, title=t, index=k, text=x) for k, (i, t, x) in enumerate(key)])

"""Who a write-up names, for the offline chat's "Who was involved?": its @handles, the people its prose
names as such ("I (Ee Durbin)", "Brian Moussalli of JFrog", "David Ellis <david@iasql.com>") and the
speakers of a chat log it quotes,
most named first; else the roles it speaks of. Linear in the text."""

from __future__ import annotations

import re

from redline.jobs.models import Section

# "Who was involved?", "Who responded?", "Who was on call?"
_ASKS_PEOPLE = re.compile(r"\bwho\s+(?:was|were|is|are)\s+(?:involved|on[\s-]?call|there|responding|paged|in\s+charge)\b|"
                          r"\bwho\s+(?:responded|worked\s+on|handled|fixed|helped)\b|\b(?:people|persons|names)\s+"
                          r"(?:involved|named)\b|\bwhich\s+people\b", re.I)
_HANDLE = re.compile(r"(?<![\w.@/])@([A-Za-z0-9][A-Za-z0-9_-]{1,38})\b")
_SPEAKER = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]{1,38})\s+\[\d{1,2}:\d{2}", re.M)  # a chat log's "liggitt [7:49 AM]"
# a person's name where the prose marks it as one: "I (Ee Durbin)", "Brian Moussalli of JFrog", "Adnan
# Khan, the researcher", "reported by Guido Vranken"
_NAME = r"[A-Z][a-z]{1,15}(?:-[A-Z][a-z]+)? [A-Z][a-z]{1,15}(?:-[A-Z][a-z]+)?"
_PERSON = re.compile(rf"\(({_NAME})\)|\b({_NAME}) of [A-Z]|\b({_NAME}), (?:the|a|an|our) [a-z]|"
                     rf"\b(?:by|thanks to|thank|researcher|engineer|maintainer|contributor|reporter) ({_NAME})\b")
# a name given with its e-mail address: "- Luis Fernando De Pombo <l@iasql.com>" under "Author(s)"
_WITH_EMAIL = re.compile(r"\b((?:[A-Z][a-z]{1,15} ){1,3}[A-Z][a-z]{1,15}) ?"
                         r"[<(][\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+[>)]")
# a place's or a body's name in the same shape: "Limeworks Road", "North Edendale", "Security Team"
_NOT_A_PERSON = frozenset("""north south east west new upper lower port saint st mount lake cape fort road street
siding river station bay harbour harbor valley bridge park airport hospital university college school council
team group inc ltd line crossing junction""".split())
_ROLES = re.compile(r"\b(?:on[\s-]?call(?:\s+engineer)?|incident\s+commander|sre|maintainers?|administrators?|admins?|"
                    r"security\s+team|support\s+team|operators?|responders?|(?:primary\s+|second\s+)?engineers?|"
                    r"tech(?:nical)?\s+leads?)\b", re.I)
_MAX_NAMED = 10
_MAX_ROLES = 5


def _people_named(text: str) -> list[str]:
    """Names the prose marks as a person's; not two ordinary words ("(Security Team)")."""
    from redline.jobs.reviewers.hygiene_dictionary import is_known_word

    out = [m.group(1) for m in _WITH_EMAIL.finditer(text)]  # an address makes it a person's
    for m in _PERSON.finditer(text):
        name = next(g for g in m.groups() if g)
        parts = [part.lower() for part in re.split(r"[ -]", name)]
        if not all(is_known_word(part) for part in parts) and not _NOT_A_PERSON & set(parts):
            out.append(name)
    return out


def _people(sections: list[Section]) -> str:
    """Who the write-up names: its @handles and the speakers of a chat log it quotes, most named
    first; else the roles it speaks of."""
    named: dict[str, int] = {}  # by the name in lower case ("@Random-Liu" is "@random-liu")
    shown_as: dict[str, str] = {}  # as first written
    for s in sections:
        for who in [*("@" + m.group(1) for m in _HANDLE.finditer(s.text)), *(m.group(1) for m in _SPEAKER.finditer(s.text)),
                    *_people_named(s.text)]:
            key = who.lower() if who.startswith("@") or "@" + who.lower() not in named else "@" + who.lower()
            named[key] = named.get(key, 0) + 1
            shown_as.setdefault(key, who)
    if named:
        ranked = sorted(named.items(), key=lambda kv: -kv[1])
        shown = [f"{shown_as[who]} ({n} time{'s' if n != 1 else ''})" for who, n in ranked[:_MAX_NAMED]]
        more = f", and {len(ranked) - _MAX_NAMED} more" if len(ranked) > _MAX_NAMED else ""
        return f"The write-up names {len(ranked)}: " + ", ".join(shown) + more + "."
    roles = list(dict.fromkeys(m.group(0).lower() for s in sections for m in _ROLES.finditer(s.text)))[:_MAX_ROLES]
    return ("The write-up names no one" + (": it speaks of " + ", ".join(f'"{r}"' for r in roles) if roles else "")
            + ". Who responded, decided and fixed it cannot be told from it.")

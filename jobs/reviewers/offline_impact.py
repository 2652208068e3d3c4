"""Impact rules: an impact stated with no quantity, dimensions it does not cover (people and
safety, customers and service, money, regulatory), and a notifiable event with no word on who
was notified.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redline.jobs.models import Finding
from redline.jobs.reviewers.offline_text import _MOMENT, _make, _rx, _Section, formal_report


_QUANTITY = re.compile(
    r"\d|[£$€¥%]|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty"
    r"|forty|fifty|hundreds?|thousands?|millions?|billions?|dozens?|half|none|no\s+one|nobody|zero)\b",
    re.I,
)
_IMPACT_DIMENSIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("people and safety", re.compile(r"injur|harm|hurt|safety|health|staff|employee|worker|patient|fatal|first aid|people|person", re.I)),
    ("customers and service", re.compile(r"customer|client|user|patient|service|downtime|outage|order|delay|deliver", re.I)),
    ("money", re.compile(r"cost|[£$€]|loss|revenue|financ|budget|expense|\bfines?\b|penalt|compensat|refund|\b(?:eur|usd|gbp)\b", re.I)),
    ("regulatory and legal", re.compile(r"regulat|complian|authorit|notif|legal|\blaw|gdpr|hipaa|osha|riddor|licen|breach|reportable", re.I)),
)
_NOTIFIABLE = _rx(r"personal\s+data", r"data\s+breach", r"injur(?:y|ies|ed)", r"lost[\s-]time", r"riddor", r"gdpr", r"hipaa", r"reportable", r"regulator")
_DENIED = re.compile(r"\b(?:no|not|without|nor|zero|nobody|none|no\s+one)\b[^.;,\n]{0,20}$", re.I)
_NOTIFIED = re.compile(r"notif|reported\s+to|\binform|disclos|\btold\b|contacted|\bfiled\b|submitted", re.I)


def check_impact(sec: _Section) -> Iterator[Finding]:
    if not _QUANTITY.search(_MOMENT.sub(" ", sec.text)):
        yield _make(
            "important",
            "high",
            "Impact",
            "The impact is described without any quantities: no numbers of people or customers, "
            "costs, durations or volumes.",
            "Quantify the impact: people affected or harmed, customers, downtime, financial cost, "
            "records or data involved. Give ranges if exact figures are unknown.",
            questions=(
                "How many people or customers were affected, and for how long?",
                "What did the event cost, directly and indirectly?",
            ),
            refs=("C11",),
            confidence=0.85,
        )
    missing = [name for name, pattern in _IMPACT_DIMENSIONS if not pattern.search(sec.text)]
    if len(missing) >= 2 and not formal_report(sec.outline):  # "Damage to the aeroplane" is a fact, not an assessment
        yield _make(
            "suggestion",
            "low",
            "Impact",
            f"The impact assessment does not cover {', '.join(missing)}.",
            "Say for each dimension what the impact was, or state explicitly that there was none.",
            questions=tuple(f"What was the impact on {name}?" for name in missing[:3]),
            refs=("C11",),
            confidence=0.5,
        )
    # "No injuries reported", "nobody was injured": what did not happen notifies nobody
    notifiable = next((m for m in _NOTIFIABLE.finditer(sec.text)
                       if not _DENIED.search(sec.text, max(0, m.start() - 30), m.start())), None)
    if notifiable and not _NOTIFIED.search(sec.text):
        yield _make(
            "important",
            "medium",
            "Compliance",
            f'The impact involves "{notifiable.group(0)}" but nothing says whether regulators, '
            "affected people or other stakeholders were notified.",
            "State which notifications were required (regulator, affected people, customers, "
            "insurers), who made them and when, or why none was needed.",
            questions=(
                "Was this event reportable to a regulator, and was it reported on time?",
                "Were the affected people told, by whom and when?",
            ),
            refs=("C16", "C17"),
            confidence=0.6,
        )

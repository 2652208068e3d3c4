"""How sure the offline reviewer says it is: each rule's confidence, measured on the labelled corpus.

A finding's confidence is meant to be how often a finding of its rule is right. The rules set a
confidence by hand when they make a finding; for every rule the corpus has measured (its finding
category made findings on the tuning set of bench/quality/corpus), that hand-set value is replaced
here by the measured one:

    confidence = (right + 2) / (findings + 4)

that is, the rule's precision on the tuning set with two right and two wrong findings added
(the mean of a Beta(2, 2) prior updated with its record). The added four pull a rule with little
record towards a coin flip: one finding, right, gives 0.60, not 1.00; twelve of twelve give 0.88.
The tuning set is where the rules were written, so even this flatters them on unseen write-ups:
docs/quality.md shows the stated confidence beside the held-out set's precision, as a whole.

A rule the corpus has not measured keeps its hand-set confidence. `MEASURED` is written by
`python -m bench.quality --calibrate`; do not edit it by hand.
"""

from __future__ import annotations

from collections.abc import Iterable

from redline.jobs.models import Finding

PRIOR_RIGHT = 2
PRIOR_WRONG = 2

# finding category -> (findings, right) on the tuning set; written by `python -m bench.quality --calibrate`.
# BEGIN MEASURED
MEASURED: dict[str, tuple[int, int]] = {
    'actions: detection delay not addressed': (2, 2),
    'actions: no owner or due date': (7, 6),
    'actions: open commitment': (6, 6),
    'actions: recurrence not addressed': (1, 1),
    'clarity: heading numbering': (1, 1),
    'consistency: arithmetic': (1, 1),
    'consistency: date vs timeline': (1, 1),
    'consistency: duration vs timeline': (2, 2),
    'consistency: name spelled two ways': (3, 3),
    'consistency: time vs timeline': (1, 1),
    'date format: 12-hour clock without AM/PM': (1, 1),
    'date format: no year': (1, 1),
    'date format: times written two ways': (1, 1),
    'evidence: all-clear without scope': (2, 2),
    'evidence: unsupported claim': (4, 4),
    'grammar': (3, 3),
    'impact: duration not stated': (6, 5),
    'impact: exposure not stated': (2, 2),
    'impact: not quantified': (1, 1),
    'impact: vague quantity': (2, 2),
    'placeholder': (5, 5),
    'root cause: not established': (4, 4),
    'root cause: not stated': (1, 1),
    'spelling': (13, 13),
    'spelling: doubled word': (3, 3),
    'timeline order': (2, 2),
    'timeline: missing entry': (1, 1),
    'timeline: no dates': (2, 2),
    'timeline: separate event': (1, 1),
    'timeline: start missing': (1, 1),
    'timeline: undated day': (1, 1),
}
# END MEASURED


def confidence(findings: int, right: int) -> float:
    """The stated confidence of a rule with this record, rounded to two places."""
    return round((right + PRIOR_RIGHT) / (findings + PRIOR_RIGHT + PRIOR_WRONG), 2)


CONFIDENCE: dict[str, float] = {category: confidence(*record) for category, record in MEASURED.items()}


def calibrated(findings: Iterable[Finding]) -> list[Finding]:
    """The findings, each measured rule's with its measured confidence (the others unchanged)."""
    out = []
    for f in findings:
        c = CONFIDENCE.get(f.category)
        out.append(f if c is None or c == f.confidence else f.model_copy(update={"confidence": c}))
    return out

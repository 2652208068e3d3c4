"""Redline's own checklist for reviewing an investigation or incident write-up.

Reviewers (offline rules and Claude) cite these points by id ("C1".."C20") in a
finding's ``refs``. The wording is Redline's own: short, practical tests a
reviewer can apply to a report.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChecklistPoint:
    id: str
    title: str
    text: str


_POINTS: tuple[tuple[str, str], ...] = (
    (
        "Initial assessment and triage",
        "The report says how the event was first assessed: when it was reported, how severe it "
        "was judged to be, and why it was (or was not) escalated into a formal investigation.",
    ),
    (
        "Scope",
        "The scope is stated: what is in and out of the investigation, which systems, sites, "
        "periods and people it covers, and any limits on what could be examined.",
    ),
    (
        "Evidence collection and preservation",
        "The report lists what evidence was gathered (logs, records, documents, photos, samples, "
        "statements), when and by whom, and how it was preserved so it stays reliable.",
    ),
    (
        "Evidence for each finding",
        "Every finding and conclusion points to the specific evidence that supports it; "
        "claims without a source are marked as assumptions or removed.",
    ),
    (
        "Dated timeline",
        "A timeline gives dates and times for each key event, in order, with the source of each "
        "entry, so gaps and delays are visible.",
    ),
    (
        "Actors and their roles",
        "The people and teams involved are identified by role, and it is clear who did what and "
        "in which capacity: witness, subject, responsible party or decision maker.",
    ),
    (
        "Interviews",
        "The report records who was interviewed, when, by whom and how, and distinguishes what "
        "a witness saw first-hand from what they were told.",
    ),
    (
        "Decision rationale",
        "Key decisions, both during the event and during the investigation, are recorded with "
        "who made them, when, and the reasoning and alternatives considered.",
    ),
    (
        "Root cause",
        "The root cause is a cause, not a symptom or a person to blame: the analysis goes deep "
        "enough (for example five successive whys) to reach a process, design or control that "
        "can be changed.",
    ),
    (
        "Contributing factors",
        "Factors that made the event more likely or worse (workload, training, tooling, "
        "environment, communication) are identified separately from the root cause.",
    ),
    (
        "Impact assessment",
        "The impact is quantified where possible: people affected or harmed, customers, "
        "financial cost, downtime, data, and regulatory or reputational consequences.",
    ),
    (
        "Corrective actions",
        "Corrective actions fix the immediate problem and each one addresses a stated cause or "
        "finding.",
    ),
    (
        "Preventive actions with owners and due dates",
        "Preventive actions stop recurrence; each has a named owner (person or role), a due "
        "date and a clear, checkable outcome.",
    ),
    (
        "Verification of effectiveness",
        "The report says how and when the actions will be checked to confirm they worked, and "
        "who will do the check.",
    ),
    (
        "Documentation and record keeping",
        "Records, versions, exhibits and sign-offs are kept and referenced so the investigation "
        "can be audited and reproduced later.",
    ),
    (
        "Communication and notification",
        "Stakeholders who needed to know (management, affected people, customers, partners) "
        "were informed, by whom and when.",
    ),
    (
        "Compliance and regulatory obligations",
        "Applicable laws, regulations, contracts and internal policies are identified, and any "
        "mandatory reporting was done on time.",
    ),
    (
        "Confidentiality",
        "Personal and sensitive information is handled on a need-to-know basis: names are "
        "minimised or pseudonymised where appropriate and access to the report is controlled.",
    ),
    (
        "Lessons learned",
        "The report draws lessons that apply beyond this event and says how they will be "
        "shared with the rest of the organisation.",
    ),
    (
        "Clear and objective language",
        "The write-up is factual, precise and neutral: it avoids vague or hedging wording, "
        "hidden actors, loaded or blaming language and overlong sentences.",
    ),
)

CHECKLIST: tuple[ChecklistPoint, ...] = tuple(
    ChecklistPoint(id=f"C{n}", title=title, text=text)
    for n, (title, text) in enumerate(_POINTS, start=1)
)

CHECKLIST_BY_ID: dict[str, ChecklistPoint] = {point.id: point for point in CHECKLIST}


def checklist_text() -> str:
    """The checklist as numbered plain text, one point per line, for prompts."""
    return "\n".join(f"{p.id}. {p.title}: {p.text}" for p in CHECKLIST)

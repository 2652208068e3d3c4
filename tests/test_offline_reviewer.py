"""The offline reviewer and offline chat on a realistic mini write-up.

Every test reviews through ``review()``, which also checks the invariants that
must hold for every finding: a valid Finding, an exact quote, checklist refs.
"""

from __future__ import annotations

import inspect

import pytest

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers import offline, offline_style
from redline.jobs.reviewers.offline_pool import document_dicts
from redline.jobs.reviewers.checklist import CHECKLIST, CHECKLIST_BY_ID, checklist_text
from redline.jobs.reviewers.offline import (
    CATEGORIES,
    MAX_FINDINGS,
    answer_question,
    detect_role,
    review_section,
)

# --------------------------------------------------------------------------- a weak write-up

SUMMARY = (
    "On 5 March 2024 a chlorine dosing pump at the Northfield treatment works overdosed the "
    "clear-water tank. It appears that the pump controller may have been misconfigured."
)
TIMELINE = """The operator noticed a high chlorine reading on the dashboard.
The pump was stopped and the tank was isolated.
Later that day the supervisor was informed and the regulator was called.
Samples were taken from the network."""
FINDINGS = (
    "The overdose was caused by a wrong setpoint. The setpoint had been changed to 8.0 mg/l during "
    "maintenance on 4 March, as shown in the SCADA audit trail (E2). The change was clearly not "
    "checked. It is believed that the handover was incomplete, which meant that the night shift did "
    "not know about the change and continued to run the plant with the wrong setpoint for the rest "
    "of the night while customers in the northern zone received water above the permitted level."
)
ROOT_CAUSE = (
    "The root cause was human error by the maintenance technician, who failed to follow the "
    "procedure."
)
IMPACT = "Some customers were affected and there were complaints about the taste of the water."
ACTIONS = """- Retrain the maintenance technician.
- Add a second-person check to the setpoint change procedure. Owner: Operations Manager.
- Install a high-chlorine interlock on pump P-2 by 2024-06-30.
- Update the handover checklist. Owner: Shift Supervisor. Due: 2024-04-15."""

WEAK = [
    ("Executive Summary", SUMMARY),
    ("Timeline", TIMELINE),
    ("Findings", FINDINGS),
    ("Root Cause", ROOT_CAUSE),
    ("Impact", IMPACT),
    ("Corrective Actions", ACTIONS),
]
OUTLINE = [title for title, _ in WEAK]

# --------------------------------------------------------------------------- a sound write-up

GOOD_TIMELINE = """All times are UTC.
2024-03-04 15:10 The maintenance technician changed the dosing setpoint from 0.8 to 8.0 mg/l (SCADA audit trail, E2).
2024-03-05 06:12 The SCADA system raised a high-chlorine alarm; the night-shift operator acknowledged it (alarm log, E3).
2024-03-05 06:20 The operator stopped dosing pump P-2 and isolated the clear-water tank.
2024-03-05 06:45 The shift supervisor informed the duty manager by phone.
2024-03-05 07:30 The duty manager notified the regulator (email, E5)."""
GOOD_ACTIONS = """1. Add a second-person check to setpoint changes in the SCADA change procedure. Owner: Operations Manager. Due: 2024-04-30.
2. Install a high-chlorine interlock on pump P-2. Owner: Engineering Lead. Due: 2024-06-30.
3. Add setpoint changes to the shift handover checklist. Owner: Shift Supervisor. Due: 2024-04-15.
The Quality Manager will verify the effectiveness of each action in a follow-up audit on 2024-09-30."""
GOOD_ROOT_CAUSE = (
    "Why did the pump overdose? Because the setpoint was 8.0 instead of 0.8 mg/l (SCADA audit "
    "trail, E2). Why was the setpoint wrong? Because the technician typed it during a maintenance "
    "task and the HMI accepts any value up to 10 mg/l. Why was the error not caught? Because the "
    "change procedure has no second-person check and setpoint changes are not part of the shift "
    "handover. The root cause is a change process without an independent check or range limit; "
    "contributing factors were the handover checklist and the wide HMI input range."
)
GOOD_IMPACT = (
    "About 1,200 households in the northern zone received water above 4 mg/l of chlorine for 6 "
    "hours. No one was harmed. 37 customers complained. Flushing and sampling cost £18,400. The "
    "duty manager notified the regulator at 07:30 as required by the drinking water regulations."
)


def review(title: str, text: str, *, index: int = 1, outline: list[str] | None = None, **kw) -> list[Finding]:
    """Run the reviewer and check the invariants every finding must satisfy."""
    outline = OUTLINE if outline is None else outline
    findings = list(review_section(title, text, index=index, total=len(outline), outline=outline, **kw))
    assert len(findings) <= MAX_FINDINGS
    for f in findings:
        assert isinstance(f, Finding)
        Finding.model_validate(f.model_dump())
        assert f.quote is None or (f.quote and f.quote in text), f.quote
        assert f.refs and all(ref in CHECKLIST_BY_ID for ref in f.refs)
        assert f.category in CATEGORIES
        assert 1 <= len(f.questions) <= 3
        assert f.suggestion
        assert 0.5 <= f.confidence <= 0.9
    return findings


def having(findings: list[Finding], category: str) -> list[Finding]:
    return [f for f in findings if f.category == category]


def quoting(findings: list[Finding], phrase: str) -> list[Finding]:
    return [f for f in findings if f.quote and phrase in f.quote]


# --------------------------------------------------------------------------- checklist


def test_checklist_has_twenty_numbered_points():
    assert [p.id for p in CHECKLIST] == [f"C{n}" for n in range(1, 21)]
    assert CHECKLIST_BY_ID["C9"].title.lower().startswith("root cause")
    text = checklist_text()
    assert text.splitlines()[0].startswith("C1. ")
    assert len(text.splitlines()) == 20


def test_roles_come_from_titles():
    assert detect_role("Root Cause Analysis") == "root_cause"
    assert detect_role("Sequence of events") == "timeline"
    assert detect_role("Corrective and Preventive Actions") == "actions"
    assert detect_role("Investigation Findings") == "findings"
    assert detect_role("Executive Summary") == "summary"
    assert detect_role("Impact Assessment") == "impact"
    assert detect_role("Appendix B") == "other"
    # a blog's own words for its actions (Homebrew, TorBox, crates.io)
    for title in ("What we're doing about it", "What is being done about this?", "Future measures", "Moving forward",
                  "What We're Changing"):
        assert detect_role(title) == "actions", title
    # what might have gone otherwise is analysis, not a plan, nor an impact for its "severity"
    for title in ("What could have been done", "To prevent the spill", "To reduce the severity of the spill"):
        assert detect_role(title) == "findings", title


# --------------------------------------------------------------------------- the weak write-up


def test_review_section_is_a_generator():
    gen = review_section("Timeline", TIMELINE, index=1, total=6, outline=OUTLINE)
    assert inspect.isgenerator(gen)
    assert isinstance(next(gen), Finding)


def test_timeline_without_dates_is_flagged():
    findings = review("Timeline", TIMELINE)
    missing = [f for f in having(findings, "Timeline") if f.quote is None and "No dates" in f.description]
    assert missing and missing[0].type == "important" and missing[0].risk == "high"
    assert "C5" in missing[0].refs
    assert findings[0] is missing[0]  # the most severe finding comes first


def test_a_plan_not_followed_for_a_reason_or_a_lucky_break_is_no_blame():
    """Persistence's chain-halt post-mortem, under "Where we got lucky": "Did not follow the rollback
    plan proposed by the team, as it would have caused worse issues" was a HIGH "names a person's
    failure". A choice made with its reason is not a failure, and a good-news section blames no one;
    the same words as a cause still are one."""
    lucky = "Did not follow the rollback plan proposed by the team, as it would have caused worse issues."
    for title, kind in (("Where we got lucky", "software"), ("What went wrong", "software"), ("Root Cause", "general")):
        assert not [f for f in review(title, lucky, kind=kind) if f.type == "critical"], title
    blamed = "The outage was caused because the engineer did not follow the rollback plan."
    assert [f for f in review("Root Cause", blamed) if f.type == "critical"]


def test_errors_users_report_are_not_user_error():
    """A student's post-mortem (ALX, not in the corpus): "10:00 AM PST: Monitoring alerts triggered
    due to a surge in user error reports" was a HIGH "The cause is put down to 'user error'". The
    errors are what users reported, counted; "caused by user error" is still blame."""
    reports = "10:00 AM PST: Monitoring alerts triggered due to a surge in user error reports related to listings."
    rates = "The outage was caused by a bad deploy; human error rates on the form rose as a result."
    for text in (reports, rates):
        assert not [f for f in review("Timeline", text) if f.type == "critical"], text
    assert [f for f in review("Root Cause", "The alerts were caused by user error.") if f.type == "critical"]


def test_human_error_root_cause_is_critical():
    findings = review("Root Cause", ROOT_CAUSE)
    blame = [f for f in findings if f.type == "critical"]
    assert len(blame) == 1
    assert blame[0].category == "Root cause" and blame[0].risk == "high"
    assert "human error" in blame[0].quote and "human error" in blame[0].description
    assert "C9" in blame[0].refs
    assert findings[0] is blame[0]


def test_symptom_as_root_cause_is_critical():
    findings = review("Root cause", "The root cause was a failure of dosing pump P-2.")
    assert [f.category for f in findings if f.type == "critical"] == ["Root cause"]


def test_shallow_root_cause_has_no_five_whys():
    text = "The root cause was an incorrect setpoint in the SCADA configuration (audit trail, E2)."
    findings = review("Root Cause", text)
    assert any("no chain of whys" in f.description for f in having(findings, "Root cause"))


def test_a_cause_with_no_why_is_not_told_it_stops_after_0_steps():
    """A student's post-mortem (ALX, not in the corpus): "The nginx worker hit its limit of open
    files" was told "The analysis stops after 0 causal steps"."""
    said = [f.description for f in having(review("Root Cause", "The nginx worker hit its limit of open files"),
                                          "Root cause")]
    assert "The cause is stated with nothing on why it happened: there is no chain of whys showing how the " \
           "immediate cause traces back to a root cause." in said, said
    assert not any("0 causal steps" in d for d in said)


def test_a_cause_analysis_that_lists_its_factors_has_steps_and_contributing_factors():
    """The 1992 Seminole explosion, as a researcher's notes: "Cause analysis" gives its core issue,
    then lists six factors (valves closed by hand, a SCADA with no trends, no communication, ...).
    It was told it "stops after 0 causal steps" and names no contributing factors."""
    text = ("A core issue is that the gas escaped through the brine, keeping the pressure constant and masking "
            "the emergency.\n\n"
            "* Two valves in a sensing line had erroneously been manually closed, so the safety system was inoperative.\n"
            "* Information displayed on the SCADA system was incomplete and did not show trends.\n"
            "* The gas detectors only send a single signal, even if several of them go off.\n"
            "* A lack of communication between employees.")
    said = [f.description for f in having(review("Cause analysis", text), "Root cause")]
    assert not any("chain of whys" in d or "contributing factors" in d for d in said), said


def test_actions_without_owner_or_due_date_are_flagged():
    findings = review("Corrective Actions", ACTIONS)
    actions = {f.quote: f for f in having(findings, "Actions") if f.description.startswith("This action")}
    assert actions["Retrain the maintenance technician."].description == "This action has no owner and no due date."
    assert actions["Add a second-person check to the setpoint change procedure. Owner: Operations Manager."].description == (
        "This action has no due date."
    )
    assert actions["Install a high-chlorine interlock on pump P-2 by 2024-06-30."].description == "This action has no owner."
    assert not quoting(findings, "Update the handover checklist")  # complete: owner and due date
    assert all(f.type == "important" for f in actions.values())


def test_action_table_with_tbd_owner_and_empty_due_date():
    table = """| Action | Owner | Due |
|---|---|---|
| Add a second-person check | Operations Manager | 2024-04-30 |
| Install an interlock on P-2 | TBD | 2024-06-30 |
| Update the handover checklist | Shift Supervisor | |"""
    findings = review("Actions", table)
    described = {f.quote: f.description for f in having(findings, "Actions") if f.quote}
    assert described == {
        "| Install an interlock on P-2 | TBD | 2024-06-30 |": "This action has no owner.",
        "| Update the handover checklist | Shift Supervisor | |": "This action has no due date.",
    }


def test_weak_actions_are_flagged():
    text = "- Consider installing an interlock where possible. Owner: Engineering Lead. Due: 2024-06-30."
    findings = review("Recommendations", text)
    weak = [f for f in having(findings, "Actions") if "Weak" in f.description]
    assert weak and '"consider"' in weak[0].description and '"where possible"' in weak[0].description


def test_hedging_is_flagged_with_exact_quote():
    findings = review("Executive Summary", SUMMARY)
    hedges = [f for f in findings if f.description.startswith("Hedging")]
    assert len(hedges) == 1
    assert hedges[0].quote == "It appears that the pump controller may have been misconfigured."
    assert '"it appears"' in hedges[0].description and '"may have"' in hedges[0].description


def test_repeated_hedges_are_grouped_into_one_finding():
    text = (
        "The valve possibly failed. It appears the alarm was muted. The operator might have left "
        "early. The log is likely incomplete. Perhaps the sensor drifted."
    )
    hedges = [f for f in review("Discussion", text) if f.description.startswith("Hedging")]
    assert len(hedges) == 1
    assert "in 5 places" in hedges[0].description
    assert hedges[0].quote == "The valve possibly failed."


def test_passive_voice_hiding_the_actor_is_flagged():
    findings = review("Timeline", TIMELINE)
    passive = having(findings, "Actors")
    assert len(passive) == 1
    assert passive[0].quote == "The pump was stopped and the tank was isolated."
    assert '"was stopped"' in passive[0].description and '"was isolated"' in passive[0].description
    assert "C6" in passive[0].refs


def test_passive_voice_with_an_agent_is_not_flagged():
    text = "At 06:20 on 2024-03-05 the pump was stopped by the night-shift operator (alarm log, E3)."
    assert not having(review("Notes", text), "Actors")


def test_overlong_sentence_is_flagged():
    findings = review("Findings", FINDINGS)
    long = [f for f in findings if f.description.startswith("Overlong sentence")]
    assert len(long) == 1
    assert long[0].quote.startswith("It is believed that the handover was incomplete")
    assert long[0].quote.endswith("above the permitted level.")


def test_claims_without_evidence_are_flagged():
    findings = review("Findings", FINDINGS)
    evidence = having(findings, "Evidence")
    assert "The change was clearly not checked." in [f.quote for f in evidence]
    # the first claim is backed by the audit trail cited in the next sentence
    assert "The overdose was caused by a wrong setpoint." not in [f.quote for f in evidence]


def test_findings_with_no_evidence_at_all():
    text = (
        "The pump overdosed because the setpoint was wrong. The technician obviously did not check "
        "the value and the night shift therefore kept the plant running."
    )
    evidence = having(review("Findings", text), "Evidence")
    assert len(evidence) == 1 and evidence[0].risk == "high"
    assert "no evidence at all" in evidence[0].description


def test_impact_without_quantities():
    findings = review("Impact", IMPACT)
    impact = [f for f in having(findings, "Impact") if f.quote is None and "quantities" in f.description]
    assert impact and impact[0].type == "important"
    vague = [f for f in findings if f.description.startswith("Vague")]
    assert vague and vague[0].quote == IMPACT and vague[0].type == "important"


def test_summary_without_outcome():
    findings = review("Executive Summary", SUMMARY)
    assert any("outcome" in f.description and f.quote is None for f in having(findings, "Structure"))
    # not an HR investigation's words ("whether the allegation was substantiated") on every write-up
    assert not any("allegation" in f.suggestion for f in findings)


def test_missing_sections_are_reported_once_on_the_first_section():
    outline = ["Summary", "Timeline", "Findings"]
    first = review("Summary", "The pump failed on 2024-03-05; we found a setpoint error.", index=0, outline=outline)
    structure = [f.description for f in having(first, "Structure")]
    assert any("root cause" in d for d in structure) and any("corrective" in d for d in structure)
    # a part left out misleads nobody about cause, impact or accountability: not high risk
    assert {f.risk for f in having(first, "Structure")} <= {"medium", "low"}
    later = review("Findings", "The pump failed on 2024-03-05.", index=2, outline=outline)
    assert not [f for f in having(later, "Structure") if "no section" in f.description]


def test_out_of_order_timeline():
    text = """Day 1 08:00 The operator started the shift.
Day 1 09:30 The SCADA system raised an alarm.
Day 1 09:10 The operator called the supervisor.
Day 2 00:10 The night operator restarted the pump."""
    late = [f for f in review("Chronology", text) if "chronological" in f.description]
    assert [f.quote for f in late] == ["Day 1 09:10 The operator called the supervisor."]


def test_empty_section():
    findings = review("Lessons learned", "   \n")
    assert len(findings) == 1 and findings[0].quote is None


def test_guideline_must_lines_are_checked_conservatively():
    guidelines = "Every action must have an owner and a due date.\nThe timeline must use UTC times."
    text = "- Retrain staff on the setpoint procedure and add a second-person check to the HMI."
    compliance = having(review("Actions", text, guidelines=guidelines), "Compliance")
    assert len(compliance) == 1 and "owner" in compliance[0].description
    assert not having(review("Actions", GOOD_ACTIONS, guidelines=guidelines), "Compliance")


def test_whole_write_up_findings_are_sorted_and_capped():
    rank = {"critical": 0, "important": 1, "suggestion": 2}
    for index, (title, text) in enumerate(WEAK):
        findings = review(title, text, index=index)
        assert [rank[f.type] for f in findings] == sorted(rank[f.type] for f in findings)


def test_review_is_deterministic():
    for index, (title, text) in enumerate(WEAK):
        first = [f.model_dump() for f in review(title, text, index=index)]
        second = [f.model_dump() for f in review(title, text, index=index)]
        assert first == second


# --------------------------------------------------------------------------- no false alarms


def test_good_timeline_has_no_findings():
    assert review("Timeline", GOOD_TIMELINE) == []


def test_good_action_list_has_no_findings():
    assert review("Corrective and Preventive Actions", GOOD_ACTIONS) == []


def test_good_root_cause_has_no_findings():
    assert review("Root Cause Analysis", GOOD_ROOT_CAUSE) == []


def test_good_impact_has_no_findings():
    assert review("Impact", GOOD_IMPACT) == []


# --------------------------------------------------------------------------- offline chat


GOOD = [
    ("Summary", SUMMARY),
    ("Timeline", GOOD_TIMELINE),
    ("Root Cause", GOOD_ROOT_CAUSE),
    ("Impact", GOOD_IMPACT),
    ("Actions", GOOD_ACTIONS),
]


def ask(question: str, sections=GOOD, **kw) -> tuple[str, list[str]]:
    chunks = list(answer_question(question, sections, **kw))
    assert all(isinstance(c, str) and c for c in chunks)
    answer = "".join(chunks)
    assert "**" not in answer and "#" not in answer and "`" not in answer
    return answer, chunks


def test_chat_quotes_the_relevant_section():
    answer, chunks = ask("What was the root cause of the overdose?")
    assert len(chunks) > 2
    assert 'From "Root Cause": "' in answer
    assert "change process without an independent check" in answer


def test_chat_finds_who_notified_the_regulator():
    answer, _ = ask("Who notified the regulator?")
    first_quote = answer.split("\n\n")[1]
    assert first_quote.startswith('From "Timeline"') or first_quote.startswith('From "Impact"')
    assert "notified the regulator" in first_quote


def test_chat_chunks_join_to_the_whole_answer():
    question = "Which actions have owners and due dates?"
    answer, chunks = ask(question)
    assert "".join(chunks) == answer == "".join(answer_question(question, GOOD))
    assert 'From "Actions"' in answer


def test_chat_says_when_nothing_matches_and_lists_sections():
    answer, _ = ask("What was the weather in Paris?")
    assert "could not find" in answer
    for title, _ in GOOD:
        assert f'"{title}"' in answer


def test_chat_prefers_the_current_section_on_ties():
    sections = [("Alpha", "The pump stopped."), ("Beta", "The pump stopped.")]
    answer, _ = ask("pump", sections, section_title="Beta", max_passages=1)
    assert 'From "Beta"' in answer and 'From "Alpha"' not in answer
    answer, _ = ask("pump", sections, max_passages=1)
    assert 'From "Alpha"' in answer


def test_chat_respects_max_passages_and_is_deterministic():
    answer, _ = ask("pump setpoint chlorine", max_passages=2)
    assert answer.count("From \"") <= 2
    assert answer == ask("pump setpoint chlorine", max_passages=2)[0]


@pytest.mark.parametrize("sections", [[], [("Empty", "  ")]])
def test_chat_on_an_empty_write_up(sections):
    answer, _ = ask("What happened?", sections)
    assert "nothing to answer" in answer


def test_a_transport_role_names_the_actor():
    """'The train controller had become distracted' names who acted (a real rail inquiry report's
    findings were told nobody was identified); a section with no one in it still is."""
    named = ("4.1 The correct East Main Line route had not been set in preparation for the arrival of a passenger "
             "train because the train controller had become distracted with other tasks and did not check the "
             "route before the train reached the signal at the north end of the station.")
    assert not [f for f in review("Findings", named) if f.description.startswith("Nobody is identified")]
    nobody = named.replace("the train controller had", "attention had")
    assert [f for f in review("Findings", nobody) if f.description.startswith("Nobody is identified")]


def _planned(sections: list[tuple[str, str]]) -> dict[str, list]:
    """Each section's own findings as the offline reviewer keeps them after the document's plan."""
    secs = [Section(id=f"s{i}", title=t, index=i, text=x) for i, (t, x) in enumerate(sections)]
    style = document_dicts([s.model_dump() for s in secs])["style"]
    outline = [s.title for s in secs]
    return {s.id: offline_style.apply_plan(list(offline.review_section(
        s.title, s.text, index=s.index, total=len(secs), outline=outline)), s.id, style) for s in secs}


def test_a_long_report_hears_a_style_note_once_and_a_short_one_where_it_applies():
    """Passive voice in every one of 24 sections is one note, where it is worst, saying how
    widespread it is; in an 8-section write-up each section keeps its own."""
    text = "The pump was stopped and the tank was isolated. The valve was opened later that day."
    worst = "The pump was stopped, the tank was isolated, the line was drained and the valve was opened."
    long = [(f"Part {i}", worst if i == 7 else text) for i in range(24)]
    notes = {sid: [f for f in found if f.description.startswith("Passive voice")] for sid, found in _planned(long).items()}
    assert [sid for sid, fs in notes.items() if fs] == ["s7"]
    assert "Across the write-up: " in notes["s7"][0].description and "in 24 sections" in notes["s7"][0].description
    short = _planned(long[:8])
    assert all(any(f.description.startswith("Passive voice") for f in found) for found in short.values())


def test_a_measured_rule_states_its_record_and_an_unmeasured_one_its_own():
    """The confidence a reviewer sees is the rule's record on the labelled corpus where there is
    one (offline_confidence.MEASURED), and the rule's own estimate where there is none."""
    from redline.jobs.reviewers.offline_confidence import CONFIDENCE, calibrated, confidence

    assert confidence(0, 0) == 0.5 and confidence(1, 1) == 0.6 and confidence(12, 12) == 0.88
    spelling = Finding(type="suggestion", category="spelling", risk="low", description="Typo.", confidence=0.3)
    new_rule = Finding(type="suggestion", category="no such rule yet", risk="low", description="x.", confidence=0.8)
    got = calibrated([spelling, new_rule])
    assert got[0].confidence == CONFIDENCE["spelling"] > 0.5
    assert got[1].confidence == 0.8


def test_an_injury_that_did_not_happen_needs_no_notification():
    """A compressor's incident report: "No injuries reported" was read as an injury that someone
    should have been told of."""
    spared = review("Impact", "- Production stopped for 2 hours\n- No injuries reported\n- Minor equipment damage")
    assert having(spared, "Compliance") == []
    hurt = review("Impact", "- Production stopped for 2 hours\n- Two operators were injured\n- Minor equipment damage")
    assert [f.description.split('"')[1] for f in having(hurt, "Compliance")] == ["injured"]


def test_table_rows_markdown_did_not_read_as_a_table_are_not_an_overlong_sentence():
    """A researcher's notes on the 1992 Seminole pipeline explosion: a table whose header row has
    fewer cells than its rule is no table to Markdown, and its 14 rows read as one 129-word
    "sentence". A long sentence of prose is still one."""
    rows = "\n".join(f"|{k}: |{v}" for k, v in [
        ("Incident ID", "19920109"), ("Operator name", "Seminole Pipeline"), ("Date", "1992-04-06"),
        ("State", "TX"), ("Commodity", "Highly volatile liquid, natural gas liquids"), ("Fatalities", "3"),
        ("Injuries", "21"), ("Property damage", "9 million dollars in damage to homes and the storage plant"),
        ("Cause", "Incorrect operation of the storage cavern leading to overfill and release of the gas")])
    # one Markdown paragraph: its soft line breaks are read as spaces (offline_pool's as_read)
    table = " ".join(("|**General information**\n|----------------|---:\n" + rows).split("\n"))
    assert not [f for f in review("Quantitative data", table) if "Overlong" in f.description]
    prose = ("The operator kept filling the cavern although the brine flow had stopped and the alarm had sounded, "
             "because the procedure said nothing about what to do when the two readings disagreed and the night "
             "shift had never been trained on it, so the gas rose up the well and escaped into the valley below.")
    assert [f for f in review("Analysis", prose) if "Overlong" in f.description]


def test_a_numbered_chapter_over_its_unnumbered_topics_is_not_an_empty_section():
    """A TAIC report's text (not in the corpus): "1 Executive summary" right over "What happened" is
    the chapter over its topics; over "2 Factual information" it is an empty section."""
    outline = ["Preface", "1 Executive summary", "What happened", "2 Factual information"]
    chapter = list(review_section("1 Executive summary", "", index=1, total=4, outline=outline))
    assert chapter == []
    empty = list(review_section("1 Executive summary", "", index=1, total=3,
                                outline=["Preface", "1 Executive summary", "2 Factual information"]))
    assert [f.description for f in empty] == ["This section is empty."]


def test_a_field_set_as_a_heading_and_the_title_heading_are_not_empty_sections():
    """comdex's incident report (not in the corpus): "## Incident Report for Failure of ..." then
    "## Date: December 15, 2022" and "## Time: 00:50:10 UTC", each with no text of its own, were three
    "This section is empty." findings: a title and two fields with their values."""
    outline = ["Incident Report for Failure of Remaining Collateral", "Date: December 15, 2022",
               "Time: 00:50:10 UTC", "Details:"]
    for index, title in enumerate(outline[:3]):
        assert list(review_section(title, "", index=index, total=4, outline=outline)) == [], title
    assert [f.description for f in review_section("Details:", "", index=3, total=4, outline=outline)] == [
        "This section is empty."]


def test_actions_typed_one_a_line_without_full_stops_are_each_an_action():
    """Students' post-mortems (ALX, not in the corpus) type their measures one a line with no list
    marks and no full stops; read as one run-on sentence, the section had "No concrete actions",
    at high risk. Each line is an action, quoted on its own."""
    text = ("Modifying configuration files to increase max open files at times\n"
            "Test before deploying to production\nAdd monitoring on open file descriptors")
    findings = review("Corrective and Preventative Measures", text)
    assert not [f for f in findings if f.description.startswith("No concrete actions")]
    assert [f.quote for f in having(findings, "Actions") if f.description.startswith("This action has no owner")] == [
        "Modifying configuration files to increase max open files at times", "Test before deploying to production",
        "Add monitoring on open file descriptors"]

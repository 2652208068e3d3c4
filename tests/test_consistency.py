"""Document-level consistency rules (jobs/reviewers/consistency.py) and write-up hygiene
(jobs/reviewers/hygiene.py), on small invented documents: each rule fires where it should and
stays quiet on the look-alikes. Every quote must be an exact substring of its section."""

from __future__ import annotations

import time

import pytest

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers import consistency, hygiene


def doc(*parts: tuple[str, str] | tuple[str, str, int]) -> list[Section]:
    out = []
    for i, p in enumerate(parts):
        title, text = p[0], p[1]
        level = p[2] if len(p) > 2 else 1
        out.append(Section(id=f"s{i + 1}", title=title, index=i, text=text, level=level))
    return out


def run(sections: list[Section]) -> list[tuple[Section, Finding]]:
    """All findings of both modules, checking every quote and related quote is exact."""
    by_id = {s.id: s for s in sections}
    got = consistency.document_findings(sections)
    assert set(got) == set(by_id)
    out = []
    for s in sections:
        for f in got[s.id] + hygiene.section_findings(s, sections):
            assert f.quote is None and "empty section" in f.category or f.quote and f.quote in s.text, \
                (f.category, f.quote)
            if f.related_quote is not None or f.related_section_id is not None:
                assert f.related_section_id in by_id, f
                assert f.related_quote and f.related_quote in by_id[f.related_section_id].text, f
            out.append((s, f))
    return out


def having(found, word: str) -> list[tuple[Section, Finding]]:
    return [(s, f) for s, f in found if word in f.category]


TIMELINE_UTC = ("Timeline", "All times in UTC.\n"
                "- 14:05 Error rate on the checkout API rises above 5%.\n"
                "- 14:20 On-call engineer @dana paged.\n"
                "- 15:20 Rollback completes and the error rate is back to normal; incident resolved.")


# ---------------------------------------------------------------------------------------------
# consistency.py
# ---------------------------------------------------------------------------------------------


def test_summary_duration_contradicts_timeline():
    secs = doc(("Summary", "On 2024-05-02 the checkout API failed. The outage lasted 40 minutes before the "
                           "rollback restored service."), TIMELINE_UTC)
    found = having(run(secs), "duration")
    assert len(found) == 1
    s, f = found[0]
    assert s.id == "s1" and "40 minutes" in f.quote
    assert f.risk == "high"
    assert f.related_section_id == "s2" and "14:05" in f.related_quote
    assert "15:20" in f.description


def test_duration_that_matches_the_timeline_is_not_flagged():
    secs = doc(("Summary", "The outage lasted about 75 minutes, and detection took 15 minutes."), TIMELINE_UTC)
    assert having(run(secs), "duration") == []


def test_handle_spelled_two_ways():
    secs = doc(("Summary", "The incident commander was @jsmith; @jsmith also wrote this report."),
               ("Timeline", "All times UTC.\n- 09:00 @jsmith declares an incident.\n- 09:10 @jsmtih pages the "
                            "database team."))
    found = having(run(secs), "two ways")
    assert len(found) == 1
    s, f = found[0]
    assert f.quote == "@jsmtih" and s.id == "s2"
    assert f.related_quote == "@jsmith"


def test_identifier_spelled_two_ways_in_a_query():
    secs = doc(("Audit", "We ran `select username from users` and then:\n\n```\nselect u.userhame from users u\n```\n"
                         "Every username was checked.\nEach username belongs to one account."))
    found = having(run(secs), "two ways")
    assert [f.quote for _, f in found] == ["userhame"]


def test_out_of_order_timeline_entries():
    secs = doc(("Timeline", "* 2024-03-25 16:00 UTC - Report received\n"
                            "* 2024-03-25 18:30 UTC - Email sent to the registrar\n"
                            "* 2024-03-25 17:05 UTC - Abuse report submitted\n"
                            "* 2024-03-25 17:06 UTC - Automated response received"))
    found = having(run(secs), "order")
    assert len(found) == 1
    _, f = found[0]
    assert "17:05" in f.quote and "18:30" in f.related_quote


def test_midnight_rollover_is_not_out_of_order():
    secs = doc(("Timeline", "All times in UTC.\n- 2024-01-02 23:40 Deploy starts\n- 23:55 Errors begin\n"
                            "- 00:10 Rollback\n- 00:25 Recovered"))
    assert having(run(secs), "order") == []


def test_five_digit_year_and_impossible_dates():
    secs = doc(("Timeline", "All times in UTC.\n- 20224-03-05 10:00 Alert fires\n- 2024-13-01 11:00 Fix\n"
                            "- 2024-02-30 12:00 Review"))
    found = [(s, f) for s, f in run(secs) if "date" in f.category]
    quotes = {f.quote for _, f in found}
    assert {"20224-03-05", "2024-13-01", "2024-02-30"} <= quotes
    assert any("five digits" in f.description for _, f in found)


def test_weekday_that_does_not_match_its_date():
    ok = doc(("Timeline", "Times in UTC.\n2025-07-26 Saturday\n- 13:14 A user reports a phishing email.\n"
                          "- 14:01 An admin is paged."))
    assert [f for _, f in run(ok) if "date" in f.category] == []
    bad = doc(("Timeline", "Times in UTC.\n2025-07-26 Sunday\n- 13:14 A user reports a phishing email.\n"
                           "- 14:01 An admin is paged."))
    found = [f for _, f in run(bad) if "date" in f.category]
    assert len(found) == 1 and "Saturday" in found[0].description


def test_summary_count_contradicts_another_section():
    secs = doc(("Summary", "The attackers created 2 API tokens, which have since been revoked."),
               ("Impact", "Our audit found 3 API tokens created by the attackers."))
    found = having(run(secs), "count")
    assert len(found) == 1
    _, f = found[0]
    assert f.quote == "2 API tokens" and f.related_quote == "3 API tokens" and f.related_section_id == "s2"


def test_summary_time_contradicts_timeline():
    secs = doc(("Summary", "Service was restored at 15:50 UTC after the rollback."), TIMELINE_UTC)
    found = having(run(secs), "time vs timeline")
    assert len(found) == 1 and "15:20" in found[0][1].description


def test_version_mentioned_consistently_is_quiet_and_inconsistently_flagged():
    good = doc(("Summary", "We deployed api-server v2.3.1, which leaked connections."),
               ("Timeline", "All times in UTC.\n- 10:00 api-server v2.3.1 rolls out.\n- 10:30 Alerts fire."))
    assert having(run(good), "version") == []
    bad = doc(("Summary", "We deployed api-server v2.3.1, which leaked connections."),
              ("Timeline", "All times in UTC.\n- 10:00 api-server v2.3.4 rolls out.\n- 10:30 Alerts fire."))
    found = having(run(bad), "version")
    assert len(found) == 1 and found[0][1].related_quote == "api-server v2.3.4"


# ---------------------------------------------------------------------------------------------
# hygiene.py
# ---------------------------------------------------------------------------------------------


def test_todo_placeholder():
    secs = doc(("Summary", "The database failed over."), ("Thanks", "Thanks to our reporter.\n\nTODO: credit?"))
    found = having(run(secs), "placeholder")
    assert [f.quote for _, f in found] == ["TODO: credit?"]


def test_other_placeholders_and_empty_bullets():
    secs = doc(("Summary", "Impact: [insert impact here]. Owner: {owner}. Lorem ipsum dolor sit amet."),
               ("Questions for follow up", "*\n"))
    found = having(run(secs), "placeholder")
    quotes = [(s.id, f.quote) for s, f in found]
    assert ("s2", "*") in quotes
    assert len([q for sid, q in quotes if sid == "s1"]) >= 1


def test_done_action_and_code_placeholders_are_not_flagged():
    secs = doc(("Action items", "- [x] Add disk-space alerts (done, #512, owner @ops-team)\n"
                                "- [x] Remove the leftover TODO note handling from the deploy script (done)\n"),
               ("Details", "We ran `kubectl delete pod <pod-name> --force` and\n\n"
                           "select * from users where username = '{USERNAME}';\n\n"
                           "The user page is https://example.org/user/{USERNAME}/ as usual."))
    assert having(run(secs), "placeholder") == []


def test_broken_section_reference():
    secs = doc(("Summary", "The cache filled up; see section 7 for the root cause."), ("Timeline", "UTC"),
               ("Root cause", "Disk."), ("Actions", "None yet."), ("Appendix A", "Graphs."))
    found = having(run(secs), "reference")
    assert [f.quote for _, f in found] == ["see section 7"]
    ok = doc(("Summary", "The cache filled up; see section 3 and Appendix A."), ("Timeline", "UTC"),
             ("Root cause", "Disk."), ("Actions", "None yet."), ("Appendix A", "Graphs."))
    assert having(run(ok), "reference") == []
    missing = doc(("Summary", "Details are in Appendix B."), ("Appendix A", "Graphs."))
    assert [f.quote for _, f in having(run(missing), "reference")] == ["in Appendix B"]


def test_rouge_pod_typo():
    secs = doc(("Investigation", "Why did this outage start? Was there a rouge pod? The rouge colour on the "
                                 "dashboard did not help us organise the analysis."))
    found = having(run(secs), "spelling")
    assert [f.quote for _, f in found] == ["rouge pod"]
    assert found[0][1].suggestion == "rogue pod"


def test_dictionary_typos_and_split_words():
    secs = doc(("Response", "PyPI Security acknowledges reciept of the report.\n"
                            "We do not have much int he way of alerting.\n"
                            "There are 6,682 remainging requests. kubectl and binderhub are fine, and so is "
                            "ashleygwilliams."))
    found = having(run(secs), "spelling")
    quotes = {f.quote: f.suggestion for _, f in found}
    assert any("reciept" in q and "receipt" in sug for q, sug in quotes.items())
    assert any("remainging" in q and "remaining" in sug for q, sug in quotes.items())
    assert quotes.get("int he") == "in the"
    assert len(found) == 3
    assert not any(w in f.description for _, f in found for w in ("kubectl", "binderhub", "ashleygwilliams"))


def test_doubled_word():
    secs = doc(("Impact", "Other downloads may be from from security scanners, and the the mirrors.\n"
                          "He said that that was fine, and we had had enough."))
    found = having(run(secs), "doubled")
    assert sorted(f.quote for _, f in found) == ["from from", "the the"]
    assert all(f.risk == "low" for _, f in found)


def test_missing_time_zone_once_per_document():
    secs = doc(("Summary", "The API failed."), ("Timeline", ""), ("2024-05-02 14:05", "Errors start.", 2),
               ("14:20", "Paged.", 2), ("15:20", "Recovered.", 2))
    found = having(run(secs), "timezone")
    assert len(found) == 1 and found[0][0].id == "s3"


def test_times_with_utc_stated_once_are_fine():
    secs = doc(("Summary", "The API failed."), ("Timeline", "All times in UTC."),
               ("2024-05-02 14:05", "Errors start.", 2), ("14:20", "Paged.", 2), ("15:20", "Recovered.", 2))
    assert having(run(secs), "timezone") == []


def test_malformed_time():
    secs = doc(("Timeline", "All times in UTC.\n- 14:05 Errors start.\n- 25:10 Paged.\n- 14:75 Recovered."))
    quotes = {f.quote for _, f in having(run(secs), "malformed time")}
    assert quotes == {"25:10", "14:75"}


def test_question_heading_and_clean_document_are_quiet():
    secs = doc(("Summary", "On 2024-05-02 the checkout API returned errors for 75 minutes. All times in UTC."),
               ("Why did the disk fill up?", "The log rotation job had been disabled since the migration."),
               TIMELINE_UTC,
               ("Action items", "- [x] Re-enable log rotation (done, @dana)."))
    assert run(secs) == []


# ---------------------------------------------------------------------------------------------
# linear time on a hostile single-paragraph text
# ---------------------------------------------------------------------------------------------


def _paragraph(n: int) -> str:
    chunk = ("the the outage lasted 40 minutes at 14:05 UTC on 2024-13-45 see section 9 TODO {owner} "
             "recieve @jsmith @jsmtih 2 API tokens 3 API tokens " + "9" * 40 + ":" + "a" * 50 + " " + "`" * 3 +
             "int he 25:99 ")
    return (chunk * (n // len(chunk) + 1))[:n]


@pytest.mark.parametrize("size", [100_000, 1_000_000, 1_500_000])
def test_linear_time_on_a_single_huge_paragraph(size):
    text = _paragraph(size)
    secs = doc(("Summary", text), ("Timeline", text))
    t0 = time.perf_counter()
    got = consistency.document_findings(secs)
    per = [hygiene.section_findings(s, secs) for s in secs]
    elapsed = time.perf_counter() - t0
    print(f"\n{size} bytes x2 sections: {elapsed:.2f} s")
    assert set(got) == {"s1", "s2"}
    for s, fs in zip(secs, per):
        for f in fs + got[s.id]:
            assert f.quote is None or f.quote in s.text
        assert len(fs) <= 12 * 12  # capped per rule


# ---------------------------------------------------------------------------------------------
# shapes seen in real write-ups
# ---------------------------------------------------------------------------------------------


def test_labelled_stamp_headings_form_a_timeline():
    """'### 21:00 - Team alerted' headings are timeline entries: the summary's nine hours is caught."""
    secs = doc(("Summary", "A quota bug blocked new pods. This effect lasted approximately nine hours before normal "
                           "operation was restored."),
               ("Timeline", "All times in CET", 2),
               ("2022-06-02 10:00 - Problem starts", "mybinder.org stopped launching new pods.", 3),
               ("21:00 - Team alerted", "A user reported an outage.", 3),
               ("21:24 - Delete the quota object and the issue goes away", "Launch success back to 100%.", 3))
    found = having(run(secs), "duration")
    assert len(found) == 1 and found[0][1].related_quote == "mybinder.org stopped launching new pods."


def test_unreadable_day_change_is_not_out_of_order():
    secs = doc(("Timeline", "All times in CEST", 1),
               ("2018-04-18 12:35", "Upgrade deployed.", 2), ("19:47", "Deploy attempted.", 2),
               ("Next morning, 11:00", "Fix applied.", 2), ("11:07", "Deploy succeeds.", 2),
               ("14:49", "Logs investigated.", 2), ("14:43", "Chart change applied.", 2))
    found = having(run(secs), "order")
    assert [(s.title, f.quote) for s, f in found] == [("14:43", "Chart change applied.")]


def test_mustache_fields_and_empty_core_section():
    secs = doc(("Summary", "", 2), ("Timeline", "All times in PST. Start: {{ yyyy-mm-dd hh:mm }}", 2),
               ("Action items", "", 2), ("{{ action topic }}", "Steps for future.", 3))
    found = having(run(secs), "placeholder")
    got = {(s.id, f.quote) for s, f in found}
    assert ("s2", "All times in PST. Start: {{ yyyy-mm-dd hh:mm }}") in got
    assert ("s1", None) in got  # the empty Summary
    assert not any(sid == "s3" for sid, _ in got)  # a parent heading, not an empty section


def test_certain_fixes_come_as_replacements():
    """A doubled word or a typo has one certain rewrite: it is the finding's replacement, so an
    accepted finding becomes a tracked change; a placeholder has none."""
    text = "The index was rebuilt from from the backup. TODO: add the owner."
    s = Section(id="s1", title="Summary", index=0, text=text)
    found = {f.category: f for f in hygiene.section_findings(s, [s])}
    doubled = found["spelling: doubled word"]
    assert doubled.quote == "from from" and doubled.replacement == "from"
    assert all(f.replacement is None for c, f in found.items() if not c.startswith("spelling"))

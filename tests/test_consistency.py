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


# Findings about something missing, or about a heading (not part of the section's text), have no quote.
QUOTELESS = ("empty section", "duration not stated", "heading numbering")


def run(sections: list[Section]) -> list[tuple[Section, Finding]]:
    """All findings of both modules, checking every quote and related quote is exact."""
    by_id = {s.id: s for s in sections}
    got = consistency.document_findings(sections)
    assert set(got) == set(by_id)
    out = []
    for s in sections:
        for f in got[s.id] + hygiene.section_findings(s, sections):
            assert f.quote is None and f.category.endswith(QUOTELESS) or f.quote and f.quote in s.text, \
                (f.category, f.quote)
            if f.related_quote is not None or f.related_section_id is not None:
                assert f.related_section_id in by_id, f
                assert f.related_quote and f.related_quote in by_id[f.related_section_id].text, f
            out.append((s, f))
    return out


def run_titled(title: str, sections: list[Section]) -> list[tuple[Section, Finding]]:
    """As `run`, with the document's own title (its first heading) given to the rules too."""
    got = consistency.document_findings(sections, title)
    return [(s, f) for s in sections for f in got[s.id]]


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


def test_a_longer_handle_typed_with_two_slips_and_possessives():
    """PyPI's account takeover report: `meisnate12` five times, `meinstate12`'s once (two letters
    swapped, one added), most of them possessive."""
    secs = doc(("What happened?", "The attacker removed meisnate12 from four projects, then deleted "
                                  "meisnate12's account."),
               ("Timeline", "- 08:44 meisnate12 invites dvolk\n- 08:50 meisnate12's account is deleted\n"
                            "- 14:33 an email arrives from the address of meinstate12's account"))
    found = having(run(secs), "two ways")
    assert [(s.id, f.quote, f.related_quote) for s, f in found] == [("s2", "meinstate12", "meisnate12")]
    # other numbers, short handles, words with an apostrophe, and two different names: quiet
    fine = doc(("Timeline", "build_1234 failed, build_1234 again, build_1234 once more, then build_1243 passed. "
                            "web_node doesn't, web_node does, web_node did; wb_nodes once. "
                            "releaseTool ran, releaseTool ran, releaseTool ran, and relayTools once."))
    assert having(run(fine), "two ways") == []


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


# A timeline stamped "[MM-DD HH:MM]" (no year), as Kubernetes' post-mortems write it.
YEARLESS = ("- [12-05 16:21] The bug is introduced\n- [03-20 16:46] The spec is updated but the pod is not\n"
            "- [03-26 17:40] The node upgrade starts\n- [03-26 23:04] The node is drained (outage starts)\n"
            "{after}")


def test_month_day_stamps_are_dated_across_new_year():
    """December, then March: the year before, not an entry out of order; the stamps are dates."""
    secs = doc(("Boskos outage of March 26th, 2019", "All times in PDT."),
               ("Timeline", YEARLESS.format(after="- [03-27 02:50] The outage is reported\n"
                                                    "- [03-27 08:10] A fixed image is deployed (outage ends)")))
    found = run(secs)
    assert having(found, "order") == [] and [f for _, f in found if "date" in f.category] == []


def test_a_date_that_does_not_change_at_midnight():
    secs = doc(("Boskos outage of March 26th, 2019", "All times in PDT."),
               ("Timeline", YEARLESS.format(after="- [03-26 02:50] The outage is reported\n"
                                                    "- [03-26 08:10] A fixed image is deployed (outage ends)")))
    found = having(run(secs), "order")
    assert len(found) == 1, found
    _, f = found[0]
    assert f.quote == "- [03-26 02:50] The outage is reported" and "23:04" in f.related_quote
    assert "does not change at midnight" in f.description


def test_a_window_dated_a_month_off_from_its_timeline_entry():
    """The impact's 23:04 is the timeline's 23:04 entry, on another day that no entry has."""
    timeline = ("Timeline", YEARLESS.format(after="- [03-27 02:50] The outage is reported\n"
                                                  "- [03-27 08:12] A fixed image is deployed (outage ends)"))
    title = ("Boskos outage of March 26th, 2019", "All times in PDT.")
    bad = doc(title, ("Impact", "All jobs failed between 2019-02-25 23:04 and 2019-02-26 08:12, about nine hours."),
              timeline)
    found = having(run(bad), "date vs timeline")
    assert len(found) == 1
    _, f = found[0]
    assert "2019-02-25" in f.description and "2019-03-26" in f.description and "23:04" in f.related_quote
    good = doc(title, ("Impact", "All jobs failed between 2019-03-26 23:04 and 2019-03-27 08:12, about nine hours."),
               timeline)
    assert having(run(good), "date vs timeline") == []
    # a quarter-hour minute on another day is a coincidence too often to call
    other = doc(("Impact", "The last deploy before it ran on 2019-02-25 23:15."),
                ("Timeline", "- 2019-03-26 23:15 The node is drained\n- 2019-03-27 08:12 Fixed"))
    assert having(run(other), "date vs timeline") == []


POD_LIMIT = (("Summary", "A bug in the resource quota stopped the hub from creating pods."),
             ("Timeline", "All times in CET\n\n2022-06-02 10:00 - Problem starts\n\n21:00 - Team alerted\n\n"
                          "21:24 - Quota object deleted and launches recover"))


def test_a_title_dated_months_away_from_the_timeline():
    """The title kept an earlier report's date: found on the timeline's dated entry, naming both."""
    found = [f for _, f in run_titled("2022-01-27, pod limit reached", doc(*POD_LIMIT)) if "date vs" in f.category]
    assert len(found) == 1
    f = found[0]
    assert f.quote == "2022-06-02 10:00 - Problem starts"
    assert "2022-01-27" in f.description and "2022-06-02" in f.description
    # the day itself, a report published a week later, or a title with no full date: nothing
    for title in ("2022-06-02, pod limit reached", "Pod limit post-mortem (published June 9, 2022)",
                  "Pod limit reached in June", "Review of 2022-01-27 updated for the outage of 2022-06-02"):
        assert [f for _, f in run_titled(title, doc(*POD_LIMIT)) if "date vs" in f.category] == [], title


INGRESS = (("Summary", "During an upgrade all nodes running our ingress pods were cordoned. This went unnoticed "
                       "and caused 40min of total outage."),
           ("Timeline", "All times in GMT+2\n- 2019-04-03 12:50 Start of incident\n- 13:28 A user reports it\n"
                        "- 13:29 Pods rescheduled. Incident ends."))


def test_the_outage_given_two_lengths():
    found = having(run_titled("2019-04-03, 30min outage during node pool upgrade", doc(*INGRESS)), "two durations")
    assert len(found) == 1
    s, f = found[0]
    assert s.title == "Summary" and f.quote == "40min of total outage"
    assert "30min" in f.description and "39 minutes" in f.description
    # between two sections: the other one is the related quote
    found = having(run(doc(("Impact", "The 2 hour outage hit every launch."), *INGRESS)), "two durations")
    assert len(found) == 1 and found[0][1].related_quote == "2 hour outage"
    found = having(run(doc(("Impact", "The 8 hour outage hit every launch."), *INGRESS)), "two durations")
    assert "an 8 hour outage" in found[0][1].description  # the reviewer's own grammar: "an 8", "a 2"


def test_outage_lengths_that_agree_or_are_contrasted_are_quiet():
    for title in ("2019-04-03, 40 minute outage during node pool upgrade",
                  "2019-04-03, an outage of about 35 minutes",  # "about": rounded
                  "2019-04-03, over 20 minutes of outage"):  # a bound, not a length
        assert having(run_titled(title, doc(*INGRESS)), "two durations") == [], title
    contrasted = doc(("Summary", "A 10 minute outage of the API was followed by a 2 hour outage of the dashboard."))
    assert having(run(contrasted), "two durations") == []


PODS = ("Timeline", "All times in CEST (UTC+2)\n\n2018-07-08 ca. 18:30\n\nLaunch success drops to zero.\n\n"
                    "22:48\n\nSuspicious behavior reported.\n\n23:25\n\nPods culled, launches are back to normal.")


def test_an_approximate_time_is_the_entrys_time():
    """'2018-07-08 ca. 18:30': the outage starts at 18:30, not at midnight, so five hours is right."""
    secs = doc(("Summary", "The disruption lasted for approximately five hours on a Sunday evening."), PODS)
    found = run(secs)
    assert having(found, "duration") == [] and having(found, "date") == []


def test_the_summary_weekday_that_is_none_of_the_timeline_days():
    secs = doc(("Summary", "The disruption lasted for approximately five hours on a Saturday evening."), PODS)
    found = having(run(secs), "timeline date")
    assert len(found) == 1
    s, f = found[0]
    assert s.title == "Summary" and "Saturday" in f.description and "2018-07-08, a Sunday" in f.description
    assert f.related_quote == "2018-07-08 ca. 18:30"
    # Saturday night running into Sunday's small hours, and weekdays of other things, are quiet
    night = doc(("Summary", "It started on a Saturday night."),
                ("Timeline", "All times in UTC.\n- 2018-07-08 01:10 Launches fail\n- 02:00 Fixed"))
    assert having(run(night), "timeline date") == []
    habit = doc(("Summary", "Deploys are frozen on Fridays; this one went out on a Sunday."), PODS)
    assert having(run(habit), "timeline date") == []


def test_a_count_times_each_that_is_not_the_total():
    """Kubernetes' Boskos write-up: 150 nodes at five minutes each is 12.5 hours, not about ten."""
    bad = doc(("Root Cause", "The build cluster has 150 nodes, and each update takes five minutes, so for this "
                             "entire process to complete would take about ten hours."))
    found = having(run(bad), "arithmetic")
    assert len(found) == 1 and "12.5 hours" in found[0][1].description and "ten hours" in found[0][1].description
    for text in ("The build cluster has 120 nodes, and each update takes five minutes, so the whole upgrade "
                 "would take about ten hours.",  # it adds up
                 "The build cluster has 150 nodes, and each update takes five minutes; we upgrade 10 at a time, "
                 "so it would take about two hours.",  # in parallel
                 "Each of the 3 reviewers took 20 minutes on their part."):  # no total
        assert having(run(doc(("Root Cause", text))), "arithmetic") == [], text


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
    assert [(f.quote, f.description) for _, f in having(run(missing), "reference")] == [
        ("in Appendix B", "'in Appendix B' points to an appendix the document does not have.")]  # "an", not "a"


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


# ---------------------------------------------------------------------------------------------
# what a software post-mortem must establish (postmortem.py) and its follow-ups (followups.py)
# ---------------------------------------------------------------------------------------------

OUTAGE_TIMELINE = ("Timeline", "All times in CET\n\n"
                   "- 07:28 Problem is identified: launch success rate at zero, pods on two nodes are Unknown.\n"
                   "- 07:33 We cordon the bad nodes and delete the stuck hub pod.\n"
                   "- 08:05 The hub pod is rescheduled on a healthy node and launches succeed again.")


def test_action_list_without_owners_is_one_finding_quoting_the_open_items():
    """The shape of a mybinder post-mortem: sub-lists under "Action items", one item tracked
    (#365), one done, the others with no owner or date: said once, where the open ones start."""
    secs = doc(("Summary", "The hub pod could not release its volume claim after a node failure, so the "
                           "deploy of new pods failed for 40 minutes."), OUTAGE_TIMELINE,
               ("Action items", "", 1),
               ("Process improvements", "1. Add a non-stackdriver alerting service (currently blocking on #365)\n"
                                        "2. Move the hub to a dedicated node pool (done)", 2),
               ("Documentation improvements", "1. Document how to check if a PVC hasn't been released.\n"
                                              "2. Document how to force-delete pods in an Unknown state.", 2),
               ("Technical improvements", "1. Store the prometheus data on a persistent disk.", 2))
    found = having(run(secs), "actions")
    assert len(found) == 1
    s, f = found[0]
    assert s.title == "Documentation improvements" and f.risk == "medium"
    assert f.quote == ("1. Document how to check if a PVC hasn't been released.\n"
                       "2. Document how to force-delete pods in an Unknown state.")[3:]
    assert f.description.startswith("3 of the 5 action items")


def test_done_tracked_and_owned_actions_and_advice_to_readers_are_quiet():
    secs = doc(("Summary", "The API servers returned 503 errors after a deploy; the release was rolled back "
                           "within 30 minutes."), OUTAGE_TIMELINE,
               ("Action items", "- Fix the health check (merged in #1204)\n"
                                "- Add a disk alert, owner: @dana, due 2024-06-30\n"
                                "- [x] Rotate the deploy token\n"
                                "- Added a 5xx alert to the release dashboard"),
               ("Mitigation", "- Roll back the release\n- Drain the bad node"),
               ("Call to action", "- If you have a dormant account, consider removing it.\n"
                                  "- Use a hardware key for 2FA on your account."))
    assert having(run(secs), "actions") == []


def test_open_commitment_in_prose_when_there_is_no_action_list():
    secs = doc(("Summary", "- 4 PyPI user accounts were phished\n- 2 API tokens were revoked\n"
                           "- 2 malware releases of the package were removed\n- The phishing domain's DNS is down"),
               ("Abuse reporting", "Our reports to the CDN were rejected as invalid. We don't know why they "
                                   "were rejected, but we will review and determine if future reports could be "
                                   "made more actionable."),
               ("Details", "We will not be releasing the usernames involved publicly."))
    found = having(run(secs), "actions")
    assert [(s.id, f.quote) for s, f in found] == [
        ("s2", "but we will review and determine if future reports could be made more actionable.")]
    assert found[0][1].risk == "low"


def test_hedged_cause_is_not_an_established_root_cause():
    secs = doc(("Summary", "Build logs were not shown for new builds. Fixed by removing the node that had no "
                           "IP address in its metadata."), OUTAGE_TIMELINE,
               ("What went wrong", "- It was very difficult to identify the root cause of the issue, in part "
                                   "because it appears to be a bug in the kubernetes master.\n"
                                   "- The node's lost addresses were likely a direct symptom of the problem."))
    found = having(run(secs), "root cause")
    assert len(found) == 1 and found[0][0].id == "s3"
    assert found[0][1].quote.startswith("It was very difficult") and found[0][1].risk == "medium"


def test_hedges_that_are_not_about_the_cause_are_quiet():
    """Appropriate hedging about what cannot be known, a causal aside after the hedge, a symptom,
    and the guesses a timeline records as they were made."""
    secs = doc(("Summary", "We cannot know for certain, but it appears that the attackers sent emails to "
                           "addresses found in package metadata, which is public due to users putting them in "
                           "their setup.py files. The node loss was likely a symptom of the problem."),
               ("Timeline", "All times in UTC\n\n- 07:39 The hub pod cannot start, presumably because the old "
                            "pod still holds the claim.\n- 08:05 The hub pod is rescheduled and the deploy "
                            "succeeds; service restored after 26 minutes."))
    assert having(run(secs), "root cause") == []


def test_vague_impact_in_the_summary():
    secs = doc(("Summary", "Attackers modified GitHub Actions workflows in many repositories, many of which had "
                           "PyPI tokens stored as secrets. While the attackers successfully exfiltrated some "
                           "tokens, they do not appear to have used them on PyPI."),
               ("Impact", "Many of these downloads are from package mirrors."))
    found = having(run(secs), "impact: vague")
    assert len(found) == 1 and found[0][0].id == "s1"
    assert found[0][1].quote.startswith("While the attackers successfully exfiltrated some tokens")
    assert '"some tokens"' in found[0][1].description
    # a name before the noun: the finding names what was harmed (PyPI's Shai-Hulud post)
    named = doc(("Summary", "An attack on the npm ecosystem compromised GitHub repositories and exfiltrated API "
                            "tokens from their CI workflows. PyPI has not been exploited, however some PyPI "
                            "credentials were found exposed in compromised repositories. We revoked these tokens "
                            "and told the package maintainers."))
    found = having(run(named), "impact: vague")
    assert len(found) == 1 and '"some PyPI credentials"' in found[0][1].description


def test_most_of_them_failing_is_a_vague_impact_but_most_likely_is_not():
    # mybinder.org 2018-01-17: "most Binders would fail to build", and no count anywhere
    secs = doc(("Summary", "Ubuntu had pulled several of its packages for Zesty. This meant that most Binders would "
                           "fail to build because those packages were no longer available."), OUTAGE_TIMELINE)
    found = having(run(secs), "impact: vague")
    assert len(found) == 1 and '"most Binders"' in found[0][1].description
    assert found[0][1].quote.startswith("This meant that most Binders would fail to build")
    likely = doc(("Summary", "The build most likely failed to start because the packages were gone."),
                 OUTAGE_TIMELINE)
    assert having(run(likely), "impact: vague") == []


def test_duration_not_stated():
    # the timeline says it was resolved, but not when
    resolved = doc(("Summary", "- 4 user accounts were phished\n- The phishing domain was taken down"),
                   ("Timeline of events", "Times are in UTC.\n\n2025-07-28 Monday\n"
                                          "- 12:20 UTC: The registrar places the phishing domain on hold.\n"
                                          "- 12:54 UTC: The package owner confirms removal of the release and token.\n\n"
                                          "Incident is considered resolved, admins continue to monitor the situation."))
    found = having(run(resolved), "duration not stated")
    assert [(s.id, f.quote) for s, f in found] == [
        ("s2", "Incident is considered resolved, admins continue to monitor the situation.")]
    # "after a few hours we noticed": the start is never given
    vague = doc(("Summary", "After a few hours we noticed that the hub wasn't spawning any new users."),
                OUTAGE_TIMELINE)
    found = having(run(vague), "duration not stated")
    assert [f.quote for _, f in found] == ["After a few hours we noticed that the hub wasn't spawning any new users."]
    # nothing at all: on the summary, without a quote
    silent = doc(("Summary", "For new builds users did not see the build logs. Fixed by removing a node."),
                 OUTAGE_TIMELINE)
    found = having(run(silent), "duration not stated")
    assert [(s.id, f.quote) for s, f in found] == [("s1", None)]
    # with what the timeline shows, so the reader can check it at once
    assert "its timeline runs from 07:28 to 08:05 (37 minutes)" in found[0][1].description
    over_days = doc(("Summary", silent[0].text),
                    ("Timeline", "All times in CET\n\n- 2018-03-13 23:40 Launches fail: the hub pod is Unknown on a "
                                 "lost node.\n- 2018-03-14 01:10 We cordon the node and delete the hub pod; "
                                 "launches succeed again."))
    found = having(run(over_days), "duration not stated")
    assert "runs from 2018-03-13 23:40 to 2018-03-14 01:10 (about 1.5 hours)" in found[0][1].description
    # a stated duration (even as "resolved in"), or a previous incident's: quiet / not counted
    stated = doc(("Summary", "The deploy broke new pods; the incident was resolved in 2 hours and 2 minutes."),
                 OUTAGE_TIMELINE)
    assert having(run(stated), "duration not stated") == []
    # "caused 40min of total outage" states it too (mybinder's 2019-04-03 write-up, read as .txt)
    caused = doc(("Summary", "All ingress pods were cordoned. This went unnoticed and caused 40min of total outage."),
                 OUTAGE_TIMELINE)
    assert having(run(caused), "duration not stated") == []
    # "every" leads to "build", not to the number: a stated duration (and "every 5 minutes" is not one)
    every = doc(("Summary", "Every build failed for two hours until the images were pruned."), OUTAGE_TIMELINE)
    assert having(run(every), "duration not stated") == []
    polled = doc(("Summary", "The hub was polled every 5 minutes; for new builds users did not see the logs."),
                 OUTAGE_TIMELINE)
    assert [f.quote for _, f in having(run(polled), "duration not stated")] == [None]


def test_label_colon_clock_times_are_timeline_entries():
    """'- 01:38: alerts fired' (a colon after the time) is an entry like '- 01:38 alerts fired'."""
    secs = doc(("Summary", "The docs.rs website went down because the disk was full."),
               ("Timeline of events", "Unless otherwise noted all events happened on 2019-10-21, and all times "
                                      "are in UTC.\n- 01:38: alerts fired for the website being down\n"
                                      "- 02:06: CDN propagated the changes, docs.rs back online\n"
                                      "- 01:52: the backup contact proposed to increase disk space"))
    found = having(run(secs), "order")
    assert [f.quote for _, f in found] == ["- 01:52: the backup contact proposed to increase disk space"]


def test_a_later_event_folded_into_the_timeline():
    secs = doc(("Summary", "Nodes went bad and the hub could not release its volume claim."),
               ("Timeline", "All times in CET\n\n2018-03-13 07:28\n\nProblem is identified.\n\n08:05\n\n"
                            "The hub pod is rescheduled and launches succeed.\n\n13:34\n\nStuck pods are "
                            "force-deleted and services recover.\n\n2018-03-21 06:30\n\nWe discover that another "
                            "node has entered \"NodeLost\" state. Grafana is down."))
    found = having(run(secs), "separate event")
    assert [f.quote for _, f in found] == ['We discover that another node has entered "NodeLost" state.']
    assert found[0][1].related_quote == "13:34"
    # a slow process followed over weeks (a registrar's answers) is one event
    slow = doc(("Summary", "A malicious package used a look-alike domain."),
               ("Timeline", "- 2024-03-05 01:09 UTC - Package uploaded\n- 2024-03-05 06:17 UTC - First report\n"
                            "- 2024-03-06 17:16 UTC - Package removed\n- 2024-03-06 17:20 UTC - Email to registrar\n"
                            "- 2024-03-12 08:00 UTC - Registrar responds\n- 2024-03-18 - Nameservers removed"))
    assert having(run(slow), "separate event") == []


# ---------------------------------------------------------------------------------------------
# hygiene.py: short and technical typos, a mixed heading numbering
# ---------------------------------------------------------------------------------------------


def test_short_and_technical_typos():
    secs = doc(("Timeline", "A routine bump of binderhub and reop2docker versions is deployed. The issue would "
                            "hav been resolved in minutes. The kubelets on two nodes restarted. Once the "
                            "build is done we will unban the repository again."),
               ("Response", "Given that this is a straightforward bug, I though I would take a moment to share "
                            "how we validated it."))
    found = {f.quote: f for _, f in having(run(secs), "spelling")}
    assert any("reop2docker" in q and "'repo2docker'" in f.description for q, f in found.items())
    assert any("hav been" in q and f.replacement and "have been" in f.replacement for q, f in found.items())
    assert found["I though I"].replacement == "I thought I"
    assert not any("kubelets" in q or "unban" in q for q in found)


def test_heading_numbering_that_changes_style():
    secs = doc(("Details", "The data request was answered item by item."),
               ("1) Names", "Confirmed via our database records.", 3), ("Returning:", "id | name", 1),
               ("2) Addresses", "Only email addresses are stored.", 3),
               ("3. Connection records", "Project events and user events.", 3),
               ("3a. Project events", "Returning: ...", 3), ("4. Session records", "Not recorded.", 3))
    found = having(run(secs), "heading numbering")
    assert [(s.title, f.quote) for s, f in found] == [("3. Connection records", None)]


def test_a_safety_investigation_keeps_its_own_checklist():
    """postmortem.py and followups.py judge software and security write-ups; a safety
    investigation's actions and impact are checked per section by the general checklist."""
    secs = doc(("Summary", "Hydraulic oil leaked onto the press and a fire broke out; the operator on the night "
                           "shift was not injured. It appears the hose failed because it was likely worn."),
               ("Timeline", "- 02:10 The operator saw smoke at the press.\n- 02:12 The plant was evacuated.\n"
                            "- 02:40 The fire service left the site."),
               ("Actions", "- Replace the press hoses.\n- Retrain the shift on the evacuation procedure."))
    found = run(secs)
    assert not [f for _, f in found if f.category.startswith(("actions:", "impact:", "root cause:"))]


def test_action_tables_handles_and_time_spans():
    """An action table is read by its columns; an @handle is an owner; "from 14:05 to 15:20" says
    how long; "the most likely cause was" is a hedged cause."""
    secs = doc(("Summary", "The checkout API returned 503 errors from 14:05 to 15:20 UTC after a deploy. The most "
                           "likely cause was a connection pool leak in the new release."), TIMELINE_UTC,
               ("Action items", "| Action | Owner | Due |\n| --- | --- | --- |\n"
                                "| Add a pool-size alert | @dana | 2024-06-30 |\n"
                                "| Load-test the release pipeline | | |\n"
                                "- Roll back automatically on 5xx spikes, @lee"))
    found = run(secs)
    actions = having(found, "actions")
    assert [f.quote for _, f in actions] == ["| Load-test the release pipeline | | |"]
    assert actions[0][1].description.startswith("1 of the 3 action items")
    assert having(found, "duration not stated") == []
    assert [f.quote for _, f in having(found, "root cause")] == [
        "The most likely cause was a connection pool leak in the new release."]


def test_instructions_of_a_copied_template_left_in():
    secs = doc(("What went well", "List of things that went well. For example,\n\n1. service was quickly restored"),
               ("Where we got lucky", "These are good things that happened to us but not because we had planned "
                                      "for them.\nFor example,\n\n1. A user reported the outage on gitter"),
               ("Action items", "These are only sample subheadings. Every action item should have a GitHub issue\n"
                                "(even a small skeleton of one) attached to it."))
    found = having(run(secs), "placeholder")
    assert [s.id for s, _ in found] == ["s1", "s2", "s3"]



def test_a_templates_instruction_to_write_a_summary_left_in():
    """Red Hat Insights' post-mortem (not in the corpus) kept its template's instructions, in italics,
    over the sections it half filled in: "Include a short sentence or two summarizing the
    contributing factors ...", "Include a description what solved the problem.", "Include action
    items such as:". An action that says to include something is an action, not an instruction."""
    secs = doc(("Overview", "*Include a short sentence or two summarizing the contributing factors, timeline "
                            "summary, and the impact.*"),
               ("Resolution", "Include a description what solved the problem.\n\nDisabled the warm-cache cronjob."),
               ("Action Items", "*Include action items such as: *\n\n- Include a description of the rollback in the "
                                "runbook."))
    found = having(run(secs), "placeholder")
    assert [(s.id, f.quote) for s, f in found] == [
        ("s1", "*Include a short sentence or two summarizing the contributing factors, timeline summary, and the "
               "impact.*"), ("s2", "Include a description what solved the problem."),
        ("s3", "*Include action items such as: *")], found


def test_an_entry_out_of_order_in_a_timeline_without_dates_is_told_by_its_time():
    secs = doc(("Timeline", "All times are in UTC\n- 14:46 An admin responds to the report.\n"
                            "- 14:44 Admins discuss options in the Slack channel.\n- 15:53 Admins close the incident."))
    found = having(run(secs), "order")
    assert [f.description for _, f in found] == ["Timeline entry out of order: 14:44 is listed after 14:46."]


async def test_the_offline_reviewer_checks_the_review_title():
    """The title reaches the whole-document pass (and its cache tells two titles apart)."""
    from redline.jobs.reviewers.base import AnalysisRequest
    from redline.jobs.reviewers.offline_reviewer import OfflineReviewer
    from redline.jobs.settings import Settings

    sections = doc(*POD_LIMIT)
    reviewer = OfflineReviewer(Settings(offline_pace_ms=0))
    try:
        async def dated(title: str) -> list[Finding]:
            req = AnalysisRequest(title, sections[1], [s.title for s in sections], sections=sections)
            return [f async for f in reviewer.analyze(req) if isinstance(f, Finding) and "date vs" in f.category]

        assert [f.quote for f in await dated("2022-01-27, pod limit reached")] == ["2022-06-02 10:00 - Problem starts"]
        assert await dated("2022-06-02, pod limit reached") == []
    finally:
        await reviewer.aclose()


async def test_a_misspelled_word_is_one_finding_not_two():
    """A student's post-mortem (ALX, not in the corpus): "the server was listenting on the right
    port" got a typo finding and a "name spelled two ways" one ('listenting' once, 'listening'
    twice). One slip, said once; a handle typed two ways is still said."""
    from redline.jobs.reviewers.base import AnalysisRequest
    from redline.jobs.reviewers.offline_reviewer import OfflineReviewer
    from redline.jobs.settings import Settings

    sections = doc(("Summary", "Nginx was listening on port 80 and the site was down for an hour; "
                               "@dana_ops restarted it."),
                   ("Timeline", "- 10:05 UTC: We found the server was listenting on the right port.\n"
                                "- 10:20 UTC: Nginx is listening on port 8080 again; @dana_oqs confirms. "
                                "@dana_ops closes the incident."))
    reviewer = OfflineReviewer(Settings(offline_pace_ms=0))
    try:
        req = AnalysisRequest("Nginx outage", sections[1], [s.title for s in sections], sections=sections)
        found = [f async for f in reviewer.analyze(req) if isinstance(f, Finding)]
    finally:
        await reviewer.aclose()
    assert [f.category for f in found if "listenting" in f.description] == ["spelling"]
    assert [f.quote for f in found if f.category == "consistency: name spelled two ways"] == ["@dana_oqs"]


async def test_a_write_up_in_another_language_is_not_corrected_into_english():
    """PyLadies Brasil's build post-mortem (in Portuguese, not in the corpus) was told "'processo'
    should probably be 'process'", "'Contexto' should probably be 'Context'", and that it had no
    root-cause, action or timeline section. The rules that read English are not run on it, and its
    first section says so; a leftover placeholder is still found. An English write-up is unchanged."""
    from redline.jobs.reviewers.base import AnalysisRequest
    from redline.jobs.reviewers.offline_reviewer import OfflineReviewer
    from redline.jobs.settings import Settings

    portuguese = doc(("Contexto", "No dia 14 de novembro o build do site quebrou e ninguém conseguia publicar. "
                                  "Usamos o Pelican e o Travis para gerar as páginas a partir do repositório."),
                     ("Investigação", "O primeiro passo da investigação foi olhar os logs do Travis, mas nada "
                                      "indicava um motivo para que o processo falhasse. A chave de API que o "
                                      "Heroku gera é ligada a uma conta pessoal. TODO: completar esta parte."),
                     ("Conclusão", "Pedimos que as pessoas que usam as plataformas ajudem nesse processo."))
    english = doc(("Summary", "The site build broke on 14 November and nobody could publish for a day."),
                  ("Investigation", "The first step was to read the Travis logs, but nothing in them explained "
                                    "why the build failed: the API key was tied to a personal account that nobody explaned."))
    reviewer = OfflineReviewer(Settings(offline_pace_ms=0))
    try:
        async def review(sections: list[Section]) -> list[Finding]:
            return [f for s in sections
                    async for f in reviewer.analyze(AnalysisRequest("Build", s, [x.title for x in sections],
                                                                    sections=sections))
                    if isinstance(f, Finding)]

        found = await review(portuguese)
        assert [f.category for f in found] == ["Language", "placeholder"], [(f.category, f.description) for f in found]
        assert found[0].description.startswith("This write-up does not read as English")
        assert "TODO" in found[1].quote
        assert "explaned" in " ".join(f.description for f in await review(english) if f.category == "spelling")
        # MATE's server-outage post in Japanese (not in the corpus): no English words, and no Latin ones
        japanese = doc(("概要", "2016年12月22日、MATEのサーバーが停止しました。ディスクの障害により、ウェブサイトとフォーラムが"
                                "約二日間利用できませんでした。バックアップから復元しましたが、一部のデータは失われました。" * 3),
                       ("対策", "監視を追加し、バックアップを毎日確認します。TODO: 担当者を決める。"))
        found = await review(japanese)
        assert [f.category for f in found] == ["Language", "placeholder"], [(f.category, f.description) for f in found]
    finally:
        await reviewer.aclose()

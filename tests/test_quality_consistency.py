"""What a reviewer sees from the cross-section and timeline rules (jobs/reviewers/consistency*.py)
tuned on the real write-ups of bench/quality: each rule on a small, realistic, invented text, and
its look-alikes that must stay quiet. Every quote is an exact substring of its own section, and a
cross-section finding's related quote one of the related section."""

from __future__ import annotations

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers import consistency


def doc(*parts: tuple[str, str] | tuple[str, str, int]) -> list[Section]:
    return [Section(id=f"s{i + 1}", title=p[0], index=i, text=p[1], level=p[2] if len(p) > 2 else 1)
            for i, p in enumerate(parts)]


def run(sections: list[Section]) -> list[tuple[Section, Finding]]:
    by_id = {s.id: s for s in sections}
    got = consistency.document_findings(sections)
    out = []
    for s in sections:
        for f in got[s.id]:
            assert f.quote is None or f.quote in s.text, (f.category, f.quote)
            if f.related_quote is not None or f.related_section_id is not None:
                assert f.related_quote in by_id[f.related_section_id].text, f
            out.append((s, f))
    return out


def having(found, word: str) -> list[tuple[Section, Finding]]:
    return [(s, f) for s, f in found if word in f.category]


# ---------------------------------------------------------------------------------------------
# when it happened: relative or month-only dates with nothing to anchor them
# ---------------------------------------------------------------------------------------------


def test_relative_date_with_no_date_anywhere_is_flagged_once():
    secs = doc(("Supply-chain attack on example-lib",
                "Last week, the project example-lib suffered a supply-chain attack through its CI cache. "
                "Versions 2.0.1 and 2.0.2 were affected and have been removed. Two days ago we also rotated "
                "every token."),
               ("What we changed", "We now pin every action to a commit and no longer share caches."))
    found = having(run(secs), "no dates")
    assert len(found) == 1
    s, f = found[0]
    assert s.id == "s1" and f.quote.startswith("Last week, the project example-lib")
    assert "'Last week'" in f.description and f.risk == "medium"


def test_month_only_dates_are_flagged_unless_a_day_in_that_year_is_given():
    base = ("Subpoenas", "In March and April 2023, the foundation received three subpoenas for user data. "
                         "All three were answered.")
    background = ("Records", "We have kept records of every change since 2002-11-01 17:11:36 UTC.")
    found = having(run(doc(base, background)), "no dates")
    assert [f.quote for _, f in found] == [
        "In March and April 2023, the foundation received three subpoenas for user data."]
    assert "'In March and April 2023'" in found[0][1].description
    # a dated entry in that year anchors it
    dated = ("Timeline", "- 2023-03-14: first subpoena received\n- 2023-04-20: third subpoena answered")
    assert having(run(doc(base, dated)), "no dates") == []
    # a month in the past, told as history before a dated incident, is not the incident's date
    history = doc(("Background", "In March 2020 we moved the index to a CDN."),
                  ("Timeline", "- 2024-05-01 10:00 UTC: errors begin\n- 2024-05-01 11:00 UTC: resolved"))
    assert having(run(history), "no dates") == []


def test_dated_writeups_and_code_are_not_unanchored():
    # the timeline dates the events: "last week" in the introduction is anchored by them
    dated = doc(("Introduction", "Last week our CDN returned errors for some downloads."),
                ("Timeline", "- August 15: first errors\n- August 17: first reports"))
    assert having(run(dated), "no dates") == []
    # a relative phrase inside code is not prose
    code = doc(("Notes", "We ran `find . -mtime -7 # files changed last week` on the host.\n"
                         "The cache was purged and the service recovered."))
    assert having(run(code), "no dates") == []
    # no time words at all: nothing to say
    plain = doc(("Guidance", "Use 2FA with a hardware key and pin your dependencies."))
    assert having(run(plain), "no dates") == []


# ---------------------------------------------------------------------------------------------
# a list of releases in the timeline that skips one
# ---------------------------------------------------------------------------------------------


RELEASES = ("Timeline (in UTC)",
            "- 2024-09-01 01:04 - examplepkg-0.1.3 released\n"
            "- 2024-09-06 14:38 - examplepkg-0.1.4 released\n"
            "- 2024-09-18 16:32 - examplepkg-0.1.5 released\n"
            "- 2024-10-12 14:52 - examplepkg-0.1.6 released\n"
            "- 2024-11-09 23:53 - examplepkg-0.1.8 released\n"
            "- 2024-11-12 13:03 - examplepkg-0.1.9 released <= first version with malware\n"
            "- 2024-11-21 18:29 - examplepkg quarantined")


def test_release_skipped_in_the_timeline_is_flagged():
    secs = doc(("Malware analysis: examplepkg", "On 2024-11-21 we were notified about malware."), RELEASES)
    found = having(run(secs), "missing entry")
    assert len(found) == 1
    s, f = found[0]
    assert s.id == "s2" and f.quote == "- 2024-11-09 23:53 - examplepkg-0.1.8 released"
    assert f.related_quote == "- 2024-10-12 14:52 - examplepkg-0.1.6 released" and "0.1.7" in f.description
    assert f.risk == "low"


def test_release_gap_that_is_explained_or_irregular_is_quiet():
    explained = doc(("Malware analysis", "Version 0.1.7 was yanked by its author the same day."), RELEASES)
    assert having(run(explained), "missing entry") == []
    irregular = doc(("Timeline", "- 2024-01-01 - tool 1.2.0 released\n- 2024-02-01 - tool 1.2.2 released\n"
                                 "- 2024-03-01 - tool 1.2.5 released\n- 2024-04-01 - tool 1.2.7 released"))
    assert having(run(irregular), "missing entry") == []


# ---------------------------------------------------------------------------------------------
# timeline order: newest first is an order, one swapped entry is a mistake
# ---------------------------------------------------------------------------------------------


def test_newest_first_status_updates_are_not_out_of_order():
    secs = doc(("Timeline (newest first)", "All times UTC.\n"
                                  "- 2024-05-02 16:40 Resolved: error rates are back to normal.\n"
                                  "- 2024-05-02 15:55 Monitoring: a fix has been deployed.\n"
                                  "- 2024-05-02 15:10 Identified: a bad config push.\n"
                                  "- 2024-05-02 14:32 Investigating: elevated API errors."))
    assert having(run(secs), "order") == []


def test_one_entry_out_of_order_is_still_flagged():
    secs = doc(("Timeline", "- 2024-03-25 16:00 UTC - Report received.\n"
                            "- 2024-03-25 18:30 UTC - Email sent to the registrar.\n"
                            "- 2024-03-25 17:05 UTC - Abuse report submitted to the CDN.\n"
                            "- 2024-03-25 19:00 UTC - Domain suspended."))
    found = having(run(secs), "order")
    assert [f.quote for _, f in found] == ["- 2024-03-25 17:05 UTC - Abuse report submitted to the CDN."]


# ---------------------------------------------------------------------------------------------
# durations: a setting's duration is not the incident's
# ---------------------------------------------------------------------------------------------


LONG_TIMELINE = ("Timeline", "All times in UTC.\n"
                             "- 2024-06-01 09:00 Leaked token reported.\n"
                             "- 2024-06-01 09:40 Token revoked.\n"
                             "- 2024-06-03 15:00 Audit of the logs complete; incident resolved.")


def test_durations_of_settings_are_not_compared_with_the_timeline():
    secs = doc(("Summary", "New tokens are valid for 20 hours, and request logs are kept for 30 days."),
               LONG_TIMELINE)
    assert having(run(secs), "duration vs timeline") == []
    wrong = doc(("Summary", "The exposure lasted 20 hours before the token was revoked."), LONG_TIMELINE)
    found = having(run(wrong), "duration vs timeline")
    assert len(found) == 1 and found[0][1].quote == "The exposure lasted 20 hours before the token was revoked."


# ---------------------------------------------------------------------------------------------
# the summary against the rest: counts, times, versions
# ---------------------------------------------------------------------------------------------


def test_count_contradiction_risk_depends_on_which_side_is_larger():
    larger = doc(("Summary", "The attackers created 2 API tokens, which have since been revoked."),
                 ("Impact", "Our audit found 3 API tokens created by the attackers."))
    (s, f), = having(run(larger), "count")
    assert f.risk == "high" and f.related_section_id == "s2"
    smaller = doc(("Summary", "The attackers phished 4 user accounts, now all disabled."),
                  ("Impact", "Only 1 user account had 2FA enabled; 3 user accounts did not."))
    found = having(run(smaller), "count")
    assert all(f.risk != "high" for _, f in found)


def test_summary_time_in_the_timelines_second_zone_is_not_a_contradiction():
    timeline = ("Timeline of events", "Times are in EDT and UTC.\n2025-07-26\n"
                                      "- 13:14 EDT (17:14 UTC): A user reports a phishing email.\n"
                                      "- 19:18 EDT (23:18 UTC): The on-call admin starts the takedown.\n"
                                      "- 20:07 EDT (00:07 UTC): The domain is on hold; incident resolved.")
    same_event = doc(("Summary", "The first report arrived at 17:14 UTC, when the attack began."), timeline)
    assert having(run(same_event), "time vs timeline") == []
    other_zone = doc(("Summary", "The attack began at 09:10 PDT, before the first report."), timeline)
    assert having(run(other_zone), "time vs timeline") == []
    wrong = doc(("Summary", "The attack began at 11:30 EDT, before the first report."), timeline)
    found = having(run(wrong), "time vs timeline")
    assert len(found) == 1 and "13:14" in found[0][1].description


def test_a_version_change_in_the_summary_is_not_a_contradiction():
    timeline = ("Timeline", "All times in UTC.\n- 10:00 api-server v2.3.1 rolls out.\n- 10:30 Alerts fire.")
    change = doc(("Summary", "We rolled back from api-server v2.3.1 to api-server v2.3.0 after errors."), timeline)
    assert having(run(change), "version") == []
    upgraded = doc(("Summary", "The outage began when we upgraded from api-server 2.2.9; the new release "
                               "leaked connections."), timeline)
    assert having(run(upgraded), "version") == []


def test_title_naming_another_release_than_the_rest():
    secs = doc(("Outage after the api-server 2.4.1 deploy", "Launches failed for two hours after a deploy."),
               ("Timeline", "All times in UTC.\n- 10:00 api-server 2.4.2 rolls out.\n- 12:00 Rolled back."),
               ("Impact", "Every launch failed while api-server 2.4.2 was live."))
    found = having(run(secs), "version")
    assert len(found) == 1
    s, f = found[0]
    assert s.id == "s1" and f.quote is None and "title names api-server 2.4.1" in f.description
    assert f.related_section_id == "s2" and f.related_quote == "api-server 2.4.2"


# ---------------------------------------------------------------------------------------------
# a name spelled two ways
# ---------------------------------------------------------------------------------------------


def test_tool_named_after_a_word_is_not_a_misspelling_of_it():
    """A word with a letter added at the end is another name (build / buildx), not a typo of it."""
    secs = doc(("How it happened", "The load on the API doubled at noon, and the load balancer queued requests.\n"
                                   "We reproduced it with loadx, our traffic generator, at twice the usual load."))
    assert having(run(secs), "spelled two ways") == []


def test_column_name_misspelled_in_a_query_is_still_flagged():
    secs = doc(("Response", "select u.userhame as user, o.name from users u;\n"
                            "The username is shown to org owners.\nEach username is unique."))
    found = having(run(secs), "spelled two ways")
    assert [f.quote for _, f in found] == ["userhame"] and found[0][1].related_quote == "username"


# ---------------------------------------------------------------------------------------------
# impossible dates in a timeline whose entries are headings
# ---------------------------------------------------------------------------------------------


def test_impossible_date_in_a_timeline_heading():
    """Word and PDF write-ups often give each timeline entry its own heading: its date is checked too."""
    secs = doc(("Summary", "The hub could not start new servers for three hours."),
               ("Timeline", "All times in PST"),
               ("2018-03-13 07:28", "Problem is identified: launch success rate is at zero.", 2),
               ("20188-03-13 08:10", "Bad nodes are cordoned.", 2),
               ("2018-03-13 10:28", "Service restored.", 2))
    found = having(run(secs), "date")
    assert [(s.id, f.quote) for s, f in found] == [("s4", None)]
    assert "20188" in found[0][1].description and "five digits" in found[0][1].description
    fine = doc(("Timeline", "All times in PST"), ("2018-03-13 07:28", "Problem is identified.", 2),
               ("2018-03-13 10:28", "Service restored.", 2))
    assert having(run(fine), "date") == []


# ---------------------------------------------------------------------------------------------
# 12-hour clock times: "1:09 PM" is 13:09
# ---------------------------------------------------------------------------------------------


AMPM_TIMELINE = ("Timeline of events", "All times Eastern.\n"
                                       "- 2024-06-28 11:10 AM: A researcher reports the leaked token.\n"
                                       "- 2024-06-28 11:40 AM: The token is revoked.\n"
                                       "- 2024-06-28 1:10 PM: Audit complete; incident resolved.")


def test_pm_times_are_read_on_a_12_hour_clock():
    ok = doc(("Summary", "The token was exposed for 2 hours before the audit closed it. The incident was "
                         "resolved at 1:10 PM."), AMPM_TIMELINE)
    found = run(ok)
    assert having(found, "duration vs timeline") == [] and having(found, "time vs timeline") == []
    assert having(found, "order") == []
    wrong = doc(("Summary", "The incident was resolved at 3:30 PM, after the audit."), AMPM_TIMELINE)
    found = having(run(wrong), "time vs timeline")
    assert len(found) == 1 and "13:10" in found[0][1].description


def test_a_previous_incidents_duration_is_not_compared_with_this_timeline():
    secs = doc(("What went wrong", "This occurred once previously, in January, and lasted 24 hours."),
               LONG_TIMELINE)
    assert having(run(secs), "duration vs timeline") == []


def test_enumerated_names_are_not_one_name_spelled_two_ways():
    secs = doc(("Impact", "Writes to shard_a failed for ten minutes; shard_b and its replica shard_b kept serving, "
                          "and shard_b was promoted."))
    assert having(run(secs), "spelled two ways") == []


DATED_TIMELINE = ("Timeline (UTC)", "- 2024-11-21 16:18 - Inbound report from a researcher\n"
                                    "- 2024-11-21 18:29 - Project quarantined during the investigation\n"
                                    "- 2024-11-22 10:00 - Project removed; incident resolved")


def test_summary_date_that_the_timeline_contradicts():
    wrong = doc(("Malware analysis", "On 2024-11-20, we were notified about malware in the project."), DATED_TIMELINE)
    found = having(run(wrong), "date vs timeline")
    assert len(found) == 1
    s, f = found[0]
    assert f.quote == "On 2024-11-20, we were notified about malware in the project."
    assert f.related_section_id == "s2" and f.related_quote.startswith("- 2024-11-21 16:18") and f.risk == "medium"


def test_summary_dates_that_agree_or_are_background_are_quiet():
    same = doc(("Malware analysis", "On November 21, 2024, we were notified about malware in the project."),
               DATED_TIMELINE)
    assert having(run(same), "date vs timeline") == []
    two = doc(("Malware analysis", "The project was created on 2024-11-19 and reported to us on 2024-11-21."),
              DATED_TIMELINE)
    assert having(run(two), "date vs timeline") == []
    background = doc(("Malware analysis", "The maintainer first reported a bug to us on 2023-02-01."), DATED_TIMELINE)
    assert having(run(background), "date vs timeline") == []


def test_a_wrong_year_is_one_finding_on_the_entry_not_an_order_problem():
    secs = doc(("Timeline", "All times UTC.\n"
                            "- 2024-03-05 01:09 - Package uploaded.\n"
                            "- 2025-03-05 06:17 - First report received.\n"
                            "- 08:40 - Package removed.\n"
                            "- 2024-03-06 10:00 - Report published."))
    found = run(secs)
    assert having(found, "order") == [] and having(found, "separate event") == []
    (s, f), = having(found, "timeline date")
    assert f.quote == "- 2025-03-05 06:17 - First report received." and "2024" in f.description


def test_a_timeline_across_new_year_is_not_a_wrong_year():
    secs = doc(("Timeline", "- 2023-12-31 22:00 UTC - Alerts fire.\n- 2024-01-01 01:00 UTC - Rollback.\n"
                            "- 2024-01-01 02:00 UTC - Resolved."))
    found = run(secs)
    assert having(found, "timeline date") == [] and having(found, "order") == []


def test_weekday_that_does_not_match_a_written_out_date():
    secs = doc(("Timeline", "Monday, July 28, 2025\n- 12:20 UTC: The registrar suspends the domain.\n"
                            "Sunday, July 28, 2025\n- 16:23 UTC: The CDN rejects the second report."))
    found = having(run(secs), "timeline date")
    assert [f.quote for _, f in found] == ["Sunday, July 28, 2025"]
    assert "was a Monday, not a Sunday" in found[0][1].description
    # in code, or matching: quiet
    quiet = doc(("Notes", "Run `date -d 'Sunday, July 28, 2025'` to check.\nSaturday 26 July 2025: first report."))
    assert having(run(quiet), "timeline date") == []


def test_an_undated_timeline_that_crosses_midnight_is_asked_for_its_dates():
    """'[23:55] ... [07:00] ...' with no date anywhere: the next day, or out of order? Said once.
    With a date on the entries, or going forward only, nothing is said."""
    undated = doc(("Summary", "Prow stopped merging."),
                  ("Timeline", "- [13:26] Reports on Slack\n- [17:41] Migration begins\n- [23:55] Migration done\n"
                               "- [07:00] Merging at the usual rate\n- [03:00] Later still"))
    found = having(run(undated), "undated day")
    assert [(s.title, f.quote, f.related_quote) for s, f in found] == [
        ("Timeline", "- [07:00] Merging at the usual rate", "- [23:55] Migration done")]
    assert "23:55 to 07:00" in found[0][1].description
    dated = doc(("Timeline", "- 2019-05-30 23:55 Migration done\n- 2019-05-31 07:00 Merging at the usual rate"))
    assert having(run(dated), "undated day") == []
    forward = doc(("Timeline", "- [13:26] Reports on Slack\n- [23:55] Migration done"))
    assert having(run(forward), "undated day") == []


def test_four_digit_clock_times_after_a_day_are_times_not_years():
    """Cosmos Hub's 2025-02-07 upgrade report (not in the corpus) writes "Feb 7 1506 UTC" and then
    "1936 UTC" lines, and gives no year anywhere: "1506" and "0117" were read as years (a "wrong
    year" finding each), and then, with the days unread, "Feb 8 0117 UTC" after "2309 UTC" was told
    the timeline "gives no dates". The four digits before UTC are the clock; the days are written."""
    sections = doc(("Summary", "Validators halted after a patch release; the chain resumed once they reverted."),
                   ("Timeline", "- Feb 7 1506 UTC: Hypha and ICL agree to release a patch.\n"
                                "- 1936 UTC: v22.0.1 is released.\n- 2309 UTC: Hypha tells validators to upgrade.\n"
                                "- Feb 8 0117 UTC: First validator reports an apphash.\n"
                                "- 1447 UTC: all validators are signing again.\n"
                                "- Feb 9 1924 UTC: Ztake validator reports apphash.\n"
                                "- Feb 10 1541 UTC: Hypha commits to releasing instructions."))
    found = run(sections)
    assert having(found, "timeline date") == [] and having(found, "undated day") == [], found
    assert having(found, "timeline order") == []
    (duration,) = [f for _, f in having(found, "duration not stated")]
    assert "from 15:06 to 15:41 3 days later" in duration.description, duration.description


def test_a_log_excerpt_in_a_code_block_is_not_a_timeline_entry():
    """mybinder.org 2017-09-29 (not in the corpus): a timeline in CEST quotes the hub's log, whose
    lines start with UTC timestamps; the reviewer said the timeline was out of order."""
    from tests.samples import review_sections

    source = ("## Timeline\n\nAll times in CEST\n\n### Sep 29 2017 08:59\n\nAn issue is opened.\n\n### 14:00\n\n"
              "Launching the image failed. The hub's log had errors:\n\n```\n"
              "2017-09-29 00:46:54,810 WARNING Retrying after connection broken\n"
              "[E 2017-09-29 00:46:54.814 JupyterHub reflector:113] Error when watching pods\n```\n\n"
              "### 14:10\n\nThe hub pod is relaunched and service is back to normal.\n")
    secs = review_sections("t.md", source)
    assert "2017-09-29 00:46:54,810 WARNING" in secs[0].text  # the log is still there to read and quote
    found = [f for fs in consistency.document_findings(secs).values() for f in fs]
    assert [f for f in found if "order" in f.category] == []
    # the same text where nothing marks the code (a .txt, or the .docx the review exported, uploaded
    # again): its lines read as log lines all the same, a stamp to the millisecond, a log level
    plain = [s.model_copy(update={"marks": []}) for s in secs]
    assert [f for fs in consistency.document_findings(plain).values() for f in fs if "order" in f.category] == []
    dated = secs[0].text.replace("00:46:54,810 WARNING", "00:46 the hub is restarted;").replace(
        "[E 2017-09-29 00:46:54.814 JupyterHub reflector:113]", "2017-09-29 00:50 the reflector fails:")
    found = consistency.document_findings([secs[0].model_copy(update={"text": dated, "marks": []})])
    assert [f for fs in found.values() for f in fs if "order" in f.category]  # as entries, they would be out of order


def test_an_event_the_prose_times_otherwise_than_the_timeline():
    """Kubernetes Boskos outage, 2019-03-26: the root cause starts the upgrade "at around 17:20",
    the timeline at 17:40. A chat log in an appendix, a query result's row and a rounding are not
    such a claim."""
    from redline.jobs.reviewers.consistency import document_findings

    timeline = ("Timeline", "All times PDT\n\n- [03-26 17:40] Kubernetes node upgrade is initiated on the build "
                            "cluster\n- [03-26 23:04] The node hosting boskos is drained\n"
                            "- [03-27 08:10] A fixed Boskos is deployed (outage ends)")
    secs = [Section(id=f"s{i + 1}", title=t, index=i, text=x) for i, (t, x) in enumerate([
        ("Summary", "Boskos was down for nine hours, and tests could not get projects."),
        ("Root Cause", "At around 17:20, several hours before the outage, we started upgrading the Prow clusters "
                       "from Kubernetes 1.11 to 1.13."),
        timeline,
        ("Detection", "At 23:10 the node hosting boskos was drained, give or take."),  # a rounding: 6 minutes
        ("Chat log", "fejta [8:42 AM] The only thing I did was click the upgrade cluster button"),
        ("Events", "upgrade | 2019-03-26 17:55:25.354344 | cluster upgrade started"),
    ])]
    found = [(sid, f) for sid, fs in document_findings(secs).items() for f in fs
             if f.category == "consistency: time vs timeline"]
    assert [(sid, f.quote) for sid, f in found] == [
        ("s2", "At around 17:20, several hours before the outage, we started upgrading the Prow clusters from "
               "Kubernetes 1.11 to 1.13.")]
    assert found[0][1].related_section_id == "s3" and "[03-26 17:40] Kubernetes node upgrade" in found[0][1].related_quote
    assert "17:40" in found[0][1].description


def test_a_derived_word_beside_its_root_is_not_a_name_spelled_two_ways():
    """mybinder.org 2017-09-27 (not in the corpus): "the deployer's local minikube" beside "merged and
    deployed" twice. 'deployer' is a word the dictionary lacks, but it is 'deploy' + 'er'."""
    secs = doc(("Timeline", "15:11 The PR was delayed by the fact that the deployer's local minikube had run out "
                            "of space.\n15:25 The PR has been merged and deployed.\n15:30 A fix is deployed."))
    assert having(run(secs), "spelled two ways") == []


# ---------------------------------------------------------------------------------------------
# a time zone named for the wrong half of the year
# ---------------------------------------------------------------------------------------------


def test_a_standard_time_zone_in_summer_is_flagged_once():
    """mybinder.org 2017-09-27 (not in the corpus): "All times in PST" over a timeline of 27 September,
    when Pacific clocks were on PDT. Stated once, so reported once, at the statement."""
    secs = doc(("Summary", "Launches failed for about 1h50m."),
               ("Timeline", "All times in PST\n\nSep 27 2017 13:06 Changes are deployed to staging.\n"
                            "13:44 403 Forbidden reported by others (13:44 PST).\n15:25 The fix is deployed."))
    found = having(run(secs), "daylight")
    assert [(s.id, f.quote) for s, f in found] == [("s2", "All times in PST")]
    f = found[0][1]
    assert "27 September 2017" in f.description and "PDT" in f.description and "UTC\u22127" in f.description
    assert f.risk == "low" and "Write PDT" in f.suggestion


def test_a_daylight_zone_in_winter_is_flagged_and_the_right_names_are_quiet():
    winter = doc(("Timeline", "All times in CEST.\n\n- 2018-03-13 07:28 Launch success rate is at zero.\n"
                              "- 2018-03-13 10:28 Service restored."))
    found = having(run(winter), "daylight")
    assert [f.quote for _, f in found] == ["All times in CEST."]
    assert "13 March 2018" in found[0][1].description and "CET, UTC+1" in found[0][1].description
    right = [("All times in CET.", "2018-03-13"), ("All times PDT.", "2019-05-30"), ("Times in EST", "2018-01-04"),
             # Arizona keeps MST all year, CST is also China's, GMT is used for UTC: never read
             ("Times in MST", "2019-07-01"), ("Times in CST", "2019-07-01"), ("Times in GMT", "2019-07-01")]
    for zone, day in right:
        secs = doc(("Timeline", f"{zone}\n\n- {day} 07:28 Alert fires.\n- {day} 10:28 Service restored."))
        assert having(run(secs), "daylight") == [], zone
    # a timeline across the change is read either way; a timeline of times alone has no date to read
    across = doc(("Timeline", "All times PST\n\n- 2019-03-09 22:00 Alert fires.\n- 2019-03-11 10:28 Resolved."))
    undated = doc(("Timeline", "All times PST\n\n- 13:06 Alert fires.\n- 15:25 Resolved."))
    assert having(run(across), "daylight") == [] and having(run(undated), "daylight") == []


def test_a_name_mistyped_twice_against_five_right_is_flagged():
    """TAIC's Shotover jet boat report (tuning set): "Kawarua" twice, "Kawarau" five times. A slip
    made twice is still a slip when the other spelling is the rule; two spellings used equally, or
    one of them a word, are two names."""
    text = ("The boat left the Kawarau jetty. The Kawarau was high. Upstream of the Kawarau bridge the "
            "Kawarau narrows; the Kawarau gorge follows. The trip proceeded up the Kawarua River, and back down "
            "the Kawarua to the jetty.")
    found = having(run(doc(("Narrative", text))), "spelled two ways")
    assert [f.quote for _, f in found] == ["Kawarua"]
    assert found[0][1].description.startswith("'Kawarua' appears 2 times, while 'Kawarau' appears 5 times")
    even = "Shard Alpha1 and Shard Aplha1 ... " + "Alpha1 Aplha1 " * 3  # three and four: not a rule and a slip
    assert having(run(doc(("Impact", even))), "spelled two ways") == []


def test_a_window_whose_other_end_is_the_entrys_time_is_not_another_time():
    """Kubernetes Prow 2019-02-08 (not in the corpus): "Prow controllers are becoming very slow
    (Between 4:06pm (first notice) - 5:30pm)" beside the entry "[16:04] @krzyzacy noticed Prow is
    responding very slow": 5:30pm is the window's end, not the notice's time, nor (the section read
    as the summary) the outage's start, which "first" names: that is 4:06pm."""
    from redline.jobs.reviewers.consistency import document_findings

    timeline = ("Timeline", "All times in PST\n\n- [13:20] The bump PR is merged, triggering a deploy.\n"
                            "- [16:04] @krzyzacy noticed Prow controllers are responding very slow\n"
                            "- [17:59] Prow is confirmed healthy.")
    impact = ("Impact", "All other Prow controllers are becoming very slow and unusable (Between 4:06pm (first notice) "
                        "- 5:30pm)")
    secs = [Section(id=f"s{i + 1}", title=t, index=i, text=x) for i, (t, x) in enumerate([impact, timeline])]
    assert [f for fs in document_findings(secs).values() for f in fs if f.category == "consistency: time vs timeline"] == []
    alone = ("Impact", "All other Prow controllers were noticed responding very slow at 5:30pm.")
    secs = [Section(id=f"s{i + 1}", title=t, index=i, text=x) for i, (t, x) in enumerate([alone, timeline])]
    assert [f.quote for fs in document_findings(secs).values() for f in fs
            if f.category == "consistency: time vs timeline"] == [alone[1]]


def test_a_chat_copied_without_quote_marks_is_found_by_its_speaker_lines():
    """A Word or PDF copy of a chat has no quote marks: three paragraphs or more that a speaker
    line starts ("Katharine [8:57 AM] ..."), in 12-hour time as chats copy. A timeline's 24-hour
    stamps, or a speaker line now and then among paragraphs of prose, are not a chat."""
    from redline.jobs.documents.marks import as_read, transcripts

    chat = "alice [10:02 AM] the hub is down\n\nbob [10:05 AM] restarting it\n\nalice [10:09 AM] it is back"
    assert transcripts(chat, []) == [(0, len(chat))]
    assert as_read("Intro.\n\n" + chat, [], chat=False).strip() == "Intro."
    assert transcripts(chat.replace(" AM]", "]"), []) == []
    sparse = "\n\n".join(["alice [10:02 AM] the hub is down"] + ["We looked at the logs."] * 4 +
                         ["bob [10:05 AM] restarting it"] + ["The deploy was paused."] * 4 + ["alice [10:09 AM] back"])
    assert transcripts(sparse, []) == []


def test_a_start_and_an_announcement_are_two_events_though_both_name_the_incident():
    """crates.io's 2018-10-15 write-up: "starting at approximately 20:00 UTC, crates.io sustained an
    operational incident" and the timeline's "21:20 UTC: The incident is announced on
    status.crates.io" share only the system's name and the word "incident": two events, not one
    event given two times. An event told in its own words is still compared."""
    timeline = ("Timeline of events", "- 20:09 UTC: A user uploads crates named after crates.io users\n"
                                      "- 20:32 UTC: The crates.io team is alerted by a user\n"
                                      "- 21:20 UTC: The incident is announced on status.crates.io\n"
                                      "- 23:58 UTC: The packages are deleted from crates.io")
    start = doc(("Summary", "On Monday, Oct 15, starting at approximately 20:00 UTC, crates.io sustained an "
                            "operational incident."), timeline)
    assert having(run(start), "time vs timeline") == []
    retimed = doc(("Summary", "At 22:40 UTC the packages were deleted from the index."), timeline)
    found = having(run(retimed), "time vs timeline")
    assert len(found) == 1 and "23:58" in found[0][1].description


def test_an_events_cause_is_not_the_event_the_time_is_given_for():
    """A student's post-mortem (ALX, not in the corpus): "At approximately 7:30 pm (CST), the web
    server ... went down due to a security risk from running the Nginx web server as the root user"
    and the timeline's "7:54 PM: ... they find nginx is still running as root": the words after "due
    to" say why it went down, not what happened at 7:30. The same event timed twice is still
    flagged."""
    timeline = ("Timeline", "7:37 PM: Engineers check the running processes with ps auxff.\n\n"
                            "7:39 PM: Engineers find apache2 is running on port 8080 and kill it.\n\n"
                            "7:41 PM: Engineers find nginx.conf is owned by the user and group root.\n\n"
                            "7:44 PM: Engineers change the owner and group with chown.\n\n"
                            "7:46 PM: Engineers restart the service; the site listens on port 80.\n\n"
                            "7:52 PM: The default site is changed to listen on port 8080.\n\n"
                            "7:54 PM: However, when engineers check the running systems again with ps auxff, they "
                            "find nginx is still running as root, which leaves the server more vulnerable.\n\n"
                            "7:56 PM: Engineers stop the service and start it as the nginx user.\n\n"
                            "7:57 PM: The website is back online.")
    cause = doc(("Issue Summary", "At approximately 7:30 pm (CST), the web server for the local pet shop went "
                                  "down due to a security risk from running the Nginx web server as the root "
                                  "user."), timeline)
    assert having(run(cause), "time vs timeline") == []
    retimed = doc(("Issue Summary", "At 7:25 pm engineers found nginx still running as root, as the web "
                                    "server's systems showed."), timeline)
    found = having(run(retimed), "time vs timeline")
    assert len(found) == 1 and "19:54" in found[0][1].description


def test_a_timeline_of_times_alone_is_never_shown_with_a_stand_in_date():
    """A timeline that gives times and no date is read on a stand-in day; the reader is told its
    times and how many days it spans ("00:40 the next day"), never "2000-01-01"."""
    secs = doc(("Summary", "A user uploaded crates under other users' names; we deleted them."),
               ("Timeline", "- 20:09 UTC: The uploads begin and the index is throttled\n"
                            "- 21:20 UTC: We announce the incident and begin deleting packages\n"
                            "- 23:58 UTC: The packages are deleted\n- 00:40 UTC: The index is rebuilt, resolved"))
    described = " ".join(f.description for _, f in run(secs))
    assert "2000-" not in described
    assert "00:40 the next day" in described


def test_counts_of_other_things_and_a_later_correction_are_not_a_contradiction():
    """matrix.org's 2019-07-24 notice: "19 events from 4 users across 2 rooms", and its "Update
    (2019-08-06)": "state events ... referencing 64 users across these 2 rooms" counts other users,
    and an update that corrects the first figures says so itself. A plain contradiction between
    the summary and another section is still flagged."""
    summary = ("Data Portability Tooling Bug", "We have identified 19 events from 4 users across 2 rooms that were "
                                               "shared by mistake.")
    update = ("Update (2019-08-06)", "On closer analysis the correct figure is 24 timeline events from 6 users "
                                     "over 2 rooms; 56 state events were also shared, referencing 64 users across "
                                     "these 2 rooms.")
    assert having(run(doc(summary, update)), "count") == []
    impact = ("Impact", "The export held 24 timeline events, referencing 64 users across these 2 rooms.")
    assert having(run(doc(summary, impact)), "count") == []  # "users across": not a thing counted
    tokens = ("Summary", "The attackers created 2 API tokens, which have since been revoked.")
    audit = "Our audit found 3 API tokens created by the attackers."
    assert having(run(doc(tokens, ("Update (2019-08-06)", audit))), "count") == []
    assert len(having(run(doc(tokens, ("Impact", audit))), "count")) == 1


def test_a_timeline_dated_month_day_year_is_read_and_its_heading_may_name_the_zone():
    """Chia's 2023 runner compromise: "## Timeline (all times PST) 07/27/2023 - 07/31/2023" over
    entries "07-27-2023 2:14 pm - ...". The entries had no date a rule could read, so nothing was
    checked: now they are dated (the month first: 27 is no month), PST in July is reported, with no
    quote, as the heading says it, and an entry out of order is found."""
    title = "Timeline (all times PST) 07/27/2023 - 07/31/2023"
    entries = ("07-27-2023 2:14 pm - The attacker's PR was approved.\n\n"
               "07-29-2023 11:51 am - Unauthorized access to the runners was gained.\n\n"
               "07-31-2023 11:20 am - All self-hosted runners were stopped.")
    found = run(doc(("Issue Summary", "Self-hosted CI runners were compromised through a fork's workflow."),
                    (title, entries)))
    (s, f), = having(found, "daylight")
    assert s.id == "s2" and f.quote is None and "PST (in the heading)" in f.description and "Write PDT" in f.suggestion
    swapped = entries.replace("07-29-2023 11:51 am", "07-26-2023 11:51 am")
    order = having(run(doc(("Issue Summary", "Self-hosted CI runners were compromised."), (title, swapped))),
                   "timeline order")
    assert [f.quote for _, f in order] == ["07-26-2023 11:51 am - Unauthorized access to the runners was gained."]
    # day first where a day cannot be a month: "27/07/2023" is 27 July too
    european = entries.replace("07-27-2023", "27-07-2023").replace("07-29-2023", "29-07-2023").replace(
        "07-31-2023", "31-07-2023")
    (_, f), = having(run(doc(("Issue Summary", "Runners were compromised."), (title, european))), "daylight")
    assert "27 July 2023 to 31 July 2023" in f.description


def test_a_january_entry_that_kept_last_years_year_is_one_typo():
    """etcd's v3.5 post-mortem: "2021-12-01 | Report ...", then "2021-01-28 | Report ..." (the
    issue is from January 2022), then "2022-03-08". It was reported out of order, and again as a
    404-day jump to "a separate event"; it is one wrong year."""
    timeline = ("Timeline", "Date | Event\n2021-05-08 | Pull request that caused data corruption was merged\n"
                            "2021-06-16 | Release v3.5.0 with data corruption was published\n"
                            "2021-12-01 | Report of data corruption\n2021-01-28 | Report of data corruption\n"
                            "2022-03-08 | Report of data corruption\n2022-03-25 | Corruption confirmed\n"
                            "2022-04-24 | Release v3.5.3 with fix was published")
    found = run(doc(("Summary", "A data inconsistency bug in etcd v3.5 corrupted data in some clusters."), timeline))
    (s, f), = having(found, "timeline date")
    assert f.quote == "2021-01-28 | Report of data corruption" and "in 2022 it falls between" in f.description
    assert having(found, "timeline order") == [] and having(found, "separate event") == []


def test_a_day_typed_wrong_between_two_entries_of_one_day_is_one_typo():
    """Optimism's 2022-02-02 inflation-bug post-mortem (not in the corpus) times its entries as four
    digits after the date ("2022-02-02 1906: ..."), which were not read as times; and it has
    "2022-02-20 1930" between two entries of 2022-02-02 (19:06 and 20:21). That was told as the next
    entry being out of order and as an 18-day jump to "a separate event"; it is one mistyped date.
    The entries' times are read now, so a real slip of order on 2022-02-03 is found too."""
    timeline = ("Timeline", "- 2022-02-02 1625: smartcontracts receives an e-mail.\n"
                            "- 2022-02-02 1906: tynes cuts the builds.\n"
                            "- 2022-02-20 1930: optimisticben deploys to Kovan and mainnet.\n"
                            "- 2022-02-02 2021: mslipper gives instructions to infra providers.\n"
                            "- 2022-02-03 0457: Alchemy upgrades both Kovan and mainnet.\n"
                            "- 2022-02-03 2309: Quicknode upgrades mainnet.\n"
                            "- 2022-02-03 1432: Quicknode upgrades Kovan.\n"
                            "- 2022-02-04 1617: smartcontracts opens the disclosure.")
    found = run(doc(("Summary", "A bug let anyone inflate ETH on Optimism; it was patched within a day."), timeline))
    (_, f), = having(found, "timeline date")
    assert f.quote == "- 2022-02-20 1930: optimisticben deploys to Kovan and mainnet."
    assert f.description == ("This entry is dated 2022-02-20, which puts it out of order; on 2022-02-02 it falls "
                             "between the entries around it: a typo in the date?")
    assert [g.quote for _, g in having(found, "timeline order")] == ["- 2022-02-03 1432: Quicknode upgrades Kovan."]
    assert having(found, "separate event") == []


def test_an_effort_is_not_the_outage_weighed_against_the_timeline():
    """etcd: "fixing the data inconsistency took almost two weeks and multiple attempts" is how long
    the fix took to write, not how long anything was down; it was weighed against a year of entries."""
    timeline = ("Timeline", "Date | Event\n2021-05-08 | Pull request that caused data corruption was merged\n"
                            "2022-03-08 | Report of data corruption\n2022-03-25 | Corruption confirmed\n"
                            "2022-04-24 | Release v3.5.3 with fix was published")
    effort = ("What went wrong", "The apply code is complex; fixing the data inconsistency took almost two weeks and "
                                 "multiple attempts.")
    assert having(run(doc(("Summary", "Data was corrupted."), effort, timeline)), "duration vs timeline") == []
    outage = ("Impact", "The corruption affected clusters for almost two weeks before the release.")
    assert len(having(run(doc(("Summary", "Data was corrupted."), outage, timeline)), "duration vs timeline")) == 1


def test_a_zone_named_with_its_other_half_is_right_all_year():
    """Flutter's hotfix.5 post-mortem: "## Timeline (all times in PST/PDT)" over a September
    timeline names both halves; PST alone in September is still reported."""
    entries = "2019-09-01 10:00 A user reports Gradle failures.\n2019-09-01 14:30 The hotfix is released."
    both = doc(("Summary", "Builds failed on the hotfix."), ("Timeline (all times in PST/PDT)", entries))
    assert having(run(both), "daylight") == []
    one = doc(("Summary", "Builds failed on the hotfix."), ("Timeline (all times in PST)", entries))
    assert len(having(run(one), "daylight")) == 1


def test_an_entry_dated_after_its_time_is_dated():
    """A student's post-mortem (ALX, not in the corpus) dates each entry after its time and zone:
    "20:25 PST 29 april 2022 - ..." then "12:30 PST 29 april 2022 - engineers find typo". The entry
    says its day, so it is out of order on 29 April (or its day is wrong), not "on the next day"."""
    secs = doc(("Issue Summary", "A misspelled file name caused a 500 error on our Wordpress site."),
               ("Timeline", "* 13:15 PDT 29 april 2022 - a customer complained about a 500 error\n"
                            "* 19:25 PDT 29 april 2022 - mandated snack time for engineers\n"
                            "* 20:25 PDT 29 april 2022 - someone mentions a typo of a file extension\n"
                            "* 12:30 PDT 29 april 2022 - engineers find typo that is causing error\n"
                            "* 14:00 PDT 30 april 2022 - engineers run Puppet to rename the file"))
    found = run(secs)
    assert [f.description for _, f in having(found, "order")] == [
        "Timeline entry out of order: 2022-04-29 12:30 is listed after 2022-04-29 20:25."]
    assert having(found, "undated") == []


def test_a_timeline_that_says_one_zone_while_its_entries_name_another():
    """A student's post-mortem (ALX, not in the corpus): "Timeline(all times pacific Time):" over
    entries each marked "(UTC)". Names of one clock agree ("All times in PST" over "PDT" entries is
    the daylight rule's business, not this one's), and an entry that gives both zones agrees."""
    entries = ("June 7th, 2024, 13:00 (UTC): Issue detected through monitoring alerts.\n"
               "June 7th, 2024, 13:15 (UTC): Engineering team initiated investigation.\n"
               "June 8th, 2024, 09:00 (UTC): Issue resolved by optimizing database queries.")
    secs = doc(("Issue Summary", "Database overload due to inefficient query handling."),
               ("Timeline(all times pacific Time):", entries))
    found = having(run(secs), "stated vs entries")
    assert [(s.id, f.quote) for s, f in found] == [
        ("s2", "June 7th, 2024, 13:00 (UTC): Issue detected through monitoring alerts.")]
    assert "pacific (in the heading)" in found[0][1].description and "UTC" in found[0][1].description
    for heading, text in (("Timeline (all times UTC)", entries),
                          ("Timeline (all times Pacific)", entries.replace("(UTC)", "PDT")),
                          ("Timeline (all times Pacific)", entries.replace("(UTC)", "(UTC, 06:00 PDT)"))):
        quiet = doc(("Issue Summary", "Database overload due to inefficient query handling."), (heading, text))
        assert having(run(quiet), "stated vs") == [], heading


def test_a_name_cut_in_two_by_a_space_is_not_a_second_spelling():
    """A TAIC report's text as its PDF was extracted (not in the corpus): "Civil Aviatio n Authority"
    once beside "Aviation" many times is "Aviation" cut in two, not a name spelled two ways."""
    secs = doc(("Summary", "The Civil Aviation Authority audits operators. " * 3),
               ("Recommendation", "The Commission recommended that the Director of Civil Aviatio n review the rule."))
    assert having(run(secs), "spelled two ways") == []
    typo = doc(("Summary", secs[0].text),
               ("Recommendation", "The Commission recommended that the Director of Civil Aviatoin review the rule."))
    assert len(having(run(typo), "spelled two ways")) == 1


def test_an_entry_whose_own_alert_gives_its_moment_in_utc_shows_the_stated_zone_wrong():
    """2i2c's CloudBank report (2025-07-11, not in the corpus): "Timeline (times in BST)" over
    "July 11, 2025, 12:42 PM" whose pasted alert says "Violation started: July 11, 2025 at 4:42PM
    UTC". 12:42 BST is 11:42 UTC: the same minute five hours off, so the times are UTC-4 (US
    Eastern), not BST. An entry that gives both zones rightly, or another moment in UTC, is fine."""
    entry = ("July 11, 2025, 12:42 PM\nIncident declared\nDescription: An uptime check is failing. | Violation "
             "started: July 11, 2025 at 4:42PM UTC (less than 1 sec ago)\n\n12:49 PM\nPR reverted")
    secs = doc(("Summary", "A health check failed and the hub pods restarted."), ("Timeline (times in BST)", entry))
    found = having(run(secs), "stated vs entries")
    assert [(s.id, f.quote) for s, f in found] == [("s2", "July 11, 2025, 12:42 PM")]
    assert found[0][1].description.endswith("5 hours apart. The times read as UTC\u22124, not BST.")
    for heading, text in (("Timeline (times in EDT)", entry),
                          ("Timeline (times in BST)", entry.replace("4:42PM UTC", "11:42AM UTC")),
                          ("Timeline (times in BST)", entry.replace("4:42PM UTC", "9:10AM UTC, when the deploy ran"))):
        quiet = doc(("Summary", "A health check failed and the hub pods restarted."), (heading, text))
        assert having(run(quiet), "stated vs") == [], (heading, text)


def test_two_spellings_of_a_word_that_both_miss_it_name_the_word():
    """Curve's pool-owner proxy disclosure (not in the corpus): 'recepient' once and 'receipient'
    twice. The rule said to use 'receipient'; both are misspellings of 'recipient'."""
    secs = doc(("Background", "The fee recepient was set by the owner."),
               ("Impact", "The receipient address changed; the receipient received the fees."))
    found = having(run(secs), "spelled two ways")
    assert [f.suggestion for _, f in found] == ["Write 'recipient' in both places."]
    assert found[0][1].description.endswith("both are misspellings of 'recipient'.")


def test_a_collection_of_incident_reports_reads_each_timeline_on_its_own():
    """Prysm's testnet post-mortems (not in the corpus) collect seven incidents in one page, newest
    first, each with its own "Timeline": the first entry of each older incident was "out of order"
    after the newer one's last, and a 325-day jump between two incidents was "a separate event".
    Each incident is read on its own; a slip inside one is still found."""
    sections = doc(("Testnet Incident Reports", "We keep a report of each testnet incident here."),
                   ("Not Receiving P2P Blocks (Incident #7)", "Summary: Beacon nodes were not receiving blocks."),
                   ("Timeline", "2020-04-16 (all times UTC)\n- 02:00 The issue is first seen.\n"
                                "- 03:10 A fix is deployed.\n- 02:40 The nodes recover.", 2),
                   ("Chain Stuck at Genesis (Incident #6)", "Summary: The chain did not start."),
                   ("Timeline", "2019-01-09 (all times UTC)\n- 10:00 Genesis time passes.\n"
                                "- 11:00 A new genesis is set.", 2),
                   ("Rapid P2P Message Drop (Incident #5)", "Summary: Peers dropped messages."),
                   ("Timeline", "2019-01-01 (all times UTC)\n- 04:50 Peers drop.\n- 09:40 Fixed.", 2))
    found = run(sections)
    assert [(s.title, f.quote) for s, f in having(found, "timeline order")] == [("Timeline", "- 02:40 The nodes recover.")]
    assert having(found, "separate event") == []
    assert [s.id for s, _ in having(found, "timeline order")] == ["s3"]


def test_a_templates_start_end_and_duration_fields_that_disagree():
    """Cloud Posse's post-mortem example (not in the corpus) heads its report with "Start Time |
    2018-06-29 12:58 PST", "End Time | 2018-06-29 13:55 PST" and "Total Duration | 39 Minutes":
    57 minutes apart, not 39. Fields that agree (within the usual tolerance) are quiet, and so is a
    duration with no start and end to check it against."""
    def fields(duration: str) -> list[Section]:
        return doc(("Incident #1 - Rollout Caused Unplanned Outage", "|  |  |\n| On-call Engineer | Erik Osterman |\n"
                    "| Start Time | 2018-06-29 12:58 PST |\n| End Time | 2018-06-29 13:55 PST |\n"
                    f"| Total Duration | {duration} |\n| Affected Systems | Production Web Tier |"),
                   ("Summary", "Cascading failures caused a prolonged, unplanned site outage."))
    (s, f), = having(run(fields("39 Minutes")), "start and end")
    assert s.id == "s1" and "Total Duration | 39 Minutes" in f.quote
    assert f.description == ("The duration is given as 39 Minutes, but the start and end given beside it (2018-06-29 "
                             "12:58 PST to 2018-06-29 13:55 PST) are 57 minutes apart: one of the three is wrong.")
    assert having(run(fields("57 minutes")), "start and end") == []
    assert having(run(fields("about an hour")), "start and end") == []
    alone = doc(("Report", "Start: 12:58\nDuration: 39 minutes"), ("Summary", "The site was down."))
    assert having(run(alone), "start and end") == []
    # and "PST" on 29 June, with no timeline to date it: the start field's day does
    (_, f), = having(run(fields("57 minutes")), "daylight")
    assert "on 29 June 2018 Pacific clocks were on daylight time" in f.description
    # and its heading's "(2017-06-29)" against the start field's 2018-06-29 (a heading that is a section's, the
    # review named by the file's metadata)
    dated = fields("57 minutes")
    dated[0] = dated[0].model_copy(update={"title": "Incident #1 - Rollout Caused Unplanned Outage (2017-06-29)"})
    found = consistency.document_findings(dated, "Postmortem Example")
    (f,) = [f for f in found["s1"] if "date vs" in f.category]
    assert f.description.startswith("The title dates this 2017-06-29, but its start field gives 2018-06-29")
    assert f.quote == "2018-06-29 12:58 PST"


def test_one_incidents_parts_each_with_a_timeline_are_still_one_write_up():
    """Reading a page of several incidents one at a time must not split one incident whose parts
    each have a timeline ("Detection" over "Detection timeline", "Response" over "Response
    timeline"): its cause, in another part, still counts."""
    sections = doc(("Summary", "The API was down for two hours after a deploy, because the deploy exhausted the "
                               "database's connections."),
                   ("Detection", "Alerts fired late."),
                   ("Detection timeline", "- 10:00 Deploy starts.\n- 10:05 The API is down, requests fail.", 2),
                   ("Response", "We rolled back."),
                   ("Response timeline", "- 10:30 Rollback; the API is still down.\n- 12:00 Recovered.", 2))
    found = run(sections)
    assert having(found, "root cause: not stated") == [] and having(found, "duration not stated") == []

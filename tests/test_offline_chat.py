"""The offline chat answers by quoting the write-up: what a reviewer asks first must land on the
passage that answers it, not on a line that shares a word with the question."""

from __future__ import annotations

from redline.jobs.reviewers.offline import compose_answer

# Shaped on a real post-mortem (Kubernetes Prow, 2019-02-08), where "How long did the outage
# last?" was answered with its "Last Modified" and "Created By" lines.
PROW = [
    ("February 8th, 2019 - Prow responding slow & Partial outage", "Created By: Sen Lu\nLast Modified: 2019-02-08"),
    ("Summary", "Prow was scheduling test jobs onto the service cluster, and the service cluster ran out of "
                "resources."),
    ("Impact", "Jobs scheduled onto the service cluster could not start due to missing volumes. "
               "(Between 1:46pm - 5:30pm)"),
    ("Timeline", "All times in PST, on February 8th 2019\n\n- [13:20] The bump PR is merged, triggering a deploy.\n"
                 "- [16:04] @krzyzacy noticed Prow is responding very slow.\n"
                 "- [17:59] @krzyzacy cleaned up all wrong pods and confirmed Prow is healthy."),
    ("Detection", "The slowness was noticed by the on-call engineer, who then saw the slowness on the dashboard."),
    ("Action items", "- We need to be more careful when deploying sweeping changes."),
]


def passages(answer: str) -> list[str]:
    return [line for line in answer.split("\n\n") if line.startswith("From ")]


def test_how_long_is_answered_with_a_span_of_time():
    answer = compose_answer("How long did the outage last?", PROW, section_title=PROW[0][0])
    assert passages(answer)[0] == ('From "Impact": "Jobs scheduled onto the service cluster could not start due to '
                                   'missing volumes. (Between 1:46pm - 5:30pm)"')
    assert "Last Modified" not in answer


def test_when_is_answered_with_a_time():
    """The Detection section shares more of the question's words; the timeline says when, and how
    long after the first sign."""
    answer = compose_answer("When was the slowness noticed?", PROW)
    assert answer.startswith('By its timeline, it was noticed at 16:04 ("[16:04] @krzyzacy noticed Prow is responding '
                             'very slow."). Its first sign was at 13:20 ("[13:20] The bump PR is merged, triggering a '
                             'deploy."), 2 h 44 min before.')
    assert passages(answer) == ['From "Detection": "The slowness was noticed by the on-call engineer, who then saw the '
                                'slowness on the dashboard."']  # how, quoted after when
    assert compose_answer("When was it resolved?", PROW).startswith(
        'By its timeline, it was resolved at 17:59 ("[17:59] @krzyzacy cleaned up all wrong pods and confirmed Prow is '
        'healthy.").')
    no_mark = [("Timeline", "- 09:02 A config change is deployed.\n- 09:35 We roll the change back.")]
    assert compose_answer("How was it detected?", no_mark).startswith(
        "No timeline entry says when the problem was noticed (reported, alerted, detected); its timed entries run "
        "from 09:02 to 09:35.")


def test_a_question_with_no_such_answer_still_matches_words_only():
    answer = compose_answer("What should we be careful about?", PROW)
    assert passages(answer) == ['From "Action items": "We need to be more careful when deploying sweeping changes."']


def test_a_passage_the_write_up_repeats_is_quoted_once():
    repeated = "On 2020-02-20 at 21:28 UTC a user reported that their crate was not on the index after 10 minutes."
    sections = [("Timeline", repeated), ("Appendix", repeated), ("Impact", "Uploads were delayed for 40 minutes.")]
    got = passages(compose_answer("When was the crate reported missing from the index?", sections))
    assert got == [f'From "Timeline": "{repeated}"']


def test_a_duration_said_outright_answers_how_long_without_the_questions_words():
    """mybinder.org's 2022-06-02 write-up says "This effect lasted approximately nine hours" in its
    summary, and "outage" only elsewhere: the summary must still be quoted."""
    pods = [("Summary", "A bug in the resource quota stopped the hub from creating pods.\n\n"
                        "This effect lasted approximately nine hours before normal operation was restored."),
            ("Timeline", "- 10:00 Problem starts\n- 21:00 A user reported a Binder outage in the chat; pods had "
                         "not been launching for several hours."),
            ("What went wrong", "It was 11 hours before we realized that there was a major outage."),
            ("Lessons", "Monitoring the quota would have shown the problem at once.")]
    answer = compose_answer("How long did the outage last?", pods)
    assert answer.startswith('The write-up states it in "Summary": "This effect lasted approximately nine hours '
                             'before normal operation was restored." Its timeline\'s timed entries run from 10:00')
    assert 'From "Summary"' not in answer  # quoted once, in the answer
    assert 'From "Lessons"' not in answer


# mybinder.org's 2017-09-27 post-mortem (not in the corpus): "unusable for about 1h50m" in its summary,
# a timeline from 13:06 to 15:25 "All times in PST" on 27 September, when Pacific clocks were on PDT.
HUB_403 = [
    ("Summary", "After a deployment, most users were getting a '403 Forbidden' when attempting to launch their "
                "image. The bug was identified and fixed, but due to logistical issues it caused beta to be unusable "
                "for about 1h50m."),
    ("Timeline", "All times in PST\n\nSep 27 2017 13:06\n\nChanges are deployed to staging.\n\n13:35\n\n"
                 "Deployment to beta is complete!\n\n15:25\n\nThe PR has been merged and deployed, bringing the "
                 "outage to an end."),
    ("Conclusion", "Testing in staging was not thorough enough."),
]


def test_how_long_gives_the_duration_the_write_up_states_then_its_timelines_span():
    """It answered with the timeline's span alone, "not a duration the write-up states", beside a
    summary that states one."""
    answer = compose_answer("How long did the outage last?", HUB_403)
    assert answer.startswith('The write-up states it in "Summary": "The bug was identified and fixed, but due to '
                             'logistical issues it caused beta to be unusable for about 1h50m." Its timeline\'s timed '
                             'entries run from 2017-09-27 13:06')
    assert "15:25" in answer and "2 h 19 min" in answer and "not a duration the write-up states" not in answer


def test_what_time_zone_names_it_where_it_is_said_and_whether_it_fits_the_dates():
    answer = compose_answer("What time zone are the times in?", HUB_403)
    assert answer == ('The times are in PST: "All times in PST" (Timeline). On the timeline\'s dates that zone was on '
                      'PDT (UTC\u22127), not PST: the times may be an hour off for a reader who converts them.')
    assert compose_answer("Which time zone?", PROW) == 'The times are in PST: "All times in PST, on February 8th 2019" (Timeline).'
    gaps = compose_answer("What is missing from the timeline?", HUB_403)
    assert "- Time zone: PST (on its dates, PDT: an hour off)." in gaps
    assert '- When it was resolved: 2017-09-27 15:25 ("15:25 The PR has been merged and deployed, bringing the ' \
           'outage to an end.")' in gaps
    none = [("Timeline", "- 13:06 Alert fires.\n- 15:25 Resolved.")]
    assert compose_answer("Is it in UTC?", none) == "The write-up never says which time zone its times are in."


# Shaped on mybinder.org's 2018-01-17 post-mortem, which never says how long it lasted, counts
# nothing, and links every action to an issue; and on its 2018-03-31 one, whose only log is a
# `kubectl describe` table full of "Failed".
UBUNTU = [
    ("Summary", "Ubuntu had pulled several of its packages for Zesty from the repository. This meant that most "
                "Binders would fail to build because those packages were no longer available."),
    ("Timeline", "All times in PST\n\n2018-01-15\n\nGeneral Travis failures.\n\n2018-01-17 17:14\n\n"
                 "- Realization this will cause repo2docker and mybinder to fail\n\n18:57\n\n"
                 "Bump to artful, merged and deployed. Checked mybinder.org and problem was resolved.\n\n"
                 "2018-01-25 09:00\n\nFollow-up meeting."),
    ("Action items", "- Subscribe to the ubuntu-announce mailing list (#296)\n"
                     "- Allow users to pin distros (with an apt.yaml)"),
    ("Misc", "- Keep our own apt mirror, owner: Chris, due 2018-03-01"),
    ("What went wrong", "- There was only one person available to debug"),
]
LEVELS = [2, 2, 2, 3, 3]


def test_how_long_with_no_duration_stated_gives_the_timelines_span():
    answer = compose_answer("How long did the outage last?", UBUNTU, levels=LEVELS)
    # each stamp quoted with its entry: "18:57" alone says nothing
    assert answer.startswith('By its timeline: the first timed entry is at 2018-01-17 17:14 ("2018-01-17 17:14 - '
                             'Realization this will cause repo2docker and mybinder to fail") and the last at 2018-01-17 '
                             '18:57 ("18:57 Bump to artful, merged and deployed. Checked mybinder.org and problem was '
                             'resolved."), 1 h 43 min apart. That is the span of the entries, not a duration the '
                             'write-up states')
    # the follow-up a week later is not part of the incident's span, but it is not hidden either
    assert "Later entries follow after a pause, up to 2018-01-25 09:00." in answer
    assert "could not find anything" not in answer


def test_how_many_with_nothing_counted_says_so_and_quotes_its_vague_words():
    answer = compose_answer("How many users were affected?", UBUNTU, levels=LEVELS)
    assert answer == ("The write-up gives no count of what was affected: no number or share of users, requests, "
                      "builds or downloads anywhere in it. It says only: \"This meant that most Binders would fail "
                      "to build because those packages were no longer available.\"")
    # "Allow users to pin distros" shares a word with the question, and is no answer to it
    counted = [UBUNTU[0], ("Impact", "About 1,200 builds failed, 40% of all builds that day."), *UBUNTU[1:]]
    answer = compose_answer("How many users were affected?", counted)
    assert "no count" not in answer
    assert passages(answer)[0] == 'From "Impact": "About 1,200 builds failed, 40% of all builds that day."'


def test_which_actions_have_no_owner_lists_them_and_reads_the_actions_sub_sections():
    answer = compose_answer("Which actions have no owner?", UBUNTU, levels=LEVELS)
    assert answer.split("\n\n")[0] == (
        "Of the 3 action items, 1 has no owner or no due date (1 is done or linked to a ticket):\n"
        '- "Allow users to pin distros (with an apt.yaml)" (Action items: no owner and no due date)')
    assert "only one person available" not in answer.split("\n\n")[0]  # a lesson, not an action
    blame = compose_answer("Who was responsible for the outage?", UBUNTU, levels=LEVELS)
    assert "action items" not in blame


def test_why_is_not_answered_with_a_log():
    from redline.jobs.reviewers.offline_pool import answer_text

    log = ("Events:\n  Type     Reason        Message\n  Warning  FailedMount   MountVolume.SetUp failed\n"
           "  Warning  FailedSync    Error syncing pod, failed")
    text = f"16:11 Mount errors on build pods:\n\n{log}"
    sections = [("Summary", "A node was deleted. This caused a more general outage.", [], 2),
                ("Timeline", text, [[text.index("Events"), len(text), "pre", ""]], 2)]
    answer = answer_text("Why did it fail?", sections, None)
    assert passages(answer) == ['From "Summary": "A node was deleted. This caused a more general outage."']
    # asked about the log itself, it is quoted
    assert "FailedSync Error syncing pod" in answer_text("What error did the build pods show?", sections, None)


def test_a_timeline_stamp_on_its_own_line_is_quoted_with_its_entry():
    # mybinder.org 2018-03-31: "### 2018-03-31 15:47" headings folded into the timeline's text
    sections = [("Summary", "A node was deleted, and launches failed."),
                ("Timeline", "All times in PST\n\n2018-03-31 15:47\n\nProblem is identified\n\n"
                             "- Launch success rate drops quickly\n\n16:11\n\n- Mount errors on build pods:\n\n"
                             "17:30\n\n- New nodes are up, old nodes are drained")]
    answer = compose_answer("When was the problem identified?", sections)
    assert passages(answer) == ['From "Timeline": "All times in PST 2018-03-31 15:47 Problem is identified - Launch '
                                'success rate drops quickly"']
    # no stamp is quoted without what happened at it
    answer = compose_answer("When were the old nodes drained?", sections)
    assert passages(answer)[0] == 'From "Timeline": "17:30 - New nodes are up, old nodes are drained"'


# Shaped on mybinder.org's 2018-03-31 post-mortem: the cause said plainly in the summary, given as a
# guess further down, and a timeline that opens when the problem was noticed.
LAUNCHES = [
    ("Summary", "After a few days of strange networking errors, a node was deleted. This caused a more general "
                "outage that was only solved by totally recycling all nodes."),
    ("Timeline", "All times in PST\n\n2018-03-31 15:47\n\nProblem is identified\n\n- Launch success rate drops\n\n"
                 "16:11\n\n- Mount errors on build pods\n\n17:21\n\n- Decided to increase cluster size to 4\n\n"
                 "17:30\n\n- Launch rate goes back to 100%"),
    ("Investigation", "The outage seemed to come from the deletion of a node."),
]


def test_is_the_cause_supported_weighs_the_cause_the_write_up_gives():
    answer = compose_answer("Is the root cause supported by the evidence?", LAUNCHES)
    assert answer.split("\n\n")[0] == (
        'The cause, as the write-up gives it ("Summary"): "This caused a more general outage that was only solved by '
        'totally recycling all nodes." Nothing beside it shows it: no log, metric, record, reproduction or '
        'confirmation is cited in that sentence or the next. Elsewhere ("Investigation") it is given as a guess: '
        '"The outage seemed to come from the deletion of a node."')
    shown = [("Root cause", "The hub could not start because its volume was still claimed by the old pod. The "
                            "scheduler logs confirmed it."), *LAUNCHES[1:2]]
    answer = compose_answer("How do we know that was the cause?", shown)
    assert answer.startswith('The cause, as the write-up gives it ("Root cause"): "The hub could not start because')
    assert 'It points to what shows it: "logs", "confirmed".' in answer
    assert compose_answer("Is the cause supported by evidence?", LAUNCHES[1:2]).startswith(
        "The write-up states no cause outside its timeline")


def test_what_is_missing_from_the_timeline_says_what_it_marks_and_what_not():
    answer = compose_answer("What is missing from the timeline?", LAUNCHES)
    assert answer.split("\n\n")[0] == (
        "The timeline has 4 timed entries, from 2018-03-31 15:47 to 2018-03-31 17:30.\n"
        "- When the problem began: not marked (the first entry, 2018-03-31 15:47, is when it was noticed).\n"
        '- When it was noticed: 2018-03-31 15:47 ("2018-03-31 15:47 Problem is identified - Launch success rate '
        'drops")\n'
        '- When it was resolved: 2018-03-31 17:30 ("17:30 - Launch rate goes back to 100%")\n'
        "- Time zone: PST (on its dates, PDT: an hour off).\n"  # Pacific clocks went to PDT on 2018-03-11
        "- Longest stretch with no entry: 2018-03-31 16:11 to 2018-03-31 17:21 (1 h 10 min).")
    assert passages(answer) == []  # its entries, quoted again, are not what is missing
    # a start before the detection, no zone, no end
    other = [("Timeline", "- 09:02 A config change is deployed to the load balancer.\n- 09:20 An alert fires: "
                          "502 errors.\n- 09:35 We roll the change back.")]
    answer = compose_answer("Is the timeline complete?", other)
    assert '- When the problem began: 09:02 ("09:02 A config change is deployed to the load balancer.")' in answer
    assert "- When it was resolved: not marked." in answer and "- Time zone: not given." in answer
    assert compose_answer("What is missing from the timeline?", LAUNCHES[:1]).startswith(
        "The write-up has no timeline with clock times.")


def test_summarize_gives_the_opening_the_timelines_span_the_cause_and_the_actions():
    answer = compose_answer("Summarize this write-up", UBUNTU, levels=LEVELS)
    assert answer == (
        'From "Summary": "Ubuntu had pulled several of its packages for Zesty from the repository. This meant that '
        'most Binders would fail to build because those packages were no longer available."\n'
        "- Timeline: 3 timed entries, from 2018-01-17 17:14 to 2018-01-25 09:00.\n"
        "- Actions: 3, of which 1 done or linked to a ticket.")
    # a cause given elsewhere than in the opening is added
    answer = compose_answer("Can you summarise the report?", LAUNCHES[1:] + [
        ("Root cause", "The outage was caused by a node the autoscaler deleted while it held the hub's volume.")])
    assert '- Cause, as given in "Root cause": "The outage was caused by a node the autoscaler deleted' in answer
    assert compose_answer("What happened at 16:11?", LAUNCHES).startswith("The write-up addresses this")


def test_what_are_the_actions_lists_them_from_every_actions_sub_section():
    answer = compose_answer("What are the action items?", UBUNTU, levels=LEVELS)
    assert answer == ('The write-up lists 3 action items:\n'
                      '- "Subscribe to the ubuntu-announce mailing list (#296)" (Action items)\n'
                      '- "Allow users to pin distros (with an apt.yaml)" (Action items)\n'
                      '- "Keep our own apt mirror, owner: Chris, due 2018-03-01" (Misc)')


def test_what_was_the_impact_quotes_what_the_write_up_says_of_it():
    # no impact section: the first sentence that says what was hurt, the summary's first
    answer = compose_answer("What was the impact?", LAUNCHES)
    assert answer == ('The write-up has no impact section. What it says of the impact ("Summary"): "This caused a '
                      'more general outage that was only solved by totally recycling all nodes."')
    impact = [("Impact", "Launches failed for about two hours. No data was lost."), *UBUNTU]
    answer = compose_answer("Who was affected?", impact)
    assert answer == ('From "Impact": "Launches failed for about two hours. No data was lost." It gives no count of '
                      'what was affected (users, requests, builds or downloads).')


def test_who_was_involved_names_the_handles_and_the_chat_speakers():
    answer = compose_answer("Who was involved?", PROW + [
        ("Chat log", "Katharine [07:21 AM] Looks like boskos died\nliggitt [7:49 AM] I opened a PR\n"
                     "@Krzyzacy please look")])
    assert answer == "The write-up names 3: @krzyzacy (3 times), Katharine (1 time), liggitt (1 time)."
    assert compose_answer("Who was on call?", LAUNCHES) == (
        "The write-up names no one. Who responded, decided and fixed it cannot be told from it.")
    on_call = [("Detection", "The on-call engineer was paged at 15:47 and the SRE team joined at 16:00.")]
    assert compose_answer("Who responded?", on_call).startswith(
        'The write-up names no one: it speaks of "on-call engineer", "sre".')


def test_who_owns_the_actions_reads_a_templates_handle_as_no_owner():
    """A half-filled template: "Who owns the action items?" quoted lines that share a word; and
    "Owner: @github_handle" is the template's, not an owner."""
    sections = [("Summary", "The intake queue stopped processing jobs for 47 minutes."),
                ("Action Items", "- [ ] Owner: @alice — add a consumer-group check to the deploy (due 2024-03-15)\n"
                                 "- [ ] Owner: @github_handle — alert on queue depth")]
    answer = compose_answer("Who owns the action items?", sections)
    assert answer.startswith('Of the 2 action items, 1 has no owner or no due date (0 are done or linked to a ticket):\n'
                             '- "[ ] Owner: @github_handle — alert on queue depth" (Action Items: no owner and no due '
                             'date)')


def test_actions_written_one_a_line_are_counted_by_the_chat_as_by_the_finding():
    """Students' post-mortems (ALX, not in the corpus) write their measures one a line with no list
    marks ("Implement ...", "Modifying ..."): the chat answered it could find nothing to match."""
    sections = [("Summary", "The web server returned 500 errors for 10 minutes after a sitewide update."),
                ("Corrective and Preventative Measures",
                 "We can prevent this in the future by:\nModifying configuration files for more error logging.\n"
                 "Test before deploying on all servers, no matter how small an update.\n"
                 "Thanks for your patience.")]
    answer = compose_answer("Which actions lack an owner or a due date?", sections)
    assert answer.startswith("Of the 2 action items, 2 have no owner or no due date"), answer
    assert '"Modifying configuration files for more error logging."' in answer


def test_a_lead_in_is_quoted_with_the_list_it_introduces():
    """mybinder.org 2017-09-27: "This was caused by two factors:" was quoted alone, without them."""
    sections = [("Summary", "Launches failed with 403 after a deploy."),
                ("Conclusion", "This was caused by two factors:\n\n1. Local development being different from "
                               "production (single node vs multi node)\n2. Testing in staging not thorough enough\n\n"
                               "We should try not to change many things at once.")]
    answer = compose_answer("What was the root cause?", sections)
    assert ('From "Conclusion": "This was caused by two factors: 1. Local development being different from production '
            '(single node vs multi node) 2. Testing in staging not thorough enough"') in passages(answer)


def test_a_timeline_of_dates_alone_still_answers_how_long_and_what_it_misses():
    """mybinder.org 2018-01-18 (not in the corpus): a timeline of "### 2018-01-11" and "### 2018-01-18"
    entries, no times. "How long did it last?" found nothing; "What is missing?" said it gave no times
    and nothing of its dates."""
    sections = [("Summary", "A team member received a warning that the SSL certificate was going to expire."),
                ("Timeline", "All times in PST\n\n2018-01-11\n\nA team member received an email about the "
                             "certificate.\n\n2018-01-18\n\nAnother team member checked the certificate: it was renewed.")]
    answer = compose_answer("How long did it last?", sections)
    assert answer.startswith('By its timeline (dates, no times): its entries run from 2018-01-11 ("2018-01-11 A team '
                             'member received an email about the certificate.") to 2018-01-18')
    assert "7 days apart" in answer
    assert compose_answer("What is missing from the timeline?", sections).startswith(
        "The timeline gives dates (2018-01-11 to 2018-01-18) but no clock times")


def test_how_long_is_not_answered_with_a_logs_timeout():
    """mybinder.org 2017-09-29 (not in the corpus): "How long did the outage last?" quoted the log
    line "server failed to start in 300 seconds, giving up" from a code block."""
    from redline.jobs.reviewers.offline_pool import answer_text

    timeline = ("All times in CEST\n\n### Sep 29 2017 08:59\n\nAn issue is opened.\n\n### 14:00\n\nLaunching fails:\n\n"
                "        binder-testing-xyz's server failed to start in 300 seconds, giving up\n\n"
                "### 14:10\n\nThe hub pod is relaunched. Service is back to normal.")
    from redline.jobs.documents.upload import parse_document

    parsed = parse_document("r.md", ("# 504\n\n## Summary\n\nLaunches failed.\n\n## Timeline\n\n" + timeline).encode(),
                            max_bytes=1 << 20)
    sections = [(s.title, s.text, s.marks, s.level) for s in parsed.sections]
    answer = answer_text("How long did the outage last?", sections, None)
    assert "300 seconds" not in answer and "5 h 11 min apart" in answer
    assert "300 seconds" in answer_text("What did the logs show when launching failed?", sections, None)


def test_how_long_reads_where_the_timeline_says_the_outage_began_and_ended():
    """Kubernetes Prow 2019-02-05 (not in the corpus): "Outage begins." at 08:47, "Outage ends." at
    09:34, and entries until 14:31 for the clean-up. The span of the entries (5 h 44 min) is not
    the outage; its marks are (47 min, as the write-up states). The summary's timeline has no
    stand-in date ("2000-01-01")."""
    sections = [("Summary", "The Prow cluster could not run jobs for 47 minutes after a deploy."),
                ("Timeline", "All times in PST, on February 5th 2019\n\n"
                             "* [08:47] The bump PR is merged, triggering a deploy. **Outage begins.**\n"
                             "* [08:57] @Katharine notices that statuses are still present\n"
                             "* [09:34] Prow is confirmed to be functional. **Outage ends.**\n"
                             "* [14:31] @Katharine determines why the older branchprotector ran.")]
    answer = compose_answer("How long did the outage last?", sections)
    assert ('Its timeline marks the start at 08:47 ("[08:47] The bump PR is merged, triggering a deploy. **Outage '
            'begins.**") and the end at 09:34 ("[09:34] Prow is confirmed to be functional. **Outage ends.**"): 47 min. '
            'Its entries go on to 14:31.') in answer
    assert "- Timeline: 4 timed entries, from 08:47 to 14:31." in compose_answer("Summarize this write-up", sections)


# Kubernetes Prow 2019-02-08 (not in the corpus): its "Root Cause" gives the cause in words that
# name none ("which is not respected by the new client refactor"), its summary says "causes".
PROW_0208 = [
    ("Summary", "Prow was scheduling test jobs onto the service cluster, which causes these jobs not finishing "
                "(won't start because of missing credentials)."),
    ("Root Cause", "Our build-cluster secret literally defines a default cluster alias which points to our build "
                   "cluster, which is not respected by the new client refactor.\n\nSee "
                   "https://github.com/kubernetes/test-infra/pull/11209 for more context."),
    ("Action items", "- We need to be more careful when deploying sweeping prow changes."),
]


def test_the_cause_is_read_under_its_own_heading_first():
    answer = compose_answer("What was the root cause?", PROW_0208)
    assert passages(answer)[0].startswith('From "Root Cause": "Our build-cluster secret literally defines')
    weighed = compose_answer("Is the root cause supported by the evidence?", PROW_0208)
    assert weighed.startswith('The cause, as the write-up gives it ("Root Cause"): "Our build-cluster secret literally '
                              'defines a default cluster alias')
    assert 'It points to what shows it: "https://github.com/kubernetes/test-infra/pull/11209".' in weighed
    assert compose_answer("Which actions lack an owner or a due date?", PROW_0208).startswith(
        "The write-up's only action item has no owner or no due date:")


# A plant's short incident report: particulars first, no summary, "No injuries reported".
COMPRESSOR = [
    ("Incident Details", "- Date: 2024-01-15\n- Time: 14:30\n- Location: Building 1, Area A\n- Equipment: Compressor A"),
    ("Description", "Compressor A experienced a malfunction during routine operation.\nAutomatic safety systems "
                    "activated and shut down the unit."),
    ("Impact", "- Production stopped for 2 hours\n- No injuries reported\n- Minor equipment damage"),
    ("Root Cause", "Investigation revealed a faulty pressure sensor causing incorrect readings."),
]


def test_a_report_without_a_summary_is_summarized_from_its_first_prose():
    assert compose_answer("Summarize this write-up", COMPRESSOR).startswith(
        'From "Description": "Compressor A experienced a malfunction during routine operation.')


def test_a_word_is_matched_in_its_other_forms():
    """ "Was anyone injured?" found nothing beside "No injuries reported"."""
    assert 'No injuries reported' in compose_answer("Was anyone injured?", COMPRESSOR)


# TAIC's Shotover jet boat report (tuning set): its "1 Executive summary" holds only its Māori title;
# "What happened", under it, tells what happened, dated "21 March 2021".
JETBOAT = [
    ("Transport Accident Investigation Commission", "Te Kōmihana Tirotiro Aituā Waka No repeat accidents – ever!"),
    ("1 Executive summary", "Tuhinga whakarāpopoto", 2),
    ("What happened", "1.1 On 21 March 2021, the jet boat KJet 8 was travelling on the Shotover River with a driver "
                      "and 12 passengers on board. As it rounded a bend the engine stopped.", 3),
    ("Why it happened", "1.4 A fuse within the engine control system failed resulting in the engine stopping.", 3),
]


def test_a_summary_heading_over_its_sub_sections_is_read_from_them():
    sections = [(t, x) for t, x, *_ in JETBOAT]
    levels = [rest[0] if rest else 1 for _, _, *rest in JETBOAT]
    answer = compose_answer("Summarize this write-up", sections, levels=levels)
    assert answer.startswith('From "What happened": "1.1 On 21 March 2021, the jet boat KJet 8 was travelling')
    when = compose_answer("When did it happen?", sections, levels=levels)
    assert when.startswith('The write-up says in "What happened": "1.1 On 21 March 2021')
    assert passages(when) == []  # the passage is that sentence: said once


def test_a_templates_prompt_is_not_the_cause():
    """An unfilled investigation template lists "Root cause analysis" as a prompt: the summary gave
    it as the cause."""
    sections = [("1. Incident Details", "The pump stopped during the night shift and the line was halted."),
                ("4. Findings and Analysis", "Document the investigation findings including:\n\n- Root cause analysis\n"
                                             "- Contributing factors")]
    assert "Cause, as given" not in compose_answer("Summarize this write-up", sections)


def test_when_it_happened_is_the_day_the_write_up_gives_not_a_heading_that_says_happened():
    """matrix.org's 2025-09-02 post-mortem: "When did it happen?" was answered with its "What
    happened" section's architecture, the heading sharing the question's word. The answer is the
    day in the write-up's own words, the summary's first, and where its timeline starts."""
    doc = [("Preamble", "2025-10-10"),  # the post's own date, as pandoc writes it under the title
           ("Post-mortem of the September 2 outage",
            "On 2nd September 2025 the matrix.org homeserver suffered a ~24h outage. It was unavailable from "
            "2025-09-02 17:45 UTC until 2025-09-03 18:00 UTC."),
           ("What happened", "The homeserver is made of a main Synapse instance with hundreds of workers, backed "
                             "by a single logical Postgres cluster made up of two machines."),
           ("Timeline", "All times in UTC.\n\n- 17:45 The primary database fails during a disk expansion.\n"
                        "- 18:10 We start restoring the secondary from S3.")]
    for question in ("When did it happen?", "When did the outage start?", "What date was the incident?"):
        answer = compose_answer(question, doc)
        assert answer.startswith('The write-up says in "Post-mortem of the September 2 outage": "On 2nd September '
                                 '2025 the matrix.org homeserver suffered a ~24h outage."'), (question, answer)
        assert "17:45" in answer and "Synapse instance" not in answer, (question, answer)
    # when it was noticed or resolved is still its own answer
    assert compose_answer("When was it resolved?", doc).startswith("No timeline entry says when it was resolved")


def test_a_break_in_is_caused_by_its_way_in_not_by_a_sentence_saying_caused():
    """matrix.org's 2019 post-mortem: "What was the root cause?" quoted "causing a forced logout"
    and "the inconvenience this caused" (the question's word "cause", read as "caus", was matched
    as a term) over "the servers ... got compromised via a Jenkins vulnerability"."""
    doc = [("Introduction", "The servers which run the biggest instance got compromised via a Jenkins vulnerability "
                            "and bad ops practices."),
           ("The Incident", "We had no choice but drop all access tokens, causing a forced logout for all users."),
           ("Conclusion", "We apologise for the massive inconvenience this caused to everyone.")]
    got = passages(compose_answer("What was the root cause?", doc))
    assert got[0] == ('From "Introduction": "The servers which run the biggest instance got compromised via a '
                      'Jenkins vulnerability and bad ops practices."')


def test_a_passage_a_fact_already_quotes_is_not_quoted_again():
    """crates.io's 2018-10-19 update as PDF: "When did it happen?" quoted "On Monday, Oct 15, ...
    sustained an operational incident." in its answer, then again as a passage, and the post's date
    alone ("2018-10-19") as another. A passage that adds as much again to the quote is still quoted."""
    doc = [("Update on the October 15, 2018 incident on crates.io",
            "2018-10-19\n\nOn Monday, Oct 15, starting at approximately 20:00 UTC, crates.io sustained an "
            "operational incident. See the status page."),
           ("Timeline of events", "- 20:09 UTC: A user registers an account\n- 20:13 UTC: The user begins uploading "
                                  "packages every 2 seconds\n- 00:40 UTC: The packages are removed from the index.")]
    answer = compose_answer("When did it happen?", doc)
    assert answer.count("sustained an operational incident") == 1
    assert all("2018-10-19" not in p for p in passages(answer))
    how_long = compose_answer("How long did the outage last?", PROW, section_title=PROW[0][0])
    assert passages(how_long)[0].startswith('From "Impact": "Jobs scheduled onto the service cluster')


def test_when_noticed_counts_from_a_change_initiated_and_quotes_the_entry_once():
    """DFDS's "Total node failure" (PM2023-001): the rollover that set the wrong runtime was
    "initiated" a day before users "alerted us"; the answer said nothing of the first sign, and
    quoted the alert's entry twice (the fact cuts it short with "…", the passage in full)."""
    alert = ("2023-02-14 09:33 | End-users alerted us that CloudWatch logs weren't working as expected. This "
             "triggered an investigation into fluentd, that eventually lead us onto the container runtime being "
             "containerd instead of docker-shim")
    doc = [("Summary", "A node rollover left the Kubernetes cluster with no nodes."),
           # its table's rows, as a Word or Markdown upload reads them
           ("Timeline", "All times in UTC.\n\nTime | Event\n"
                        "2023-02-13 07:30 | Scheduled node rollover initiated and containerd had been set as the "
                        "default container runtime accidentally\n" + alert + "\n"
                        "2023-02-14 11:01 | LB detects new nodes as healthy, allowing traffic")]
    answer = compose_answer("When was it noticed?", doc)
    assert answer.startswith("By its timeline, it was noticed at 2023-02-14 09:33")
    assert "Its first sign was at 2023-02-13 07:30" in answer and "1 day 2 h 3 min before" in answer
    assert answer.count("End-users alerted us") == 1


def test_how_long_is_not_answered_with_someones_estimate_of_arrival():
    """TAIC's Milton hi-rail collision: "How long did it last?" was answered "The write-up states
    it: 'they expected to be there in about an hour'", then with "I will be at the 429 km in about
    five minutes": an arrival, not how long anything lasted."""
    doc = [("What happened", "A hi-rail vehicle collided with a freight train at a level crossing. There were "
                             "no injuries."),
           ("Narrative", "The track ganger signed off by stating they expected to be there in about an hour. "
                         "At 1447 the track ganger radioed, stating \"I will be at the 429 km in about five minutes\".")]
    answer = compose_answer("How long did it last?", doc)
    assert not answer.startswith("The write-up states it")
    outage = [("Summary", "The signalling system was down for about an hour before it was restored.")]
    assert compose_answer("How long did it last?", outage).startswith('The write-up states it in "Summary"')


def test_when_skips_a_quoted_logs_dates_and_how_long_skips_earlier_occurrences():
    """On the corpus (tuning set): Prow's 2019-05-30 write-up answered "When did it happen?" with
    its appendix's quoted log, "> Started: Mon, 01 Jan 0001 00:00:00 +0000"; the Shotover jet boat
    report answered "How long did it last?" with its "Previous occurrences": "37 incidents
    recorded between 1 March 2020 and 31 March 2021"."""
    prow = [("Summary", "Prow stopped merging pull requests because its nodes were throttled."),
            ("Timeline", "- [13:26] @cblecker reports on Slack that something is wrong with Prow\n"
                         "- [14:43] @Random-Liu determines the root cause is severe I/O throttling"),
            ("Appendix", "> State: Terminated\n> Started: Mon, 01 Jan 0001 00:00:00 +0000\n> Exit Code: 0")]
    answer = compose_answer("When did it happen?", prow)
    assert "0001" not in answer.split("\n\n")[0] and answer.startswith("Its timeline starts at 13:26")
    boat = [("What happened", "On 21 March 2021 the jet boat lost power and struck a rock wall."),
            ("Previous occurrences", "The operator's log showed 37 incidents recorded between 1 March 2020 and "
                                     "31 March 2021.")]
    assert "37 incidents" not in compose_answer("How long did it last?", boat).split("\n\n")[0]


def test_a_leak_is_reported_and_ends_when_the_token_is_revoked():
    """PyPI's leaked token (tuning set): "JFrog reports their finding" is when it was noticed, and
    "Personal Access Token ... destroyed" when it was resolved; both were "not marked"."""
    doc = [("Summary", "A GitHub token with admin rights leaked in a Docker image."),
           ("Timeline of events", "- 2024-06-28 7:09 AM Eastern: JFrog reports their finding of the token to "
                                  "security@pypi.org.\n- 2024-06-28 7:26 AM Eastern: The token is destroyed.")]
    assert compose_answer("When was it noticed?", doc).startswith("By its timeline, it was noticed at 2024-06-28 07:09")
    assert compose_answer("When was it resolved?", doc).startswith("By its timeline, it was resolved at 2024-06-28 07:26")


def test_when_a_dated_post_says_only_over_the_past_few_days():
    """PyPI's 2025-07-28 phishing notice gives no day in its words, only "Over the past few days",
    under the date its front matter gives: the answer is that date and those words."""
    doc = [("Phishing attack", "Over the past few days, users received emails asking them to log in to a fake "
                               "site. We have reported the domain.")]
    answer = compose_answer("When did it happen?", doc, date="2025-07-28")
    assert answer.startswith('The write-up is dated 2025-07-28 (the date its file gives) and says in "Phishing '
                             'attack": "Over the past few days, users received emails')
    assert not compose_answer("When did it happen?", doc).startswith("The write-up is dated")


def test_an_action_table_answers_which_actions_lack_an_owner_and_a_dated_timeline_starts_where_listed():
    """etcd's v3.5 post-mortem: the chat listed the bullets that explain the action table ("Prevent
    - ...", "P0 - ...") as the actions with no owner, and said its timeline starts on "2021-01-28"
    (a year typo, first once sorted) quoting "2"."""
    doc = [("Timeline", "Date | Event\n2021-05-08 | Pull request that caused data corruption was merged\n"
                        "2021-12-01 | Report of data corruption\n2021-01-28 | Report of data corruption\n"
                        "2022-04-24 | Release v3.5.3 with fix was published"),
           ("Action items", "Types:\n\n- Prevent - Prevent similar issues from occurring.\n"
                            "- P0 - Critical for reliability of the v3.5 release.\n\n"
                            "Action Item | Type | Priority | Bug | Status\n"
                            "etcd detects data corruption by default | Detect | P0 | "
                            "https://github.com/etcd-io/etcd/issues/14039 | DONE\n"
                            "etcd apply code should be easy to understand | Prevent | P1 | |")]
    owners = compose_answer("Which actions lack an owner or a due date?", doc)
    assert owners.startswith("Of the 2 action items, 1 has no owner or no due date")
    listed = owners.split("\n\n")[0]  # the items it counts (the passages quoted after it may hold anything)
    assert "etcd apply code should be easy to understand" in listed and "Prevent - Prevent" not in listed
    when = compose_answer("When did it happen?", doc)
    assert when.startswith('Its timeline starts on 2021-05-08 ("2021-05-08 | Pull request that caused data '
                           'corruption was merged")')


def test_a_count_of_things_affected_is_a_count():
    """COG-UK's pipeline post-mortem: "373 samples were affected by the issue" is its count; the
    chat said the write-up gives none."""
    doc = [("Summary", "The pipeline processed incomplete records and the downstream analysis failed."),
           ("Timeline", "- 01:27 SN discovers that 373 samples were affected by the issue.")]
    answer = compose_answer("How many users were affected?", doc)
    assert not answer.startswith("The write-up gives no count") and "373 samples were affected" in answer
    assert compose_answer("How many users were affected?", doc[:1]).startswith("The write-up gives no count")


def test_who_was_involved_reads_the_people_the_prose_names():
    """PyPI's leaked-token report names "I (Ee Durbin)" and "Brian Moussalli of JFrog", and no
    @handle: the chat said it "names no one". A place in the same shape ("from North Edendale
    Siding", "Limeworks Road of ...") is no person."""
    doc = [("Summary", "On June 28 I (Ee Durbin) was notified of a leaked token. Brian Moussalli of JFrog reported "
                       "it; we thank Adnan Khan, the researcher who found the bug."),
           ("Narrative", "The train ran from North Edendale Siding to Mosgiel. Limeworks Road of Milton was closed.")]
    answer = compose_answer("Who was involved?", doc)
    assert answer.startswith("The write-up names 3: Ee Durbin (1 time), Brian Moussalli (1 time), Adnan Khan (1 time).")


def test_who_was_involved_reads_an_author_given_with_an_address():
    """iasql's post-mortems (not in the corpus) name their author as "- Luis Fernando De Pombo
    <l@iasql.com>" under "Author(s)": the chat named only the @handle of the timeline."""
    doc = [("Author(s)", "- Luis Fernando De Pombo <l@iasql.com>"),
           ("Timeline", "- 2023-03-14: @depombo added the faulty Auth0 PostLogin JS webhook\n"
                        "- 2023-03-15: @depombo tried to access the production dashboard")]
    answer = compose_answer("Who was involved?", doc)
    assert answer.startswith("The write-up names 2: @depombo (2 times), Luis Fernando De Pombo (1 time).")


def test_who_was_involved_names_the_roles_a_timeline_speaks_of():
    """2i2c's CloudBank report (not in the corpus) names nobody, but its timeline speaks of "Engineer"
    and "Tech Lead" throughout: the chat spoke only of "admin"."""
    doc = [("Timeline (times in BST)", "1:06 PM\nHub admin updates the config\nEngineer notices PagerDuty alerts\n\n"
                                       "1:27 PM\nTech Lead enters the chat, at a conference without a laptop")]
    assert compose_answer("Who was involved?", doc) == (
        'The write-up names no one: it speaks of "admin", "engineer", "tech lead". Who responded, decided and '
        "fixed it cannot be told from it.")


def test_when_did_it_happen_reads_the_day_in_the_documents_heading():
    """Avail's "2023-12-04 IPFS network merge" (not in the corpus) dates itself only in its heading
    and says "last week of November" in prose: the chat answered it could find nothing."""
    doc = [("2023-12-04 IPFS network merge", ""),
           ("Summary", "The DHT tables of IPFS and the Avail light client network were merged by mistake."),
           ("Detection", "The first issues were discovered on the dashboard last week of November, with a sharp "
                         "decrease in DHT hit rates.")]
    answer = compose_answer("When did it happen?", doc)
    assert answer.startswith('The write-up\'s heading dates it: "2023-12-04 IPFS network merge"; it says in '
                             '"Detection": "The first issues were discovered on the dashboard last week of November')


def test_the_chat_counts_done_actions_as_the_finding_does():
    """LIQD Labs' post-mortem (not in the corpus): the finding read "KHYPE-USDC pool halted." and
    "Restarted the oracle." as done, but the chat's count said only linked or ticked items were."""
    doc = [("Summary", "An attacker manipulated the oracle price and drained the pool."),
           ("Remediation", "- KHYPE-USDC pool halted.\n- Restarted the oracle with a time-weighted price.\n"
                           "- Review every pool's oracle configuration.")]
    answer = compose_answer("Which actions lack an owner or a due date?", doc)
    assert answer.startswith("Of the 3 action items, 1 has no owner or no due date (2 are done or linked to a ticket):")


def test_how_did_this_happen_is_the_cause_and_thanks_are_not():
    """PyPI's leaked-token report gives its cause under "How did this happen"; the chat quoted its
    "Thanks" ("thanks to JFrog's team for finding and reporting this leak") as the cause."""
    doc = [("Incident Report", "On June 28, 2024 we were notified of a leaked token; it was revoked at once."),
           ("How did this happen", "While developing locally I added my own access token to the build code, "
                                   "which was compiled into a .pyc file and pushed in a Docker image."),
           ("Thanks", "First and foremost, thanks to JFrog's team for finding and reporting this leak. Ee Durbin "
                      "has been keeping PyPI online since 2013.")]
    summary = compose_answer("Summarize this write-up", doc)
    assert '- Cause, as given in "How did this happen": "While developing locally' in summary
    assert passages(compose_answer("What was the root cause?", doc))[0].startswith('From "How did this happen"')


def test_on_the_tuning_sets_security_and_outage_notes_the_facts_read_their_own_words():
    """crates.io's DNS outage: "failed to resolve for an estimated time of 10-15 minutes" is how long
    it lasted, not "issuing a certificate took around 10 minutes". PyPI's subpoena notice: "has
    [retained records] since 2002-11-01" is no cause. aiocpa: "Because of that nonprofit status, we
    rely on our community" in "Thoughts" is no cause; a timeline whose first entries share a minute
    and then pause is read whole."""
    dns = [("DNS Outage", "During the deployment, the DNS record failed to resolve for an estimated time of 10-15 "
                          "minutes."),
           ("Root Cause", "It then started to issue a new certificate, which took around 10 minutes.")]
    assert compose_answer("How long did it last?", dns).startswith(
        'The write-up states it in "DNS Outage": "During the deployment, the DNS record failed to resolve')
    subpoena = [("PyPI was subpoenaed", "In March and April 2023, the PSF received three subpoenas for user data."),
                ("Project events", "PyPI retains records of all changes to projects, and has since 2002-11-01.")]
    assert "Cause, as given" not in compose_answer("Summarize this write-up", subpoena)
    malware = [("aiocpa", "On 2024-11-21, PyPI was notified about a malware attack."),
               ("Timeline", "- 2024-09-01 01:04 - A user creates the project\n- 2024-09-01 01:04 - aiocpa-0.1.0 "
                            "released\n- 2024-11-20 18:04 - aiocpa-0.1.13 released with the malware\n"
                            "- 2024-11-21 18:29 - PyPI Security quarantines aiocpa"),
               ("Thoughts", "Because of that independent, nonprofit status, we rely on our community.")]
    assert "Cause, as given" not in compose_answer("Summarize this write-up", malware)
    assert compose_answer("How long did it last?", malware).startswith(
        "By its timeline: the first timed entry is at 2024-09-01 01:04")


def test_a_timeline_that_runs_past_midnight_is_told_with_its_days():
    """PyPI's 2025 phishing report: "Timeline: 20 timed entries, from 13:14 to 12:54" read as if
    it ended before it began. A timeline under date headings is told with its dates; one of times
    alone, with the days it runs over."""
    dated = [("Summary", "Four accounts were phished."),
             # its date headings, folded into the timeline's text as an upload reads them
             ("Timeline", "2025-07-26\n\n- 13:14 A user reports a phishing email.\n\n2025-07-28\n\n"
                          "- 12:54 The domain is taken down.")]
    assert "- Timeline: 2 timed entries, from 2025-07-26 13:14 to 2025-07-28 12:54." in compose_answer(
        "Summarize this write-up", dated)
    times = [("Summary", "Four accounts were phished."),
             ("Timeline", "- 23:10 A user reports a phishing email.\n- 23:58 We contact the registrar.\n"
                          "- 00:40 The domain is taken down.")]
    assert "- Timeline: 3 timed entries, from 23:10 to 00:40 the next day." in compose_answer(
        "Summarize this write-up", times)


def test_the_root_cause_said_outright_and_a_duration_is_no_evidence():
    """Rotko's network outage: the chat weighed the summary's "resulted in" over "The root cause was
    traced to ..." and took "95 minutes" for meeting minutes, "what shows it"."""
    doc = [("Summary", "A planned intervention to standardize router-ids resulted in an unexpected connectivity "
                       "loss. The incident lasted approximately 95 minutes."),
           ("Technical Details", "The root cause was traced to an attempt to resolve a pre-existing routing anomaly. "
                                 "The meeting minutes record the decision.")]
    answer = compose_answer("Is the root cause supported by the evidence?", doc)
    assert answer.startswith('The cause, as the write-up gives it ("Technical Details"): "The root cause was traced')
    assert 'It points to what shows it: "minutes"' in answer  # the meeting's minutes, in the next sentence
    summary_only = [doc[0]]
    assert '"minutes"' not in compose_answer("Is the root cause supported by the evidence?", summary_only)


def test_back_online_is_resolved():
    """docs.rs's 2019 outage (tuning set): "02:06: CDN propagated the changes, docs.rs back online" is
    when it was resolved; the chat said the timeline does not mark it."""
    doc = [("Timeline", "- 00:55: crate builds started failing due to the low disk space\n"
                        "- 01:38: alerts fired for the website being down\n"
                        "- 02:06: CDN propagated the changes, docs.rs back online\n"
                        "- 08:19: builds failed during the outage were added back into the queue")]
    assert compose_answer("When was it resolved?", doc).startswith("By its timeline, it was resolved at 02:06")


def test_a_paragraph_number_alone_is_not_the_cause():
    """TAIC's Masterton report as PDF: "Why it happened" opens with its paragraph's number on its
    own line, and the summary gave "Cause, as given in 'Why it happened': '1.6.'"."""
    doc = [("What happened", "1.1. On 24 April 2020 the aeroplane struck the ground during a spreading run."),
           ("Why it happened", "1.6.\n\nThe pilot was likely affected by sunstrike when turning onto the final run.")]
    assert ('- Cause, as given in "Why it happened": "The pilot was likely affected by sunstrike'
            in compose_answer("Summarize this write-up", doc))


def test_a_safety_action_already_taken_on_a_day_needs_no_owner():
    """TAIC's Rolleston report lists the safety actions taken: "Bulletin 913 was issued on 27 September
    2019", "on 12 October 2020 KiwiRail provided the Commission with a draft response plan". The chat
    counted them as actions with no owner; an action still to take is still asked for one."""
    doc = [("Safety actions", "- Semi-permanent Bulletin 913 was issued on 27 September 2019, with new instructions.\n"
                              "- On 12 October 2020 KiwiRail provided the Commission with a draft response plan.\n"
                              "- Provide training on the new instructions to all train crews.")]
    answer = compose_answer("Which actions lack an owner or a due date?", doc)
    assert answer.startswith("Of the 3 action items, 1 has no owner or no due date (2 are done or linked to a ticket)")
    assert "Provide training" in answer.split("\n\n")[0]


VAL_TOWN = [  # Val Town's blob storage post-mortem (not in the corpus), its front matter "pubDate: May 2, 2024"
    ("Post-mortem: Blob Storage Outage",
     "Val Town provides blob storage for use within Vals. Blob storage is used by many Vals as a quick key value "
     "store.\n\nOn April 30th at 5:05pm UTC while offboarding a Val Town employee, we removed their user account "
     "from our Cloudflare organization. The API keys that we had been using to communicate with R2 were tied to "
     "the user account, and stopped working once the account was removed. At 8:00pm we had received a handful of "
     "user-reports about unexpected blob storage errors."),
    ("Impact", "Blob storage was unavailable from 5:05pm UTC until 9:05pm UTC."),
]


def test_what_happened_starts_where_the_story_does_not_at_the_products_introduction():
    """"What happened?" quoted "Val Town provides blob storage for use within Vals.": the post's
    introduction of its product. The story starts with its day."""
    answer = compose_answer("What happened?", VAL_TOWN)
    assert answer.startswith('From "Post-mortem: Blob Storage Outage": "On April 30th at 5:05pm UTC while '
                             'offboarding a Val Town employee'), answer


def test_when_gives_the_write_ups_date_for_a_day_with_no_year_and_does_not_repeat_its_quote():
    """"When did it happen?" quoted "On April 30th ..." with no year though the post is dated, and
    then quoted the same sentence again in the passage around it."""
    answer = compose_answer("When did it happen?", VAL_TOWN, date="2024-05-02")
    assert "(with no year: the write-up is dated 2024-05-02)" in answer, answer
    assert answer.count("On April 30th at 5:05pm UTC") == 1, answer

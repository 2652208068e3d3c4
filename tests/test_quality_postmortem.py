"""What a reviewer says about a software or security post-mortem's content, once per document
(postmortem.py, followups.py): an all-clear drawn from finding nothing, sweeping claims, a cause
that is only suspected or never given, removed malicious releases with no exposure, an earlier
occurrence no action speaks of, and follow-ups promised in prose. Each rule with a look-alike
that must stay quiet.
"""

from __future__ import annotations

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers import consistency
from redline.jobs.reviewers.offline import document_kind


def doc(*parts: tuple[str, str] | tuple[str, str, int]) -> list[Section]:
    return [Section(id=f"s{i + 1}", title=p[0], index=i, text=p[1], level=p[2] if len(p) > 2 else 1)
            for i, p in enumerate(parts)]


def run(sections: list[Section]) -> list[tuple[Section, Finding]]:
    """The document-level findings, each quote checked to be verbatim in its own section. Every
    write-up here is a software or security one (else these rules do not run, and a quiet look-alike
    would prove nothing)."""
    assert document_kind([s.text for s in sections]) == "software"
    got = consistency.document_findings(sections)
    out = []
    for s in sections:
        for f in got[s.id]:
            assert f.quote is None or f.quote in s.text, (f.category, f.quote)
            out.append((s, f))
    return out


def having(found: list[tuple[Section, Finding]], word: str) -> list[tuple[str, str | None]]:
    return [(s.id, f.quote) for s, f in found if word in f.category]


OUTAGE_TIMELINE = ("Timeline", "All times in UTC\n\n"
                   "- 07:28 Launch success rate on the hub drops to zero, deploys fail.\n"
                   "- 07:33 We cordon the node and delete the stuck hub pod.\n"
                   "- 08:05 The hub pod is rescheduled on a healthy node and launches succeed again.")


# --------------------------------------------------------------------------- evidence


def test_an_all_clear_from_finding_nothing_asks_what_was_checked():
    secs = doc(("Summary", "On 2024-06-28 we were notified of a leaked GitHub token for an admin account of the "
                           "package registry. This token was immediately revoked, and a review of the account was "
                           "performed. No indicators of malicious activity were found."),
               ("Response", "We moved the builds of the deploy image to a clean CI runner."))
    found = run(secs)
    assert having(found, "all-clear") == [("s1", "No indicators of malicious activity were found.")]
    f = next(f for _, f in found if "all-clear" in f.category)
    assert f.risk == "medium" and "over which period" in f.description


def test_a_hedged_all_clear_quotes_its_own_clause():
    secs = doc(("Summary", "Attackers modified GitHub Actions workflows to send PyPI tokens to a server. While "
                           "the attackers successfully exfiltrated 12 tokens, they do not appear to have used them "
                           "on PyPI."),)
    assert having(run(secs), "all-clear") == [("s1", "they do not appear to have used them on PyPI.")]


def test_an_all_clear_with_its_scope_a_timeline_entry_or_a_plain_fact_is_quiet():
    scoped = doc(("Summary", "A deploy token for the package registry leaked in a public CI log. We reviewed the "
                             "registry's audit logs for the last 90 days and found no evidence of misuse."),)
    timeline = doc(("Summary", "A malicious GitHub Actions workflow tried to send tokens to a server."),
                   ("Timeline", "- 2025-09-05 10:00 UTC: Report received.\n"
                                "- 2025-09-05 12:00 UTC: No compromise on the registry was found, tokens were "
                                "invalidated."))
    facts = doc(("Summary", "The registry was not compromised, and no packages were published by the attacker. "
                            "We inspected the linked source repository: it had recent commits but no evidence of "
                            "the obfuscated code in the repo."),)
    for secs in (scoped, timeline, facts):
        assert having(run(secs), "all-clear") == []


def test_sweeping_claims_are_asked_for_their_basis():
    secs = doc(("Summary", "A maintainer of a package on the registry added malware to a release."),
               ("Thoughts", "This attack appears to build adoption first and add malware later. This is a "
                            "relatively rare occurrence, which is why it's notable. We're proud that we maintain "
                            "gold-standard security practices for the registry."),
               ("What you can do", "Following a handful of security best practices is enough to avoid becoming a "
                                   "target."))
    found = having(run(secs), "unsupported claim")
    assert found == [("s2", "This is a relatively rare occurrence, which is why it's notable."),
                     ("s2", "We're proud that we maintain gold-standard security practices for the registry.")]


def test_ordinary_frequency_words_and_counted_claims_are_not_sweeping():
    secs = doc(("Summary", "The deploy of the API server failed. A crash loop is a very common pattern in "
                           "Kubernetes when a config map is missing. This is a rare occurrence: 3 of 500 deploys "
                           "in 2024 hit it, per the CI dashboard."),
               OUTAGE_TIMELINE)
    assert having(run(secs), "unsupported claim") == []


# --------------------------------------------------------------------------- root cause


def test_a_possible_or_suspected_cause_is_not_established():
    possible = doc(("Summary", "A crate was not added to the index after a GitHub outage."),
                   ("Resolution", "The team analyzed the code of the background job uploading commits to the index, "
                                  "and found a possible cause of the misreported success. A team member wrote the "
                                  "fix and we deployed it."))
    assert having(run(possible), "root cause: not established") == [
        ("s2", "The team analyzed the code of the background job uploading commits to the index, and found a "
               "possible cause of the misreported success.")]
    suspected = doc(("Summary", "We got email alerts saying the site was down, confirmed all services were down, "
                                "saw that the logs were nearly empty and suspected it was the ingress pods. Deleted "
                                "the pods, then all went back to normal."), OUTAGE_TIMELINE)
    found = having(run(suspected), "root cause: not established")
    assert len(found) == 1 and "suspected it was the ingress pods" in found[0][1]


def test_a_cause_that_only_seemed_to_come_from_somewhere_is_a_guess():
    # mybinder.org 2018-03-31: the only word on the cause, under the action items
    secs = doc(("Summary", "A node was deleted. Launches failed until all nodes were recycled."), OUTAGE_TIMELINE,
               ("Investigation", "The outage seemed to come from the deletion of a node, but it seemed to be "
                                 "related to other pre-existing nodes as well."))
    found = having(run(secs), "root cause: not established")
    assert len(found) == 1 and found[0][1].startswith("The outage seemed to come from the deletion of a node")
    probably = doc(("Summary", "The API returned errors. This was probably caused by a stale cache entry."),
                   OUTAGE_TIMELINE)
    assert len(having(run(probably), "root cause: not established")) == 1
    # said plainly, it is a cause, not a guess
    plain = doc(("Summary", "A node was deleted. Launches failed until all nodes were recycled."), OUTAGE_TIMELINE,
                ("Investigation", "The outage came from the deletion of a node."))
    assert having(run(plain), "root cause: not established") == []


def test_a_suspicion_the_write_up_then_confirmed_is_quiet():
    secs = doc(("Summary", "The API returned 502 errors after a deploy. We suspected it was the connection pool. "
                           "The pool metrics confirmed it, and the deploy was rolled back because of it."),
               OUTAGE_TIMELINE)
    assert having(run(secs), "root cause") == []


def test_an_outage_write_up_that_never_says_why():
    secs = doc(("Summary", "A repository is posted to a popular forum and starts getting traffic. Traffic peaks "
                           "in the morning with many running pods."),
               ("Timeline", "- 04:19 High number of users on the hub dashboard.\n"
                            "- 06:39 Users report that a repository does not launch; builds fail.\n"
                            "- 09:05 We cordon the node; launches work again."),
               ("Action items", "- Add a runbook for cordoning nodes to the SRE guide (done)"))
    found = run(secs)
    assert having(found, "root cause: not stated") == [
        ("s1", "A repository is posted to a popular forum and starts getting traffic.")]
    # with a cause, or for an attack (whose cause is the attacker): quiet
    summary, timeline = (secs[0].title, secs[0].text), (secs[1].title, secs[1].text)
    caused = doc(summary, timeline, ("What went wrong", "Launches failed because one node lost its network."))
    assert having(run(caused), "root cause") == []
    attack = doc(("Summary", "Attackers phished four maintainers of packages on PyPI; two malicious releases were "
                             "uploaded with a stolen API token."), timeline)
    assert having(run(attack), "root cause: not stated") == []



def test_a_providers_outage_is_a_cause_and_a_field_is_not_the_summarys_opening():
    """Wire's 2022-05-23 website outage (not in the corpus): "the Wire website wire.com was affected
    by an outage of our hosting provider" gives the cause; it was told it never says why, quoting
    "Last updated: 2022-05-25" as the summary's opening."""
    timeline = ("Timeline", "- 06:00 wire.com being down was detected by the Security Team.\n"
                            "- 07:03 Our Hosting Provider initiated a server restart.\n"
                            "- 12:02 We reverted the DNS changes.")
    provider = doc(("Summary", "Last updated: 2022-05-25\n\nOn Monday the website was affected by an outage of our "
                               "hosting provider. Only the website was down."), timeline)
    assert having(run(provider), "root cause: not stated") == []
    unsaid = doc(("Summary", "Last updated: 2022-05-25\n\nOn Monday the website was down for six hours. Only the "
                             "website was down."), timeline)
    assert having(run(unsaid), "root cause: not stated") == [("s1", "On Monday the website was down for six hours.")]


# --------------------------------------------------------------------------- impact


def test_removed_malicious_releases_need_their_exposure():
    secs = doc(("Summary", "A supply-chain attack through the project's GitHub Actions workflows poisoned the build "
                           "cache and used a leaked API token. Versions 8.3.41 and 8.3.42 were affected and have been "
                           "removed from PyPI."),
               ("Timeline", "- 2024-12-04 20:51 UTC: 8.3.41 published with malware\n"
                            "- 2024-12-05 09:15 UTC: 8.3.41 removed"))
    found = run(secs)
    assert having(found, "exposure not stated") == [
        ("s1", "Versions 8.3.41 and 8.3.42 were affected and have been removed from PyPI.")]
    assert having(found, "duration not stated") == []  # the same question, asked once


def test_a_stated_window_or_download_count_is_the_exposure():
    lead = ("Summary", "A phished maintainer's PyPI token was used to upload malware to a package on the "
                       "registry; the GitHub repository and its CI were not touched. The malicious package was "
                       "removed.")
    window = doc(lead, ("Impact", "The attacker uploaded two malicious releases; they were removed within hours of "
                                  "being uploaded by the owner."))
    counted = doc(lead, ("Impact", "The project was downloaded in total 116 times, many of them by mirrors."))
    unknown = doc(lead, ("Impact", "There's no way to know how many end users installed the package."))
    assert having(run(doc(lead)), "exposure") == [("s1", "The malicious package was removed.")]
    for secs in (window, counted, unknown):
        assert having(run(secs), "exposure") == []


def test_a_timeline_of_minutes_needs_no_stated_duration():
    secs = doc(("Summary", "We got alerts saying the site was down; deleting the ingress pods fixed it."),
               ("Timeline", "All times in PST\n\n- 16:30 Alert emails about the outage.\n"
                            "- 16:33 Deleted the ingress controller pods.\n- 16:35 Site is back."))
    assert having(run(secs), "duration not stated") == []


def test_an_impact_given_as_a_range_of_clock_times_states_the_duration():
    """Found on an unlabelled real post-mortem (Kubernetes Prow, 2019-02-08): its Impact says
    "(Between 1:46pm - 5:30pm)", and the reviewer said no section gave the duration."""
    timeline = ("Timeline", "All times in PST, on February 8th 2019\n\n"
                            "* [13:20] The bump PR is merged, triggering a deploy of the server.\n"
                            "* [16:04] We noticed the service is responding very slow.\n"
                            "* [17:59] We cleaned up all wrong pods and confirmed the service is healthy.")
    for impact in ("Jobs were not able to start due to missing volumes. (Between\n1:46pm - 5:30pm)",
                   "Jobs failed between 1:46 p.m. and 5:30 p.m.", "Jobs failed from 13:46 – 17:30 PST.",
                   "From 4pm to 6 GMT, jobs failed to start."):  # a student's post-mortem (ALX): hours alone
        secs = doc(("Summary", "The server scheduled test jobs onto the service cluster."), ("Impact", impact), timeline)
        assert having(run(secs), "duration not stated") == [], impact
    secs = doc(("Summary", "The server scheduled test jobs onto the service cluster."),
               ("Impact", "Jobs were not able to start due to missing volumes, at 1:46pm - and later."), timeline)
    assert having(run(secs), "duration not stated") == [("s1", None)]


def test_a_length_until_it_was_stopped_states_the_duration():
    """Yearn's 2021-02-04 disclosure (not in the corpus): "This pattern was repeated in a series of 11
    transactions executed over 38 minutes before being mitigated." says how long the exploit ran;
    it was told the write-up never says how long the incident lasted."""
    timeline = ("Timeline", "- 21:45 (UTC) The security team becomes aware of an odd transaction.\n"
                            "- 21:53 (UTC) The multi-sig signers are called.\n- 22:09 (UTC) setMin(0) is applied.")
    said = ("Details", "The exploit drained the vault's deposits through the server's strategy: a series of 11 "
                       "transactions executed over 38 minutes before being mitigated.")
    summary = ("Summary", "An exploit against the yDAI vault lost 11m DAI of deposits.")
    assert having(run(doc(summary, said, timeline)), "duration not stated") == []
    unsaid = ("Details", "The exploit drained the vault's deposits through the server's strategy: a series of 11 "
                         "transactions executed over 38 minutes, each one larger.")
    assert having(run(doc(summary, unsaid, timeline)), "duration not stated") == [("s1", None)]


def test_start_and_end_lines_state_the_duration():
    """Students' post-mortems (ALX, not in the corpus) give the outage's ends as labelled lines under
    "Duration" ("- Start: June 1, 2024, 08:00 AM (UTC)" / "- End: June 1, 2024, 10:45 AM (UTC)"):
    that says how long it lasted. A start alone does not."""
    timeline = ("Timeline", "- 08:00 AM: Monitoring systems reported increased response times.\n"
                            "- 08:20 AM: Initial investigation pointed to high traffic on the load balancer.\n"
                            "- 10:45 AM: The failover was fixed and the platform is stable again.")
    for ends in ("Duration:\n\n- Start: June 1, 2024, 08:00 AM (UTC)\n- End: June 1, 2024, 10:45 AM (UTC)",
                 "Start Time: January 25, 2024, 10:30 AM (UTC)\nEnd Time: January 25, 2024, 12:45 PM (UTC)"):
        secs = doc(("Issue Summary", ends + "\n\nThe ABC platform's servers returned errors."), timeline)
        assert having(run(secs), "duration not stated") == [], ends
    secs = doc(("Issue Summary", "Start: June 1, 2024, 08:00 AM (UTC)\n\nThe ABC platform's servers returned errors."),
               timeline)
    assert having(run(secs), "duration not stated") == [("s1", None)]


def test_an_exposure_window_of_days_states_the_duration():
    """conda-forge's CVE-2025-31484 notice: "The token was exposed from on or about 2025-02-10
    through 2025-04-01" is how long it lasted; its timeline covers only the day of the response."""
    timeline = ("Response timeline", "- 2025-04-01 13:35 UTC: The auditors notified us of the leaked token.\n"
                                     "- 2025-04-01 14:15 UTC: We disabled the token and stopped uploads.\n"
                                     "- 2025-04-01 22:20 UTC: We deployed a new token and restarted uploads.")
    for window in ("The token was exposed from on or about 2025-02-10 through 2025-04-01.",
                   "The token was exposed between February 10 and April 1, 2025."):
        secs = doc(("Summary", "A misconfigured server exposed the upload token to all maintainers. " + window), timeline)
        found = run(secs)
        assert having(found, "duration not stated") == having(found, "exposure not stated") == [], window
    secs = doc(("Summary", "A misconfigured server exposed the upload token to all maintainers."), timeline)
    assert [s for s, _ in having(run(secs), "not stated")] == ["s1"]


def test_a_breach_said_to_have_started_on_a_day_dates_the_exposure():
    """conda-forge on the CircleCI breach: "we were informed by CircleCI that their security breach
    started on December 19, 2022, with the bulk of the secrets being exfiltrated" says since when;
    the same leak with no start is still asked for it."""
    told = ("Summary", "CircleCI informed us that a third party had gained access to all the environment secrets, "
                       "the API token used to upload packages to our server included. Later we were informed that their "
                       "security breach started on December 19, 2022, with the bulk of the secrets being exfiltrated "
                       "on December 22.")
    assert having(run(doc(told)), "exposure not stated") == []
    untold = ("Summary", "CircleCI informed us that a third party had gained access to all the environment secrets, "
                         "the API token used to upload packages to our server included, and the secrets were "
                         "exfiltrated.")
    assert [s for s, _ in having(run(doc(untold)), "exposure not stated")] == ["s1"]


# --------------------------------------------------------------------------- actions


def test_an_earlier_occurrence_no_action_speaks_of():
    timeline = ("Timeline", "- 2019-02-20 08:03 kubectl logs has stopped working for all pods. This occurred once "
                            "previously on 2019-01-08 and lasted 24 hours.\n"
                            "- 2019-02-20 13:30 The node is removed and logs are restored.")
    secs = doc(("Summary", "Build logs were not shown to users of the hub: the API server could not open "
                           "tunnels to the node, so pods on the cluster looked fine while deploys failed."), timeline,
               ("Action items", "- Alert when kubectl logs fails #1234"))
    assert having(run(secs), "recurrence") == [
        ("s2", "This occurred once previously on 2019-01-08 and lasted 24 hours.")]
    addressed = doc((secs[0].title, secs[0].text), timeline,
                    ("Action items", "- Find out why the failure recurred #1235"))
    assert having(run(addressed), "recurrence") == []
    before = doc(("Summary", "The API deploy failed. We checked what happened before the deploy started."),
                 OUTAGE_TIMELINE)
    assert having(run(before), "recurrence") == []


def test_a_personal_promise_and_a_workaround_to_undo_later_are_follow_ups():
    promise = doc(("Summary", "A GitHub token leaked in a Docker image pushed to a public registry."),
                  ("Response", "I have revoked the one and only GitHub access token related to my account, and will "
                               "avoid creating one in the future unless absolutely necessary."))
    found = run(promise)
    assert having(found, "open commitment") == [
        ("s2", "and will avoid creating one in the future unless absolutely necessary.")]
    assert "not a control" in next(f for _, f in found if "open commitment" in f.category).description
    workaround = doc(("Summary", "Intermittent 502 errors from the CDN cache node on file downloads."),
                     ("Bugs", "A 501 for a malformed client request is the wrong status. I've opened a support "
                              "ticket with the CDN about range handling. Once fixed, my handling code can probably "
                              "be reverted."))
    assert having(run(workaround), "open commitment") == [
        ("s2", "Once fixed, my handling code can probably be reverted.")]


def test_how_a_system_works_is_not_a_follow_up():
    secs = doc(("Summary", "The deploy of the API server failed on one node."),
               ("Background", "When a node is drained, its pods can be removed safely. After a deploy, old "
                              "replica sets can be removed by the controller."))
    assert having(run(secs), "actions") == []


def test_a_contributing_factors_section_is_a_stated_cause():
    """A 'Contributing factors' list gives the cause even without a causal word."""
    secs = doc(("Summary", "There were problems scheduling Prometheus, a k8s node being in NotReady state. Other pods "
                           "running on the same node were also affected."),
               ("Timeline", "- 2022-01-25 10:21 UTC: Alerts about Prometheus i/o timeouts, the node fails.\n"
                            "- 2022-01-25 15:00 UTC: Uncordoned the node; the pods run again."),
               ("Contributing Factors", "- No resource requests or limits were set on the Helm chart.\n"
                                        "- We wrongly assumed the chart set them by default."))
    assert having(run(secs), "root cause") == []


def test_a_temporary_workaround_to_undo_is_a_follow_up_but_a_temporary_node_is_not():
    fix = doc(("Summary", "The API server returned 502 errors after a deploy to the cluster."),
              ("Mitigation notes", "We pinned the load balancer to the old node pool. This temporary workaround "
                                   "should be removed once the new pool passes its health checks."))
    assert having(run(fix), "open commitment") == [
        ("s2", "This temporary workaround should be removed once the new pool passes its health checks.")]
    node = doc(("Summary", "The API server returned 502 errors after a deploy to the cluster."),
               ("Background", "A temporary node can be removed by the autoscaler when the deploy is done."))
    assert having(run(node), "actions") == []


def test_a_stats_line_time_to_recovery_states_the_duration():
    secs = doc(("Summary", "Prometheus could not be scheduled: a k8s node was in NotReady state, so pods on it "
                           "failed."),
               ("Timeline", "All times in UTC.\n- 2022-01-25 10:21 Alerts about Prometheus timeouts.\n"
                            "- 2022-01-25 15:00 Recovery: the node is uncordoned."),
               ("Stats", "- Time to detection: 0 minutes\n- Time to recovery: 279 minutes"))
    assert having(run(secs), "duration not stated") == []


def test_others_harm_next_to_we_were_not_affected_is_not_a_vague_impact():
    secs = doc(("Summary", "A Node.js package on npm shipped malicious code in an update. Although this was proven to "
                           "cause an issue with some companies we were not affected, as we never deployed that "
                           "version to a server or a container image; our CI pinned the package to an old release."),)
    assert having(run(secs), "vague quantity") == []


def test_a_late_detection_no_action_speaks_of():
    timeline = ("Timeline and Response", "On 2025-09-05 a researcher emailed the security team about a malicious "
                                         "GitHub Actions workflow stealing PyPI tokens. Due to some of the contents "
                                         "in that email, it ended up in our inbound Spam folder, delaying response "
                                         "until 2025-09-10.")
    secs = doc(("Summary", "Attackers exfiltrated 12 PyPI tokens from CI workflows; all were invalidated."), timeline)
    assert having(run(secs), "detection delay") == [
        ("s2", "Due to some of the contents in that email, it ended up in our inbound Spam folder, delaying response "
               "until 2025-09-10.")]
    answered = doc(("Summary", secs[0].text), timeline,
                   ("Action items", "- Route security@ mail around the spam filter and alert on-call (#88)"))
    assert having(run(answered), "detection delay") == []


def test_a_quote_from_a_very_long_sentence_is_a_verbatim_window_around_the_claim():
    filler = "the cluster and its deploy pipeline were reviewed node by node with the API server logs " * 12
    secs = doc(("Summary", "A GitHub token for the package registry leaked in a public image, and " + filler
                           + "and no indicators of malicious activity were found in any of it"),)
    (_, quote), = having(run(secs), "all-clear")
    assert quote in secs[0].text and len(quote) <= 600 and "no indicators of malicious activity" in quote


def test_actions_linked_to_issues_need_no_owner_even_once_the_links_are_text():
    """A Markdown action list whose every item links its issue: the parser keeps a link's words
    only ("(issue)"), and the actions must still count as tracked (a real mybinder.org write-up
    got "none is linked to a ticket" here)."""
    from redline.jobs.documents import parse_document

    md = ("# Pods filled the cluster\n\n## Summary\n\nLaunches failed for five hours: the hub's pod "
          "reflector stopped, so pods were never deleted and the cluster filled up. Deploys went on.\n\n"
          "## Timeline\n\nAll times in UTC\n\n- 18:30 Launch success drops to zero.\n"
          "- 23:25 Old pods deleted, the hub pod restarted; launches back.\n\n"
          "## Action items\n\n"
          "1. set up notifications of downtime ([issue](https://github.com/org/deploy/issues/611))\n"
          "2. automate scale-down ([issue](https://github.com/org/deploy/issues/646))\n"
          "3. Fix failure to delete pods ([pull request](https://github.com/org/spawner/pull/208))\n"
          "4. make sure downtime recovery steps are documented.\n   They worked well this time,\n"
          "   but not everyone knows them.\n   ([issue](https://github.com/org/deploy/issues/655))\n")
    def parsed(text: str) -> list[Section]:
        return [Section(id=f"s{i + 1}", title=x.title, index=i, text=x.text, level=x.level)
                for i, x in enumerate(parse_document("pods.md", text.encode(), max_bytes=1 << 20).sections)]

    sections = parsed(md)
    actions = next(s for s in sections if s.title == "Action items")
    assert "(issue)" in actions.text and "/issues/" not in actions.text  # what the rules see
    assert "documented.\nThey worked" in actions.text  # the 4th item's lines, indentation gone
    assert having(run(sections), "actions") == []
    untracked = md.replace(" ([issue](https://github.com/org/deploy/issues/611))", "").replace(
        " ([issue](https://github.com/org/deploy/issues/646))", "").replace(
        " ([pull request](https://github.com/org/spawner/pull/208))", "").replace(
        "   ([issue](https://github.com/org/deploy/issues/655))\n", "")
    sections = parsed(untracked)
    assert [c for c in having(run(sections), "actions: no owner")], "the same list without links is flagged"


def test_an_impact_with_no_count_anywhere_is_asked_for_one():
    """'Users experienced build failures' and nowhere a number of users, requests or downloads (a
    real DNS outage post-mortem); with '12% of downloads failed' somewhere, nothing is said."""
    base = ("The crates.io DNS records were deleted during a certificate change and the API was down. "
            "Users experienced build failures during this time, because crates could not be downloaded.")
    cause = ("Root cause", "Terraform removed the DNS record before it created the new one, so the API host "
                           "did not resolve and the server returned errors to every client.")
    found = having(run(doc(("DNS outage", base), cause)), "not quantified")
    assert found == [("s1", "Users experienced build failures during this time, because crates could "
                                    "not be downloaded.")]
    counted = doc(("DNS outage", base + " About 12% of downloads failed."), cause)
    assert having(run(counted), "not quantified") == []



def test_a_count_in_words_counts_and_the_authors_own_download_is_no_one_hurt():
    """Quickbyte's incident report (not in the corpus) counts in words ("one account used it"), and
    a validator's notes (turboflakes) say "on this one the download failed" and "trying to download
    the snapshot": one download, the author's. Both were asked how many were affected."""
    cause = ("Root cause", "A merge disabled the S3 provider in the storage registry, so the server returned "
                           "errors for the files uploaded with it.")
    counted = doc(("Incident", "Some customers could not access some files, they would get an error when trying to "
                               "access them. Only one account used the S3 provider."), cause)
    assert having(run(counted), "not quantified") == []
    mine = doc(("Incident", "The node did not start after the upgrade. I tried a snapshot, but on this one the "
                            "download failed with an error. After trying to download the snapshot again it failed."),
               cause)
    assert having(run(mine), "not quantified") == []
    # one account, named (Python's wiki compromise report): 'the "moin" user'
    account = doc(("Incident", 'The attacker was able to get shell access as the "moin" user, but no other services '
                               "were affected."), cause)
    assert having(run(account), "not quantified") == []
    theirs = doc(("Incident", "Users experienced build failures: their downloads failed with an error."), cause)
    assert len(having(run(theirs), "not quantified")) == 1
    # a share in words (cloud.gov.au's 2016-08-12 report): "approximately a third of visitors"
    share = doc(("Incident", "During this time, approximately a third of visitors to these sites were unable to view "
                             "them."), cause)
    assert having(run(share), "not quantified") == []


# --------------------------------------------------------------------------- found on unlabelled real write-ups
# mybinder.org's incident reports of 2017-09-27, 2017-09-29, 2018-01-18 and 2018-03-31 (not in the
# corpus), reviewed as a newcomer would: each of these was said of them, and was wrong.

def test_an_item_that_ends_with_its_link_words_is_tracked():
    """"... more gracefully. [Issue](https://...)" reads "... more gracefully. Issue" once the
    address is gone (a .docx or .pdf keeps only the words); "Open a PR" is still an open action."""
    secs = doc(("Summary", "The hub returned 403 errors to users launching servers after a deploy."),
               ("Action Items", "1. Handle errors on launching servers on the hub more gracefully.\nIssue\n"
                                "2. Write end-to-end tests that validate a deployment, green or red. Pull Request.\n"
                                "3. Do deployments more often. Easier deployments will help this. Issue"))
    assert having(run(secs), "no owner") == []
    secs[1] = secs[1].model_copy(update={"text": secs[1].text + "\n4. Open a PR to document the rollback"})
    assert having(run(secs), "no owner") == [("s2", "Open a PR to document the rollback")]


def test_an_item_whose_link_points_at_a_ticket_is_tracked():
    """A Markdown upload keeps a link's address in the section's marks: "Diagnose the original
    [issue](https://github.com/o/r/issues/140)" is tracked although its text reads "issue"."""
    text = ("1. Diagnose the original issue, which still has not been identified.\n"
            "2. Automatic recovery could relaunch the Hub pod when it enters an unhealthy state.")
    at = text.index("issue")
    link = (at, at + len("issue"), "link", "https://github.com/jupyterhub/binderhub/issues/140")
    secs = doc(("Summary", "Launching any image on the hub failed with 504 errors from nginx."), ("Action Items", text))
    secs[1] = secs[1].model_copy(update={"marks": [link]})
    found = having(run(secs), "no owner")
    assert found == [("s2", "Automatic recovery could relaunch the Hub pod when it enters an unhealthy state.")]
    f = next(f for _, f in run(secs) if "no owner" in f.category)
    assert f.description.startswith("1 of the 2 action items names no owner or due date: it is")


def test_a_vague_quantity_of_something_else_than_who_was_harmed_is_not_an_impact():
    lead = "After a few days of general sub-optimal stability and some strange networking errors, a node was deleted."
    rest = " Launches failed on the cluster; the hub pod, the proxy server and the database were restarted."
    assert having(run(doc(("Summary", lead + rest))), "vague") == []
    harmed = "Further, not visible to users, some idle users were unable to be deleted from the hub."
    assert having(run(doc(("Summary", harmed + rest))), "vague") == [("s1", harmed)]
    # a student's post-mortem (ALX, not in the corpus): who was hurt worst, not how many
    worst = "Businesses dependent on real-time transactions were the most affected."
    assert having(run(doc(("Summary", worst + rest))), "vague") == []
    share = "Most businesses dependent on real-time transactions were affected."
    assert having(run(doc(("Summary", share + rest))), "vague") == [("s1", share)]


def test_a_compact_duration_states_it():
    """mybinder.org 2017-09-27 (not in the corpus): "unusable for about 1h50m" is its duration."""
    secs = doc(("Summary", "After a deploy, most users got a '403 Forbidden' when launching their image. The bug "
                           "was fixed, but it caused beta to be unusable for about 1h50m."), OUTAGE_TIMELINE)
    assert having(run(secs), "duration not stated") == []


def test_what_went_wrong_under_the_action_items_is_not_an_action_list():
    """mybinder.org 2018-03-31 lists "What went wrong" under "Action items": observations, not actions."""
    secs = doc(("Summary", "A node was deleted; the hub pod and the proxy server failed and launches stopped."),
               ("Action items", ""),
               ("What went wrong", "- There was a major outage that we were unable to debug from the logs\n"
                                   "- There was only one person available to debug the cluster", 2),
               ("Process improvements", "1. Improve the alerting so the team is notified (#365)", 2))
    assert having(run(secs), "no owner") == []


def test_no_duration_is_asked_of_a_write_up_where_nobody_lost_service():
    """mybinder.org 2018-01-04 (not in the corpus): a failed deploy to staging, "there was no loss
    of production service"; asking how long users were affected asks for nothing."""
    summary = ("Merging a PR into BinderHub and deploying it to staging resulted in a Travis error. Though time "
               "consuming to determine the cause, there was no loss of production service.")
    timeline = ("Timeline", "All times in PST\n\n- 2018-01-04 07:33 The PR is merged and the deploy to staging "
                            "starts.\n- 2018-01-04 11:02 The deploy to staging fails on Travis.\n"
                            "- 2018-01-04 15:40 The deploy to staging succeeds after a restart.")
    assert having(run(doc(("Summary", summary), timeline)), "duration not stated") == []
    hurt = summary.replace("there was no loss of production service", "the hub was down for users")
    assert having(run(doc(("Summary", hurt), timeline)), "duration not stated") == [("s1", None)]


def test_a_timeline_that_opens_when_it_was_noticed_of_a_problem_that_began_before():
    """mybinder.org's NGINX write-up (tuning set) and its 2018-02-12 one: the timeline's first entry is
    the moment the alert was seen, and the write-up says the outage had been going on before."""
    timeline = ("Timeline", "All times in PST\n\n2018-02-22 16:30\n\nStackdriver sends emails about the outage "
                            "which we notice. Grafana and the site are both down.\n\n16:33\n\nDeleted the ingress "
                            "pods.\n\n16:35\n\nThe site is back.")
    summary = ("Summary", "The NGINX ingress pods of the Kubernetes cluster crashed, so mybinder.org was down "
                          "for every user until we deleted the pods and the hub recovered.")
    wrong = ("What went wrong", "The alert may have only gone to a subset of the team, so it could have been "
                                "noticed earlier.")
    late = doc(summary, timeline, wrong)
    assert having(run(late), "start missing") == [
        ("s2", "Stackdriver sends emails about the outage which we notice.")]
    # the first entry is the start itself, or nothing says it began before it was seen: quiet
    started = doc(summary, ("Timeline", timeline[1].replace("Stackdriver sends emails about the outage which we "
                                                            "notice.", "A deploy starts; alerts fire at once.")),
                  wrong)
    assert having(run(started), "start missing") == []
    assert having(run(doc(summary, timeline)), "start missing") == []


def test_a_leaked_secret_whose_exposure_window_is_never_given():
    """Homebrew's 2018 disclosure: a token "was leaked", found on a date (when it was found is not when
    it got out), and nothing says since when it was exposed."""
    leak = ("Summary", "On 31st July 2018 a security researcher identified a GitHub personal access token with "
                       "recently elevated scopes was leaked from our Jenkins that gave them access to git push on "
                       "our repositories. Within a few hours the credentials had been revoked.")
    impact = ("What was impacted", "GitHub Support verified the token had not been used to push to the "
                                   "repositories during the period of elevated scopes. No packages were compromised.")
    assert having(run(doc(leak, impact)), "exposure not stated") == [("s1", leak[1].split(". Within")[0] + ".")]
    # the window given (when it was pushed, in the timeline), or said to be unknown: quiet
    window = ("Timeline", "- 2023-03-03: an image was pushed to Docker Hub containing the access token.\n"
                          "- 2024-06-28: the token is reported and revoked.")
    assert having(run(doc(leak, impact, window)), "exposure not stated") == []
    unknown = ("What was impacted", impact[1] + " When the token was first exposed is unknown: the build logs "
                                               "are kept for 90 days.")
    assert having(run(doc(leak, unknown)), "exposure not stated") == []


def test_a_vague_quantity_names_what_it_counts():
    """mybinder.org 2017-09-29 (not in the corpus): "some idle users were unable to be deleted" was
    reported as 'some idle', which counts nothing; a plural after the quantifier is the noun itself."""
    for text, said in (("Further, not visible to users, some idle users were unable to be deleted.", "some idle users"),
                       ("Launches failed for many users after the upgrade.", "many users")):
        found = [f for _, f in run(doc(("Summary", "mybinder.org failed to launch images after a deploy: the hub "
                                                   "pod returned 504 errors. " + text))) if "vague" in f.category]
        assert len(found) == 1 and f'given as "{said}"' in found[0].description, (text, found)


def test_a_cause_one_author_believes_is_a_guess():
    """mybinder.org 2017-09-29 (not in the corpus) writes "I believe" where others write "we believe"."""
    secs = doc(("Summary", "mybinder.org failed to launch any images: the hub returned 504 errors."),
               ("Root cause", "The hub stopped launching because of a reflector bug, I believe, that misses pod events."))
    found = having(run(secs), "not established")
    assert found == [("s2", "The hub stopped launching because of a reflector bug, I believe, that misses pod events.")]


def test_nobody_noticing_where_we_got_lucky_is_not_a_late_detection():
    """Kubernetes Prow 2019-02-05 (not in the corpus): "Where we got lucky: nobody was watching
    their PRs around 9am, so nobody noticed" says the users were spared, not that the team was late."""
    summary = ("Summary", "The Prow cluster could not run jobs after a deploy: the deployment created pods in the "
                          "wrong kubernetes namespace of the cluster, and 415 jobs failed to start for 47 minutes.")
    actions = ("Action items", "- Ensure the updated branchprotector run is not reverted: #11134")
    lucky = doc(summary, ("Where we got lucky", "- Apparently nobody was watching their PRs very closely around 9am "
                                                "PST, so nobody noticed."), actions)
    assert having(run(lucky), "detection delay") == []
    late = doc(summary, ("What went wrong", "- The alert fired at 02:00 but nobody noticed until the morning."), actions)
    assert having(run(late), "detection delay") == [
        ("s2", "The alert fired at 02:00 but nobody noticed until the morning.")]


def test_a_single_open_action_is_not_counted_as_none_of_one():
    """Kubernetes Prow 2019-02-08 (not in the corpus): "None of the 1 action items names an owner"."""
    secs = doc(("Summary", "Prow scheduled test jobs onto the service cluster after a deploy, and the cluster ran "
                           "out of resources: pods failed to start."),
               ("Action items", "- We need to be more careful when deploying sweeping prow changes."))
    f = next(f for _, f in run(secs) if "no owner" in f.category)
    assert f.description.startswith("The only action item names no owner or due date, and is neither marked done")


def test_an_action_list_written_as_lines_is_read_item_by_item():
    """Students' post-mortems (ALX, not in the corpus) list their measures one a line with no list
    marks, which Markdown reads as one paragraph. Each line that opens with a verb of doing is an
    action ("Tasks: Configure Puppet to ..." is not a person named "Configure Puppet"), and the
    closing "By implementing these measures, we aim to ..." sums them up: it is not the one
    commitment of the section."""
    measures = ("Improvements:\nImplement automated monitoring to detect file permission issues proactively.\n"
                "Utilize configuration management tools like Puppet to automate server configurations.\n"
                "Tasks:\nConfigure Puppet to manage Apache server configuration, including file permissions.\n"
                "By implementing these measures, we aim to mitigate similar incidents and minimize downtime.")
    summary = ("Summary", "The Apache web server returned 500 errors to 15% of users for 90 minutes after a deploy "
                          "changed a configuration file's permissions.")
    found = [f for _, f in run(doc(summary, ("Corrective and Preventative Measures", measures)))
             if "no owner" in f.category]
    assert [f.description.split(":")[0] for f in found] == [
        "None of the 3 action items names an owner or a due date, and none is marked done or linked to a ticket"]
    assert found[0].quote.startswith("Improvements:\nImplement automated monitoring")
    assert "By implementing" not in found[0].quote
    recap = ("We reviewed the permissions of every file.\n"
             "By implementing these measures, we aim to mitigate similar incidents and minimize downtime.")
    assert having(run(doc(summary, ("Corrective and Preventative Measures", recap))), "no owner") == []


def test_items_told_as_done_after_their_label_need_no_owner():
    """Students' post-mortems (ALX, not in the corpus): "Customer notification: Affected customers
    were promptly informed" and "... disable the existing configuration release function.
    (Accomplished.)" report what was done; "Data encryption: Consider implementing encryption" and
    "Ensure customers were informed within an hour" are still to do."""
    summary = ("Summary", "An SQL injection on the web application server exposed customer records; the database "
                          "was read for two hours before the WAF blocked the attack.")
    done = ("- Customer notification: Affected customers were promptly informed through email.\n"
            "- Until safer steps are introduced, disable the configuration release function. (Accomplished.)\n"
            "- Patched vulnerability: The security team patched the SQL injection on the server.")
    assert having(run(doc(summary, ("Resolution and preventive methods", done))), "no owner") == []
    todo = done + ("\n- Data encryption: Consider implementing encryption for customer data.\n"
                   "- Ensure customers were informed within an hour.")
    found = [f for _, f in run(doc(summary, ("Resolution and preventive methods", todo))) if "no owner" in f.category]
    assert [f.description.split(":")[0] for f in found] == ["2 of the 5 action items name no owner or due date"]


def test_what_a_change_will_avoid_and_what_is_already_done_are_no_open_actions():
    """iasql's post-mortems (not in the corpus): "minimizing the usage of stdout/stderr in staging
    and production will avoid the lack of log rotation" says what a change does, not a promise to
    behave better; "Already added the fix ..." and "Already run the script ..." are done."""
    summary = ("Summary", "Staging deploys failed: the docker host ran out of disk space and the server crashed.")
    change = doc(summary, ("Response, Cause, Prevention",
                           "The outages were caused by disk space usage; simply increasing the disk space and "
                           "minimizing the usage of stdout/stderr in staging will avoid the lack of log rotation."))
    assert having(run(change), "open commitment") == []
    done = doc(summary, ("Prevention", "- Already added the fix to avoid this route being deleted.\n"
                                       "- Already run the script to restore all the test accounts.\n"
                                       "- We should let users delete the default AWS configuration."))
    found = [f for _, f in run(done) if "no owner" in f.category]
    assert [f.description.split(":")[0] for f in found] == ["1 of the 3 action items names no owner or due date"]


def test_items_under_a_completed_lead_in_or_told_as_headlines_are_done():
    """LIQD Labs' oracle-manipulation post-mortem (not in the corpus): "Completed:" over "- KHYPE-USDC
    pool halted." and "- Full on-chain trace ... completed"; and "- Attacker EOA ... identified
    (Section 5)." All done. "Get the certificate renewed." and "Ensure the oracle is monitored." are
    still to do."""
    summary = ("Summary", "An attacker manipulated the KHYPE-USDC oracle price and drained the pool; the exploit "
                          "contract borrowed against inflated collateral.")
    done = doc(summary, ("Remediation", "Completed:\n\n- KHYPE-USDC pool halted.\n"
                                        "- Full on-chain trace and fund-flow analysis completed (this document).\n\n"
                                        "Recovery:\n\n- Attacker EOA and all bridge transactions identified (Section 5).\n"
                                        "- Affected LPs have been identified."))
    assert having(run(done), "no owner") == []
    todo = doc(summary, ("Remediation", "Completed:\n\n- KHYPE-USDC pool halted.\n\nPlanned:\n\n"
                                        "- Get the certificate renewed.\n- Ensure the oracle is monitored."))
    found = [f for _, f in run(todo) if "no owner" in f.category]
    assert [f.description.split(":")[0] for f in found] == ["2 of the 3 action items name no owner or due date"]


def test_harm_that_would_have_happened_is_not_a_vague_impact():
    """Kubernetes Prow 2019-02-05 (not in the corpus): "had jobs been running, many PRs would have
    been unable to merge" is what did not happen; the impact section counts what did (415 jobs)."""
    summary = ("The Prow cluster could not run jobs after a deploy: the deployment created pods in the wrong "
               "kubernetes namespace of the cluster. Additionally, had jobs been running, many PRs would have been "
               "unable to merge due to outdated branch protection settings.")
    assert having(run(doc(("Summary", summary))), "vague quantity") == []
    assert having(run(doc(("Summary", summary.replace("would have been unable", "were unable")))), "vague quantity")



def test_what_is_given_to_those_harmed_is_not_a_vague_count_of_them():
    """Beefy's Grim Finance report (not in the corpus): "We hope this can provide some respite to
    those users affected" was "The impact is given as 'some respite'"."""
    summary = ("Summary", "The Grim Finance vaults were exploited through a reentrancy bug in the deposit function; "
                          "the server paused the vaults. We hope this can provide some respite to those users affected.")
    assert having(run(doc(summary)), "vague quantity") == []
    hurt = ("Summary", summary[1].replace("some respite to those users affected", "help, as some users lost funds"))
    assert having(run(doc(hurt)), "vague quantity")


def test_a_title_naming_remediations_does_not_make_the_write_up_an_action_list():
    """matrix.org's "Post-mortem and remediations for Apr 11 security incident" is the heading over
    every other section, and its table of contents is a list of section names: neither is an
    action list. Its own "Remediations" section still is."""
    secs = doc(("Post-mortem and remediations for Apr 11 security incident",
                "Table of contents\n\n- Introduction\n- The Incident\n- Remediations", 1),
               ("Introduction", "On April 11 an attacker gained root on our servers via an outdated Jenkins.", 2),
               ("The Incident", "The attacker used a forwarded SSH key to reach 19 hosts, the database included.", 2),
               ("Remediations", "- Disable SSH agent forwarding on every server\n- Put SSH behind a VPN", 2))
    found = having(run(secs), "no owner or due date")
    assert [s for s, _ in found] == ["s4"]
    assert "Introduction" not in (found[0][1] or "")


def test_a_promise_in_someone_elses_quoted_words_is_not_the_authors():
    """A 2014 policy quoted in full ("> squatters will make sure to update regularly") is someone
    else's words; the same promise in the author's own words is still asked for an owner."""
    quoted = "If we require regular updates, squatters will make sure to update regularly."
    text = f"The original policy reads:\n\n> {quoted}\n\nWe kept it as it was."
    secs = [Section(id="s1", title="Background", index=0, text=text, marks=[[text.index(">"), len(text) - 22, "quote", ""]]),
            Section(id="s2", title="Summary", index=1,
                    text="A user uploaded hundreds of crates to the registry, and the index on GitHub was throttled: "
                         "the API servers returned errors, uploads failed and the download traffic stalled.")]
    assert having(run(secs), "open commitment") == []
    own = [secs[0].model_copy(update={"marks": []}), secs[1]]
    assert having(run(own), "open commitment") == [("s1", "squatters will make sure to update regularly.")]


def test_news_promised_to_readers_is_not_a_follow_up():
    """"We'll update here when it is resolved" promises the readers news, not work to track; "we
    will update the runbook" is work."""
    base = ("Summary", "A bug in the data export tool included events from other users in one export; "
                       "the server code is fixed, the fix deployed to every homeserver, the database checked and "
                       "the export was deleted.")
    news = doc(base, ("What caused the bug?", "A filter was skipped for events pulled over federation, "
                                             "and we'll update here when it is resolved."))
    assert having(run(news), "open commitment") == []
    faq = doc(base, ("Frequently Asked Questions", "We will continue to update this page as additional questions "
                                                   "arise."))  # Sourcegraph's FAQ
    assert having(run(faq), "open commitment") == []
    work = doc(base, ("What caused the bug?", "A filter was skipped for events pulled over federation, "
                                             "and we'll update the export tests to cover it."))
    assert len(having(run(work), "open commitment")) == 1


def test_a_data_breach_notice_in_its_own_words_is_a_software_write_up():
    """matrix.org's 2019-07-24 notice speaks of a bug in its tooling, a homeserver, federation and
    clients, not of servers and deploys: it is a software write-up, so the safety checklist (a
    "root cause" heading, passive voice, "the shift supervisor") does not apply to it."""
    notice = ["It was drawn to our attention that there is a bug in our GDPR data portability tooling. The bug "
              "only affects reports generated with the updated tooling.",
              "Events are pulled onto a homeserver over federation when a user's homeserver was offline; the "
              "client filters them, but the bug in the tooling included them. Encrypted events were not "
              "decryptable."]
    assert document_kind(notice) == "software"
    assert document_kind(["The operator opened the valve on the pump; the supervisor stopped the plant.",
                          "The worker was injured and first aid was given on site."]) == "general"
    # a short write-up says what it is in fewer words (a half-filled template's two sections)
    assert document_kind(["Incident ID | 2024-03-02-01", "The payment API returned errors for some users "
                                                        "after a deploy."]) == "software"
    assert document_kind(["The forklift struck a pallet; the API of the warehouse system logged it."]) == "general"


def test_a_vague_quantity_of_something_not_harmed_is_not_the_impact():
    """ESLint's 2018 post-mortem: "The maintainer whose account was compromised had reused their npm
    password on several other sites": the account is what was harmed, and it is one; "several other
    sites" is where the password was reused. "Several packages were compromised" is vague harm."""
    told = "The maintainer whose account was compromised had reused their npm password on several other sites."
    secs = doc(("Summary", "An attacker published malicious versions of two packages to the npm registry; both "
                           "were unpublished and the tokens revoked. " + told))
    assert having(run(secs), "vague quantity") == []
    harm = doc(("Summary", "An attacker published malicious versions to the npm registry; several packages were "
                           "compromised and the tokens revoked."))
    assert len(having(run(harm), "vague quantity")) == 1


def test_advice_to_other_maintainers_and_users_is_not_the_teams_action_list():
    """ESLint's "Recommendations" for "npm package maintainers and users" ("Package maintainers
    should enable npm two-factor authentication") are advice to its readers, not its own actions."""
    recs = ("Recommendations", "We have a few recommendations for npm package maintainers and users:\n\n"
                               "- Package maintainers and users should avoid reusing the same password.\n"
                               "- Package maintainers should enable npm two-factor authentication.\n"
                               "- Application developers should use a lockfile to pin packages.")
    secs = doc(("Summary", "An attacker published malicious versions of two packages to the npm registry, "
                           "using a maintainer's token; both releases were unpublished."), recs)
    assert having(run(secs), "no owner or due date") == []


def test_items_told_as_done_or_decided_need_no_owner():
    """Homebrew's "What we're doing about it": "The vulnerable GitHub Action has been disabled and
    removed", "We have for several years enabled 2FA", "We requested all maintainers review their
    tokens", and a proposal "took a vote on this and it was rejected" are done or decided. An item
    still to do is still asked for an owner."""
    done = ("What we're doing about it", "- The vulnerable review-cask-pr GitHub Action has been disabled and removed "
                                         "from all repositories.\n"
                                         "- We have for several years enabled 2FA for the GitHub organisation.\n"
                                         "- We requested all maintainers review and prune their access tokens.\n"
                                         "- GPG signing was proposed; the committee took a vote on this and it was "
                                         "rejected.")
    summary = ("Summary", "A leaked GitHub token from our Jenkins server could push to the package repository; "
                          "it was revoked within hours.")
    assert having(run(doc(summary, done)), "no owner or due date") == []
    todo = (done[0], done[1] + "\n- Add a check that fails the build when a token is printed in CI logs.")
    assert len(having(run(doc(summary, todo)), "no owner or due date")) == 1


def test_items_under_a_heading_that_says_completed_are_done():
    """PostHog: "Remediation" over "### Immediate actions (completed)" (folded into it: the
    heading line is a mark of its text) then "### Planned actions (planned or in-progress)": only the
    planned ones are asked for owners."""
    text = ("Immediate actions (completed)\n\n- Create a new partitioned table for the database\n"
            "- Scale ingestion workers to clear the backlog")
    mark = [0, len("Immediate actions (completed)"), "h", "3"]
    remediation = Section(id="s2", title="Remediation", index=1, text=text, level=2, marks=[mark])
    planned = Section(id="s3", title="Planned actions (planned or in-progress)", index=2, level=3,
                      text="- Add alerts on disk read amplification for the database server")
    summary = Section(id="s1", title="Summary", index=0, text="Postgres ran out of TOAST OIDs on the persons "
                      "database, and ingestion from the API servers was delayed for up to two days.")
    (finding,) = [f for _, f in run([summary, remediation, planned]) if "no owner" in f.category]
    assert finding.description.startswith("1 of the 3 action items names no owner")
    assert finding.quote == "Add alerts on disk read amplification for the database server"


def test_an_action_table_is_read_row_by_row_and_its_bullets_explain_it():
    """etcd's post-mortem lists its actions in a table ("Action Item | Type | Priority | Bug |
    Status", as a Markdown or Word upload reads it: no leading "|"), after bullets that explain
    the types ("Prevent - Prevent similar issues ..."). The rows were not read at all, the bullets
    were the "6 action items", and the header would have been one. Rows with a ticket or DONE are
    tracked; the others have no owner."""
    actions = ("Action items", "Action items fall under three types:\n\n"
                               "- Prevent - Prevent similar issues from occurring.\n"
                               "- Detect - Be more effective in detecting when similar issues occur.\n\n"
                               "Action Item | Type | Priority | Bug | Status\n"
                               "etcd testing can reproduce historical data inconsistency issues | Prevent | P0 | "
                               "https://github.com/etcd-io/etcd/issues/14045 | DONE\n"
                               "etcd detects data corruption by default | Detect | P0 | "
                               "https://github.com/etcd-io/etcd/issues/14039 | DONE\n"
                               "etcd apply code should be easy to understand and validate correctness | Prevent | P1 | |\n"
                               "etcd recovery procedures are documented and tested | Mitigate | P1 | |")
    secs = doc(("Summary", "A bug in the etcd server released in v3.5.0 corrupted data on some clusters; the fix "
                           "was deployed in v3.5.3 and the API was unaffected."), actions)
    (finding,) = [f for _, f in run(secs) if "no owner" in f.category]
    assert finding.description.startswith("2 of the 4 action items name no owner")
    assert finding.quote.startswith("etcd apply code should be easy to understand")


def test_a_question_and_a_relative_clause_are_no_open_commitments():
    """A validator's incident log and a VPS owner's blog (not in the corpus): "Jury is still out as
    to weather we will continue to use CV." asks a question (and misspells "whether", which is
    told), and "Some of the nodes we are working on had data loss" says which nodes; neither
    promises work. A real promise in the same place still is one."""
    summary = ("Summary", "Our validator node missed blocks for two hours after the storage server failed: the "
                          "database was corrupted and the deploy of a backup failed.")
    question = ("Notes", "Jury is still out as to weather we will continue to use CV. "
                         "Some of the nodes we are working on had data loss that we cannot restore.")
    found = run(doc(summary, question))
    assert having(found, "open commitment") == []
    promise = ("Notes", "Some of the nodes had data loss. We are working on a second backup site.")
    assert having(run(doc(summary, promise)), "open commitment") == [("s2", "We are working on a second backup site.")]


def test_what_went_wrong_listed_above_the_actions_is_not_an_action():
    """iasql's 000 post-mortem (not in the corpus) lists under "Prevention" what was missing
    ("`iasql_upgrade` didn't have a formal test case at all.") and then the rules it adopts: the
    finding counted the shortfalls as actions with no owner and quoted one as the first."""
    summary = ("Summary", "The v0.0.19 deploy failed for all users: the upgrade script broke the database.")
    prevention = ("Prevention", "Several features lacked tests:\n\n"
                                "- `iasql_upgrade` didn't have a formal test case at all.\n"
                                "- The new `default_aws_region` only had partial coverage of its use-cases.\n"
                                "- `delete_all_records` never had a test after it was run.\n\n"
                                "We will follow a few extra rules:\n\n"
                                "1. All features have a test, or they can't be merged.\n"
                                "2. All bugfixes start with a test that triggers the bug.\n")
    (f,) = [f for _, f in run(doc(summary, prevention)) if "no owner" in f.category]
    assert f.description.startswith("None of the 2 action items names an owner"), f.description
    assert f.quote.startswith("All features have a test")


def test_the_steps_of_the_current_design_and_its_pros_and_cons_are_not_actions():
    """iasql's 004 post-mortem (not in the corpus) describes, under "Prevention", the steps of the
    current `commit` algorithm and weighs an alternative's pros and cons: the finding read them as
    "23 of the 26 action items" with no owner."""
    sections = doc(("Summary", "The TypeORM upgrade made deploys fail: the apply step of the database engine lost "
                               "changes for users, and the server returned errors after the release."),
                   ("Cause", "Partial applies skipped the modules whose changes the engine made itself."),
                   ("Prevention", "The issue was covered by typeorm not hard failing before, which made this pass "
                                  "for a long time silently. We might need to make some tweaks to the current commit "
                                  "algorithm to handle these 2 cases we found during this upgrade."),
                   ("High-level steps of the current `commit` algorithm",
                    "1. Get relevant audit logs\n2. Get relevant modules based on step 1\n3. If any change:\n"
                    "1. Execute partial apply (passing only the relevant changes and modules)\n2. If error on "
                    "partial apply, execute full apply\n4. Execute full sync\n5. If full apply or sync error, execute "
                    "revert\n6. Return the sync response", 2),
                   ("Possible alternatives", "Executing a full apply could solve both issues.", 2),
                   ("Pros", "- Solves the 2 issues\n- Easier to implement?", 3),
                   ("Cons", "- We lose the faster apply.", 3))
    found = [f.description for _, f in run(sections) if "no owner" in f.category]
    assert not any("action items" in d for d in found), found


def test_what_others_did_told_in_the_past_is_done_not_an_open_action():
    """Terp Network's v4 upgrade report (not in the corpus) lists under "Resolving actions" what the
    validators did: "validators rolled back their states ...", "validators were asked to resume
    consensus ...". Those are done; what is still to do is open."""
    summary = ("Summary", "The v4 upgrade halted the chain: the node software panicked at the upgrade height.")
    resolving = ("Resolving actions", "- validators rolled back their states to the previous block\n"
                                      "- validators downgraded their binary versions to v3.1.0\n"
                                      "- validators were asked to resume consensus, skipping over the upgrade height\n"
                                      "- prepare the contract for test-net, hard coded with test-net denoms\n"
                                      "- servers used for the testnet need a new image\n")
    (f,) = [f for _, f in run(doc(summary, resolving)) if "no owner" in f.category]
    assert f.description.startswith("2 of the 5 action items name no owner or due date"), f.description
    assert f.quote.startswith("prepare the contract for test-net")
    # tzBTC's stuck-transactions report (not in the corpus): "stuck transactions were accelerated ...",
    # "fix was appllied ..." are done too
    done = ("Action Items", "- stuck transactions were accelerated and were finalized, users got paid\n"
                            "- fix was appllied to avoid the same issue\n- develop the final fix and deploy it\n")
    (f,) = [f for _, f in run(doc(summary, done)) if "no owner" in f.category]
    assert f.description.startswith("1 of the 3 action items names no owner"), f.description

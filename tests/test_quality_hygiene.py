"""Write-up hygiene (jobs/reviewers/hygiene*.py) on small realistic texts: what a copy-editor
would flag in a real post-mortem, and the look-alikes that real write-ups are full of (tool names,
handles, commands, HTML, another document's sections) that must stay quiet. Every quote must be an
exact substring of its section."""

from __future__ import annotations

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers import hygiene


def doc(*parts: tuple[str, str] | tuple[str, str, int]) -> list[Section]:
    return [Section(id=f"s{i + 1}", title=p[0], index=i, text=p[1], level=p[2] if len(p) > 2 else 1)
            for i, p in enumerate(parts)]


def run(sections: list[Section]) -> list[tuple[Section, Finding]]:
    out = []
    for s in sections:
        for f in hygiene.section_findings(s, sections):
            assert f.quote is None or f.quote in s.text, (f.category, f.quote)
            out.append((s, f))
    return out


def having(found, word: str) -> list[tuple[Section, Finding]]:
    return [(s, f) for s, f in found if word in f.category]


def quotes(found, word: str) -> list[str]:
    return [f.quote for _, f in having(found, word)]


# ---------------------------------------------------------------------------------------------
# spelling: what is not a typo
# ---------------------------------------------------------------------------------------------


def test_tool_names_are_not_typos_of_the_word_inside_them():
    """'gcloud' is not 'cloud', 'wget' not 'get', 'async' not 'sync', 'isort' not 'sort': one
    letter before a common word makes a tool's name. A real typo in the same text is still found."""
    secs = doc(("Timeline", "Connect to the node with gcloud compute ssh to test the network. Fetching github.com "
                            "with wget works. The handler is async and isort runs in CI. Security acknowledges "
                            "reciept."))
    found = having(run(secs), "spelling")
    assert len(found) == 1 and "reciept" in found[0][1].quote
    assert found[0][1].replacement and "receipt" in found[0][1].replacement


def test_a_name_one_far_letter_from_a_word_is_not_a_typo_but_slips_of_the_hand_are():
    """Cosmos Hub's upgrade report (not in the corpus): "0157 UTC: iqlusion identifies the relevant
    block" was told "'iqlusion' should probably be 'illusion'". A 'q' for an 'l' is no slip of the
    hand: the word is a name (a validator's). A vowel for a vowel, or a key's neighbour, still is.
    And a far letter no longer hides a slip: "recieve" was left alone, as it could also be
    "relieve" (a 'c' for an 'l'); a blog's "this incident will recieve compensation" is found."""
    found = run(doc(("Timeline", "- 0157 UTC: iqlusion identifies the relevant block.\n"
                                 "- 0200 UTC: we had to seperate the nodes, and the price droppes again.\n"
                                 "- 0300 UTC: users of the swap algo will recieve compensation.\n"
                                 "- 0400 UTC: Jury is still out as to weather we will keep it, weather or not it "
                                 "holds in bad weather.")))
    assert [f.description for _, f in having(found, "spelling")] == [
        "Typo: 'seperate' should probably be 'separate'.", "Typo: 'droppes' should probably be 'dropped'.",
        "Typo: 'recieve' should probably be 'receive'.", "'weather or not' should be 'whether or not'.",
        "'as to weather we' should be 'as to whether we'."]


def test_inflections_of_technical_terms_are_not_typos():
    secs = doc(("Details", "The request is now namespaced per tenant. Cordoning the node helped. "
                           "There are 6,682 remainging requests to review."))
    found = having(run(secs), "spelling")
    assert [f.description for _, f in found] == ["Typo: 'remainging' should probably be 'remaining'."]


def test_an_inflection_missing_its_doubled_consonant_is_still_a_typo():
    """'occur' + 'ed' is not how 'occurred' is spelled: the stem rule must not excuse 'occured'."""
    secs = doc(("Details", "The failure occured twice. The team passed the ticket to the tech lead."))
    found = [f.description for _, f in having(run(secs), "spelling")]
    assert found == ["Typo: 'occured' should probably be 'occurred'."], found


def test_words_with_accents_handles_and_one_word_bullets_are_not_typos():
    secs = doc(("Thanks", "Thanks to the maintainers of the Lengua española guide, and to:\n\n- ashb\n- shazow\n"),
               ("Contributors", "@shazow and @ashb reviewed the fix."))
    assert having(run(secs), "spelling") == []


def test_common_run_together_words_and_rather_then():
    secs = doc(("Response", "Having a token seems risky rather then helpful. Aside from this spurious usecase "
                            "I cannot recall another. Usecases differ."))
    found = {f.quote: f for _, f in having(run(secs), "spelling")}
    assert found["rather then"].replacement == "rather than"
    usecase = next(f for q, f in found.items() if "spurious usecase" in q)
    assert usecase.replacement == usecase.quote.replace("usecase", "use case")
    assert any(f.replacement and "Use cases differ" in f.replacement for f in found.values())
    # a capitalised one inside a sentence is a name, not a typo
    assert having(run(doc(("Thanks", "Thanks to Sam Noone for the report."))), "spelling") == []


# ---------------------------------------------------------------------------------------------
# grammar: subject-verb agreement at the start of a sentence
# ---------------------------------------------------------------------------------------------


def test_this_seem_at_a_sentence_start_is_flagged():
    secs = doc(("7:27", "Noticed that deploying to production failed. This seem to be flaky deploys as the "
                        "cluster had changed.\n- It look like the cache was cold."))
    found = having(run(secs), "grammar")
    assert [(f.quote, f.replacement) for _, f in found] == [("This seem", "This seems"), ("It look", "It looks")]
    assert all(f.risk == "low" for _, f in found)


def test_a_plural_with_a_singular_verb_and_a_modal_without_be_are_flagged():
    """Both from a real post-mortem (Kubernetes Prow, 2019-02-05), which the reviewer passed over."""
    secs = doc(("Impact", "Both issues was resolved after 47 minutes, and all stuck jobs were restarted."),
               ("What went poorly", "- PRs that are missing statuses did not recover after the outage and must "
                                    "manually kicked to recover them.\n- These changes has been reverted since."))
    found = having(run(secs), "grammar")
    assert [(f.quote, f.replacement) for _, f in found] == [
        ("Both issues was", "Both issues were"), ("These changes has", "These changes have"),
        ("must manually kicked", "must be manually kicked")]


def test_plural_and_modal_look_alikes_are_not_flagged():
    """The verb agrees with a subject before a preposition; a measure takes a singular verb; some
    nouns end in -s and are singular; a verb's base form can end in -ed. (Run over 20 million
    characters of package documentation and Python's library, the two rules said nothing.)"""
    secs = doc(("Detection", "One of these signals has a listener. The output of these reporters is subject to change. "
                             "The result in all cases is unchanged. Two hours was enough. All 10 minutes is a "
                             "long time. These series was long. Both analysis is fine. All access was revoked. "
                             "These metrics is a mess. We must embed the key. The team should proceed. "
                             "It must be restarted. You should have noticed. The job will succeed. "
                             "Should affected users need help, they will ask."))
    assert having(run(secs), "grammar") == []


def test_a_plain_verb_after_been_or_being_is_flagged():
    """From mybinder's 2019-03-24 write-up: "the build pods are not being launch"."""
    secs = doc(("19:14", "However unclear why the build pods are not being launch. The fix has been deploy to "
                         "staging, and the repo was being ban from builds."))
    found = having(run(secs), "grammar")
    assert [(f.quote, f.replacement) for _, f in found] == [
        ("being launch", "being launched"), ("been deploy", "been deployed"), ("being ban", "being banned")]
    # adjectives, nouns and participles after them, and a word that only starts like a verb: quiet (and the
    # rule said nothing over 100 million characters of Python's library and package documentation)
    fine = doc(("Impact", "The site has been down for an hour. Being open about it helped. It has been a test of "
                          "patience. The pods were being launched. The well-being update passed. It had been "
                          "startup code. We have been fixing it; been `deploy` in code is fine."))
    assert having(run(fine), "grammar") == []


def test_being_for_been_after_have_is_flagged():
    """iasql's post-mortem 006 (not in the corpus): "The internet gateway route have being deleted
    from the default vpc's route table". "Having been", "has been deleted" and "being deleted" alone
    are right."""
    secs = doc(("Summary", "The internet gateway route have being deleted from the route table by a test, and "
                           "the token had being rotated."))
    assert [(f.quote, f.replacement) for _, f in having(run(secs), "grammar")] == [
        ("have being deleted", "have been deleted"), ("had being rotated", "had been rotated")]
    fine = doc(("Summary", "Having been deleted, the route has been restored; a route being deleted by a test "
                           "is what we have. Some have being-there moments."))
    assert having(run(fine), "grammar") == []


def test_agreement_look_alikes_are_not_flagged():
    secs = doc(("What went wrong", "Does this seem right? The restart made it seem fixed. It need not be "
                                   "paged again. This cause was ruled out. That mean value hides the spikes. "
                                   "This seems fine, and it seems stable. Why Does This Seem Slow"))
    assert having(run(secs), "grammar") == []


# ---------------------------------------------------------------------------------------------
# doubled words
# ---------------------------------------------------------------------------------------------


def test_doubled_word_in_wrapped_prose_is_found():
    secs = doc(("Impact", "Other downloads may be from\nfrom security scanners, and the\nthe mirrors."))
    assert sorted(quotes(run(secs), "doubled")) == ["from\nfrom", "the\nthe"]


def test_a_word_said_three_times_is_said_on_purpose():
    """A student's post-mortem (ALX, not in the corpus): "Test! Test test test. Test the application
    before deploying." repeats on purpose; "the the" in the next sentence is still a slip."""
    secs = doc(("Prevention", "Test! Test test test. Test the application before deploying the the build."))
    assert quotes(run(secs), "doubled") == ["the the"]


def test_repeated_names_in_code_commands_and_identifiers_are_not_doubled_words():
    secs = doc(("Setup", "Create the environment:\n\npython -m venv venv # create environment\n\n"
                         "# Write to a string buffer\nbuffer = io.StringIO()\n\n"
                         "- Disable pydantic-core core schema validation.\n\nschemathesis\n\nschemathesis run"))
    assert having(run(secs), "doubled") == []


# ---------------------------------------------------------------------------------------------
# time zones and clocks
# ---------------------------------------------------------------------------------------------


def test_a_zone_named_by_its_region_is_a_zone():
    secs = doc(("Timeline", "- 2024-06-28 7:09 AM Eastern: A researcher reports the leaked token.\n"
                            "- 2024-06-28 7:26 AM Eastern: The token is revoked.\n"
                            "- 2024-06-28 8:10 AM Eastern: Audit logs are reviewed."))
    assert having(run(secs), "timezone") == []
    no_zone = doc(("Timeline", "- 2024-06-28 7:09: A researcher reports the leaked token.\n"
                               "- 2024-06-28 7:26: The token is revoked."))
    assert len(having(run(no_zone), "timezone")) == 1
    # a student's post-mortem (ALX, not in the corpus): "from 10:05 AM to 10:15 AM WAT" (West Africa Time)
    wat = doc(("Issue Summary", "On June 9th, 2024 from 10:05 AM to 10:15 AM WAT, the website was down."),
              ("Timeline", no_zone[0].text))
    assert having(run(wat), "timezone") == []


REDDIT_LIKE = (("Summary", "A repository is posted to a forum. Traffic builds from around 6pm and peaks at about "
                           "6am with 600 running pods."),
               ("Timeline", "All times in PST"),
               ("2018-01-18 4:19", "First noticed that something was up after an alert.", 2),
               ("4:27", "Found the repository that was being launched.", 2),
               ("6:52", "Decided to increase the ingress replicas.", 2),
               ("9:14", "Things are back to working order.", 2))


def test_a_twelve_hour_timeline_without_am_pm_is_ambiguous():
    found = having(run(doc(*REDDIT_LIKE)), "12-hour clock")
    assert [(s.id, f.quote) for s, f in found] == [("s3", "First noticed that something was up after an alert.")]
    assert "4:19" in found[0][1].description and "9:14" in found[0][1].description
    assert found[0][1].risk == "medium"


def test_a_24_hour_timeline_or_one_with_am_pm_is_not_ambiguous():
    padded = [(t.replace("4:", "04:").replace("6:", "06:").replace("9:", "09:"), x, *rest)
              for t, x, *rest in REDDIT_LIKE]
    assert having(run(doc(*padded)), "12-hour clock") == []  # "04:19" is a 24-hour clock
    afternoon = [*REDDIT_LIKE[:-1], ("14:02", "Things are back to working order.", 2)]
    assert having(run(doc(*afternoon)), "12-hour clock") == []  # past 12: a 24-hour clock
    no_ampm = [("Summary", "A repository is posted to a forum and traffic builds overnight."), *REDDIT_LIKE[1:]]
    assert having(run(doc(*no_ampm)), "12-hour clock") == []  # nothing says the clock is a 12-hour one


# ---------------------------------------------------------------------------------------------
# placeholders and references
# ---------------------------------------------------------------------------------------------


def test_html_elements_and_template_code_are_not_placeholders():
    secs = doc(("Notes", "<details>\n<summary>Logs</summary>\nThe full logs are below.\n</details>\n\n"
                         '<li><a href="{{ user.url }}">{{ user.username }}</a></li>'),
               ("Actions", "- Rotate the keys. Owner: <owner>\n- Thank {{ reporter }} in the post."))
    found = quotes(run(secs), "placeholder")
    assert found == ["- Rotate the keys. Owner: <owner>", "- Thank {{ reporter }} in the post."]


def test_a_reference_to_another_documents_section_is_not_broken():
    secs = doc(("Summary", "The matrix is described in Section 4.2.2 of the PDF Reference, and the grammar in "
                           "Annex A of the C99 standard (see Table 4.6 of the PDF specification)."),
               ("Root cause", "The parser; see section 7 for details."))
    assert quotes(run(secs), "reference") == ["see section 7"]


# ---------------------------------------------------------------------------------------------
# formal reports: their numbering and their containers
# ---------------------------------------------------------------------------------------------


def test_a_numbered_paragraph_or_an_acts_section_is_not_a_broken_reference():
    """Formal reports number paragraphs ('3.33 All the key personnel...') and cite the law that
    opened them ('section 13(1) of the ... Act'); neither is a missing section. A real gap is."""
    found = run(doc(
        ("3 Analysis", "3.20 The lack of communication is discussed further in section 3.33.\n\n"
                       "3.33 All the key personnel involved held current certification."),
        ("9 Conduct of the inquiry", "The Commission opened an inquiry under section 13(1) of the Transport "
                                     "Accident Investigation Commission Act 1990. See section 7 for the data."),
    ))
    assert quotes(found, "reference") == ["See section 7"]


def test_a_date_in_the_title_gives_the_year():
    """'January 25th' under the title 'DNS Outage on 2023-01-25' is placed: the title names the year."""
    placed = doc(("DNS Outage on 2023-01-25", "We scheduled and announced the rollout for January 25th."))
    assert having(run(placed), "no year") == []
    unplaced = doc(("DNS Outage", "We scheduled and announced the rollout for January 25th."))
    assert quotes(run(unplaced), "no year") == ["We scheduled and announced the rollout for January 25th."]


def test_an_empty_container_heading_is_not_a_template_leftover():
    """'Additional information' over its topics holds other headings by nature; an empty 'Impact' does not."""
    found = run(doc(("Report", "Text.", 1), ("Narrative", "It happened.", 2), ("Additional information", "", 2),
                    ("Midland line train movements", "Ten trains a day.", 2), ("Impact", "", 2), ("End", "x.", 2)))
    assert [s.title for s, _ in having(found, "empty section")] == ["Impact"]


def test_a_typo_in_a_heading_is_found_and_a_name_is_not():
    """'Apendix' and 'Appendinx' as headings (two real post-mortems) are typos; a place or a
    project named in the text too ('Boskos') is not, and neither is a correct heading."""
    found = run(doc(("Summary", "Boskos leaked projects at Rolleston."), ("Boskos outage", "It broke."),
                    ("Apendix", "Logs."), ("Appendinx", "More logs."), ("Lessons learnt", "Test more.")))
    assert [(s.title, f.quote) for s, f in having(found, "spelling")] == [("Apendix", None), ("Appendinx", None)]
    assert "'Appendix'" in having(found, "spelling")[0][1].description


def test_has_lead_to_is_has_led_to():
    found = run(doc(("Summary", "Increasing test load over time has lead to increased use of I/O. Lead the way.")))
    assert [(f.quote, f.replacement) for _, f in having(found, "spelling")] == [("has lead to", "has led to")]


def test_question_marks_left_for_a_value_are_a_placeholder():
    """'[???] IOPS reached a critical point' left a time to fill in; 'why???' and a URL query are prose."""
    found = run(doc(("Timeline", "- [???] IOPS reached a critical point\n- 10:02 Why??? Nobody knew.\n"
                                 "- 10:05 See https://example.com/q?a=1???")))
    assert quotes(found, "placeholder") == ["- [???] IOPS reached a critical point"]


def test_a_24_hour_time_with_pm_is_flagged():
    """mybinder.org 2018-01-17 (not in the corpus): "### 2018-01-17 17:14pm" in its timeline."""
    secs = doc(("Timeline", "All times in PST\n\n2018-01-17 17:14pm\n- Other travis failures point to the issue "
                            "being real.\nAt 17:30pm the build logs showed errors. At 5:45pm we bumped it; "
                            "at 18:57 it was deployed; lunch was at 12:30pm."))
    found = having(run(secs), "malformed time")
    # one slip, made twice: one finding on the first, naming the other (it would take two of the
    # section's three places otherwise)
    assert [f.quote for _, f in found] == ["17:14pm"]
    assert found[0][1].description == ("'17:14pm' mixes a 24-hour time with 'pm' ('17:30pm' too): the reader "
                                       "cannot tell which clock was meant.")


def test_morning_times_written_two_ways_once_per_document():
    """From the Rust DNS outage write-up: "09:15 UTC", then "9:30 UTC" and "9:40 UTC"."""
    secs = doc(("Summary", "A deploy at 09:15 UTC removed the records. Around 9:30 UTC users saw errors."),
               ("Resolution", "The records were back by 9:40 UTC, and at 10:05 UTC all caches had them."))
    found = having(run(secs), "two ways")
    assert [(s.id, f.quote) for s, f in found] == [("s1", "09:15")]  # the rarer way, once
    assert "'9:30'" in found[0][1].description and "'09:30'" in found[0][1].suggestion
    # one way only, 12-hour times, a time in code, seconds in a log line: quiet
    for text in ("At 09:15 UTC and 09:30 UTC.", "At 9:15 UTC and 9:30 UTC.", "At 9:15 am and 09:30 UTC.",
                 "At 09:15 UTC; the log says `9:30 retry`.", "At 09:15 UTC; the log has 9:30:12 in it."):
        assert having(run(doc(("Summary", text))), "two ways") == [], text


def test_to_so_with_its_verb_missing():
    """The docs.rs outage write-up (tuning set): "nobody with permissions required to so was awake"."""
    secs = doc(("Timeline", "01:38: alerts fired, but nobody with permissions required to so was awake. We tried "
                            "to so. Then we had to so."))
    found = having(run(secs), "grammar")
    assert [(f.quote, f.replacement) for _, f in found] == [("to so", "to do so")]  # one per quote and section
    fine = doc(("Impact", "Access to so many hosts was lost, up to so far unknown limits; we lost access to so-and-so "
                          "and to Sonatype. It wraps the module to so the values are compatible."))
    assert having(run(fine), "grammar") == []
    # iasql's 004 post-mortem (not in the corpus): "so" typed for "do"
    typed = doc(("Prevention", "We might need to so some tweaks to the current commit algorithm."))
    assert [(f.quote, f.replacement) for _, f in having(run(typed), "grammar")] == [("to so some", "to do some")]



def test_a_typo_in_a_code_block_is_not_the_authors_to_fix():
    """A pasted log or a command's comment is quoted as it ran: the document pass reads the prose
    around it (a Markdown fence, or a Word paragraph in a code style or a monospaced font), and a
    section that is all code is not read as empty."""
    import docx as python_docx
    import io

    from redline.jobs.documents import parse_document
    from redline.jobs.reviewers.offline_pool import document_dicts

    def findings(filename: str, data: bytes) -> list[tuple[str, str, str | None]]:
        parsed = parse_document(filename, data, max_bytes=1 << 20)
        sections = [Section(id=f"s{i + 1}", title=s.title, index=i, text=s.text, level=s.level, marks=s.marks)
                    for i, s in enumerate(parsed.sections)]
        found = document_dicts([s.model_dump() for s in sections], parsed.title)["findings"]
        return [(s.title, f["category"], f["quote"]) for s in sections for f in found[s.id]]

    md = ("## Summary\n\nThe deploy failed and we had to proceed withot any help.\n\n```\n"
          "# retry the job becuase the hub restarts\nrun-job --retry\n```\n\n## Logs\n\n```\n"
          "10:05:01 ERROR auth faild\n```\n\n## Timeline\n\n- 10:05 UTC alert fires.\n- 10:45 UTC service restored.\n")
    got = findings("a.md", md.encode())
    assert ("Summary", "spelling", "had to proceed withot any help.") in got
    assert not [g for g in got if "becuase" in (g[2] or "") or "faild" in (g[2] or "")]
    assert not [g for g in got if g[0] == "Logs"]  # all code: not "empty"

    document = python_docx.Document()
    document.add_heading("Summary", 1)
    document.add_paragraph("The deploy failed and we had to proceed withot any help.")
    document.add_paragraph().add_run("# retry the job becuase the hub restarts").font.name = "Consolas"
    document.add_heading("Timeline", 1)
    document.add_paragraph("10:05 UTC alert fires. 10:45 UTC service restored.")
    buffer = io.BytesIO()
    document.save(buffer)
    got = findings("a.docx", buffer.getvalue())
    assert ("Summary", "spelling", "had to proceed withot any help.") in got
    assert not [g for g in got if "becuase" in (g[2] or "")]


def test_a_letter_where_the_number_goes_is_a_placeholder():
    """mybinder.org 2018-01-04 (not in the corpus): "Users should wait approximately 'x' minutes
    before opening a PR on staging." A version ("Node.js 10.x users"), a product ("2 x 10 minutes")
    and code are not."""
    found = run(doc(("Action items", "- Document that the deployment may be delayed. Users should wait "
                                     "approximately 'x' minutes before opening a PR on staging.\n"
                                     "- Tell Node.js 10.x users to upgrade.\n- Run `sleep N minutes` first.\n"
                                     "- Retry 2 x 10 minutes, then page.")))
    assert quotes(found, "placeholder") == [
        "Users should wait approximately 'x' minutes before opening a PR on staging."]
    assert "a letter where the number goes" in having(found, "placeholder")[0][1].description
    assert quotes(run(doc(("Impact", "For N hours, XX users could not log in.")), ), "placeholder") == [
        "For N hours, XX users could not log in."]


def test_a_templates_fields_left_as_given_are_placeholders():
    """A team's incident template, half filled in (the shape of many public templates): a date
    format where the date goes, severity choices left to pick, the template's bracketed
    instructions. Prose that names a format, or chooses among severities, is not."""
    filled = ("| Field | Value |\n| --- | --- |\n| Severity | `SEV-1` / `SEV-2` / `SEV-3` |\n"
              "| Created | 2024-03-02 10:14 UTC |\n| Resolved | YYYY-MM-DD HH:MM UTC |\n\n"
              "- **Start time:** 2024-03-02 10:14 UTC\n- **Impact:** (e.g., API 5xx for 20% of traffic)\n"
              "- **Priority:** P1 / P2 / P3\n- **Status:** `Open` / `Resolved`\n- Owner: @github_handle\n\n"
              "Root cause: (Explain the underlying cause, not the symptoms.)\n\n"
              "The queue stalled and was restarted at HH:MM.")
    found = sorted(having(run(doc(("Summary", filled))), "placeholder"), key=lambda sf: filled.find(sf[1].quote))
    assert [f.quote for _, f in found] == [
        "| Severity | `SEV-1` / `SEV-2` / `SEV-3` |", "| Resolved | YYYY-MM-DD HH:MM UTC |",
        "- **Impact:** (e.g., API 5xx for 20% of traffic)", "- **Priority:** P1 / P2 / P3",
        "- **Status:** `Open` / `Resolved`", "- Owner: @github_handle", "Root cause: (Explain the underlying cause, not the symptoms.)", "The queue stalled and was restarted at HH:MM."]
    assert "choices left for the author to pick" in found[0][1].description
    assert "a date or time format where the value goes" in found[1][1].description
    prose = ("We page for P1/P2/P3 incidents alike, and a SEV-1 / SEV-2 / SEV-3 label goes on each. Dates are written "
             "in the format YYYY-MM-DD; set the calendar entry to `YYYY-MM-DD - Meeting Name`. The hub (see the "
             "dashboard) was down (for example, the login page failed). Ask @alice or the open/closed tickets.\n\n"
             "| Check | P1 | P2 | P3 |\n| --- | --- | --- | --- |\n| Paged | Yes | No | No |\n\n"
             "```\nstrftime('%Y') # YYYY-MM-DD\n```")
    assert having(run(doc(("Summary", prose))), "placeholder") == []


def test_a_typo_in_a_quoted_chat_log_is_not_the_authors_to_fix():
    """Kubernetes Prow 2019-02-05 (not in the corpus): its appendix quotes the team's chat, "can you
    paste plank logs from your deploymetn". It was flagged twice (a typo, and a name spelled two
    ways beside "deployment"): the chat is a record, as a log is. Any block quote is someone's words
    as written, which a reviewer would not correct either (PyPI's organization-team report quotes
    its reporter's "Add that member to a organization team")."""
    from redline.jobs.documents import parse_document
    from redline.jobs.reviewers.offline_pool import document_dicts

    md = ("# Outage\n\n## Summary\n\nThe deployment failed, and the deployment was rolled back. We had to proceed "
          "withot the bot.\n\n## Notice\n\n> A note we sent to users twicce: the deployment is paused until Monday.\n\n"
          "## Appendix\n\n"
          "### Chat logs\n\n>Katharine [8:57 AM]  \nnot sure the branchprotector run actually had the desired effect.\n"
          ">\n>stevekuznetsov [9:31 AM]  \ncan you paste plank logs from your deploymetn  \nat the start?\n")
    parsed = parse_document("a.md", md.encode(), max_bytes=1 << 20)
    sections = [Section(id=f"s{i + 1}", title=s.title, index=i, text=s.text, level=s.level, marks=s.marks)
                for i, s in enumerate(parsed.sections)]
    found = document_dicts([s.model_dump() for s in sections], parsed.title)["findings"]
    got = [(s.title, f["category"], f["quote"]) for s in sections for f in found[s.id]]
    assert not [g for g in got if "deploymetn" in (g[2] or "")], got
    assert ("Summary", "spelling", "had to proceed withot the bot.") in got
    # any block quote is someone's words quoted as written (a reporter's steps, an email): not corrected
    assert not [g for g in got if g[0] == "Notice"]
    # Prow 2019-02-08: one quote per message, each with one speaker, blank lines between: one log
    apart = md.replace(">\n>stevekuznetsov", "\n> stevekuznetsov")
    parsed = parse_document("a.md", apart.encode(), max_bytes=1 << 20)
    sections = [Section(id=f"s{i + 1}", title=s.title, index=i, text=s.text, level=s.level, marks=s.marks)
                for i, s in enumerate(parsed.sections)]
    assert sum(1 for s in sections for m in s.marks if m[2] == "quote") >= 3
    found = document_dicts([s.model_dump() for s in sections], parsed.title)["findings"]
    assert not [f for fs in found.values() for f in fs if "deploymetn" in (f["quote"] or "")]
    # the same write-up as Word: no quote marks, a paragraph per message, the log a section of its own
    import io

    import docx as python_docx

    document = python_docx.Document()
    document.add_heading("Summary", 1)
    document.add_paragraph("The deployment failed, and the deployment was rolled back. We had to proceed withot the bot.")
    document.add_heading("Chat logs", 1)
    for said in ("Katharine [8:57 AM] not sure the branchprotector run actually had the desired effect.",
                 "stevekuznetsov [9:31 AM] can you paste plank logs from your deploymetn at the start?",
                 "Katharine [9:34 AM] okay, manual rollback worked"):
        document.add_paragraph(said)
    out = io.BytesIO()
    document.save(out)
    parsed = parse_document("a.docx", out.getvalue(), max_bytes=1 << 20)
    sections = [Section(id=f"s{i + 1}", title=s.title, index=i, text=s.text, level=s.level, marks=s.marks)
                for i, s in enumerate(parsed.sections)]
    found = document_dicts([s.model_dump() for s in sections], parsed.title)["findings"]
    got = [(s.title, f["category"], f["quote"]) for s in sections for f in found[s.id]]
    assert ("Summary", "spelling", "had to proceed withot the bot.") in got
    assert [g for g in got if g[0] == "Chat logs"] == []  # neither its typo, nor "empty": it holds a record


def test_a_typo_inside_a_compound_of_english_words_is_a_typo():
    """A Rust blog post (not in the corpus): "the official Rust compiler-perfomance team". A part of a
    name ("kube-lego", "util-linux", "rust-lang"), or a technical word ("little-endian" is not
    "little-indian") is not; only a letter dropped or doubled, in a word of six letters or more."""
    found = run(doc(("Story", "After investigations, the official Rust compiler-perfomance team suspected a bug.\n"
                              "We use kube-lego and util-linux on little-endian machines with a todo-list.")))
    assert [f.quote for _, f in having(found, "spelling")] == ["official Rust compiler-perfomance team suspected a"]
    assert "'perfomance' should probably be 'performance'" in having(found, "spelling")[0][1].description


def test_an_article_that_does_not_fit_the_next_word():
    """A Rust blog post (not in the corpus): "to find an nonintrusive and sensible way". Silent: a
    silent h, a word read letter by letter, a "u" said "you", a letter standing for something, a
    name in capitals mid-sentence."""
    found = run(doc(("Story", "It was nearly impossible to find an nonintrusive and sensible way. We saw a error.\n"
                              "It took an hour. We installed an npm package and a user reported a one-off failure.\n"
                              "Choose option a or b. Editing A extensively broke it. Compare A and B.")))
    assert [(f.quote, f.suggestion) for _, f in having(found, "grammar")] == [
        ("an nonintrusive", "a nonintrusive"), ("a error", "an error")]


def test_a_figures_drafting_notes_are_template_text_said_once():
    """TAIC's Milton hi-rail report (tuning set): its location map still says "Add location info &
    move as required" and "Add detailed map and delete this text box". One finding, naming both."""
    found = having(run(doc(("Figure 2", "Add location info & move as required\nMilton\n"
                                        "Add detailed map and delete this text box"))), "placeholder")
    assert [f.quote for _, f in found] == ["Add location info & move as required"]
    assert "and 1 more piece of it in this section" in found[0][1].description


def test_a_templates_instruction_to_its_author_is_template_text():
    """A safety team's investigation template, left unfilled (the shape of many published ones):
    "Detail the steps taken to investigate the incident, including:" over its list of prompts. An
    action list that leads in with an imperative ("Add the following alerts:") is not one."""
    found = run(doc(("2. Investigation Process", "Detail the steps taken to investigate the incident, including:\n\n"
                                                  "- Document all observations\n- Interview witnesses"),
                    ("5. Recommendations", "Outline specific actions to prevent recurrence:\n\n- Immediate corrective "
                                           "actions"),
                    ("Action items", "Add the following alerts:\n\n- Queue depth over 5,000 pages on-call (owner: Ana)")))
    assert [(s.title, f.quote) for s, f in having(found, "placeholder")] == [
        ("2. Investigation Process", "Detail the steps taken to investigate the incident, including:"),
        ("5. Recommendations", "Outline specific actions to prevent recurrence:")]


def test_a_template_describing_its_section_is_template_text():
    found = having(run(doc(("Summary", "This section should be a short blurb which describes the event, with its "
                                       "duration and impact.\n\nThe API returned 502 errors for 20 minutes."))),
                   "placeholder")
    assert [f.quote for _, f in found] == [
        "This section should be a short blurb which describes the event, with its duration and impact."]


def test_of_course_british_spelling_and_words_said_twice_on_purpose_are_not_slips():
    """matrix.org's post-mortem: "there would of course still have been scope", "They could of
    course be the same person" (an aside, not "would have"), "analysing" (British, as its
    "prioritise" and "apologise"), "please please consider" (said twice on purpose). A real "would
    of" after an aside, and a real doubled word, are still caught."""
    secs = doc(("Keeping patched", "This breach would not have happened, although there would of course still "
                                   "have been scope for a 0-day. We're still analysing the data. Please please "
                                   "consider disclosing issues responsibly."),
               ("Lessons", "They could of course be the same person. We would of caught it with the the alert."))
    found = run(secs)
    assert sorted(quotes(found, "spelling")) == ["the the", "would of"]


def test_a_field_written_as_a_heading_with_its_value_is_not_empty():
    """learningequality's post-mortem template: "## Meeting scheduled for: Waived by @aronasorman"
    carries its value in the heading; "## Call recording:" left blank is still an empty field."""
    secs = doc(("Owner: @aronasorman", "", 2), ("Meeting scheduled for: Waived by @aronasorman", "", 2),
               ("Call recording:", "", 2), ("Overview", "A couple of our sites went down for a few hours.", 1),
               ("Root causes", "A wildcard DNS record was not migrated to the new nameservers.", 1))
    assert [s.title for s, _ in having(run(secs), "empty section")] == ["Call recording:"]


def test_a_sign_off_set_as_a_heading_is_not_an_empty_section():
    """A student's post-mortem (ALX, not in the corpus) ends with "## Stay Safe and Happy
    Debugging!": a closing line, not a template heading left unfilled. An empty "## Impact" is."""
    secs = doc(("Postmortem", "", 1), ("Summary", "The ABC platform's load balancer failed over slowly.", 2),
               ("Impact", "", 2), ("Stay Safe and Happy Debugging!", "", 2))
    assert [s.title for s, _ in having(run(secs), "empty section")] == ["Impact"]


def test_informal_words_of_the_trade_are_not_typos():
    """PostHog's "runbooks for customer comms" was read as a typo for "comes"; a student's
    post-mortem quotes nginx's log level "[emerg]" (syslog's "emerg" and "crit")."""
    secs = doc(("Planned actions", "We have begun creating new runbooks for customer comms, and the devs will "
                                   "share perf numbers for the prod envs. But wasm does not initialize."),
               ("Timeline", "* nginx[31101]: nginx: [emerg] invalid number of arguments in the directive, and a "
                            "[crit] line after it"))
    assert having(run(secs), "spelling") == []


def test_words_cut_by_a_narrow_table_cell_are_not_typos():
    """TAIC's Shotover report as PDF: an appendix table's narrow cells wrap their words ("Previou s
    visits", "Detenti ons"), read line by line as "Vessel Previou Previou Detenti Accide Case |
    ...": "Previou Previou" and "contin" were reported. A typo in a table row of whole words is
    still one."""
    cut = doc(("Appendix 1", "Vessel Previou Previou Detenti Accide Case | Prosec Comme\n"
                             "(contin | inspect imposit Inciden\nued) | ions | ion of | ts conditi ons"))
    assert having(run(cut), "spelling") == []
    typo = doc(("Timeline", "Time | Event\n11:07 | Sev 1 ticket raised\n11:59 | Sev 1 ticket marked as resloved"))
    assert quotes(run(typo), "spelling") == ["ticket marked as resloved"]


def test_a_typo_that_opens_the_document_is_quoted():
    """A student's post-mortem (ALX, not in the corpus) opens with "iPostmortem: E-commerce Website
    Checkout Outage": the typo was reported with an empty quote, so nothing was highlighted."""
    secs = doc(("Preamble", "iPostmortem: E-commerce Website Checkout Outage (Invented Scenario)"),
               ("Summary", "This postmortem covers the checkout outage; the postmortem process is blameless."))
    found = having(run(secs), "spelling")
    assert [(s.id, f.quote) for s, f in found] == [("s1", "iPostmortem: E-commerce Website")]


def test_a_word_cut_in_two_by_a_space_is_not_a_typo():
    """A TAIC report's text as its PDF was extracted (not in the corpus): "both domesti cally and
    internationally", "comme rcial pilot licence", "aircraf t flies at". Each piece beside its
    neighbour is one word: the extraction cut it. A real typo beside a word is still one."""
    secs = doc(("Summary", "The Commission informs the public, both domesti cally and internationally. The pilot "
                           "held a comme rcial pilot licence; the aircraf t flies at low level. The pilto landed."))
    assert [f.description for _, f in having(run(secs), "spelling")] == ["Typo: 'pilto' should probably be 'pilot'."]


def test_a_numbered_chapter_over_unnumbered_topics_is_not_empty():
    """A TAIC report's text (not in the corpus): "1 Executive summary" right over "What happened"
    and "Why it happened", "3 Analysis" over "Introduction": chapters over their topics, their
    levels lost in plain text. A numbered heading over the next numbered one is still empty."""
    secs = doc(("1 Executive summary", ""), ("What happened", "The vessel lost power leaving port."),
               ("3 Analysis", ""), ("Introduction", "The main engine's fuel valve stuck."),
               ("4 Root cause", ""), ("5 Safety actions", "The operator changed its fuel supplier."))
    assert [s.title for s, _ in having(run(secs), "empty section")] == ["4 Root cause"]


def test_a_simple_past_after_have_is_flagged():
    """A Plex server's outage note (jd4883, not in the corpus): "my docker plex configuration which
    I've ran for approximately 2 years". "We have run", "it ran" and "Have Ran" in a title are fine."""
    secs = doc(("Steps to Resolution", "Several issues existed in my configuration which I've ran for approximately "
                                       "2 years. The job has already began."))
    assert [(f.quote, f.replacement) for _, f in having(run(secs), "grammar")] == [
        ("I've ran", "I've run"), ("has already began", "has already begun")]
    fine = doc(("Steps to Resolution", "We have run it for two years; it ran well. They had seen it before."))
    assert having(run(fine), "grammar") == []


def test_which_lead_to_after_a_comma_is_the_past_misspelt():
    """PyPI's phishing report (tuning set): "rejected due to them being unable to confirm phishing,
    which lead to a longer-than-expected period"; also in installed changelogs ("normalizing, which
    lead to duplicated paths"). After a plural, "which lead to" can be the present: left alone."""
    found = run(doc(("Abuse reports", "Our reports were rejected as they could not confirm phishing, which lead to "
                                      "a longer-than-expected period of exposure.")))
    assert [(f.quote, f.replacement) for _, f in having(found, "spelling")] == [("which lead to", "which led to")]
    fine = doc(("Changes", "We made two changes, which lead to faster builds. The path which leads to the file. "
                           "Does it lead to errors? We think it will lead to fewer pages."))
    assert having(run(fine), "spelling") == []
    # RuCTF's post-mortem (not in the corpus): "It lead to problem"
    found = run(doc(("Registration", "We ran our script some times. It lead to problem: teams got the same tokens.")))
    assert [(f.quote, f.replacement) for _, f in having(found, "spelling")] == [("It lead to", "It led to")]


def test_a_to_left_out_before_a_verb_is_flagged():
    """PyPI's domain-abuse report (tuning set): "designed assist with malware distribution"."""
    found = run(doc(("Malware", "The domains were designed assist with malware distribution to targets.")))
    assert [(f.quote, f.replacement) for _, f in having(found, "grammar")] == [("designed assist", "designed to assist")]
    fine = doc(("Notes", "The intended use of the tool is designed to assist; we were able to help, and it was "
                         "designed for support."))
    assert having(run(fine), "grammar") == []

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
    """The Detection section shares more of the question's words; the timeline says when."""
    answer = compose_answer("When was the slowness noticed?", PROW)
    assert passages(answer)[0] == 'From "Timeline": "[16:04] @krzyzacy noticed Prow is responding very slow."'
    assert 'From "Detection"' in answer  # still quoted, after the answer


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
    assert 'From "Summary": "This effect lasted approximately nine hours' in answer
    assert 'From "Lessons"' not in answer

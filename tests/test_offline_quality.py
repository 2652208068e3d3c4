"""The offline reviewer on real write-ups: the labelled corpus in bench/quality/corpus.

Only the TUNING documents are used here (the held-out ones are measured by `python -m
bench.quality`, never tuned on). What a reviewer of real post-mortems noticed first, as tests:
the false alarms of the old rules are gone, and the problems a human caught at once are found.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.quality.harness import run, totals
from redline.jobs.reviewers.offline import _done_or_tracked, document_kind

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tuning():
    # In a thread of its own: the harness runs its own event loop (asyncio.run), which must not
    # touch the main thread's, where pytest-asyncio keeps the session's loop.
    with ThreadPoolExecutor(1) as pool:
        return {r.name: r for r in pool.submit(run, "tune").result()}


def found(result, category: str) -> list[str]:
    """Quotes of the true findings of a category in one document."""
    return [o.finding.quote or "" for o in result.outcomes
            if o.verdict == "true" and o.finding.category.startswith(category)]


def test_the_tuning_set_figures(tuning):
    t = totals(list(tuning.values()))
    assert t["precision"] >= 0.7, t
    assert t["per_section"] <= 1.5 and t["high_false"] == 0, t
    assert t["matched"] >= 10, t


def test_software_writeups_get_no_safety_checklist(tuning):
    """'The method does not mention interviews', 'impact does not cover people and safety',
    passive voice, hedging in a heading that asks what went wrong, 'no root cause section' under
    a playful title: none of these on a software or security incident."""
    wrong_domain = {"Actors", "Language", "Structure", "Evidence", "Impact", "Method", "Confidentiality"}
    for name, r in tuning.items():
        if r.kind in ("software_incident", "security_incident"):
            cats = {o.finding.category for o in r.outcomes}
            assert not cats & wrong_domain, (name, cats & wrong_domain)


@pytest.mark.parametrize("doc, category, quote", [
    ("mybinder-2022-01-27-prime-version.pdf", "consistency: duration vs timeline", "approximately nine hours"),
    ("pypi-2024-04-domain-abuse.md", "timeline order", "17:05 UTC"),
    ("pypi-2025-04-org-team-privileges.md", "consistency: name spelled two ways", "userhame"),
    ("pypi-2025-04-org-team-privileges.md", "placeholder", "TODO: Credit?"),
    ("pypi-2025-09-token-exfiltration.docx", "date format", "September 5th"),
    ("mybinder-2018-03-13-pvc-hub-locked.md", "spelling", "rouge pod"),
    ("pypi-2024-04-domain-abuse.md", "spelling: doubled word", "from from"),
])
def test_what_a_human_caught_at_once_is_found(tuning, doc, category, quote):
    assert any(quote in q for q in found(tuning[doc], category)), [o.finding.category for o in tuning[doc].outcomes]


def test_done_or_tracked_actions_need_no_owner_or_date():
    assert _done_or_tracked("Store the data on a persistent disk (done)")
    assert _done_or_tracked("- [x] Add alerting on the launch success rate")
    assert _done_or_tracked("Add logging when the index publish starts [#2226]")
    assert _done_or_tracked("Rotate the keys, see https://github.com/pypi/warehouse/issues/123")
    assert _done_or_tracked("Tracked in OPS-4411")
    assert not _done_or_tracked("Document how to restart a node")
    assert not _done_or_tracked("Improve operator training")


def test_the_kind_of_write_up_is_read_from_its_words():
    assert document_kind(["The API servers returned 503 errors after the deploy; the pods were restarted "
                          "and the release rolled back. DNS and the cache were fine."]) == "software"
    assert document_kind(["Hydraulic oil leaked onto the pump and a fire broke out. The operator on the night "
                          "shift was not injured; the plant's HSE team interviewed the witnesses."]) == "general"

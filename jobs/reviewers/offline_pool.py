"""The process pool the offline rules run in, and what runs inside it.

Kept apart from `offline_reviewer.py` so a pool process imports only the rules (and the standard
library), not the job machinery. See `offline_reviewer.py` for why a pool.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from redline.jobs.documents.marks import as_read
from redline.jobs.models import Finding, Section
from redline.jobs.reviewers import consistency, hygiene, offline, offline_chat, offline_style
from redline.jobs.reviewers.hygiene_dictionary import reads_as_english


class PoolFailed(Exception):
    """A call did not finish: over its budget, or its pool process died. ``message`` is for a person."""


def review_section_dicts(title: str, text: str, index: int, total: int, outline: list[str],
                         guidelines: str | None, kind: str = "general") -> list[dict[str, Any]]:
    """Runs in a pool process; findings go back as plain dicts."""
    findings = offline.review_section(title, text, index=index, total=total, outline=outline,
                                      guidelines=guidelines, kind=kind)
    return [f.model_dump() for f in findings]


def document_dicts(sections: list[dict[str, Any]], title: str | None = None, date: str | None = None) -> dict[str, Any]:
    """Runs in a pool process, once per document: what it is (`offline.document_kind`), and the
    findings only the whole document shows (consistency.py: across sections and against the
    review's `title`; hygiene.py: per
    section but with the document's words, titles and times), by section id, as plain dicts;
    and where each style rule speaks (`offline_style.plan`)."""
    # the rules read each Markdown soft line break as a space (the quotes are mapped back afterwards)
    secs = [Section.model_validate({**s, "text": as_read(s["text"], s.get("marks") or [])}) for s in sections]
    by_id = consistency.document_findings(secs, title, date)
    # hygiene reads the author's prose: a typo in a pasted log, a command's comment, a quoted chat or any
    # quoted words (a reporter's steps, an email) is not theirs to fix; and a section that holds only
    # such a record ("Logs", "Chat logs") is not empty
    prose = [x.model_copy(update={"text": as_read(s["text"], s.get("marks") or [], code=False, quotes=False)})
             for x, s in zip(secs, sections)]
    records = {p.id for p, x in zip(prose, secs) if x.text.strip() and not p.text.strip()}
    out: dict[str, list[dict[str, Any]]] = {}
    for s in prose:
        # a date the file gives itself gives the year that "March 9th" leaves out
        found = list(by_id.get(s.id, [])) + [f for f in hygiene.section_findings(s, prose)
                                             if not (s.id in records and f.category == "placeholder: empty section")
                                             and not (date and f.category == "date format: no year")]
        out[s.id] = [f.model_dump() for f in found]
    kind = offline.document_kind([s.text for s in secs])
    if not reads_as_english(s.text for s in prose):
        return _not_english(secs, out, kind)
    return {"kind": kind, "findings": out, "style": offline_style.plan(secs, kind), "english": True}


# what the rules say of any language: a template's leftovers, a timeline's order and dates, a doubled word
_ANY_LANGUAGE = ("placeholder", "timeline", "date format", "spelling: doubled word")


def _not_english(secs: list[Section], out: dict[str, list[dict[str, Any]]], kind: str) -> dict[str, Any]:
    """A write-up in another language: the rules that read English words (spelling, grammar,
    wording, the sections a write-up should have) would only mislead, so the sections' own rules
    are not run (`english` False) and the document's findings keep what any language shows. The
    first section says so once."""
    kept = {sid: [f for f in fs if f["category"].startswith(_ANY_LANGUAGE)] for sid, fs in out.items()}
    notice = Finding(type="suggestion", category="Language", risk="low", confidence=0.9, description=(
        "This write-up does not read as English: the offline reviewer's checks of spelling, grammar, wording and "
        "the sections a write-up should have are for English, so only its placeholders, dates and timeline were "
        "checked."), suggestion="Review it with Claude (set ANTHROPIC_API_KEY), which reads other languages.")
    kept[secs[0].id] = [notice.model_dump()] + kept.get(secs[0].id, [])
    return {"kind": kind, "findings": kept, "style": None, "english": False}


def prose_of(text: str, marks: list) -> str:
    """What the prose rules read: the text as a reader reads it, its code blocks and quotes (a chat
    log, a reporter's words) blanked (`as_read`); a section that is all code (a "Logs" section)
    keeps it, or it would read as empty."""
    prose = as_read(text, marks, code=False, quotes=False)
    return prose if prose.strip() or not text.strip() else as_read(text, marks)


def answer_text(question: str, sections: list[tuple[str, str, list, int]], section_title: str | None,
                date: str | None = None) -> str:
    """Runs in a pool process: the offline chat's answer, from (title, text, marks, heading level)
    per section, the text read as a reader reads it (`as_read`: a source line wrap is a space; for a
    question about a cause or a duration, its code blocks blanked); `date`, the day the document
    gives itself."""
    code = offline_chat.reads_code(question)
    return offline.compose_answer(question, [(title, as_read(text, marks, code=code))
                                             for title, text, marks, _ in sections],
                                  section_title=section_title, levels=[level for *_, level in sections], date=date)


class _OverBudget(BaseException):
    """Raised by the SIGPROF handler in a pool process (a BaseException: no rule catches it)."""


def _on_budget(signum: int, frame: Any) -> None:
    raise _OverBudget()


def _budgeted(budget: float, fn: Any, args: tuple, kwargs: dict) -> tuple[bool, Any]:
    """Run ``fn`` with a CPU-time budget; (True, result) or (False, None) when over budget."""
    signal.setitimer(signal.ITIMER_PROF, max(0.001, budget))
    try:
        return True, fn(*args, **kwargs)
    except _OverBudget:
        return False, None
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


def _init_pool_process(parent: int) -> None:
    """In each pool process: the budget's signal handler, and an exit when the worker is gone
    (a killed worker must not leave its pool processes behind)."""
    signal.signal(signal.SIGPROF, _on_budget)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker decides when its pool stops

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class RulesPool:
    """A lazily spawned, reused process pool for the rules, with a per-call budget."""

    BACKSTOP_FACTOR = 4  # the wall-clock wait (queueing included) before the pool is replaced
    BACKSTOP_EXTRA_S = 15.0

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def _get(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_pool_process, initargs=(os.getpid(),))
        return self._pool

    async def run(self, fn: Any, budget: float, over_budget: str, *args: Any, **kwargs: Any) -> Any:
        pool = self._get()
        try:
            future = pool.submit(_budgeted, budget, fn, args, kwargs)
        except (BrokenProcessPool, RuntimeError):
            self._replace(pool)
            future = self._get().submit(_budgeted, budget, fn, args, kwargs)
        waiter = asyncio.wrap_future(future)
        try:
            finished, result = await asyncio.wait_for(waiter, budget * self.BACKSTOP_FACTOR + self.BACKSTOP_EXTRA_S)
        except asyncio.TimeoutError:
            self._replace(pool, kill=True)  # stuck where the timer cannot reach: start afresh
            raise PoolFailed(over_budget) from None
        except BrokenProcessPool:
            self._replace(pool)
            raise PoolFailed("The offline reviewer's process stopped unexpectedly; run it again.") from None
        except _OverBudget:  # the timer fired just as the call returned
            raise PoolFailed(over_budget) from None
        except asyncio.CancelledError:
            future.cancel()  # not started yet: never starts; running: ends within its budget
            raise
        if not finished:
            raise PoolFailed(over_budget)
        return result

    def _replace(self, pool: ProcessPoolExecutor, kill: bool = False) -> None:
        if self._pool is pool:
            self._pool = None
        if kill:
            for process in list(getattr(pool, "_processes", {}).values()):
                try:
                    process.kill()
                except Exception:
                    pass
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=False, cancel_futures=True)

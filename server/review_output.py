"""What `redline review` shows: on a terminal a live progress bar (rich) on stderr with a line per
finished section, piped one plain line per event that matters (no ANSI codes); then the round's
summary and the findings on stdout."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redline.server.review_run import Run


class PlainReporter:
    """Piped: one plain line per event that matters, on stderr."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr

    def _say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def start(self) -> None:
        pass

    def review_started(self, name: str, titles: list[str], reviewer: str | None, model: str | None) -> None:
        sections = len(titles)
        who = f" ({reviewer} reviewer{', ' + model if model else ''})" if reviewer else ""
        self._say(f"Reviewing {name}: {sections} sections{who}")

    def section_progress(self, sid: str, fraction: float) -> None:
        pass

    def finding(self, sid: str) -> None:
        pass

    def section_done(self, sid: str, done: int, total: int, title: str, status: str, findings: int,
                     error: str) -> None:
        what = f"{status}, {findings} finding{'s' if findings != 1 else ''}" if status == "done" else status
        self._say(f"[{done}/{total}] {title}: {what}{': ' + error if error else ''}")

    def note(self, text: str, dim: bool = False) -> None:
        self._say(text)

    def stop(self) -> None:
        pass


class RichReporter:
    """On a terminal: one bar for the document, a line per section as it finishes."""

    def __init__(self, starting: str = "Starting Redline…") -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, \
            TimeElapsedColumn

        self.console = Console(stderr=True, highlight=False)
        self.progress = Progress(
            SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[sections]}"), TextColumn("[cyan]{task.fields[findings]} findings"),
            TimeElapsedColumn(), console=self.console, transient=False)
        self.task = self.progress.add_task(starting, total=None, sections="", findings=0)
        self.fractions: dict[str, float] = {}
        self.total = 0
        self.done = 0
        self.findings = 0
        self.width = 0

    def start(self) -> None:
        self.progress.start()

    def review_started(self, name: str, titles: list[str], reviewer: str | None, model: str | None) -> None:
        from rich.markup import escape

        sections = len(titles)
        self.total = sections
        self.done, self.findings, self.fractions = 0, 0, {}  # a round's second analysis starts afresh
        self.width = min(max((len(t) for t in titles), default=0), 48)
        who = f" [dim]({reviewer} reviewer{', ' + model if model else ''})[/]" if reviewer else ""
        self.console.print(f"Reviewing [bold]{escape(name)}[/]: {sections} sections{who}")
        self.progress.update(self.task, description=name[:40], total=max(sections, 1), completed=0,
                             sections=f"0/{sections} sections")

    def _refresh(self) -> None:
        self.progress.update(self.task, completed=sum(self.fractions.values()), findings=self.findings,
                             sections=f"{self.done}/{self.total} sections")

    def section_progress(self, sid: str, fraction: float) -> None:
        self.fractions[sid] = max(self.fractions.get(sid, 0.0), min(fraction, 0.99))
        self._refresh()

    def finding(self, sid: str) -> None:
        self.findings += 1
        self._refresh()

    def section_done(self, sid: str, done: int, total: int, title: str, status: str, findings: int,
                     error: str) -> None:
        from rich.markup import escape

        self.done = done
        self.fractions[sid] = 1.0
        self._refresh()
        mark = "[green]✓[/]" if status == "done" else "[red]✗[/]"
        what = f"[cyan]{findings} finding{'s' if findings != 1 else ''}[/]" if status == "done" else \
            f"[red]{status}[/]{': ' + escape(error) if error else ''}"
        self.console.print(f" {mark} {escape(title.ljust(self.width))}  {what}")

    def note(self, text: str, dim: bool = False) -> None:
        from rich.markup import escape

        self.console.print(f"[dim]{escape(text)}[/]" if dim else escape(text))

    def stop(self) -> None:
        self.progress.stop()


def sections_line(c: dict[str, int]) -> str:
    return f"{c['changed']} changed, {c['added']} added, {c['removed']} removed, {c['unchanged']} unchanged"


def round_summary(r: dict[str, Any]) -> list[str]:
    """The round in two lines (stdout before the findings; stderr too with --json)."""
    return [f"Round {r['version']}: {r['resolved']} resolved, {r['open']} still open, {r['outdated']} outdated, "
            f"{r['new']} new",
            f"Sections: {sections_line(r['sections'])}; {len(r['analyzed'])} analyzed"]


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat[:limit] + ("…" if len(flat) > limit else "")


def print_items(run: Run) -> None:
    titles = {s["id"]: s["title"] for s in run.sections}
    if run.round is not None:  # outdated findings name a section the new version dropped
        titles = {r["id"]: r["title"] for r in run.round["removed_sections"]} | titles
    for item in run.items:
        res = f" ({item['resolution']})" if run.round is not None and item.get("resolution") else ""
        print(f"[{item['risk'].upper():6}] {item['type']:<10} {titles.get(item['section_id'], '')} · "
              f"{item['category']}{res}")
        print(f"    {item['description']}")
        if item.get("quote"):  # on one line: a quote across the author's line breaks would break the layout
            print(f"    > {_one_line(item['quote'])}")
        if item.get("related_quote") and item.get("related_section_id") in titles:
            # a finding across sections: the other place, as the page's "Compare with" shows it
            print(f"    Compare with {titles[item['related_section_id']]}: \"{_one_line(item['related_quote'], 120)}\"")
        if item.get("suggestion"):
            print(f"    Suggestion: {item['suggestion']}")

"""One streamed answer, as the reviewer's call loop feeds it the stream's events.

`_FindingsAnswer` (analysis) scans the structured output's JSON as it streams and yields each
finding the moment its object closes; `_TextAnswer` (chat) coalesces tiny text deltas into chunks
worth an event and keeps the citations. Both record why the answer stopped (`_Answer`: a refusal,
max_tokens), and `_Meter` turns the characters received into a job's Progress.
"""

from __future__ import annotations

import math
import time
from typing import Any

from redline.jobs.models import Finding
from redline.jobs.reviewers.base import Progress
from redline.jobs.reviewers.claude_findings import FindingCheck, strict_json
from redline.jobs.reviewers.streaming import ItemScanner


class _Meter:
    """Progress of one job from the characters received: never goes back, never reaches 1.
    `report=False` keeps the value (for wait messages) without Progress of its own."""

    def __init__(self, expected_chars: float = 2400.0, *, report: bool = True) -> None:
        self.value = 0.0
        self.expected = expected_chars
        self.report = report
        self._said = 0.0

    def received(self, chars: int) -> Progress | None:
        p = 0.05 + 0.9 * (1 - math.exp(-chars / self.expected))
        self.value = max(self.value, min(0.95, p))
        if self.report and self.value - self._said >= 0.02:
            self._said = self.value
            return Progress(round(self.value, 3))
        return None


class _Answer:
    """What every streamed answer records besides its content: why it stopped."""

    stop_reason: str | None = None
    stop_details: Any = None
    chars = 0

    def refusal(self) -> str | None:
        """A person's sentence for a refusal, or None."""
        if self.stop_reason != "refusal":
            return None
        d = self.stop_details
        category = getattr(d, "category", None)
        explanation = getattr(d, "explanation", None)
        why = f" ({category}{': ' + explanation if explanation else ''})" if category or explanation else ""
        return f"Claude declined to review this{why}"


class _FindingsAnswer(_Answer):
    """One streamed analysis answer: the structured output's JSON, scanned as it streams.

    The JSON arrives as `text_delta`s of the answer's text block; thinking blocks (which
    the 5.5 models send first, by default) and anything else are skipped by index."""

    def __init__(self, check: FindingCheck) -> None:
        self.check = check
        self.scanner = ItemScanner("findings")
        self.text_index: int | None = None

    @property
    def chars(self) -> int:  # type: ignore[override]
        return self.scanner.chars

    def start(self, index: int, block: Any) -> None:
        if self.text_index is None and block.type == "text":
            self.text_index = index

    def delta(self, index: int, delta: Any) -> list[Finding]:
        if index != self.text_index or delta.type != "text_delta":
            return []
        out = []
        for raw in self.scanner.feed(delta.text or ""):
            try:
                item = strict_json(raw)
            except ValueError:
                continue  # the whole answer fails the strict parse below
            finding = self.check.accept(item)
            if finding is not None:
                out.append(finding)
        return out

    def finish(self) -> list[Finding]:
        return []

    def problem(self) -> str | None:
        """Why this answer cannot be used as a whole, or None."""
        if self.stop_reason == "max_tokens":
            return "it was cut off at the max_tokens limit"
        if self.text_index is None:
            return "it had no answer text"
        try:
            data = strict_json(self.scanner.text)
        except ValueError:
            return "its JSON was malformed"
        if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
            return "it had no findings list"
        return None


class _TextAnswer(_Answer):
    """One streamed chat answer: tiny SDK deltas coalesced into chunks worth an event, and
    the citations of its text blocks, each with where its claim sits in the answer."""

    def __init__(self, min_chars: int = 40, max_wait_s: float = 0.05) -> None:
        self.min_chars = min_chars
        self.max_wait_s = max_wait_s
        self.chars = 0
        self.sent = False
        self.citations: list[Any] = []
        self._buf: list[str] = []
        self._buf_chars = 0
        self._since = 0.0

    def start(self, index: int, block: Any) -> None:
        pass

    def delta(self, index: int, delta: Any) -> list[str]:
        if delta.type == "citations_delta":
            self.citations.append(delta.citation)
            return []
        if delta.type != "text_delta" or not delta.text:
            return []
        if not self._buf:
            self._since = time.monotonic()
        self._buf.append(delta.text)
        self._buf_chars += len(delta.text)
        self.chars += len(delta.text)
        if self._buf_chars >= self.min_chars or time.monotonic() - self._since >= self.max_wait_s:
            return self.finish()
        return []

    def finish(self) -> list[str]:
        if not self._buf:
            return []
        text = "".join(self._buf)
        self._buf, self._buf_chars = [], 0
        self.sent = True
        return [text]

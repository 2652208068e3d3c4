"""What every reviewer (offline rules, Claude) offers the tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Protocol

from redline.jobs.models import ChatMessage, Citation, Finding, Section


@dataclass(frozen=True)
class AnalysisRequest:
    review_title: str
    section: Section
    outline: list[str]  # section titles, in order
    guidelines: str | None = None
    sections: list[Section] = field(default_factory=list)  # the whole document, in order
    review_date: str | None = None  # the day the document gives itself ("2025-07-28"; see ParsedDocument.date)


@dataclass(frozen=True)
class ChatRequest:
    review_title: str
    question: str
    sections: list[Section]
    history: list[ChatMessage] = field(default_factory=list)
    section: Section | None = None  # the section the reviewer is looking at
    section_items: list[dict[str, Any]] = field(default_factory=list)
    guidelines: str | None = None
    review_date: str | None = None


@dataclass(frozen=True)
class Progress:
    value: float
    message: str | None = None


@dataclass(frozen=True)
class Citations:
    """The quotes of a chat answer, mapped onto sections; yielded once, after the text."""

    items: list[Citation]


@dataclass
class Usage:
    """Tokens of one model call and its cost at list prices, from the usage the API returned;
    yielded by a reviewer after each call. `output_tokens` includes `thinking_tokens`;
    `cache_write_tokens` is the sum of the 5-minute and 1-hour writes."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    thinking_tokens: int = 0
    cost_usd: float = 0.0
    requests: int = 1

    def as_dict(self) -> dict[str, int | float]:
        return dict(self.__dict__)

    def add(self, other: "Usage") -> None:
        for k, v in other.__dict__.items():
            setattr(self, k, getattr(self, k) + v)


class Reviewer(Protocol):
    source: str  # "offline" | "claude"
    model: str | None

    def analyze(self, req: AnalysisRequest) -> AsyncIterator[Finding | Progress | Usage]: ...

    def chat(self, req: ChatRequest) -> AsyncIterator[str | Progress | Usage | Citations]: ...

    async def test(self) -> dict[str, Any]: ...

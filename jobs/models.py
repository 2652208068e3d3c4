"""The review's data: one pydantic model per concept, shared by store, reviewers and export."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

ItemType = Literal["critical", "important", "suggestion"]
Risk = Literal["high", "medium", "low"]
Source = Literal["claude", "offline", "user"]
Decision = Literal["pending", "accepted", "rejected"]
JobKind = Literal["analyze", "chat", "test"]
JobStatus = Literal["queued", "active", "complete", "failed", "cancelled"]
SectionStatus = Literal["idle", "queued", "running", "done", "failed", "cancelled"]

# Fields of an item kept in the review's decisions hash, not with the item (jobs/store.py).
DECISION_FIELDS = frozenset({"decision", "decided_by", "decided_at", "reason"})
# The values of each, for checks and for the Lua scripts (jobs/events.py): spelled only above.
DECISIONS: tuple[str, ...] = get_args(Decision)
JOB_STATUSES: tuple[str, ...] = get_args(JobStatus)
UNFINISHED_JOB_STATUSES: tuple[str, ...] = ("queued", "active")
TERMINAL_JOB_STATUSES: frozenset[str] = frozenset(JOB_STATUSES) - frozenset(UNFINISHED_JOB_STATUSES)


class Finding(BaseModel):
    """What a reviewer (offline rules or Claude) reports about one section."""

    model_config = ConfigDict(extra="ignore")

    type: ItemType
    category: str = Field(min_length=1, max_length=80)
    risk: Risk
    description: str = Field(min_length=1, max_length=4000)
    suggestion: str = Field(default="", max_length=4000)
    quote: str | None = Field(default=None, max_length=4000)
    questions: list[str] = Field(default_factory=list, max_length=10)
    refs: list[str] = Field(default_factory=list, max_length=20)
    confidence: float = Field(default=0.7, ge=0.0, le=1.0)
    # Another section this finding compares this one with (a summary that contradicts the
    # timeline, say), and the exact passage there.
    related_section_id: str | None = Field(default=None, max_length=200)
    related_quote: str | None = Field(default=None, max_length=4000)
    # The text proposed to stand where `quote` stands (only with a quote): a Word tracked change
    # in the export once accepted.
    replacement: str | None = Field(default=None, max_length=4000)


class Item(Finding):
    """A finding as stored and shown: the contract's item, plus a few extra fields."""

    id: str
    section_id: str
    source: Source
    decision: Decision = "pending"
    job_id: str | None = None
    author: str | None = None
    created_at: float = Field(default_factory=time.time)
    # The last decision: who, when (epoch seconds here; ISO 8601 on the wire) and why.
    decided_by: str | None = None
    decided_at: float | None = None
    reason: str | None = Field(default=None, max_length=1000)
    # After a new version of the document: "open", "resolved" or "outdated" (not set yet).
    resolution: Literal["open", "resolved", "outdated"] | None = None
    settled_in: int | None = None  # the version that resolved or outdated it

    @field_validator("decided_at", mode="before")
    @classmethod
    def _epoch(cls, value: object) -> float | None:
        return epoch_of(value)

    @field_serializer("decided_at", when_used="json")
    def _iso(self, value: float | None) -> str | None:
        return iso_time(value)


def iso_time(ts: float | None) -> str | None:
    """Epoch seconds -> ISO 8601 in UTC with milliseconds (None stays None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(float(ts), UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_of(value: object) -> float | None:
    """Epoch seconds from epoch seconds, an ISO 8601 string or a datetime (None stays None)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
    raise ValueError("decided_at must be epoch seconds or an ISO 8601 time")


class Section(BaseModel):
    id: str
    title: str
    index: int
    text: str
    level: int = 1
    # Markdown uploads: formatting over `text` as [start, end, kind, attr] (text[start:end]);
    # `text` stays the plain text that findings quote. See redline.jobs.documents.
    marks: list[tuple[int, int, str, str]] = []
    # After a new version (redline.jobs.versions): what changed since the previous one. Absent
    # (None) on a review's first version.
    change: Literal["unchanged", "changed", "added"] | None = None
    previous_ids: list[str] | None = None  # the previous version's sections this one came from
    previous_title: str | None = None  # its title there, when renamed
    previous_text: str | None = None  # its text there, when the text changed
    moved: bool | None = None  # out of its previous order


class Citation(BaseModel):
    """A quote in a chat answer: `text` is exactly `section.text[start:end]`."""

    section_id: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str


class ChatMessage(BaseModel):
    message_id: str
    role: Literal["user", "assistant"]
    text: str
    citations: list[Citation] = Field(default_factory=list)
    author: str | None = None
    section_id: str | None = None
    created_at: float = Field(default_factory=time.time)


class JobRecord(BaseModel):
    """Redline's own record of a job (SAQ's expires; this one lives with the review)."""

    job_id: str
    review_id: str
    kind: JobKind
    status: JobStatus = "queued"
    progress: float = 0.0
    section_id: str | None = None
    message_id: str | None = None  # chat jobs: the question they answer
    error: str | None = None
    result: dict | None = None
    attempt: int = 0
    created_at: float = Field(default_factory=time.time)

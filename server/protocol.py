"""The websocket protocol, in one module: client messages, server messages, close codes.

See CONTRACT.md ("WebSocket"). Version 1.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from redline.jobs.models import Decision

PROTOCOL_VERSION = 1

CLOSE_GOING_AWAY = 1001
CLOSE_BAD_TOKEN = 4401
CLOSE_NO_REVIEW = 4404
CLOSE_PROTOCOL = 4400
CLOSE_TOO_SLOW = 4408

Ref = Union[str, int, None]


class _Msg(BaseModel):
    model_config = ConfigDict(extra="ignore")
    ref: Ref = Field(default=None)


class Hello(_Msg):
    op: Literal["hello"]
    last_event_id: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=60)


class Analyze(_Msg):
    op: Literal["analyze"]
    sections: list[Annotated[str, Field(max_length=40)]] | None = Field(default=None, max_length=1000)


class Cancel(_Msg):
    op: Literal["cancel"]
    job_id: str | None = Field(default=None, max_length=80)
    all: bool = False


class Chat(_Msg):
    op: Literal["chat"]
    message: str = Field(min_length=1, max_length=4000)
    section_id: str | None = Field(default=None, max_length=40)


class Decide(_Msg):
    """One item (`item_id`) or several at once (`item_ids`, up to 500)."""

    op: Literal["decide"]
    item_id: str | None = Field(default=None, max_length=120)
    item_ids: list[Annotated[str, Field(max_length=120)]] | None = Field(default=None, max_length=500)
    decision: Decision
    # The reviewer's rewrite of the quote (only for an item with a quote; "" deletes it), and why.
    replacement: str | None = Field(default=None, max_length=4000)
    reason: str | None = Field(default=None, max_length=1000)


class Ping(_Msg):
    op: Literal["ping"]


ClientMessage = Annotated[Union[Hello, Analyze, Cancel, Chat, Decide, Ping], Field(discriminator="op")]
_adapter: TypeAdapter[Any] = TypeAdapter(ClientMessage)
OPS = ("hello", "analyze", "cancel", "chat", "decide", "ping")


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, ref: Ref = None) -> None:
        super().__init__(message)
        self.code, self.message, self.ref = code, message, ref


def parse(raw: str | bytes) -> Any:
    """A client frame -> a message model, or ProtocolError with a reply-able ref."""
    if isinstance(raw, bytes):
        raise ProtocolError("binary_frame", "Send JSON text frames, not binary frames.")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ProtocolError("bad_json", "The message is not valid JSON.") from None
    if not isinstance(obj, dict):
        raise ProtocolError("bad_message", "A message must be a JSON object with an \"op\".")
    ref = obj.get("ref")
    if not isinstance(ref, (str, int)) or isinstance(ref, bool):
        ref = None
    op = obj.get("op")
    if op not in OPS:
        raise ProtocolError("unknown_op", f"Unknown op {str(op)[:40]!r}; expected one of {', '.join(OPS)}.", ref)
    try:
        return _adapter.validate_python(obj)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"][1:]) or "message"
        raise ProtocolError("invalid_message", f"Bad {op!r} message: {where}: {err['msg']}.", ref) from None


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


def welcome(recovered: bool, review: dict | None, **extra: Any) -> bytes:
    msg: dict[str, Any] = {"type": "welcome", "protocol": PROTOCOL_VERSION, "recovered": recovered, **extra}
    if review is not None:
        msg["review"] = review
    return dumps(msg)


def reply_ok(ref: Ref, data: dict[str, Any] | None = None) -> bytes:
    return dumps({"type": "reply", "ref": ref, "ok": True, "data": data or {}})


def reply_error(ref: Ref, code: str, message: str) -> bytes:
    return dumps({"type": "reply", "ref": ref, "ok": False, "error": {"code": code, "message": message}})


def presence(viewers: list[dict[str, Any]]) -> bytes:
    return dumps({"type": "presence", "viewers": viewers})


def status(state: str, message: str) -> bytes:
    """Service state notices: "degraded" (Redis unreachable) and "ok"."""
    return dumps({"type": "status", "state": state, "message": message})

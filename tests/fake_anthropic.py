"""A local fake of the Anthropic Messages API, reached by the REAL ``anthropic`` SDK.

Point the SDK at it with ``base_url=fake.url`` (or env ``ANTHROPIC_BASE_URL``, see
:meth:`FakeAnthropic.env`).  It is a tiny HTTP/1.1 server written on plain ``asyncio``
streams (no extra dependency), bound to 127.0.0.1 on a free port.  It is as strict as the
real API (API version 2026-10-21, the one anthropic 2.17 sends) for the rules listed below,
which come from /work/shared/CLAUDE-API.md; the per-model part is the ``MODEL_RULES`` table
in this file (deliberately independent of the product's own table in jobs/).

Endpoints
    POST /v1/messages               non-streaming JSON, or ``"stream": true`` -> SSE in the
                                    real wire format (message_start, content_block_start,
                                    ping, content_block_delta {text_delta | input_json_delta |
                                    thinking_delta | signature_delta | citations_delta},
                                    content_block_stop, message_delta, message_stop, error)
    POST /v1/messages/count_tokens  ``{"input_tokens": N}`` (chars/4 estimate)
    GET  /v1/models[/{id}]          ModelInfo objects

Two ways to run it
    ``with FakeAnthropic() as fake:``        own thread + own event loop.  Works from sync
                                             tests, async tests (any loop, uvloop too) and
                                             for subprocesses (pass ``env=fake.env()``).
    ``async with FakeAnthropic() as fake:``  served by the *current* event loop.  Only for
                                             async clients: anything that blocks the loop
                                             (sync SDK client, time.sleep, subprocess.run)
                                             deadlocks it.

Constructor: ``FakeAnthropic(default=None, api_key=None, known_models=None,
max_concurrency=None, concurrency_retry_after_ms=10, validate=True, strict=True,
context_window=1_000_000, model_rules=None, ping=True, host="127.0.0.1", port=0,
on_first_token=None)``.

Request rules (``strict=True``, the default; every refusal is HTTP 400
``{"type":"error","error":{"type":"invalid_request_error","message":...}}`` and is kept in
``record.rejected``; a rejected request does not consume a scripted reply)
    validate   model / max_tokens / messages missing (count_tokens: model / messages).
               This one is switched by ``validate=``; all the others by ``strict=``.
    1  tool_choice ``{"type":"any"}`` / ``{"type":"tool",...}`` on a model whose rules say
       ``forced_tool_choice=False`` (claude-sonnet-5-5, claude-opus-5-5), also on
       count_tokens.  "auto" / "none" are fine everywhere.
    2  ``temperature`` / ``top_p`` / ``top_k`` present, at any value, on every model.
    3  assistant prefill (last message role "assistant") where ``prefill=False`` (the four
       5.x models).
    4  thinking: type must be adaptive | between_tools | disabled | enabled.
       ``enabled`` (budget_tokens) -> 400 where ``thinking_budget=False`` (the four 5.x
       models; elsewhere budget_tokens must be >= 1024 and < max_tokens).  ``disabled`` ->
       400 where ``thinking_disabled="never"`` (sonnet-5-5, opus-5-5: the message points to
       between_tools), and at effort xhigh/max where it is "effort<=high" (haiku-5-5).
       ``between_tools`` -> 400 at effort xhigh/max or with any extra key (display,
       budget_tokens, block_binding).  ``adaptive``: display summarized | omitted
       ("updates" only with the anthropic-beta ``thinking-display-updates-2026-08-18``).
    5  output_config: only ``effort`` (low|medium|high|xhigh|max) and ``format``
       (``{"type":"json_schema","schema":{...}}``).  The schema is walked (properties,
       items, prefixItems, anyOf/oneOf/allOf, $defs, local $refs): every object schema
       needs ``additionalProperties: false``; minimum, maximum, exclusiveMinimum,
       exclusiveMaximum, multipleOf, minLength, maxLength, maxItems, minItems other than
       0/1, external ``$ref`` (not starting with "#") and recursive $refs -> 400.
       ``format`` together with documents that have citations enabled -> 400.
    6  citations: enabled on all documents or none; a text block carrying ``citations``
       in a user message, or a document block in an assistant message -> 400.
    7  max_tokens: an integer >= 0 and <= the model's ``max_output_tokens`` (128000).
    8  prompt caching: at most 4 cache_control breakpoints (a top-level ``cache_control``
       counts as one); type "ephemeral", ttl "5m" | "1h"; a ttl "1h" breakpoint after a
       "5m" one (order tools, system, messages) -> 400; a top-level ttl that differs from
       the one already on the last block -> 400.
    9  context: estimated input tokens > ``context_window`` -> "prompt is too long: N
       tokens > M maximum"; input + max_tokens > ``context_window`` -> the same message
       with N = input + max_tokens.
    Unknown models get ``DEFAULT_RULES``: everything above that is per-model is allowed.
    ``check_request(body, ...)`` applies the same rules to a dict (no server needed).

Scripting
    fake.script(Text("hi"), ToolUse("record", {...}), Error.rate_limited(retry_after_ms=5))
        queue of replies, consumed in order by the next accepted POST /v1/messages.
    fake.default = Text("...") | responder
        used when the queue is empty.  A responder is ``callable(body: dict) -> Reply``;
        queued entries may be responders too.  ``prompt_text(body)`` helps to quote the
        prompt back.  The built-in ``default_responder``: ``output_config.format`` ->
        ``Json(minimal_instance(schema))`` (objects with their required properties, arrays
        empty, strings "", numbers 0, booleans false, nullable -> null, enum -> first
        value); a tool_choice naming a tool -> that tool with ``{}``; else a short text.

Reply kinds (all dataclasses; ``latency`` = seconds before the status line, i.e. TTFB).
Every content reply also takes ``usage=None`` (overrides reported usage fields),
``model=None``, ``thinking_tokens=64`` and ``thinking_summary=None`` (see Thinking).
    Text(text, chunk_size=20, delay_per_chunk=0.0, latency=0.0, stop_reason="end_turn",
         citations=None)
        ``citations`` is a list of parts, plain ``str`` and ``Cite(text, document_index,
        start, end)``; the answer is ``text`` (if non-empty) followed by the parts.  Plain
        parts are text blocks; each Cite is its own text block carrying one citation:
        ``char_location`` (cited_text = data[start:end]) for a ``{"type":"text"}`` document
        source, ``content_block_location`` (start/end_block_index) for a
        ``{"type":"content"}`` source, ``page_location`` otherwise.  ``document_index``
        counts document blocks across the request's messages, in order.  Streamed as
        content_block_start ``{"type":"text","text":"","citations":[]}``, one
        ``citations_delta``, then text_deltas.
    ContextExceeded(text="", ...)   a Text ending with stop_reason
        "model_context_window_exceeded" (``Text(..., stop_reason=...)`` works too).
    Json(value, chunk_size=20, ...)   ``json.dumps(value)`` as text_delta chunks of one text
        block (a plain text block non-streaming), stop_reason "end_turn".
    Refusal(category="general_harms", explanation=..., text="", ...)   HTTP 200,
        stop_reason "refusal", ``stop_details {"type":"refusal", category, explanation}``
        in message_delta (stream) / on the message (non-stream); ``text`` = partial answer.
    ToolUse(name, input, chunk_size=20, delay_per_chunk=0.0, latency=0.0, id=None)
        the JSON of ``input`` is streamed as input_json_delta chunks of ``chunk_size``
        characters, after one leading empty ``partial_json: ""`` delta as the real API sends.
    MalformedToolJson(text, name=None, ...)
        streams ``text`` verbatim as the tool input.  Non-streaming: ``text`` is put raw in
        the JSON body in place of the input object (so the body is not valid JSON unless
        ``text`` is).
    Error(status, type, message, headers={})     real shape ``{"type":"error","error":{...}}``
        helpers: Error.rate_limited(), .overloaded(**headers), .auth(), .bad_request(),
        .not_found(), .api_error().  ``headers={"x-should-retry": "false"}`` stops the SDK's
        retries, "true" forces them.
    MidStreamError(after_chunks, inner, error_type="overloaded_error", message="Overloaded")
        streams ``after_chunks`` content deltas of ``inner`` then ``event: error`` and ends
        the body cleanly.  Non-streaming: answered as an HTTP error (529 for overloaded).
    Stall(after_chunks, inner, seconds, then="continue")
        streams ``after_chunks`` deltas then sends nothing for ``seconds`` (connection kept
        open), then continues (``then="continue"``) or closes the connection ("close").
        Non-streaming: waits ``seconds`` before the status line.
    Drop(after_chunks, inner)
        streams ``after_chunks`` deltas then closes the TCP connection mid-body.
    Wrappers nest: Stall(1, MidStreamError(3, Text(...)), 0.5) stalls then errors.
    A "chunk" is one non-empty text_delta or input_json_delta of the answer (thinking,
    signature and citations deltas do not count, get no ``delay_per_chunk`` and do not set
    ``first_token_at``).  ``after_chunks=0`` triggers right after message_start / the first
    content_block_start / ping.

Thinking
    On a model with ``thinking_by_default`` (the four 5.x models) when ``thinking`` is
    absent or adaptive, and on any model with thinking adaptive/enabled, every answer
    starts with a thinking block at index 0 and the answer's blocks follow at 1...  Display
    "omitted" (the default on the 5.x models): ``{"type":"thinking","thinking":"",
    "signature":"<opaque>"}``, streamed as content_block_start, one signature_delta,
    content_block_stop.  Display "summarized": thinking_delta(s) with ``thinking_summary``
    (or a stock sentence) before the signature_delta.  between_tools / disabled: no
    thinking block.  Thinking costs ``thinking_tokens`` output tokens: ``output_tokens``
    includes them and usage carries ``output_tokens_details: {"thinking_tokens": N}``.  If
    ``max_tokens`` < thinking + answer tokens the answer is cut at what fits (4 chars per
    token; a cut tool input is partial JSON) and stop_reason is "max_tokens";
    ``max_tokens=0`` (cache pre-warm) answers no content at all.

Recording (``fake.requests``: list[RecordedRequest], every request, in arrival order)
    method, path, query, headers (lower-cased), body (bytes), json, stream, reply,
    status, received_at, first_byte_at, first_token_at, finished_at, disconnected_at,
    completed, cache_control (every cache_control marker seen, with where/block),
    usage (what was reported), responder_error, rejected (the 400 message of a rule).
    All ``*_at`` values are ``time.monotonic()`` (system-wide on Linux, so they compare
    with the test process and with subprocesses); ``wall_time`` is ``time.time()``.
    ``disconnected_at`` is set when the client closes the connection while its response
    is still being produced (latency, stall, streaming); a normal end never sets it.
    Concurrency: ``fake.in_flight``, ``fake.max_in_flight``; rate: ``fake.timestamps()``,
    ``fake.max_requests_in_window(seconds)``.  Time to first token: each record's
    ``time_to_first_token`` (first answer delta minus arrival), ``fake.ttft_samples()``,
    and the ``fake.on_first_token(record)`` hook (called on the server thread).
    ``fake.hook_errors`` collects exceptions raised by responders/hooks (the client got a
    500 api_error).  Waiting: ``fake.wait_until(pred)`` / ``fake.wait_for_requests(n)`` from
    sync code, ``await fake.await_until(pred)`` from async code.  ``fake.reset()`` clears
    requests, script, prompt cache and counters; ``fake.clear_cache()`` only the cache.

Usage simulation: input tokens are estimated at 4 characters per token.  Prompt caching is
simulated per model: a prefix ending at a breakpoint (a block's ``cache_control``, or the
last block for a top-level ``cache_control``) is "written" (``cache_creation_input_tokens``,
split in ``cache_creation.ephemeral_5m/1h_input_tokens`` by the ttl of the breakpoint that
wrote each part) and "read" (``cache_read_input_tokens``) by later requests that repeat it,
looking back up to 20 blocks before each breakpoint; ``input_tokens`` counts the rest.  A
prefix shorter than the model's ``min_cache_tokens`` (512 on the 5.5 models, 1024 elsewhere)
is not cached at all.  The cache key covers the model and ``output_config.format``; the
messages part also covers tool_choice, thinking and effort (changing them misses).  An
entry becomes readable only once the response that wrote it has started (message_start
sent / non-stream answer sent): a request arriving before that writes it again.  Entries
never expire.  A reply's ``usage={...}`` overrides any reported field.

Optional server behaviour: ``api_key="k"`` -> 401 authentication_error for any other
key; ``known_models={...}`` -> 404 not_found_error for other model ids;
``max_concurrency=N`` -> 429 rate_limit_error (with ``retry-after-ms``) for requests over N
in flight; ``strict=False`` -> none of the request rules above (for tests of odd shapes);
``model_rules={id: ModelRules(...)}`` -> add or replace rows of ``MODEL_RULES`` for this
instance.

``python -m tests.fake_anthropic [--port P]`` (or ``python tests/fake_anthropic.py``)
serves the default replies and prints its URL on the first line.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import http
import itertools
import json
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional, Union
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "FakeAnthropic",
    "RecordedRequest",
    "Text",
    "Cite",
    "Json",
    "Refusal",
    "ContextExceeded",
    "ToolUse",
    "MalformedToolJson",
    "Error",
    "MidStreamError",
    "Stall",
    "Drop",
    "Reply",
    "Responder",
    "ModelRules",
    "MODEL_RULES",
    "DEFAULT_RULES",
    "API_VERSION",
    "EFFORTS",
    "rules_for",
    "check_request",
    "schema_problem",
    "minimal_instance",
    "default_responder",
    "prompt_text",
    "estimate_tokens",
]


# --------------------------------------------------------------------------- per-model rules


@dataclass(frozen=True)
class ModelRules:
    """What one model accepts.  The defaults (``DEFAULT_RULES``) allow everything that is per-model."""

    forced_tool_choice: bool = True  # tool_choice {"type": "any"} / {"type": "tool"} accepted
    prefill: bool = True  # a final assistant turn accepted
    thinking_budget: bool = True  # thinking {"type": "enabled", "budget_tokens": N} accepted
    thinking_disabled: str = "always"  # thinking {"type": "disabled"}: "always" | "never" | "effort<=high"
    thinking_by_default: bool = False  # no `thinking` field -> adaptive thinking (a thinking block first)
    default_display: str = "omitted"  # thinking display when the request names none
    min_cache_tokens: int = 1024  # shorter cached prefixes are silently not cached
    max_output_tokens: int = 128_000
    source: str = ""


_DOCS = "CLAUDE-API.md §2, §4 (D:models/{}/migration-guide, overview)"

# Written from /work/shared/CLAUDE-API.md (checked 2026-12).  Not imported from jobs/: the fake
# must be able to disagree with the product.
MODEL_RULES: dict[str, ModelRules] = {
    "claude-sonnet-5-5": ModelRules(
        forced_tool_choice=False, prefill=False, thinking_budget=False, thinking_disabled="never",
        thinking_by_default=True, min_cache_tokens=512, source=_DOCS.format("sonnet-5-5"),
    ),
    "claude-opus-5-5": ModelRules(
        forced_tool_choice=False, prefill=False, thinking_budget=False, thinking_disabled="never",
        thinking_by_default=True, min_cache_tokens=512, source=_DOCS.format("opus-5-5"),
    ),
    # forced tool_choice: "not listed as breaking" for Haiku 5.5 (unconfirmed) -> kept allowed.
    "claude-haiku-5-5": ModelRules(
        forced_tool_choice=True, prefill=False, thinking_budget=False, thinking_disabled="effort<=high",
        thinking_by_default=True, min_cache_tokens=512, source=_DOCS.format("haiku-5-5"),
    ),
    "claude-sonnet-5": ModelRules(
        forced_tool_choice=True, prefill=False, thinking_budget=False, thinking_disabled="always",
        thinking_by_default=True, min_cache_tokens=1024, source=_DOCS.format("sonnet-5"),
    ),
}
DEFAULT_RULES = ModelRules(source="any other model: per-model rules not enforced")

API_VERSION = "2026-10-21"  # what anthropic 2.17 sends (anthropic/_constants.py)
EFFORTS = ("low", "medium", "high", "xhigh", "max")
THINKING_TYPES = ("adaptive", "between_tools", "disabled", "enabled")
SAMPLING_PARAMS = ("temperature", "top_p", "top_k")
TOOL_CHOICE_TYPES = ("auto", "any", "tool", "none")
UNSUPPORTED_SCHEMA_KEYWORDS = (
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "maxItems",
)
MAX_CACHE_BREAKPOINTS = 4
CACHE_LOOKBACK_BLOCKS = 20
CACHE_TTLS = ("5m", "1h")
DEFAULT_CONTEXT_WINDOW = 1_000_000
THINKING_UPDATES_BETA = "thinking-display-updates-2026-08-18"
REFUSAL_CATEGORIES = ("cyber", "bio", "frontier_llm", "reasoning_extraction", "general_harms")


def rules_for(model: Optional[str], table: Optional[Mapping[str, ModelRules]] = None) -> ModelRules:
    """The rules row for ``model`` (``DEFAULT_RULES`` for a model the table does not list)."""
    return (MODEL_RULES if table is None else table).get(str(model or ""), DEFAULT_RULES)


# --------------------------------------------------------------------------- replies


@dataclass
class Cite:
    """One cited part of a ``Text(citations=[...])`` answer: ``text`` is what the model says;
    ``start``/``end`` index the document's characters (text source) or content blocks."""

    text: str
    document_index: int
    start: int
    end: int


@dataclass
class Text:
    text: str
    chunk_size: int = 20
    delay_per_chunk: float = 0.0
    latency: float = 0.0
    stop_reason: str = "end_turn"
    usage: Optional[dict] = None
    model: Optional[str] = None
    citations: Optional[list] = None  # parts: str | Cite
    thinking_tokens: int = 64
    thinking_summary: Optional[str] = None


@dataclass
class ContextExceeded(Text):
    text: str = ""
    stop_reason: str = "model_context_window_exceeded"


@dataclass
class Json:
    value: Any
    chunk_size: int = 20
    delay_per_chunk: float = 0.0
    latency: float = 0.0
    stop_reason: str = "end_turn"
    usage: Optional[dict] = None
    model: Optional[str] = None
    thinking_tokens: int = 64
    thinking_summary: Optional[str] = None


@dataclass
class Refusal:
    category: Optional[str] = "general_harms"
    explanation: Optional[str] = "This request was declined because it could relate to a harmful area."
    text: str = ""  # any partial answer streamed before the refusal
    chunk_size: int = 20
    delay_per_chunk: float = 0.0
    latency: float = 0.0
    usage: Optional[dict] = None
    model: Optional[str] = None
    thinking_tokens: int = 64
    thinking_summary: Optional[str] = None

    @property
    def stop_reason(self) -> str:
        return "refusal"

    @property
    def stop_details(self) -> dict:
        return {"type": "refusal", "category": self.category, "explanation": self.explanation}


@dataclass
class ToolUse:
    name: str
    input: dict
    chunk_size: int = 20
    delay_per_chunk: float = 0.0
    latency: float = 0.0
    id: Optional[str] = None
    stop_reason: str = "tool_use"
    usage: Optional[dict] = None
    model: Optional[str] = None
    thinking_tokens: int = 64
    thinking_summary: Optional[str] = None


@dataclass
class MalformedToolJson:
    text: str
    name: Optional[str] = None  # default: forced tool_choice name, else first tool, else "tool"
    chunk_size: int = 20
    delay_per_chunk: float = 0.0
    latency: float = 0.0
    id: Optional[str] = None
    stop_reason: str = "tool_use"
    usage: Optional[dict] = None
    model: Optional[str] = None
    thinking_tokens: int = 64
    thinking_summary: Optional[str] = None


@dataclass
class Error:
    status: int
    type: str
    message: str = ""
    headers: dict = field(default_factory=dict)
    latency: float = 0.0

    @classmethod
    def rate_limited(
        cls, retry_after_ms: Optional[float] = None, retry_after: Optional[float] = None, message: str = "Rate limited"
    ) -> "Error":
        headers: dict = {}
        if retry_after_ms is not None:
            headers["retry-after-ms"] = _num(retry_after_ms)
        if retry_after is not None:
            headers["retry-after"] = _num(retry_after)
        return cls(429, "rate_limit_error", message, headers)

    @classmethod
    def overloaded(cls, message: str = "Overloaded", **headers: str) -> "Error":
        return cls(529, "overloaded_error", message, dict(headers))

    @classmethod
    def auth(cls, message: str = "invalid x-api-key") -> "Error":
        return cls(401, "authentication_error", message)

    @classmethod
    def bad_request(cls, message: str = "invalid request") -> "Error":
        return cls(400, "invalid_request_error", message)

    @classmethod
    def not_found(cls, message: str = "not found") -> "Error":
        return cls(404, "not_found_error", message)

    @classmethod
    def api_error(cls, message: str = "Internal server error") -> "Error":
        return cls(500, "api_error", message)


Content = Union[Text, Json, Refusal, ToolUse, MalformedToolJson]
_CONTENT_TYPES = (Text, Json, Refusal, ToolUse, MalformedToolJson)


@dataclass
class MidStreamError:
    after_chunks: int
    inner: Any  # Content or another wrapper
    error_type: str = "overloaded_error"
    message: str = "Overloaded"


@dataclass
class Stall:
    after_chunks: int
    inner: Any
    seconds: float
    then: str = "continue"  # "continue" | "close"


@dataclass
class Drop:
    after_chunks: int
    inner: Any


Reply = Union[Text, Json, Refusal, ToolUse, MalformedToolJson, Error, MidStreamError, Stall, Drop]
Responder = Callable[[dict], Reply]
_REPLY_TYPES = _CONTENT_TYPES + (Error, MidStreamError, Stall, Drop)


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


# --------------------------------------------------------------------------- helpers


def estimate_tokens(text: str) -> int:
    """The fake's tokenizer: ~4 characters per token, at least 1 for non-empty text."""
    return math.ceil(len(text) / 4) if text else 0


def _blocks_text(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    for block in content or []:
        if isinstance(block, dict):
            if block.get("type") == "text":
                out.append(block.get("text", ""))
            elif block.get("type") == "tool_result":
                out.extend(_blocks_text(block.get("content")))
            elif block.get("type") == "document":
                src = block.get("source") or {}
                if src.get("type") == "text":
                    out.append(src.get("data", ""))
                elif src.get("type") == "content":
                    out.extend(_blocks_text(src.get("content")))
    return out


def prompt_text(body: dict, *, roles: Iterable[str] = ("user",), system: bool = True) -> str:
    """All text of the prompt: system (if ``system``) then the messages of ``roles``."""
    parts: list[str] = []
    if system and body.get("system"):
        parts.extend(_blocks_text(body["system"]))
    for msg in body.get("messages") or []:
        if isinstance(msg, dict) and msg.get("role") in roles:
            parts.extend(_blocks_text(msg.get("content")))
    return "\n".join(parts)


def _resolve_ref(root: Any, ref: str) -> Any:
    """A local JSON pointer (``#``, ``#/$defs/X``) inside ``root``; None when it does not resolve."""
    if ref == "#":
        return root
    if not ref.startswith("#/"):
        return None
    node = root
    for raw in ref[2:].split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node


def minimal_instance(schema: Any, _root: Any = None, _depth: int = 0) -> Any:
    """The smallest value that fits a JSON schema: objects with their required properties,
    arrays empty (one item for minItems 1), strings "", numbers 0, booleans false,
    nullable -> null, enum -> first value, const -> the constant."""
    root = schema if _root is None else _root
    if not isinstance(schema, dict) or _depth > 64:
        return None
    if isinstance(schema.get("$ref"), str):
        return minimal_instance(_resolve_ref(root, schema["$ref"]), root, _depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        variants = schema.get(key)
        if isinstance(variants, list) and variants:
            if any(isinstance(v, dict) and v.get("type") == "null" for v in variants):
                return None
            return minimal_instance(variants[0], root, _depth + 1)
    all_of = schema.get("allOf")
    if isinstance(all_of, list) and all_of:
        merged: dict = {"type": "object", "properties": {}, "required": []}
        for part in all_of:
            part = _resolve_ref(root, part["$ref"]) if isinstance(part, dict) and "$ref" in part else part
            if not isinstance(part, dict):
                continue
            if part.get("type") not in (None, "object"):
                return minimal_instance(part, root, _depth + 1)
            merged["properties"].update(part.get("properties") or {})
            merged["required"] += [r for r in part.get("required") or [] if r not in merged["required"]]
        return minimal_instance(merged, root, _depth + 1)
    typ = schema.get("type")
    if isinstance(typ, list):
        if "null" in typ:
            return None
        typ = typ[0] if typ else None
    if typ == "object" or (typ is None and "properties" in schema):
        props = schema.get("properties") or {}
        return {k: minimal_instance(props.get(k, {}), root, _depth + 1) for k in schema.get("required") or []}
    if typ == "array":
        n = 1 if schema.get("minItems") == 1 else 0
        return [minimal_instance(schema.get("items") or {}, root, _depth + 1) for _ in range(n)]
    return {"string": "", "integer": 0, "number": 0, "boolean": False}.get(typ)


def default_responder(body: dict) -> Reply:
    """``output_config.format`` -> a minimal instance of the schema as ``Json``; a tool_choice
    naming a tool -> that tool with ``{}``; otherwise a short text."""
    oc = body.get("output_config")
    fmt = oc.get("format") if isinstance(oc, dict) else None
    if isinstance(fmt, dict) and isinstance(fmt.get("schema"), dict):
        return Json(minimal_instance(fmt["schema"]))
    tc = body.get("tool_choice") or {}
    if tc.get("type") == "tool" and tc.get("name"):
        return ToolUse(tc["name"], {})
    return Text("Hello from the fake Anthropic API.")


# --------------------------------------------------------------------------- request rules


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _segments(body: dict, markers: Optional[list] = None) -> list:
    """``(where, hash_text, tokens, cache_control)`` per prompt block in cache order: tools,
    system, messages.  ``markers`` (if given) collects every cache_control seen."""
    segs: list = []

    def add(where: str, block: Any, extra: str = "") -> None:
        cc = block.get("cache_control") if isinstance(block, dict) else None
        clean = {k: v for k, v in block.items() if k != "cache_control"} if isinstance(block, dict) else block
        text = _dumps(clean)
        tokens = estimate_tokens("".join(_blocks_text([clean])) or text)
        segs.append((where, extra + text, tokens, cc))
        if cc is not None and markers is not None:
            markers.append({"where": where, "cache_control": cc, "block": block})

    for i, tool in enumerate(body.get("tools") or []):
        add(f"tools[{i}]", tool)
    system = body.get("system")
    if isinstance(system, str):
        add("system", {"type": "text", "text": system})
    elif isinstance(system, list):
        for i, blk in enumerate(system):
            add(f"system[{i}]", blk)
    for m, msg in enumerate(body.get("messages") or []):
        content = msg.get("content") if isinstance(msg, dict) else None
        role = str(msg.get("role")) if isinstance(msg, dict) else ""
        if isinstance(content, str):
            add(f"messages[{m}].content", {"type": "text", "text": content}, role + ":")
        elif isinstance(content, list):
            for b, blk in enumerate(content):
                add(f"messages[{m}].content[{b}]", blk, role + ":" if b == 0 else "")
    if isinstance(body.get("cache_control"), dict) and markers is not None:
        markers.append({"where": "request", "cache_control": body["cache_control"], "block": None})
    return segs


def _documents(body: dict) -> list:
    """Document blocks across the request's messages, in order (what ``document_index`` counts)."""
    docs = []
    for msg in body.get("messages") or []:
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, list):
            docs.extend(b for b in content if isinstance(b, dict) and b.get("type") == "document")
    return docs


def _citations_enabled(doc: dict) -> bool:
    c = doc.get("citations")
    return isinstance(c, dict) and bool(c.get("enabled"))


def schema_problem(schema: Any) -> Optional[str]:
    """Why a structured-output JSON schema would be refused (path-prefixed), or None."""
    root = schema
    done: set = set()

    def visit(node: Any, path: str, stack: tuple) -> Optional[str]:
        if not isinstance(node, dict):
            return None
        ref = node.get("$ref")
        if ref is not None:
            if not isinstance(ref, str) or not ref.startswith("#"):
                return f"{path}: external $ref {ref!r} is not supported; only local references ('#/...') are"
            if ref in stack:
                return f"{path}: recursive schemas are not supported ($ref {ref!r} refers back to itself)"
            target = _resolve_ref(root, ref)
            if target is None:
                return f"{path}: $ref {ref!r} does not resolve"
            if ref not in done:
                problem = visit(target, "." + ref[2:].replace("/", "."), stack + (ref,))
                if problem:
                    return problem
                done.add(ref)
        typ = node.get("type")
        types = typ if isinstance(typ, list) else [typ]
        shown = "/".join(str(t) for t in types if t) or "untyped"
        if "object" in types and node.get("additionalProperties") is not False:
            return f"{path}: For 'object' type, 'additionalProperties' must be explicitly set to false"
        for kw in UNSUPPORTED_SCHEMA_KEYWORDS:
            if kw in node:
                return f"{path}: For '{shown}' type, property '{kw}' is not supported"
        if "minItems" in node and node["minItems"] not in (0, 1):
            return f"{path}: For 'array' type, 'minItems' values other than 0 or 1 are not supported"
        children: list = []
        props = node.get("properties")
        if isinstance(props, dict):
            children += [(v, f"{path}.properties.{k}") for k, v in props.items()]
        items = node.get("items")
        if isinstance(items, dict):
            children.append((items, f"{path}.items"))
        elif isinstance(items, list):
            children += [(v, f"{path}.items[{i}]") for i, v in enumerate(items)]
        for key in ("prefixItems", "anyOf", "oneOf", "allOf"):
            if isinstance(node.get(key), list):
                children += [(v, f"{path}.{key}[{i}]") for i, v in enumerate(node[key])]
        for key in ("not", "additionalProperties"):
            if isinstance(node.get(key), dict):
                children.append((node[key], f"{path}.{key}"))
        for child, child_path in children:
            problem = visit(child, child_path, stack)
            if problem:
                return problem
        for key in ("$defs", "definitions"):
            if isinstance(node.get(key), dict):
                for name, sub in node[key].items():
                    ref_name = f"#/{key}/{name}" if node is root else None
                    problem = visit(sub, f"{path}.{key}.{name}", stack + ((ref_name,) if ref_name else ()))
                    if problem:
                        return problem
        return None

    problem = visit(schema, "", ())
    return f"schema{problem}" if problem else None


def check_request(
    body: Any,
    *,
    endpoint: str = "messages",
    headers: Optional[Mapping[str, str]] = None,
    model_rules: Optional[Mapping[str, ModelRules]] = None,
    context_window: int = DEFAULT_CONTEXT_WINDOW,
) -> Optional[str]:
    """The message of the first request rule ``body`` breaks (see the module docstring), or None.
    ``endpoint`` is "messages" or "count_tokens" (no max_tokens, prefill or context checks)."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    headers = headers or {}
    messages_ep = endpoint == "messages"
    model = str(body.get("model") or "")
    rules = rules_for(model, model_rules)
    messages = body.get("messages") if isinstance(body.get("messages"), list) else []
    version = headers.get("anthropic-version") or API_VERSION
    betas = {b.strip() for b in str(headers.get("anthropic-beta") or "").split(",")}

    # 7. max_tokens
    max_tokens = body.get("max_tokens")
    if messages_ep and "max_tokens" in body:
        if not _is_int(max_tokens):
            return "max_tokens: Input should be a valid integer"
        if max_tokens < 0:
            return "max_tokens: Input should be greater than or equal to 0"
        if max_tokens > rules.max_output_tokens:
            return (
                f"max_tokens: {max_tokens} > {rules.max_output_tokens}, which is the maximum allowed number "
                f"of output tokens for {model}"
            )

    # 2. sampling parameters
    for name in SAMPLING_PARAMS:
        if name in body:
            return (
                f"`{name}` is not supported with anthropic-version {version}: sampling parameters "
                f"(temperature, top_p, top_k) are rejected at any value. Use output_config.effort instead."
            )

    # 5. output_config (first: the thinking rules read its effort)
    oc = body.get("output_config")
    effort = None
    fmt = None
    if oc is not None:
        if not isinstance(oc, dict):
            return "output_config: Input should be a valid dictionary"
        for key in oc:
            if key not in ("effort", "format"):
                return f"output_config.{key}: Extra inputs are not permitted"
        effort = oc.get("effort")
        if effort is not None and effort not in EFFORTS:
            return "output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'"
        fmt = oc.get("format")
        if fmt is not None:
            if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
                return "output_config.format.type: Input should be 'json_schema'"
            if not isinstance(fmt.get("schema"), dict):
                return "output_config.format.schema: Field required (a JSON schema object)"
            problem = schema_problem(fmt["schema"])
            if problem:
                return f"output_config.format.{problem}"

    # 1. tool_choice
    tc = body.get("tool_choice")
    if tc is not None:
        tc_type = tc.get("type") if isinstance(tc, dict) else None
        if tc_type not in TOOL_CHOICE_TYPES:
            return "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'"
        if tc_type == "tool" and not tc.get("name"):
            return "tool_choice.tool.name: Field required"
        if tc_type in ("any", "tool") and not rules.forced_tool_choice:
            return (
                f'tool_choice.type "{tc_type}" is not supported for {model}: this model cannot be forced to use '
                f'a tool. Use tool_choice {{"type": "auto"}} (with a strict tool and a prompt that says when to '
                f"call it) or output_config.format for structured output."
            )

    # 3. prefill
    if messages_ep and messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "assistant":
        if not rules.prefill:
            return (
                "This model does not support assistant message prefill. The conversation must end with a "
                "user message."
            )

    # 4. thinking
    thinking = body.get("thinking")
    if thinking is not None:
        t_type = thinking.get("type") if isinstance(thinking, dict) else None
        if t_type not in THINKING_TYPES:
            return "thinking.type: Input should be 'adaptive', 'between_tools', 'disabled' or 'enabled'"
        extra = [k for k in thinking if k != "type"]
        if t_type == "enabled":
            if not rules.thinking_budget:
                return (
                    '"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" and '
                    '"output_config.effort" to control thinking behavior.'
                )
            budget = thinking.get("budget_tokens")
            if not _is_int(budget):
                return "thinking.enabled.budget_tokens: Field required"
            if budget < 1024:
                return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
            if messages_ep and _is_int(max_tokens) and budget >= max_tokens:
                return "`max_tokens` must be greater than `thinking.budget_tokens`."
        elif t_type == "disabled":
            if rules.thinking_disabled == "never":
                return (
                    '"thinking.type.disabled" is not supported for this model. To turn off up-front thinking, '
                    'send "thinking": {"type": "between_tools"} (at effort high or lower); to think less, lower '
                    '"output_config.effort".'
                )
            if rules.thinking_disabled == "effort<=high" and effort in ("xhigh", "max"):
                return (
                    f'"thinking.type.disabled" is not supported at effort "{effort}" for this model. Use effort '
                    f'"high" or lower, or adaptive thinking.'
                )
            if extra:
                return f"thinking.disabled.{extra[0]}: Extra inputs are not permitted"
        elif t_type == "between_tools":
            if extra:
                return f"thinking.between_tools.{extra[0]}: Extra inputs are not permitted"
            if effort in ("xhigh", "max"):
                return (
                    f'"thinking.type.between_tools" is not supported at effort "{effort}". To run at xhigh or '
                    f'max, use adaptive thinking (omit "thinking" or send {{"type": "adaptive"}}).'
                )
        else:  # adaptive
            for key in extra:
                if key != "display":
                    return f"thinking.adaptive.{key}: Extra inputs are not permitted"
            display = thinking.get("display")
            if display not in (None, "summarized", "omitted") and not (
                display == "updates" and THINKING_UPDATES_BETA in betas
            ):
                return "thinking.adaptive.display: Input should be 'summarized' or 'omitted'"

    # 6. citations
    docs = []
    for m, msg in enumerate(messages):
        if not isinstance(msg, dict) or not isinstance(msg.get("content"), list):
            continue
        for b, blk in enumerate(msg["content"]):
            if not isinstance(blk, dict):
                continue
            if blk.get("type") == "document":
                if msg.get("role") == "assistant":
                    return (
                        f"messages.{m}.content.{b}: document blocks are not accepted in assistant messages "
                        f"(anthropic-version {version})"
                    )
                docs.append(blk)
            elif blk.get("type") == "text" and msg.get("role") == "user" and blk.get("citations"):
                return (
                    f"messages.{m}.content.{b}: text blocks with citations are not accepted in user messages "
                    f"(anthropic-version {version}); send assistant turns back as they came"
                )
    enabled = [_citations_enabled(d) for d in docs]
    if any(enabled) and not all(enabled):
        return (
            f"Citations must be enabled on all documents or on none of them: {sum(enabled)} of {len(enabled)} "
            f"documents have citations enabled."
        )
    if any(enabled) and fmt is not None:
        return (
            "Citations are not supported together with structured outputs (output_config.format). Disable "
            "citations on the documents or remove output_config.format."
        )

    # 8. prompt caching
    markers: list = []
    segs = _segments(body, markers)
    for mk in markers:
        cc = mk["cache_control"]
        if not isinstance(cc, dict) or cc.get("type") != "ephemeral":
            return f"{mk['where']}.cache_control.type: Input should be 'ephemeral'"
        if cc.get("ttl") is not None and cc.get("ttl") not in CACHE_TTLS:
            return f"{mk['where']}.cache_control.ttl: Input should be '5m' or '1h'"
    if len(markers) > MAX_CACHE_BREAKPOINTS:
        return f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found {len(markers)}."
    seen_5m = None
    for mk in markers:
        ttl = mk["cache_control"].get("ttl") or "5m"
        if ttl == "5m":
            seen_5m = seen_5m or mk["where"]
        elif seen_5m is not None:
            return (
                f"A cache_control block with ttl='1h' ({mk['where']}) cannot come after one with ttl='5m' "
                f"({seen_5m}). Blocks are processed in the order tools, system, messages; longer TTLs must "
                f"come first."
            )
    top = body.get("cache_control")
    if isinstance(top, dict) and segs and isinstance(segs[-1][3], dict):
        mine, theirs = top.get("ttl") or "5m", segs[-1][3].get("ttl") or "5m"
        if mine != theirs:
            return (
                f"The top-level cache_control (ttl='{mine}') conflicts with the cache_control (ttl='{theirs}') "
                f"already on the last cacheable block."
            )

    # 9. context window
    if messages_ep:
        prompt = sum(tokens for _, _, tokens, _ in segs)
        if prompt > context_window:
            return f"prompt is too long: {prompt} tokens > {context_window} maximum"
        if _is_int(max_tokens) and prompt + max_tokens > context_window:
            return f"prompt is too long: {prompt + max_tokens} tokens > {context_window} maximum"
    return None


# --------------------------------------------------------------------------- recording


@dataclass
class RecordedRequest:
    index: int
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    json: Any
    received_at: float  # time.monotonic()
    wall_time: float  # time.time()
    stream: bool = False
    reply: Any = None
    status: Optional[int] = None
    first_byte_at: Optional[float] = None
    first_token_at: Optional[float] = None
    finished_at: Optional[float] = None
    disconnected_at: Optional[float] = None
    completed: bool = False
    cache_control: list = field(default_factory=list)
    usage: Optional[dict] = None
    responder_error: Optional[BaseException] = None
    rejected: Optional[str] = None  # the 400 message when a request rule refused it

    @property
    def model(self) -> Optional[str]:
        return self.json.get("model") if isinstance(self.json, dict) else None

    @property
    def api_key(self) -> Optional[str]:
        if "x-api-key" in self.headers:
            return self.headers["x-api-key"]
        auth = self.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None

    @property
    def time_to_first_byte(self) -> Optional[float]:
        return None if self.first_byte_at is None else self.first_byte_at - self.received_at

    @property
    def time_to_first_token(self) -> Optional[float]:
        return None if self.first_token_at is None else self.first_token_at - self.received_at

    @property
    def duration(self) -> Optional[float]:
        return None if self.finished_at is None else self.finished_at - self.received_at


# --------------------------------------------------------------------------- plumbing


class _ClientGone(Exception):
    pass


class _CloseConnection(Exception):
    pass


class _BadHTTP(Exception):
    pass


class _Conn:
    """One client connection: buffered reads, writes, and disconnect watching."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buf = bytearray()
        self.gone = asyncio.Event()
        self.rec: Optional[RecordedRequest] = None
        self._watch: Optional[asyncio.Task] = None

    async def _fill(self) -> bool:
        data = await self.reader.read(65536)
        if not data:
            return False
        self.buf += data
        return True

    async def read_head(self) -> Optional[tuple[str, str, dict]]:
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                break
            if len(self.buf) > 1 << 16:
                raise _BadHTTP("header too large")
            if not await self._fill():
                if self.buf:
                    raise _BadHTTP("truncated header")
                return None
        head = bytes(self.buf[:i]).decode("latin-1")
        del self.buf[: i + 4]
        lines = head.split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError as e:
            raise _BadHTTP(lines[0]) from e
        headers: dict = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        return method.upper(), target, headers

    async def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not await self._fill():
                raise _BadHTTP("truncated body")
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    async def _read_line(self) -> bytes:
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[: i + 2]
                return line
            if not await self._fill():
                raise _BadHTTP("truncated chunk")

    async def read_body(self, headers: dict) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts = []
            while True:
                size = int((await self._read_line()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while await self._read_line():
                        pass
                    return b"".join(parts)
                parts.append(await self._read_exact(size))
                await self._read_exact(2)
        return await self._read_exact(int(headers.get("content-length") or 0))

    # -- disconnect watching (only while a response is being produced)
    def start_watch(self, rec: RecordedRequest) -> None:
        self.rec = rec
        self.gone = asyncio.Event()
        self._watch = asyncio.ensure_future(self._watch_loop())

    async def _watch_loop(self) -> None:
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                self.buf += data  # a client may legally send more; keep it for the parser
        except (ConnectionError, OSError):
            pass
        self.mark_gone()

    async def stop_watch(self) -> None:
        task, self._watch = self._watch, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.rec = None

    def mark_gone(self) -> None:
        if self.gone.is_set():
            return
        now = time.monotonic()
        self.gone.set()
        rec = self.rec
        if rec is not None and not rec.completed and rec.disconnected_at is None:
            rec.disconnected_at = now

    async def write(self, data: bytes) -> None:
        if self.gone.is_set():
            raise _ClientGone()
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionError, OSError) as e:
            self.mark_gone()
            raise _ClientGone() from e

    async def sleep(self, seconds: float) -> None:
        """Sleep, but give up as soon as the client goes away."""
        if self.gone.is_set():
            raise _ClientGone()
        if seconds <= 0:
            return
        try:
            await asyncio.wait_for(self.gone.wait(), seconds)
        except (asyncio.TimeoutError, TimeoutError):
            return
        raise _ClientGone()


def _reason(status: int) -> str:
    if status == 529:
        return "Overloaded"
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


@dataclass
class _Block:
    start: dict  # content_block for content_block_start
    deltas: list  # delta dicts (text / input_json / thinking / signature / citations)
    final: Any  # content block for the non-streaming body (dict)


@dataclass
class _Plan:
    blocks: list
    stop_reason: str
    output_tokens: int
    latency: float
    delay_per_chunk: float
    model: str
    usage_override: Optional[dict]
    interrupts: list  # (after_chunks, wrapper) sorted
    thinking_tokens: int = 0
    stop_details: Optional[dict] = None
    usage: Optional[dict] = None  # set by the cache lookup when the request is accepted
    cache_commit: list = field(default_factory=list)  # (prefix key, ttl) written once the answer starts


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _counts(delta: dict) -> bool:
    """Is this delta a "chunk" (a non-empty piece of the answer)?"""
    if delta.get("type") == "text_delta":
        return bool(delta.get("text"))
    if delta.get("type") == "input_json_delta":
        return bool(delta.get("partial_json"))
    return False


def _partial_json(raw: str) -> Any:
    """Best-effort parse of a cut JSON text (what a non-streaming cut tool input holds)."""
    try:
        from jiter import from_json  # a dependency of the anthropic SDK

        value = from_json(raw.encode(), partial_mode=True)  # as the SDK's stream helper does
    except Exception:
        return {}
    return value if isinstance(value, dict) else {}


# --------------------------------------------------------------------------- server


class FakeAnthropic:
    def __init__(
        self,
        *,
        default: Union[Reply, Responder, None] = None,
        api_key: Optional[str] = None,
        known_models: Optional[Iterable[str]] = None,
        max_concurrency: Optional[int] = None,
        concurrency_retry_after_ms: float = 10,
        validate: bool = True,
        strict: bool = True,
        context_window: int = DEFAULT_CONTEXT_WINDOW,
        model_rules: Optional[Mapping[str, ModelRules]] = None,
        ping: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        on_first_token: Optional[Callable[[RecordedRequest], None]] = None,
    ) -> None:
        self.default: Union[Reply, Responder] = default if default is not None else default_responder
        self.api_key = api_key
        self.known_models = set(known_models) if known_models is not None else None
        self.max_concurrency = max_concurrency
        self.concurrency_retry_after_ms = concurrency_retry_after_ms
        self.validate = validate
        self.strict = strict
        self.context_window = context_window
        self.model_rules: dict[str, ModelRules] = {**MODEL_RULES, **(model_rules or {})}
        self.ping = ping
        self.host = host
        self.port = port
        self.on_first_token = on_first_token
        self.url: str = ""
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.hook_errors: list[BaseException] = []
        self._queue: list = []
        self._lock = threading.RLock()
        self._cache: dict = {}  # prefix key -> {"ttl", "written_at"}
        self._ids = itertools.count(1)
        self._server: Optional[asyncio.AbstractServer] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._conn_tasks: set = set()

    # ------------------------------------------------------------------ scripting
    def script(self, *replies: Union[Reply, Responder]) -> "FakeAnthropic":
        """Append replies; each POST /v1/messages consumes the next one."""
        with self._lock:
            self._queue.extend(replies)
        return self

    def clear_script(self) -> None:
        with self._lock:
            self._queue.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def reset(self) -> None:
        """Forget requests, script, prompt cache and concurrency counters."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self._cache.clear()
            self.max_in_flight = self.in_flight
            self.hook_errors.clear()

    def clear_cache(self) -> None:
        """Forget every prompt-cache entry (as if they had all expired)."""
        with self._lock:
            self._cache.clear()

    # ------------------------------------------------------------------ queries
    @property
    def message_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == "/v1/messages"]

    def timestamps(self, path: str = "/v1/messages") -> list[float]:
        with self._lock:
            return [r.received_at for r in self.requests if path is None or r.path == path]

    def max_requests_in_window(self, seconds: float, path: str = "/v1/messages") -> int:
        """Most requests that arrived within any sliding window of ``seconds``."""
        ts = sorted(self.timestamps(path))
        best, j = 0, 0
        for i, t in enumerate(ts):
            while t - ts[j] > seconds:
                j += 1
            best = max(best, i - j + 1)
        return best

    def ttft_samples(self) -> list[float]:
        with self._lock:
            return [r.time_to_first_token for r in self.requests if r.time_to_first_token is not None]

    def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.005) -> Any:
        """Poll ``predicate`` (from a sync test or thread) until truthy; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s")
            time.sleep(interval)

    async def await_until(self, predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.005) -> Any:
        """Async variant of :meth:`wait_until` (does not block the loop)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s")
            await asyncio.sleep(interval)

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        self.wait_until(lambda: len(self.requests) >= n, timeout)
        return list(self.requests)

    def env(self, api_key: Optional[str] = None) -> dict:
        """Environment for a subprocess using the SDK: ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY."""
        return {"ANTHROPIC_BASE_URL": self.url, "ANTHROPIC_API_KEY": api_key or self.api_key or "test"}

    # ------------------------------------------------------------------ lifecycle (threaded)
    def start(self) -> "FakeAnthropic":
        """Serve from a background thread with its own event loop."""
        if self._thread is not None or self._server is not None:
            return self
        ready = threading.Event()
        failure: list = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._open())
            except BaseException as e:  # pragma: no cover - bind failure
                failure.append(e)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                with contextlib.suppress(Exception):
                    loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="fake-anthropic", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            self._thread, self._loop = None, None
            raise failure[0]
        return self

    def stop(self) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._thread, self._loop = None, None

    def __enter__(self) -> "FakeAnthropic":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ lifecycle (in-loop)
    async def astart(self) -> "FakeAnthropic":
        """Serve from the running event loop (async clients only)."""
        await self._open()
        return self

    async def astop(self) -> None:
        await self._close()

    async def __aenter__(self) -> "FakeAnthropic":
        return await self.astart()

    async def __aexit__(self, *exc: Any) -> None:
        await self.astop()

    async def _open(self) -> None:
        self._server = await asyncio.start_server(self._handle_conn, self.host, self.port, reuse_address=True)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://{self.host}:{port}"

    async def _close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._conn_tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)

    # ------------------------------------------------------------------ connection handling
    async def _handle_conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._conn_tasks.add(task)
        conn = _Conn(reader, writer)
        try:
            while True:
                head = await conn.read_head()
                if head is None:
                    return
                method, target, headers = head
                body = await conn.read_body(headers)
                keep_alive = headers.get("connection", "").lower() != "close"
                rec = self._record(method, target, headers, body)
                self._enter()
                conn.start_watch(rec)
                try:
                    keep_alive = await self._dispatch(conn, rec) and keep_alive
                except (_ClientGone, _CloseConnection):
                    keep_alive = False
                except Exception as e:  # a bug in the fake or a test hook: report it, answer 500
                    self.hook_errors.append(e)
                    keep_alive = False
                    if rec.status is None:
                        with contextlib.suppress(Exception):
                            await self._send_error(conn, rec, Error.api_error(f"fake server error: {e!r}"))
                finally:
                    rec.finished_at = rec.finished_at or time.monotonic()
                    await conn.stop_watch()
                    self._leave()
                if not keep_alive or conn.gone.is_set():
                    return
        except (_BadHTTP, ConnectionError, OSError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            # Only _close() cancels these; end quietly (asyncio's stream callback would
            # otherwise log the cancelled task's "exception").
            return
        finally:
            self._conn_tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    def _record(self, method: str, target: str, headers: dict, body: bytes) -> RecordedRequest:
        parts = urlsplit(target)
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        with self._lock:
            rec = RecordedRequest(
                index=len(self.requests),
                method=method,
                path=parts.path,
                query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                headers=headers,
                body=body,
                json=parsed,
                received_at=time.monotonic(),
                wall_time=time.time(),
                stream=bool(isinstance(parsed, dict) and parsed.get("stream")),
            )
            self.requests.append(rec)
        return rec

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    # ------------------------------------------------------------------ routing
    async def _dispatch(self, conn: _Conn, rec: RecordedRequest) -> bool:
        path = rec.path.rstrip("/")
        if path.startswith("/v1/"):
            if self.api_key is not None and rec.api_key != self.api_key:
                return await self._send_error(conn, rec, Error.auth())
            if path == "/v1/messages" and rec.method == "POST":
                return await self._messages(conn, rec)
            if path == "/v1/messages/count_tokens" and rec.method == "POST":
                return await self._count_tokens(conn, rec)
            if path == "/v1/models" and rec.method == "GET":
                data = [self._model_info(m) for m in sorted(self.known_models or {"claude-sonnet-5-5"})]
                return await self._send_json(
                    conn, rec, 200, {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
                )
            if path.startswith("/v1/models/") and rec.method == "GET":
                model = path[len("/v1/models/") :]
                if self.known_models is not None and model not in self.known_models:
                    return await self._send_error(conn, rec, Error.not_found(f"model: {model}"))
                return await self._send_json(conn, rec, 200, self._model_info(model))
        return await self._send_error(conn, rec, Error.not_found(f"Not found: {rec.method} {rec.path}"))

    @staticmethod
    def _model_info(model: str) -> dict:
        return {
            "type": "model",
            "id": model,
            "display_name": model,
            "created_at": "2025-01-01T00:00:00Z",
            "lifecycle": "active",
        }


    def rules_for(self, model: Optional[str]) -> ModelRules:
        """This instance's rules row for ``model`` (``MODEL_RULES`` + the ``model_rules`` argument)."""
        return rules_for(model, self.model_rules)

    @staticmethod
    def _validation_error(body: Any, required: Iterable[str] = ("model", "max_tokens", "messages")) -> Optional[str]:
        if not isinstance(body, dict):
            return "request body must be a JSON object"
        for key in required:
            if key not in body:
                return f"{key}: Field required"
        if not isinstance(body["messages"], list) or not body["messages"]:
            return "messages: at least one message is required"
        return None

    async def _reject(self, conn: _Conn, rec: RecordedRequest, problem: str) -> bool:
        rec.rejected = problem
        return await self._send_error(conn, rec, Error.bad_request(problem))

    def _problem(self, rec: RecordedRequest, body: dict, endpoint: str) -> Optional[str]:
        if not self.strict:
            return None
        return check_request(
            body,
            endpoint=endpoint,
            headers=rec.headers,
            model_rules=self.model_rules,
            context_window=self.context_window,
        )

    async def _count_tokens(self, conn: _Conn, rec: RecordedRequest) -> bool:
        if self.validate:
            problem = self._validation_error(rec.json, ("model", "messages"))
            if problem:
                return await self._reject(conn, rec, problem)
        body = rec.json if isinstance(rec.json, dict) else {}
        if self.known_models is not None and body.get("model") not in self.known_models:
            return await self._send_error(conn, rec, Error.not_found(f"model: {body.get('model')}"))
        problem = self._problem(rec, body, "count_tokens")
        if problem:
            return await self._reject(conn, rec, problem)
        total = sum(tokens for _, _, tokens, _ in _segments(body))
        return await self._send_json(conn, rec, 200, {"input_tokens": max(1, total)})

    async def _messages(self, conn: _Conn, rec: RecordedRequest) -> bool:
        if self.validate:
            problem = self._validation_error(rec.json)
            if problem:
                return await self._reject(conn, rec, problem)
        body = rec.json if isinstance(rec.json, dict) else {}
        if self.known_models is not None and body.get("model") not in self.known_models:
            return await self._send_error(conn, rec, Error.not_found(f"model: {body.get('model')}"))
        problem = self._problem(rec, body, "messages")
        if problem:
            return await self._reject(conn, rec, problem)
        if self.max_concurrency is not None and self.in_flight > self.max_concurrency:
            err = Error.rate_limited(retry_after_ms=self.concurrency_retry_after_ms, message="Too many concurrent requests")
            rec.reply = err
            return await self._send_error(conn, rec, err)

        reply = self._next_reply(rec)
        rec.reply = reply
        if isinstance(reply, Error):
            await conn.sleep(reply.latency)
            return await self._send_error(conn, rec, reply)
        plan = self._plan(reply, body)
        self._cache_lookup(body, rec, plan)  # on arrival: entries of answers not started yet are not readable
        if rec.stream:
            return await self._stream(conn, rec, plan, body)
        return await self._non_stream(conn, rec, plan, body)

    def _next_reply(self, rec: RecordedRequest) -> Reply:
        with self._lock:
            item = self._queue.pop(0) if self._queue else self.default
        try:
            while callable(item) and not isinstance(item, type):
                item = item(rec.json)
            if not isinstance(item, _REPLY_TYPES):
                raise TypeError(f"responder returned {item!r}, not a Reply")
            return item
        except Exception as e:  # surfaced to the client as a 500 api_error, kept for the test
            rec.responder_error = e
            self.hook_errors.append(e)
            return Error.api_error(f"fake responder failed: {e!r}")

    # ------------------------------------------------------------------ reply planning
    @staticmethod
    def _thinking_mode(body: dict, rules: ModelRules) -> tuple[bool, str]:
        """(does the answer start with a thinking block, display)."""
        t = body.get("thinking")
        if not isinstance(t, dict):
            return rules.thinking_by_default, rules.default_display
        if t.get("type") in ("adaptive", "enabled"):
            default = rules.default_display if rules.thinking_by_default else "summarized"
            return True, str(t.get("display") or default)
        return False, rules.default_display

    @staticmethod
    def _citation(cite: Cite, docs: list) -> dict:
        idx = cite.document_index
        if not 0 <= idx < len(docs):
            raise ValueError(f"Cite(document_index={idx}) but the request has {len(docs)} document block(s)")
        doc = docs[idx]
        if not _citations_enabled(doc):
            raise ValueError(f"Cite(document_index={idx}) but that document does not have citations enabled")
        src = doc.get("source") or {}
        title = doc.get("title")
        if src.get("type") == "text":
            data = str(src.get("data") or "")
            return {
                "type": "char_location",
                "cited_text": data[cite.start : cite.end],
                "document_index": idx,
                "document_title": title,
                "start_char_index": cite.start,
                "end_char_index": cite.end,
            }
        if src.get("type") == "content":
            content = src.get("content")
            items = [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])
            return {
                "type": "content_block_location",
                "cited_text": "".join(_blocks_text(items[cite.start : cite.end])),
                "document_index": idx,
                "document_title": title,
                "start_block_index": cite.start,
                "end_block_index": cite.end,
            }
        return {
            "type": "page_location",
            "cited_text": "",
            "document_index": idx,
            "document_title": title,
            "start_page_number": cite.start,
            "end_page_number": cite.end,
        }

    def _answer_parts(self, reply: Any, body: dict) -> list[dict]:
        """The answer as parts: {"kind": "text", "text", "citation"} | {"kind": "tool", "name", "raw", "input", "id"}."""
        if isinstance(reply, Json):
            return [{"kind": "text", "text": json.dumps(reply.value), "citation": None}]
        if isinstance(reply, Refusal):
            return [{"kind": "text", "text": reply.text, "citation": None}] if reply.text else []
        if isinstance(reply, Text):
            if reply.citations is None:
                return [{"kind": "text", "text": reply.text, "citation": None}]
            docs = _documents(body)
            parts: list[dict] = []
            for part in ([reply.text] if reply.text else []) + list(reply.citations):
                if isinstance(part, Cite):
                    parts.append({"kind": "text", "text": part.text, "citation": self._citation(part, docs)})
                elif isinstance(part, str):
                    if parts and parts[-1]["citation"] is None:
                        parts[-1]["text"] += part
                    else:
                        parts.append({"kind": "text", "text": part, "citation": None})
                else:
                    raise TypeError(f"Text.citations parts must be str or Cite, not {part!r}")
            return parts
        tool_id = reply.id or f"toolu_fake{uuid.uuid4().hex[:20]}"
        if isinstance(reply, ToolUse):
            return [{"kind": "tool", "name": reply.name, "raw": _dumps(reply.input), "input": reply.input, "id": tool_id}]
        return [{"kind": "tool", "name": reply.name or self._tool_name(body), "raw": reply.text, "input": None, "id": tool_id}]

    def _plan(self, reply: Any, body: dict) -> _Plan:
        interrupts = []
        while isinstance(reply, (MidStreamError, Stall, Drop)):
            interrupts.append((reply.after_chunks, reply))
            reply = reply.inner
        interrupts.sort(key=lambda x: x[0])
        if not isinstance(reply, _CONTENT_TYPES):
            raise TypeError(f"cannot stream {reply!r}")
        model = str(body.get("model") or "")
        thinks, display = self._thinking_mode(body, self.rules_for(model))
        size = max(1, int(reply.chunk_size))
        max_tokens = body.get("max_tokens")
        limit = max_tokens if _is_int(max_tokens) and max_tokens >= 0 else None
        thinking_tokens = max(0, int(reply.thinking_tokens)) if thinks else 0
        if limit is not None:
            thinking_tokens = min(thinking_tokens, limit)

        parts = self._answer_parts(reply, body)
        truncated = False
        if limit is not None:
            left = (limit - thinking_tokens) * 4  # characters of answer that fit
            kept = []
            for part in parts:
                key = "text" if part["kind"] == "text" else "raw"
                if len(part[key]) <= left:
                    kept.append(part)
                    left -= len(part[key])
                    continue
                truncated = True
                if left > 0:
                    cut = dict(part, **{key: part[key][:left]})
                    if part["kind"] == "tool":
                        cut["input"], cut["cut"] = _partial_json(cut["raw"]), True
                    kept.append(cut)
                break
            parts = kept
        answer_chars = sum(len(p["text"] if p["kind"] == "text" else p["raw"]) for p in parts)
        output_tokens = thinking_tokens + math.ceil(answer_chars / 4)
        if limit != 0:
            output_tokens = max(1, output_tokens)

        blocks: list[_Block] = []
        if thinks and limit != 0:
            summary = (reply.thinking_summary or "Considering the request and how best to answer it.") if display == "summarized" else ""
            signature = base64.b64encode(hashlib.sha256(f"{model}:{uuid.uuid4()}".encode()).digest() * 3).decode()
            blocks.append(
                _Block(
                    start={"type": "thinking", "thinking": "", "signature": ""},
                    deltas=[{"type": "thinking_delta", "thinking": p} for p in _chunks(summary, size)]
                    + [{"type": "signature_delta", "signature": signature}],
                    final={"type": "thinking", "thinking": summary, "signature": signature},
                )
            )
        for part in parts:
            if part["kind"] == "text":
                start = {"type": "text", "text": ""}
                final = {"type": "text", "text": part["text"]}
                deltas = []
                if part["citation"] is not None:
                    start["citations"] = []
                    final["citations"] = [part["citation"]]
                    deltas.append({"type": "citations_delta", "citation": part["citation"]})
                deltas += [{"type": "text_delta", "text": p} for p in _chunks(part["text"], size)]
                blocks.append(_Block(start=start, deltas=deltas, final=final))
            else:
                final = {"type": "tool_use", "id": part["id"], "name": part["name"]}
                if part["input"] is not None:
                    final["input"] = part["input"]
                else:  # MalformedToolJson: the raw text goes into the body verbatim
                    final["__raw_input__"] = part["raw"]
                blocks.append(
                    _Block(
                        start={"type": "tool_use", "id": part["id"], "name": part["name"], "input": {}},
                        deltas=[{"type": "input_json_delta", "partial_json": ""}]
                        + [{"type": "input_json_delta", "partial_json": p} for p in _chunks(part["raw"], size)],
                        final=final,
                    )
                )
        stop_reason = "max_tokens" if truncated or limit == 0 else reply.stop_reason
        stop_details = reply.stop_details if isinstance(reply, Refusal) and stop_reason == "refusal" else None
        return _Plan(
            blocks=blocks,
            stop_reason=stop_reason,
            output_tokens=output_tokens,
            latency=reply.latency,
            delay_per_chunk=reply.delay_per_chunk,
            model=reply.model or model or "claude-fake",
            usage_override=reply.usage,
            interrupts=interrupts,
            thinking_tokens=thinking_tokens,
            stop_details=stop_details,
        )

    @staticmethod
    def _tool_name(body: dict) -> str:
        tc = body.get("tool_choice") or {}
        if tc.get("type") == "tool" and tc.get("name"):
            return tc["name"]
        tools = body.get("tools") or []
        if tools and isinstance(tools[0], dict) and tools[0].get("name"):
            return tools[0]["name"]
        return "tool"

    # ------------------------------------------------------------------ usage / prompt cache
    def _cache_lookup(self, body: dict, rec: RecordedRequest, plan: _Plan) -> None:
        """Compute the usage of an accepted request against the cache as it is now, and what
        it will write (``plan.cache_commit``, committed when its answer starts)."""
        markers: list = []
        segs = _segments(body, markers)
        rec.cache_control = markers
        rules = self.rules_for(body.get("model"))
        oc = body.get("output_config") if isinstance(body.get("output_config"), dict) else {}
        h = hashlib.sha256(_dumps({"model": body.get("model"), "format": oc.get("format")}).encode())
        config = _dumps({"tool_choice": body.get("tool_choice"), "thinking": body.get("thinking"), "effort": oc.get("effort")})
        keys: list[str] = []
        through: list[int] = []
        running = 0
        in_messages = False
        for where, text, tokens, _ in segs:
            if where.startswith("messages") and not in_messages:
                in_messages = True
                h.update(b"\x01" + config.encode())  # tool_choice / thinking / effort: the messages part only
            h.update(text.encode())
            h.update(b"\x00")
            running += tokens
            keys.append(h.hexdigest())
            through.append(running)
        breakpoints = [(i, seg[3].get("ttl") or "5m") for i, seg in enumerate(segs) if isinstance(seg[3], dict)]
        top = body.get("cache_control")
        if isinstance(top, dict) and segs and (not breakpoints or breakpoints[-1][0] != len(segs) - 1):
            breakpoints.append((len(segs) - 1, top.get("ttl") or "5m"))
        cacheable = [(i, ttl) for i, ttl in breakpoints if through[i] >= rules.min_cache_tokens]
        hit = 0
        creation = {"5m": 0, "1h": 0}
        with self._lock:
            for i, _ in cacheable:
                for j in range(i, max(-1, i - CACHE_LOOKBACK_BLOCKS - 1), -1):
                    if keys[j] in self._cache:
                        hit = max(hit, through[j])
                        break
        written = hit
        for i, ttl in cacheable:
            if through[i] > written:
                creation[ttl if ttl in creation else "5m"] += through[i] - written
                written = through[i]
        total = max(1, running)
        created = creation["5m"] + creation["1h"]
        usage = {
            "input_tokens": max(0, total - hit - created),
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": hit,
            "cache_creation": {"ephemeral_5m_input_tokens": creation["5m"], "ephemeral_1h_input_tokens": creation["1h"]},
            "output_tokens": plan.output_tokens,
            "output_tokens_details": {"thinking_tokens": plan.thinking_tokens},
            "service_tier": "standard",
        }
        if plan.usage_override:
            usage.update(plan.usage_override)
        rec.usage = plan.usage = usage
        plan.cache_commit = [(keys[i], ttl) for i, ttl in cacheable]

    def _commit_cache(self, plan: _Plan) -> None:
        with self._lock:
            for key, ttl in plan.cache_commit:
                self._cache[key] = {"ttl": ttl, "written_at": time.monotonic()}
        plan.cache_commit = []

    # ------------------------------------------------------------------ responses
    def _base_headers(self, rec: RecordedRequest) -> list:
        return [("request-id", f"req_fake{rec.index:06d}{uuid.uuid4().hex[:8]}"), ("server", "fake-anthropic")]

    async def _send_raw(
        self, conn: _Conn, rec: RecordedRequest, status: int, payload: bytes, content_type: str, extra: Iterable = ()
    ) -> bool:
        headers = [("content-type", content_type), ("content-length", str(len(payload)))]
        headers += self._base_headers(rec) + [(str(k).lower(), str(v)) for k, v in extra]
        head = f"HTTP/1.1 {status} {_reason(status)}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        await self._final_write(conn, rec, head.encode("latin-1") + payload, status)
        return True

    @staticmethod
    async def _final_write(conn: _Conn, rec: RecordedRequest, data: bytes, status: Optional[int] = None) -> None:
        """Write the last bytes of a response.  The record is marked finished *before* the
        write, so a client that has seen the whole response always sees a finished record."""
        now = time.monotonic()
        if status is not None:
            rec.status = status
        rec.first_byte_at = rec.first_byte_at or now
        rec.completed, rec.finished_at = True, now
        try:
            await conn.write(data)
        except _ClientGone:
            rec.completed, rec.finished_at = False, None
            rec.disconnected_at = rec.disconnected_at or time.monotonic()
            raise

    async def _send_json(self, conn: _Conn, rec: RecordedRequest, status: int, obj: Any, extra: Iterable = ()) -> bool:
        return await self._send_raw(conn, rec, status, _dumps(obj).encode(), "application/json", extra)

    async def _send_error(self, conn: _Conn, rec: RecordedRequest, err: Error) -> bool:
        rec.reply = rec.reply or err
        payload = {
            "type": "error",
            "error": {"type": err.type, "message": err.message},
            "request_id": f"req_fake{rec.index:06d}",
        }
        return await self._send_json(conn, rec, err.status, payload, err.headers.items())

    def _message(self, plan: _Plan, usage: dict, content: list, stop_reason: Optional[str], stop_details: Optional[dict]) -> dict:
        return {
            "id": f"msg_fake{next(self._ids):06d}{uuid.uuid4().hex[:12]}",
            "type": "message",
            "role": "assistant",
            "model": plan.model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "stop_details": stop_details,
            "usage": usage,
        }

    async def _non_stream(self, conn: _Conn, rec: RecordedRequest, plan: _Plan, body: dict) -> bool:
        await conn.sleep(plan.latency)
        for _, wrapper in plan.interrupts:
            if isinstance(wrapper, Stall):
                await conn.sleep(wrapper.seconds)
                if wrapper.then == "close":
                    raise _CloseConnection()
            elif isinstance(wrapper, MidStreamError):
                status = _ERROR_STATUS.get(wrapper.error_type, 500)
                return await self._send_error(conn, rec, Error(status, wrapper.error_type, wrapper.message))
            elif isinstance(wrapper, Drop):
                raise _CloseConnection()
        usage = plan.usage or {}
        content = []
        raw_inputs = {}
        for block in plan.blocks:
            if isinstance(block.final, dict) and "__raw_input__" in block.final:
                marker = f"__fake_raw_input_{uuid.uuid4().hex}__"
                raw_inputs[marker] = block.final["__raw_input__"]
                final = {k: v for k, v in block.final.items() if k != "__raw_input__"}
                final["input"] = marker
                content.append(final)
            else:
                content.append(block.final)
        text = _dumps(self._message(plan, usage, content, plan.stop_reason, plan.stop_details))
        for marker, raw in raw_inputs.items():
            text = text.replace(_dumps(marker), raw)
        rec.first_token_at = time.monotonic()
        self._first_token_hook(rec)
        self._commit_cache(plan)  # the answer is being sent: its cache entries become readable
        return await self._send_raw(conn, rec, 200, text.encode(), "application/json")

    def _first_token_hook(self, rec: RecordedRequest) -> None:
        if self.on_first_token is not None:
            try:
                self.on_first_token(rec)
            except Exception as e:
                self.hook_errors.append(e)

    async def _stream(self, conn: _Conn, rec: RecordedRequest, plan: _Plan, body: dict) -> bool:
        await conn.sleep(plan.latency)
        usage = plan.usage or {}
        headers = [
            ("content-type", "text/event-stream; charset=utf-8"),
            ("cache-control", "no-cache"),
            ("transfer-encoding", "chunked"),
        ] + self._base_headers(rec)
        head = "HTTP/1.1 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        rec.status = 200
        rec.first_byte_at = time.monotonic()
        await conn.write(head.encode("latin-1"))

        def frame(name: str, data: dict) -> bytes:
            payload = f"event: {name}\ndata: {_dumps(data)}\n\n".encode()
            return f"{len(payload):x}\r\n".encode() + payload + b"\r\n"

        async def event(name: str, data: dict) -> None:
            await conn.write(frame(name, data))

        start_usage = dict(usage)
        start_usage["output_tokens"] = min(1, usage.get("output_tokens", 0))
        if "output_tokens_details" in start_usage:
            start_usage["output_tokens_details"] = {"thinking_tokens": 0}
        self._commit_cache(plan)  # message_start goes out now: its cache entries become readable
        await event("message_start", {"type": "message_start", "message": self._message(plan, start_usage, [], None, None)})

        pending = list(plan.interrupts)
        sent = 0

        async def interrupts(force: bool = False) -> None:
            while pending and (force or pending[0][0] <= sent):
                _, wrapper = pending.pop(0)
                if isinstance(wrapper, Stall):
                    await conn.sleep(wrapper.seconds)
                    if wrapper.then == "close":
                        raise _CloseConnection()
                elif isinstance(wrapper, MidStreamError):
                    err = {"type": "error", "error": {"type": wrapper.error_type, "message": wrapper.message}}
                    await self._final_write(conn, rec, frame("error", err) + b"0\r\n\r\n")
                    raise _StreamDone()
                elif isinstance(wrapper, Drop):
                    raise _CloseConnection()

        try:
            for index, block in enumerate(plan.blocks):
                await event("content_block_start", {"type": "content_block_start", "index": index, "content_block": block.start})
                if index == 0 and self.ping:
                    await event("ping", {"type": "ping"})
                await interrupts()
                for delta in block.deltas:
                    counts = _counts(delta)
                    if counts:
                        await conn.sleep(plan.delay_per_chunk)
                    first = counts and rec.first_token_at is None
                    if first:
                        rec.first_token_at = time.monotonic()
                    await event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
                    if first:
                        self._first_token_hook(rec)
                    if counts:
                        sent += 1
                        await interrupts()
                await event("content_block_stop", {"type": "content_block_stop", "index": index})
            await interrupts(force=True)
            delta_usage = {
                k: usage[k]
                for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens", "output_tokens_details")
                if k in usage
            }
            await event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": plan.stop_reason, "stop_sequence": None, "stop_details": plan.stop_details},
                    "usage": delta_usage,
                },
            )
            await self._final_write(conn, rec, frame("message_stop", {"type": "message_stop"}) + b"0\r\n\r\n")
        except _StreamDone:
            pass
        return True


class _StreamDone(Exception):
    pass


def _main(argv: Optional[list] = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Serve the fake Anthropic API (default replies).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--text", default=None, help="reply text for every request")
    args = parser.parse_args(argv)
    fake = FakeAnthropic(host=args.host, port=args.port, default=Text(args.text) if args.text else None)
    with fake:
        print(fake.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    _main()

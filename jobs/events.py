"""The event schema and the event log: one module for both.

Every change to a review is one event. `Publisher.publish` appends it to the
review's Redis stream (bounded) and publishes the ready-made wire frame on the
review's pub/sub channel in ONE Lua script, together with the data writes that
the event describes, so the log, the pub/sub feed and the stored review never
disagree. The script is also the job gate: events of a job that has already
ended (completed, failed or cancelled) or of a superseded attempt are dropped,
which gives "exactly one terminal event" and "nothing after job.cancelled".
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal, Sequence

import orjson
from redis.asyncio import Redis

from redline.jobs.keys import ReviewKeys
from redline.jobs.models import TERMINAL_JOB_STATUSES

# ---------------------------------------------------------------- schema ---

EventKind = Literal[
    "job.queued", "job.started", "job.progress", "job.completed", "job.failed", "job.cancelled",
    "item.added", "item.updated", "item.removed", "item.decided",
    "chat.message", "chat.delta", "chat.completed",
    "usage.updated", "review.version",
]
EVENT_KINDS: frozenset[str] = frozenset(EventKind.__args__)  # type: ignore[attr-defined]
TERMINAL_KINDS = {"job.completed": "complete", "job.failed": "failed", "job.cancelled": "cancelled"}
END_EVENT = {status: kind for kind, status in TERMINAL_KINDS.items()}  # job status -> its terminal event
SECTION_END = {"complete": "done", "failed": "failed", "cancelled": "cancelled"}  # job status -> section status
assert set(END_EVENT) == TERMINAL_JOB_STATUSES

# Required fields of each kind's data (tests check every published event against this).
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "job.queued": ("job_id", "kind"),
    "job.started": ("job_id",),
    "job.progress": ("job_id", "progress"),
    "job.completed": ("job_id",),
    "job.failed": ("job_id", "error"),
    "job.cancelled": ("job_id",),
    "item.added": ("item",),
    "item.updated": ("item",),
    "item.removed": ("item_id",),
    "item.decided": ("item_id", "decision"),
    "chat.message": ("message_id", "role", "text"),
    "chat.delta": ("message_id", "text"),
    "chat.completed": ("message_id", "text"),
    "usage.updated": ("usage",),
    "review.version": ("version", "sections"),
}

Guard = Literal["none", "create", "start", "live", "end"]


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


def make_frame(event_id: str, prev: str, kind: str, data_json: bytes | str) -> bytes:
    """The wire frame of an event. The Lua script builds the very same bytes."""
    if isinstance(data_json, str):
        data_json = data_json.encode()
    return b'{"type":"event","id":"%s","prev":"%s","kind":"%s","data":%s}' % (
        event_id.encode(), prev.encode(), kind.encode(), data_json)


FRAME_ID_START = len(b'{"type":"event","id":"')


def frame_id(frame: bytes) -> str | None:
    """Event id of a frame without decoding the JSON (None for non-event frames)."""
    if not frame.startswith(b'{"type":"event"'):
        return None
    end = frame.index(b'"', FRAME_ID_START)
    return frame[FRAME_ID_START:end].decode()


_PREV = b'","prev":"'


def frame_prev(frame: bytes) -> str:
    """The `prev` id an event frame names (read once per process, not once per socket)."""
    i = frame.index(_PREV) + len(_PREV)
    return frame[i:frame.index(b'"', i)].decode()


def id_key(event_id: str) -> tuple[int, int]:
    """Stream ids compare as (ms, seq)."""
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


# ------------------------------------------------------------ the script ---

# KEYS[1] stream, KEYS[2] last-id key, KEYS[3] job-state hash, KEYS[4] audit stream, KEYS[5] job
# records hash, KEYS[6..] data keys of the writes,
# KEYS[#KEYS] the review's hash (always last): no review, no event and no key written (a review
# deleted while a job runs leaves nothing behind); a review with a TTL (a probe) gives its TTL to
# every key the event writes.
# ARGV[1] channel, ARGV[2] maxlen, ARGV[3] kind, ARGV[4] data JSON,
# ARGV[5] job id, ARGV[6] attempt, ARGV[7] guard, ARGV[8] new job status,
# ARGV[9] audit: '' (not audited), 'yes', or 'job' (audited when the job's record is an analysis),
# ARGV[10] the audit entry's JSON body,
# ARGV[11] number of writes, then per write: op, key index, field, value
#
# The job state (KEYS[3], rl:{rid}:jobstate) is the gate's own record of each job: job id ->
# "<status>:<attempt>", status one of models.JOB_STATUSES, attempt the one that set it ("0" before any
# start). Guards: 'create' needs no state yet; 'start' needs a non-terminal state and an attempt
# not older than the recorded one; 'live' needs "active" at this very attempt; 'end' needs a
# non-terminal state and, when an attempt is given, not another attempt's "active".
# Why a second state beside SAQ's job record: the gate reads and writes it in the same script as
# the event, and that script touches only the review's keys (one hash slot); SAQ's record lives
# under saq:job:..., is written by SAQ's own transactions, and does not know of a cancel sent
# from a socket before any worker heard of it.
# Why one "status:attempt" string rather than two fields or JSON: the two halves change together
# in one HSET and are read together in one HGET, and Store (snapshot, job, unfinished_jobs) reads
# this very encoding from reviews already in Redis: a new shape would have to change those
# readers and every stored review at once, for no change in what the gate decides.
PUBLISH_LUA = r"""
local review = KEYS[#KEYS]
if redis.call('EXISTS', review) == 0 then return {'dropped', 'no review'} end
local job, attempt, guard = ARGV[5], ARGV[6], ARGV[7]
if guard ~= 'none' then
  local cur = redis.call('HGET', KEYS[3], job)
  local status, cur_attempt = nil, nil
  if cur then status, cur_attempt = string.match(cur, '^(%a+):(%d+)$') end
  local terminal = $TERMINAL
  if guard == 'create' then
    if cur then return {'dropped', 'exists'} end
  elseif not cur then
    return {'dropped', 'unknown job'}
  elseif terminal then
    return {'dropped', status}
  elseif guard == 'live' and (status ~= 'active' or cur_attempt ~= attempt) then
    return {'dropped', 'stale attempt'}
  elseif guard == 'end' and attempt ~= '' and status == 'active' and cur_attempt ~= attempt then
    return {'dropped', 'stale attempt'}
  elseif guard == 'start' and tonumber(attempt) < tonumber(cur_attempt) then
    return {'dropped', 'stale attempt'}
  end
  if ARGV[8] ~= '' then
    local a = attempt
    if a == '' then a = cur_attempt or '0' end
    redis.call('HSET', KEYS[3], job, ARGV[8] .. ':' .. a)
  end
end
local n = tonumber(ARGV[11])
for i = 0, n - 1 do
  local op, key, field, value = ARGV[12 + i*4], KEYS[tonumber(ARGV[13 + i*4])], ARGV[14 + i*4], ARGV[15 + i*4]
  if op == 'hset' then redis.call('HSET', key, field, value)
  elseif op == 'hdel' then redis.call('HDEL', key, field)
  elseif op == 'rpush' then redis.call('RPUSH', key, value)
  elseif op == 'hincrby' then redis.call('HINCRBY', key, field, value)
  elseif op == 'hincrbyfloat' then redis.call('HINCRBYFLOAT', key, field, value)
  end
end
local prev = redis.call('GET', KEYS[2]) or ''
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'k', ARGV[3], 'd', ARGV[4], 'p', prev)
redis.call('SET', KEYS[2], id)
if ARGV[9] ~= '' then
  local body, keep = ARGV[10], true
  if ARGV[9] == 'job' then
    keep = false
    local rec = redis.call('HGET', KEYS[5], job)
    if rec then
      local ok, r = pcall(cjson.decode, rec)
      if ok and type(r) == 'table' and r.kind == 'analyze' then
        keep = true
        if type(r.section_id) == 'string' then
          local b = cjson.decode(body)
          b.detail = (b.detail or '') .. ' (section ' .. r.section_id .. ')'
          body = cjson.encode(b)
        end
      end
    end
  end
  if keep then
    -- the event's own id; an entry written outside an event (the upload, an export) may hold it
    -- already, and then the audit stream picks the next free id
    local added = redis.pcall('XADD', KEYS[4], id, 'a', body)
    if type(added) == 'table' and added.err then redis.call('XADD', KEYS[4], '*', 'a', body) end
  end
end
redis.call('PUBLISH', ARGV[1], '{"type":"event","id":"' .. id .. '","prev":"' .. prev .. '","kind":"' .. ARGV[3] .. '","data":' .. ARGV[4] .. '}')
local ttl = redis.call('PTTL', review)
if ttl > 0 then
  for i = 1, #KEYS - 1 do redis.call('PEXPIRE', KEYS[i], ttl) end
end
return {'ok', id}
""".replace("$TERMINAL", " or ".join(f"status == '{s}'" for s in sorted(TERMINAL_JOB_STATUSES)))


AUDIT_LUA = r"""
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('XADD', KEYS[1], '*', 'a', ARGV[1])
return 1
"""

# ------------------------------------------------------------- the audit ---

# Kinds that change a review and are kept in its audit trail (rl:{rid}:audit), never trimmed: the
# event log is bounded, this record lives as long as the review. Job events are audited for
# analyses only (job.queued says its kind; for the others the script reads the job's record).
AUDITED_KINDS = frozenset({"item.added", "item.updated", "item.removed", "item.decided",
                           "chat.message", "chat.completed", "review.version"})
AUDITED_JOB_ENDS = frozenset({"job.completed", "job.failed", "job.cancelled"})
AUDIT_FIELDS = ("at", "by", "kind", "item_id", "decision", "reason", "detail")
DETAIL_MAX = 300


def iso_now() -> str:
    from redline.jobs.models import iso_time

    return iso_time(time.time()) or ""


def _short(text: object, limit: int = DETAIL_MAX) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return None
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def audit_entry(kind: str, data: dict[str, Any], extra: dict[str, Any] | None = None
                ) -> tuple[str, dict[str, Any] | None]:
    """(mode, body) of an event's audit entry: mode '' (not audited), 'yes' or 'job' (see the
    script); the body is compact: at, by, kind, item_id, decision, reason, detail."""
    if kind not in AUDITED_KINDS and kind not in AUDITED_JOB_ENDS and kind != "job.queued":
        return "", None  # the frequent ones (progress, deltas, usage) cost nothing here
    body: dict[str, Any] = {"at": iso_now(), "kind": kind}
    mode = "yes"
    if kind in AUDITED_KINDS:
        item = data.get("item") if isinstance(data.get("item"), dict) else None
        if item is not None:
            body["item_id"] = item.get("id")
            if item.get("source") == "user":
                body["by"] = item.get("author")
        if kind == "item.added" and item is not None:
            body["detail"] = _short(f"{item.get('source')} {item.get('type')} · {item.get('category')}: "
                                    f"{item.get('description')}")
        elif kind == "item.updated" and item is not None:
            rep = item.get("replacement")
            body["detail"] = _short(f"replacement: {rep}") if isinstance(rep, str) else None
        elif kind == "review.version":
            body.update(by=data.get("by"), detail=_short(data.get("detail")))
        elif kind in ("item.removed", "item.decided"):
            body["item_id"] = data.get("item_id")
            if kind == "item.decided":
                body.update(by=data.get("by"), decision=data.get("decision"), reason=data.get("reason"))
        elif kind == "chat.message":
            body.update(by=data.get("author"), detail=_short(data.get("text")))
        elif kind == "chat.completed":
            body["detail"] = _short(data.get("text"))
    elif kind == "job.queued" and data.get("kind") == "analyze":
        sid = data.get("section_id")
        body["detail"] = f"analysis {data.get('job_id')}" + (f" (section {sid})" if sid else "")
    elif kind in AUDITED_JOB_ENDS:
        mode = "job"
        body["detail"] = f"analysis {data.get('job_id')}" + (
            f": {_short(data.get('error'), 200)}" if data.get("error") else "")
    else:
        return "", None
    if extra:
        body.update(extra)
    return mode, {k: v for k, v in body.items() if v is not None and v != ""}


async def read_audit(redis: Redis, rid: str) -> list[dict[str, Any]]:
    """Every audit entry of a review, in order (each with its stream `id`)."""
    key, out, start = ReviewKeys(rid).audit, [], "-"
    while True:
        entries = await redis.xrange(key, min=start, max="+", count=1000)
        for eid, fields in entries:
            eid = eid.decode() if isinstance(eid, bytes) else eid
            body = orjson.loads(fields.get(b"a") or b"{}")
            out.append({"id": eid, **body})
        if len(entries) < 1000:
            return out
        start = "(" + out[-1]["id"]


def job_state(raw: bytes | str | None) -> tuple[str, int]:
    """(status, attempt) of a job from its gate record ("status:attempt", see PUBLISH_LUA); a job
    with none yet is queued, attempt 0."""
    text = (raw.decode() if isinstance(raw, bytes) else raw) or "queued:0"
    status, _, attempt = text.partition(":")
    return status, int(attempt) if attempt.isdigit() else 0


@dataclass(frozen=True, slots=True)
class Write:
    """A data write done in the same atomic step as the event."""

    op: Literal["hset", "hdel", "rpush", "hincrby", "hincrbyfloat"]
    key: str
    field: str = ""
    value: str | bytes | int | float = ""


def section_state(rid: str, section_id: str, status: str, *, job_id: str, progress: float = 0.0,
                  error: str | None = None) -> Write:
    """The write of a section's analysis state ({"status", "progress", "job_id", "error"?}) that
    goes with a job event: the one place its JSON is built."""
    state: dict[str, Any] = {"status": status, "progress": round(progress, 3), "job_id": job_id}
    if error:
        state["error"] = error
    return Write("hset", ReviewKeys(rid).secstate, section_id, dumps(state))


GONE_PREFIX = b'{"type":"gone"'


def gone_frame(reason: str) -> bytes:
    """What a review's channel carries when the review is gone: its sockets close (4404)."""
    return GONE_PREFIX + b',"reason":' + dumps(reason) + b"}"


def is_gone(frame: str | bytes) -> bool:
    return (frame if isinstance(frame, bytes) else frame.encode()).startswith(GONE_PREFIX)


@dataclass(frozen=True, slots=True)
class Published:
    id: str | None  # None when the gate dropped the event
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.id is not None


class Publisher:
    """Appends events to reviews' logs. One per process; cheap to share."""

    def __init__(self, redis: Redis, maxlen: int = 10_000) -> None:
        self.redis = redis
        self.maxlen = maxlen
        self._script = redis.register_script(PUBLISH_LUA)
        self._audit_script = redis.register_script(AUDIT_LUA)

    async def publish(self, rid: str, kind: str, data: dict[str, Any], **opts: Any) -> Published:
        """Append one event (and its writes) to the review's log and publish it; `opts` are
        those of `script_args`. The gate may drop it: see `Published.ok`."""
        keys, argv = self.script_args(rid, kind, data, **opts)
        return self.parse(await self._script(keys=keys, args=argv))

    def script_args(
        self,
        rid: str,
        kind: str,
        data: dict[str, Any],
        *,
        writes: Sequence[Write] = (),
        job_id: str = "",
        attempt: int | None = None,
        guard: Guard = "none",
        job_status: str = "",
        audit: dict[str, Any] | None = None,
    ) -> tuple[list[str], list[Any]]:
        """The event script's KEYS and ARGV for one event (see `publish`). Auditable kinds also
        get an entry in the review's audit trail (`audit_entry`; `audit` adds or overrides
        fields of it, such as a `detail`)."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        k = ReviewKeys(rid)
        keys = [k.events, k.last, k.jobstate, k.audit, k.jobs]
        index: dict[str, int] = {}
        mode, body = audit_entry(kind, data, audit)
        argv: list[Any] = [k.channel, self.maxlen, kind, dumps(data), job_id,
                           "" if attempt is None else str(attempt), guard, job_status,
                           mode, dumps(body) if body else "", len(writes)]
        for w in writes:
            if w.key not in index:
                keys.append(w.key)
                index[w.key] = len(keys)
            argv += [w.op, index[w.key], w.field, w.value]
        keys.append(k.review)  # last: the script checks the review still exists
        return keys, argv

    async def audit(self, rid: str, kind: str, *, by: str | None = None, detail: str | None = None) -> bool:
        """An audit entry that is not an event (an export): written only while the review exists."""
        body = {k: v for k, v in {"at": iso_now(), "by": by, "kind": kind, "detail": detail}.items() if v}
        k = ReviewKeys(rid)
        return bool(await self._audit_script(keys=[k.audit, k.review], args=[dumps(body)]))

    def queue_in(self, pipe: Any, keys: list[str], argv: list[Any]) -> None:
        """Add the event script to a pipeline (its reply goes through `parse`). The script
        must be loaded: after NOSCRIPT, call `publish`, which loads it."""
        pipe.evalsha(self._script.sha, len(keys), *keys, *argv)

    @staticmethod
    def parse(reply: Any) -> Published:
        status, value = reply
        status = status.decode() if isinstance(status, bytes) else status
        value = value.decode() if isinstance(value, bytes) else value
        if status == "ok":
            return Published(value)
        return Published(None, value)


# ------------------------------------------------------------ log reads ---

@dataclass(frozen=True, slots=True)
class LoggedEvent:
    id: str
    prev: str
    kind: str
    data_json: bytes

    @property
    def frame(self) -> bytes:
        return make_frame(self.id, self.prev, self.kind, self.data_json)

    @property
    def data(self) -> dict[str, Any]:
        return orjson.loads(self.data_json)


def _decode(entry: tuple) -> LoggedEvent:
    eid, fields = entry
    eid = eid.decode() if isinstance(eid, bytes) else eid
    return LoggedEvent(eid, (fields.get(b"p") or b"").decode(), fields[b"k"].decode(), fields[b"d"])


async def read_after(redis: Redis, rid: str, after: str | None, count: int | None = None) -> list[LoggedEvent]:
    """Events strictly after `after` (all when None), in order."""
    start = f"({after}" if after else "-"
    entries = await redis.xrange(ReviewKeys(rid).events, min=start, max="+", count=count)
    return [_decode(e) for e in entries]


async def log_contains(redis: Redis, rid: str, event_id: str) -> bool:
    """True when `event_id` is still in the log: everything after it can be replayed."""
    try:
        entries = await redis.xrange(ReviewKeys(rid).events, min=event_id, max=event_id, count=1)
    except Exception:  # a malformed id from a client
        return False
    return bool(entries)


def valid_event_id(value: object) -> bool:
    if not isinstance(value, str) or len(value) > 40:
        return False
    ms, sep, seq = value.partition("-")
    return ms.isdigit() and (not sep or seq.isdigit())

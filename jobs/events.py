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

from dataclasses import dataclass
from typing import Any, Literal, Sequence

import orjson
from redis.asyncio import Redis

from redline.jobs.keys import ReviewKeys

# ---------------------------------------------------------------- schema ---

EventKind = Literal[
    "job.queued", "job.started", "job.progress", "job.completed", "job.failed", "job.cancelled",
    "item.added", "item.updated", "item.removed", "item.decided",
    "chat.message", "chat.delta", "chat.completed",
    "usage.updated",
]
EVENT_KINDS: frozenset[str] = frozenset(EventKind.__args__)  # type: ignore[attr-defined]
TERMINAL_KINDS = {"job.completed": "complete", "job.failed": "failed", "job.cancelled": "cancelled"}

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

# KEYS[1] stream, KEYS[2] last-id key, KEYS[3] job-state hash, KEYS[4..] data keys of the writes,
# KEYS[#KEYS] the review's hash (always last): no review, no event and no key written (a review
# deleted while a job runs leaves nothing behind); a review with a TTL (a probe) gives its TTL to
# every key the event writes.
# ARGV[1] channel, ARGV[2] maxlen, ARGV[3] kind, ARGV[4] data JSON,
# ARGV[5] job id, ARGV[6] attempt, ARGV[7] guard, ARGV[8] new job status,
# ARGV[9] number of writes, then per write: op, key index, field, value
PUBLISH_LUA = r"""
local review = KEYS[#KEYS]
if redis.call('EXISTS', review) == 0 then return {'dropped', 'no review'} end
local job, attempt, guard = ARGV[5], ARGV[6], ARGV[7]
if guard ~= 'none' then
  local cur = redis.call('HGET', KEYS[3], job)
  local status, cur_attempt = nil, nil
  if cur then status, cur_attempt = string.match(cur, '^(%a+):(%d+)$') end
  local terminal = status == 'complete' or status == 'failed' or status == 'cancelled'
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
local n = tonumber(ARGV[9])
for i = 0, n - 1 do
  local op, key, field, value = ARGV[10 + i*4], KEYS[tonumber(ARGV[11 + i*4])], ARGV[12 + i*4], ARGV[13 + i*4]
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
redis.call('PUBLISH', ARGV[1], '{"type":"event","id":"' .. id .. '","prev":"' .. prev .. '","kind":"' .. ARGV[3] .. '","data":' .. ARGV[4] .. '}')
local ttl = redis.call('PTTL', review)
if ttl > 0 then
  for i = 1, #KEYS - 1 do redis.call('PEXPIRE', KEYS[i], ttl) end
end
return {'ok', id}
"""


@dataclass(frozen=True, slots=True)
class Write:
    """A data write done in the same atomic step as the event."""

    op: Literal["hset", "hdel", "rpush", "hincrby", "hincrbyfloat"]
    key: str
    field: str = ""
    value: str | bytes | int | float = ""


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
    ) -> tuple[list[str], list[Any]]:
        """The event script's KEYS and ARGV for one event (see `publish`)."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        k = ReviewKeys(rid)
        keys = [k.events, k.last, k.jobstate]
        index: dict[str, int] = {}
        argv: list[Any] = [k.channel, self.maxlen, kind, dumps(data), job_id,
                           "" if attempt is None else str(attempt), guard, job_status, len(writes)]
        for w in writes:
            if w.key not in index:
                keys.append(w.key)
                index[w.key] = len(keys)
            argv += [w.op, index[w.key], w.field, w.value]
        keys.append(k.review)  # last: the script checks the review still exists
        return keys, argv

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

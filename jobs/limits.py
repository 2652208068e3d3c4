"""Fleet-wide limits on model calls, shared by every worker through Redis.

Every decision is one Lua script that reads Redis' own clock (``TIME``), so workers
on machines with skewed clocks still agree. The keys share the ``{model}`` hash tag, so
one script (``ADMIT_LUA``) passes a call through every gate in one round trip, on a
Redis Cluster too.

| key                       | type   | holds                                                    |
| ------------------------- | ------ | -------------------------------------------------------- |
| rl:{model}:paused_until   | string | epoch ms until which nobody calls the model (429/529)    |
| rl:{model}:rate:{kind}    | zset   | admissions of the last window (member -> ms): a sliding  |
|                           |        | log, so no window of that length ever holds more than R  |
| rl:{model}:slots          | zset   | holder -> expiry ms: concurrent calls; a dead worker's   |
|                           |        | slot frees itself when its expiry passes                 |
| rl:{model}:warm:{digest}  | string | "w:<holder>" while the first call of a prompt prefix     |
|                           |        | writes the prompt cache, then "ready"                    |

The limiter is a sliding-window log rather than a classic token bucket: a bucket of
R tokens refilled at R per minute lets up to 2R-1 requests through in some 60 s span;
the log never lets more than R into any span of the window's length, which is what
the provider's "requests per minute" limit counts. The window is kept a little longer
than configured (2 %, at most 0.1 s) so that the jitter between admission here and
arrival at the provider cannot squeeze R + 1 requests into one window there.

The caller (``jobs.reviewers.claude``) does the waiting, so it can tell the job's
viewers why nothing moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import AsyncIterator, Mapping

from redis.asyncio import Redis

from redline.jobs.keys import MODEL_PAUSED_UNTIL

log = logging.getLogger("redline.limits")

RATE_KEY = "rl:{{model}}:rate:{kind}"
SLOTS_KEY = "rl:{model}:slots"
WARM_KEY = "rl:{{model}}:warm:{digest}"

# Each gate is a Lua function; a script is the clock, the functions and one call, so that
# admission (`ADMIT_LUA`: every gate in one round trip) and the single gates share one text.
_FUNCTIONS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- ms left of the fleet pause, 0 when calls may go
local function paused(key)
  local v = tonumber(redis.call('GET', key) or '0') or 0
  if v <= now then return 0 end
  return v - now
end

-- pause for ms (or keep a longer pause); ms left
local function pause(key, ms)
  local untilv = now + ms
  local cur = tonumber(redis.call('GET', key) or '0') or 0
  if cur > untilv then untilv = cur end
  if untilv <= now then return 0 end
  redis.call('SET', key, string.format('%.0f', untilv), 'PX', string.format('%.0f', untilv - now))
  return untilv - now
end

-- 0 when admitted, else ms until the oldest admission leaves the window. The window is
-- closed at both ends: an admission at t blocks until t + window + 1 ms.
local function rate(key, limit, window, member)
  if limit <= 0 then return 0 end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. string.format('%.0f', now - window))
  if redis.call('ZCARD', key) < limit then
    redis.call('ZADD', key, now, member)
    redis.call('PEXPIRE', key, window + 1)
    return 0
  end
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window + 1 - now)
end

-- takes (or renews) a slot: 1, or 0 when all slots are held by live holders
local function slot(key, limit, ttl, holder)
  if limit <= 0 then return 1 end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZSCORE', key, holder) or redis.call('ZCARD', key) < limit then
    redis.call('ZADD', key, now + ttl, holder)
    redis.call('PEXPIRE', key, ttl)
    return 1
  end
  return 0
end

-- 1: go (the cache is ready, or you are its writer), 0: someone else is writing it
local function warm(key, holder, ms)
  local v = redis.call('GET', key)
  if not v then
    redis.call('SET', key, 'w:' .. holder, 'PX', ms)
    return 1
  end
  if v == 'ready' or v == 'w:' .. holder then return 1 end
  return 0
end
"""

# KEYS[1] pause key. ARGV[1] pause ms. Returns ms left of the (possibly longer) pause.
PAUSE_LUA = _FUNCTIONS + "return pause(KEYS[1], tonumber(ARGV[1]))"
# KEYS[1] slots. ARGV[1] limit, ARGV[2] ttl ms, ARGV[3] holder.
SLOT_LUA = _FUNCTIONS + "return slot(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3])"

# Every gate of one call, in order, in one round trip. KEYS[1] pause, KEYS[2] warm key, KEYS[3]
# slots, KEYS[4] rate log. ARGV[1] holder, ARGV[2] warm-up ms (0: the call does not wait for a
# prompt cache), ARGV[3] slot limit, ARGV[4] slot ttl ms, ARGV[5] rate limit, ARGV[6] window ms,
# ARGV[7] member. Returns {gate, ms}: {"go", 0}, {"paused", ms left}, {"warming", 0},
# {"slots", 0} or {"rate", ms until admitted} (the slot is given back).
ADMIT_LUA = _FUNCTIONS + """
local ms = paused(KEYS[1])
if ms > 0 then return {'paused', ms} end
if ARGV[2] ~= '0' and warm(KEYS[2], ARGV[1], tonumber(ARGV[2])) == 0 then return {'warming', 0} end
if slot(KEYS[3], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[1]) == 0 then return {'slots', 0} end
ms = rate(KEYS[4], tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7])
if ms > 0 then
  redis.call('ZREM', KEYS[3], ARGV[1])
  return {'rate', ms}
end
return {'go', 0}
"""

# KEYS[1] warm key. ARGV[1] holder. Gives up the writer's role (its call failed).
UNWARM_LUA = """
if redis.call('GET', KEYS[1]) == 'w:' .. ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"""


class ModelLimits:
    """The shared gates in front of every model call; see the module docstring."""

    def __init__(self, redis: Redis, *, rpm: Mapping[str, int], window_s: float = 60.0, concurrency: int = 4,
                 slot_ttl_s: float = 120.0, cache_ttl_s: float = 300.0, warm_write_s: float = 30.0) -> None:
        self.redis = redis
        self.rpm = dict(rpm)
        self.window_ms = max(1, int(window_s * 1000 + min(100.0, window_s * 20)))
        self.concurrency = concurrency
        self.slot_ttl_ms = max(1000, int(slot_ttl_s * 1000))
        self.cache_ttl_ms = int(cache_ttl_s * 1000)
        self.warm_write_ms = int(warm_write_s * 1000)
        self._pause = redis.register_script(PAUSE_LUA)
        self._slot = redis.register_script(SLOT_LUA)
        self._admit = redis.register_script(ADMIT_LUA)
        self._unwarm = redis.register_script(UNWARM_LUA)
        self._changed = asyncio.Event()

    # ---------------------------------------------------------- local wake-up ---
    async def changed(self, timeout: float) -> None:
        """Wait until this process frees a slot or fills a prompt cache, or `timeout` passes
        (changes made by other processes are seen by polling)."""
        event = self._changed
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    # ------------------------------------------------------------- admission ---
    async def admit(self, kind: str, holder: str, digest: str | None) -> tuple[str, float]:
        """Every gate of one call in one round trip: ("go", 0.0) with a slot held for `holder`
        (and the rate limit taken), or the gate that stops it: ("paused", s left), ("warming", 0.0)
        when `digest`'s prompt cache is being written by another call, ("slots", 0.0) or
        ("rate", s until a request of `kind` may go)."""
        gate, ms = await self._admit(
            keys=[MODEL_PAUSED_UNTIL, WARM_KEY.format(digest=digest or "-"), SLOTS_KEY, RATE_KEY.format(kind=kind)],
            args=[holder, max(1, self.warm_write_ms) if digest else 0, self.concurrency, self.slot_ttl_ms,
                  self.rpm.get(kind, 0), self.window_ms, uuid.uuid4().hex])
        return (gate.decode() if isinstance(gate, bytes) else gate), int(ms) / 1000

    # ----------------------------------------------------------- fleet pause ---
    async def pause(self, seconds: float) -> float:
        """Pause every worker for `seconds` (or keep a longer pause). Seconds left."""
        ms = await self._pause(keys=[MODEL_PAUSED_UNTIL], args=[max(1, int(seconds * 1000))])
        return int(ms) / 1000

    # ----------------------------------------------------------- concurrency ---
    async def acquire(self, holder: str) -> bool:
        """Take or renew `holder`'s slot (True), or False when all are held."""
        if self.concurrency <= 0:
            return True
        return bool(await self._slot(keys=[SLOTS_KEY], args=[self.concurrency, self.slot_ttl_ms, holder]))

    async def release(self, holder: str) -> None:
        if self.concurrency > 0:
            await self.redis.zrem(SLOTS_KEY, holder)
            self._notify()

    @contextlib.asynccontextmanager
    async def holding(self, holder: str) -> AsyncIterator[None]:
        """Keep `holder`'s slot alive while the body runs, then free it (also on cancel)."""
        keeper = asyncio.create_task(self._keep(holder)) if self.concurrency > 0 else None
        try:
            yield
        finally:
            if keeper is not None:
                keeper.cancel()
            await self.release(holder)

    async def _keep(self, holder: str) -> None:
        while True:
            await asyncio.sleep(self.slot_ttl_ms / 3000)
            try:
                await self.acquire(holder)
            except Exception as e:  # Redis blip: the next renewal tries again
                log.warning("could not renew model slot %s: %s", holder, e)

    # ---------------------------------------------------------- prompt cache ---
    async def warmed(self, digest: str) -> None:
        """The prefix is in the provider's cache: everyone may go."""
        await self.redis.set(WARM_KEY.format(digest=digest), "ready", px=self.cache_ttl_ms)
        self._notify()

    async def unwarm(self, digest: str, holder: str) -> None:
        """The writer's call failed before the cache was written: let another call write it."""
        await self._unwarm(keys=[WARM_KEY.format(digest=digest)], args=[holder])
        self._notify()

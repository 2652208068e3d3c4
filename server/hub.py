"""The hub: ONE Redis pub/sub connection per server process, fanned out to sockets.

Modelled on encode/broadcaster: one listener task, a set of subscribers per
channel, the Redis subscription ref-counted on first and last subscriber. Each
socket gets a bounded queue; the listener never awaits a socket: a full queue
marks the subscriber as overflowed and its socket closes with 4408.

When the pub/sub connection drops, messages published meanwhile are lost to us
(pub/sub is at-most-once), so after reconnecting every subscriber is told to
RESYNC: catch up from the review's event log after the last id it sent.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from typing import Any, Callable

from redis.asyncio import Redis

from jobs.events import frame_id, frame_prev, id_key
from jobs.keys import ReviewKeys, rid_of_channel

log = logging.getLogger("redline.hub")

RESYNC = object()  # queue marker: catch up from the log


class Subscriber:
    """One socket's view of the hub: a bounded queue of frames for the socket's writer.

    An idle socket holds no queue and no Event: the queue is made by the first frame and
    dropped when the writer has sent it all, and the writer waits on a plain future."""

    __slots__ = ("rid", "queue", "maxlen", "waiter", "overflowed", "closing", "writer", "handler", "direct",
                 "inflight")

    def __init__(self, rid: str, maxlen: int) -> None:
        self.rid = rid
        self.queue: deque | None = None
        self.maxlen = maxlen
        self.waiter: asyncio.Future | None = None  # the writer waits on it for the next frame
        self.overflowed = False
        self.closing: int | None = None  # the close code the server asks for
        self.writer: asyncio.Task | None = None  # cancelled when the socket must close now
        self.handler: asyncio.Task | None = None  # the socket's task, reading: cancelled to close it
        # While the writer is idle, a frame goes out at once through `direct` (no task switch): it
        # returns False when the writer must handle the frame (a gap to fill, a close to make).
        # A send that has to wait (a full socket buffer) is left in `inflight` for the writer.
        self.direct: Callable[[Any], bool] | None = None
        self.inflight: Any = None

    @property
    def stopped(self) -> bool:
        return self.overflowed or self.closing is not None

    def depth(self) -> int:
        return len(self.queue) if self.queue else 0

    def push(self, entry: Any) -> None:
        q = self.queue
        if q is None:
            if self.waiter is not None and self.direct is not None and not self.stopped and self.direct(entry):
                return
            q = self.queue = deque()
        if len(q) >= self.maxlen and entry is not RESYNC:
            if not self.overflowed:
                self.overflowed = True
                self.queue = None  # nothing more will be sent: free the memory now
                self._stop()
        elif not self.overflowed:
            q.append(entry)
            self._wake()

    def push_text(self, frame: str) -> None:
        """A frame that is not an event (reply, presence, status): no id, sent as it comes."""
        self.push((None, None, None, frame))

    def close(self, code: int) -> None:
        self.closing = code
        self._stop()

    def idle(self) -> asyncio.Future:
        """For the writer, with nothing queued: the empty queue is dropped (an idle socket keeps
        none) and the future is done at the next frame."""
        self.queue = None
        self.waiter = asyncio.get_running_loop().create_future()
        return self.waiter

    def hand_over(self, send: Any) -> None:
        """A direct send that has to wait (`direct`): the writer finishes it before anything else."""
        self.inflight = send
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def stop_reading(self) -> None:
        """Interrupt the socket's task (reading the client), which then closes the socket."""
        handler, self.handler = self.handler, None  # cancelled once: it tells our cancel from others'
        if handler is not None:
            handler.cancel()

    def _stop(self) -> None:
        """Stop the socket now, its writer even when blocked sending to a peer that reads nothing."""
        if self.writer is not None:
            self.writer.cancel()
        self.stop_reading()


class Hub:
    def __init__(self, connect: Callable[[], Redis], *, on_state: Callable[[str], None] | None = None,
                 redis: Redis | None = None, check_interval: float = 2.0) -> None:
        self.connect = connect  # a new client for the pub/sub connection (no retries of its own)
        self.redis = redis  # for reading the reviews' last event ids (`_check`)
        self.check_interval = check_interval
        self.heard: dict[str, str] = {}  # channel -> id of the last event relayed
        self.channels: dict[str, set[Subscriber]] = {}
        self.state = "starting"  # "ok" | "degraded"
        self.on_state = on_state
        self._pubsub = None
        self._client: Redis | None = None
        self._pending: dict[str, asyncio.Future] = {}
        self._task: asyncio.Task | None = None
        self._checker: asyncio.Task | None = None
        self._connected = asyncio.Event()
        self._lock = asyncio.Lock()
        self.relayed = 0
        self.dropped = 0

    # --------------------------------------------------------------- public ---
    async def start(self, wait: float = 5.0) -> None:
        """Start listening; waits a little for the first connection, but a server whose Redis is
        not up yet still starts (degraded) and connects as soon as it can."""
        self._task = asyncio.create_task(self._run(), name="hub-listener")
        if self.redis is not None and self.check_interval > 0:
            self._checker = asyncio.create_task(self._check(), name="hub-log-check")
        try:
            await asyncio.wait_for(asyncio.shield(self._connected.wait()), wait)
        except asyncio.TimeoutError:
            log.warning("Redis pub/sub not reachable yet; live updates start once it is")

    async def stop(self) -> None:
        for task in (self._task, self._checker):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self._close_pubsub()

    def close_all(self, code: int) -> None:
        for subs in self.channels.values():
            for sub in subs:
                sub.close(code)

    async def subscribe(self, sub: Subscriber) -> None:
        """Returns once the Redis subscription is live: every later publish reaches `sub`."""
        channel = ReviewKeys(sub.rid).channel
        async with self._lock:
            subs = self.channels.get(channel)
            if subs is not None:
                subs.add(sub)
                fut = self._pending.get(channel)
            else:
                self.channels[channel] = {sub}
                fut = await self._redis_subscribe(channel)
        if fut is not None:
            await asyncio.wait_for(asyncio.shield(fut), 10)

    async def unsubscribe(self, sub: Subscriber) -> None:
        channel = ReviewKeys(sub.rid).channel
        async with self._lock:
            subs = self.channels.get(channel)
            if not subs:
                return
            subs.discard(sub)
            if not subs:
                del self.channels[channel]
                self.heard.pop(channel, None)
                if self._pubsub is not None and self.state == "ok":
                    try:
                        await self._pubsub.unsubscribe(channel)
                    except Exception:
                        pass

    def caught_up(self, rid: str, event_id: str | None) -> None:
        """A socket of `rid` has everything up to `event_id` (its welcome): nothing before it is missing."""
        channel = ReviewKeys(rid).channel
        heard = self.heard.get(channel)
        if event_id and channel in self.channels and (heard is None or id_key(event_id) > id_key(heard)):
            self.heard[channel] = event_id

    def sockets(self) -> int:
        return sum(len(s) for s in self.channels.values())

    # ------------------------------------------------------------- internals ---
    async def _check(self) -> None:
        """Pub/sub is at-most-once, and a lost message is noticed by the next frame's `prev`; a lost
        LAST message has no next frame. So, every `check_interval`, compare each watched review's
        last event id with the last one relayed; a review still behind at the next check (so not a
        message in flight) gets its sockets caught up from the log."""
        assert self.redis is not None
        behind: dict[str, tuple[str | None, str]] = {}
        while True:
            await asyncio.sleep(self.check_interval)
            channels = list(self.channels)
            if self.state != "ok" or not channels:
                continue
            try:
                lasts = await self.redis.mget([ReviewKeys(rid_of_channel(ch)).last for ch in channels])
            except Exception:  # Redis away: the reconnect resyncs every socket anyway
                continue
            seen: dict[str, tuple[str | None, str]] = {}
            for ch, raw in zip(channels, lasts):
                last = raw.decode() if raw else None
                heard = self.heard.get(ch)
                if last is None or (heard is not None and id_key(heard) >= id_key(last)):
                    continue
                if behind.get(ch) == (heard, last):
                    self.heard[ch] = last
                    for sub in self.channels.get(ch, ()):
                        sub.push(RESYNC)
                else:
                    seen[ch] = (heard, last)
            behind = seen

    async def _redis_subscribe(self, channel: str) -> asyncio.Future | None:
        if self._pubsub is None or self.state != "ok":
            return None  # subscribed on reconnect; the socket catches up then
        fut = asyncio.get_running_loop().create_future()
        self._pending[channel] = fut
        try:
            await self._pubsub.subscribe(channel)
        except Exception:
            self._pending.pop(channel, None)
            return None
        return fut

    async def _close_pubsub(self) -> None:
        ps, client = self._pubsub, self._client
        self._pubsub = self._client = None
        for obj in (ps, client):
            if obj is not None:
                try:
                    await obj.aclose()
                except Exception:
                    pass

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            if self.on_state:
                self.on_state(state)

    async def _connect(self) -> None:
        self._client = self.connect()
        self._pubsub = self._client.pubsub()
        async with self._lock:
            channels = list(self.channels)
            # The connection is made by the first (p)subscribe; a private heartbeat channel keeps it
            # open when no review is watched.
            await self._pubsub.subscribe("rl:hub:heartbeat", *channels)
            await self._pubsub.get_message(timeout=5)  # the first confirmation: the connection works

    async def _run(self) -> None:
        backoff = 0.05
        first = True
        while True:
            try:
                await self._connect()
                backoff = 0.05
                self._set_state("ok")
                self._connected.set()
                if not first:
                    for subs in self.channels.values():
                        for sub in subs:
                            sub.push(RESYNC)
                first = False
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                if self.state != "degraded":
                    log.warning("hub lost Redis pub/sub (%s); reconnecting", e.__class__.__name__)
                self._set_state("degraded")
                for fut in self._pending.values():
                    if not fut.done():
                        fut.set_result(None)
                self._pending.clear()
                await self._close_pubsub()
                await asyncio.sleep(backoff * (0.5 + random.random()))
                backoff = min(backoff * 2, 3.0)

    async def _listen(self) -> None:
        ps = self._pubsub
        assert ps is not None
        while True:
            msg = await ps.parse_response(block=True)
            if msg is None:
                continue
            kind = msg[0]
            if kind == b"message":
                self._fanout(msg[1], msg[2])
            elif kind == b"subscribe":
                fut = self._pending.pop(msg[1].decode(), None)
                if fut is not None and not fut.done():
                    fut.set_result(None)

    def _fanout(self, channel: bytes, data: bytes) -> None:
        name = channel.decode()
        subs = self.channels.get(name)
        if not subs:
            return
        frame = data.decode()
        eid = frame_id(data)
        entry = (id_key(eid), eid, frame_prev(data), frame) if eid else (None, None, None, frame)
        if eid:
            self.heard[name] = eid
        for sub in subs:
            sub.push(entry)
            if sub.overflowed:
                self.dropped += 1
        self.relayed += 1

    # --- used by tests and /metrics
    def channel_count(self) -> int:
        return len(self.channels)


def rid_of(channel: str) -> str:
    return rid_of_channel(channel)

"""The hub: ONE Redis pub/sub connection per server process, fanned out to sockets.

Modelled on encode/broadcaster: one listener, a set of subscribers per
channel, the Redis subscription ref-counted on first and last subscriber. Each
socket gets a bounded queue; the listener never awaits a socket: a full queue
marks the subscriber as overflowed and its socket closes with 4408.

redis-py opens the pub/sub connection (TLS, AUTH, Sentinel, unix sockets: all of REDIS_URL);
the hub then reads it itself, as an asyncio protocol whose replies hiredis parses as they
arrive and hands to the fan-out in the same callback: no task switch, no future and no
stream buffer per message (half of what a message cost the server with redis-py's reader,
which matters when many reviews each have a few sockets).

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

import hiredis
from redis.asyncio import Redis

from redline.jobs.events import frame_id, frame_prev, id_key
from redline.jobs.keys import ReviewKeys, rid_of_channel
from redline.server.wire import Prebuilt

log = logging.getLogger("redline.hub")

RESYNC = object()  # queue marker: catch up from the log
HEARTBEAT = "rl:hub:heartbeat"  # subscribed while no review is watched, so the connection stays open


class Subscriber:
    """One socket's view of the hub: a bounded queue of frames for the socket's writer.

    An idle socket holds no queue and no Event: the queue is made by the first frame and
    dropped when the writer has sent it all, and the writer waits on a plain future."""

    __slots__ = ("rid", "queue", "maxlen", "waiter", "overflowed", "closing", "writer", "handler", "direct",
                 "inflight", "maxbytes", "nbytes", "buffered", "pending")

    def __init__(self, rid: str, maxlen: int, maxbytes: int = 1 << 62) -> None:
        self.rid = rid
        self.queue: deque | None = None
        self.maxlen = maxlen
        # The byte budget: queued frames plus what the socket's transport still holds unsent (a
        # welcome snapshot the client has not read counts too). Over it: overflowed, as over maxlen.
        self.maxbytes = maxbytes
        self.nbytes = 0  # characters of the queued frames
        self.buffered: Callable[[], int] | None = None  # the transport's unsent bytes, when known
        self.pending = 0  # bytes of a large frame (the welcome) not yet handed to the transport
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
        size = entry_size(entry)
        if entry is not RESYNC and (len(q) >= self.maxlen or self._over_budget(size)):
            if not self.overflowed:
                self.overflowed = True
                self.queue = None  # nothing more will be sent: free the memory now
                self.nbytes = 0
                self._stop()
        elif not self.overflowed:
            q.append(entry)
            self.nbytes += size
            self._wake()

    def _over_budget(self, size: int) -> bool:
        total = self.nbytes + size + self.pending
        if total > self.maxbytes:
            return True
        buffered = self.buffered
        return buffered is not None and total + buffered() > self.maxbytes

    def push_text(self, frame: str) -> None:
        """A frame that is not an event (reply, presence, status): no id, sent as it comes."""
        self.push((None, None, None, frame, None))

    def close(self, code: int) -> None:
        self.closing = code
        self._stop()

    def idle(self) -> asyncio.Future:
        """For the writer, with nothing queued: the empty queue is dropped (an idle socket keeps
        none) and the future is done at the next frame."""
        self.queue = None
        self.nbytes = 0
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


def entry_size(entry: Any) -> int:
    """What a queued entry counts against its socket's byte budget (the frame's length)."""
    return 0 if entry is RESYNC else len(entry[3])


class Feed(asyncio.Protocol):
    """The pub/sub connection's reading end: each reply goes to `on_reply` as soon as it is parsed."""

    def __init__(self, on_reply: Callable[[Any], None], previous: asyncio.BaseProtocol) -> None:
        self.on_reply = on_reply
        self.previous = previous  # redis-py's stream protocol: told when the connection ends, so its close completes
        self.parser = hiredis.Reader()
        self.lost: asyncio.Future = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        parser.feed(data)
        while (reply := parser.gets()) is not False:
            try:
                self.on_reply(reply)
            except Exception:  # one bad reply must not end the feed of every review
                log.exception("hub: relaying a pub/sub message failed")

    def eof_received(self) -> bool:
        return False  # the transport closes; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(exc)
        self.previous.connection_lost(exc)


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
        self._client: Redis | None = None
        self._feed: Feed | None = None
        self._transport: asyncio.Transport | None = None
        self._pending: dict[str, asyncio.Future] = {}
        self._task: asyncio.Task | None = None
        self._checker: asyncio.Task | None = None
        self._connected = asyncio.Event()
        self._lock = asyncio.Lock()
        self.relayed = 0
        self.dropped = 0
        self.prebuilt = 0  # frames a socket wrote as the hub framed them (server/wire.py)

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
                if self.state == "ok":
                    self._command("UNSUBSCRIBE", channel)

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
        if self._transport is None or self.state != "ok":
            return None  # subscribed on reconnect; the socket catches up then
        fut = asyncio.get_running_loop().create_future()
        self._pending[channel] = fut
        self._command("SUBSCRIBE", channel)
        return fut

    def _command(self, *args: str) -> None:
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(hiredis.pack_command(args))

    async def _close_pubsub(self) -> None:
        transport, client = self._transport, self._client
        self._transport = self._feed = self._client = None
        if transport is not None:
            transport.close()
        if client is not None:
            try:
                await asyncio.wait_for(client.aclose(), 5)
            except Exception:
                pass

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            if self.on_state:
                self.on_state(state)

    async def _connect(self) -> None:
        self._client = self.connect()
        conn = await self._client.connection_pool.get_connection()  # connected and authenticated by redis-py
        transport = conn._writer.transport  # from here on the hub reads this connection itself
        self._feed = Feed(self._on_reply, transport.get_protocol())
        transport.set_protocol(self._feed)
        self._transport = transport
        async with self._lock:  # held until confirmed: a socket subscribing meanwhile waits, then finds us "ok"
            # A private heartbeat channel: its confirmation says the connection works.
            ready = asyncio.get_running_loop().create_future()
            self._pending[HEARTBEAT] = ready
            self._command("SUBSCRIBE", HEARTBEAT, *self.channels)
            await asyncio.wait_for(asyncio.shield(ready), 5)

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
        assert self._feed is not None
        exc = await self._feed.lost
        raise ConnectionError(f"pub/sub connection lost ({exc!r})")

    def _on_reply(self, reply: Any) -> None:
        if isinstance(reply, list) and reply:
            kind = reply[0]
            if kind == b"message":
                self._fanout(reply[1], reply[2])
            elif kind == b"subscribe":
                fut = self._pending.pop(reply[1].decode(), None)
                if fut is not None and not fut.done():
                    fut.set_result(None)
        elif isinstance(reply, hiredis.ReplyError):
            log.warning("Redis refused a pub/sub command: %s", reply)

    def _fanout(self, channel: bytes, data: bytes) -> None:
        name = channel.decode()
        subs = self.channels.get(name)
        if not subs:
            return
        frame = data.decode()
        eid = frame_id(data)
        # framed once here for every socket that can take the bytes as they are (server/wire.py)
        out = Prebuilt(data)
        entry = (id_key(eid), eid, frame_prev(data), frame, out) if eid else (None, None, None, frame, out)
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

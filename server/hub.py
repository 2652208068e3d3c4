"""The hub: one feed per server process (server/feed.py), fanned out to the review's sockets.

Modelled on encode/broadcaster: one listener, a set of subscribers per channel, the feed's
subscription made on the first subscriber and dropped with the last. Each message becomes one
typed `Frame` for every socket of its review (server/fanout.py); each socket's `Subscriber` is
a bounded queue its connection owns: the hub never awaits a socket, and a full queue closes its
socket with 4408.

Keeping every socket complete, although pub/sub is at-most-once:
* after the feed was down, every subscriber is told to RESYNC: catch up from the review's
  event log after the last id it sent;
* a lost message is noticed by the next frame's `prev` (the socket's writer fills the gap);
* a lost LAST message has no next frame: `check` compares each review's last logged id with the
  last one relayed, and a review still behind at the next check is resynced.
"""

from __future__ import annotations

import asyncio
from typing import Callable, Protocol, Sequence

from redis.asyncio import Redis

from redline.jobs.events import LoggedEvent, id_key, log_contains, read_after
from redline.jobs.keys import ReviewKeys, rid_of_channel
from redline.server.fanout import RESYNC, Frame, Log, Subscriber, frame_of
from redline.server.feed import Feed, RedisFeed

__all__ = ["Hub", "EventLog", "RedisLog", "Frame", "RESYNC", "Subscriber", "rid_of"]


class EventLog(Log, Protocol):
    """The reviews' event logs, as the fan-out reads them: the writers to fill gaps (fanout.Log),
    the hub to find lost last messages."""

    async def last_ids(self, rids: list[str]) -> list[str | None]: ...


class RedisLog:
    """The event logs in Redis (jobs/events.py), one object for every socket of the process."""

    __slots__ = ("redis",)

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def contains(self, rid: str, event_id: str) -> bool:
        return await log_contains(self.redis, rid, event_id)

    async def after(self, rid: str, event_id: str | None) -> Sequence[LoggedEvent]:
        return await read_after(self.redis, rid, event_id)

    async def last_ids(self, rids: list[str]) -> list[str | None]:
        """The reviews' last event ids as the event script records them (one MGET)."""
        raw = await self.redis.mget([ReviewKeys(rid).last for rid in rids])
        return [r.decode() if r else None for r in raw]


class Hub:
    def __init__(self, connect: Callable[[], Redis] | None = None, *, feed: Feed | None = None,
                 on_state: Callable[[str], None] | None = None, redis: Redis | None = None,
                 check_interval: float = 2.0, log: EventLog | None = None) -> None:
        if feed is None:
            if connect is None:
                raise ValueError("a hub needs a feed, or a way to connect to Redis")
            feed = RedisFeed(connect)
        self.feed = feed
        # the event logs in Redis unless given (the tests give memory ones): the sockets' writers fill
        # gaps from them, and the hub's check finds lost last messages with them
        self.log: EventLog | None = log if log is not None else RedisLog(redis) if redis is not None else None
        self.check_interval = check_interval
        self.heard: dict[str, str] = {}  # channel -> id of the last event relayed
        self.channels: dict[str, set[Subscriber]] = {}
        self.on_state = on_state
        self._behind: dict[str, tuple[str | None, str]] = {}  # what the last check found behind
        self._checker: asyncio.Task | None = None
        self.relayed = 0
        self.dropped = 0
        self.prebuilt = 0  # frames a socket wrote as the hub framed them (server/wire.py)

    @property
    def state(self) -> str:
        """"starting", "ok" or "degraded": the feed's."""
        return self.feed.state

    # --------------------------------------------------------------- public ---
    async def start(self, wait: float = 5.0) -> None:
        """Start listening; waits a little for the feed, but a server whose Redis is not up yet
        still starts (degraded) and connects as soon as it can."""
        if self.log is not None and self.check_interval > 0:
            self._checker = asyncio.create_task(self._check_forever(), name="hub-log-check")
        await self.feed.start(self, wait)

    async def stop(self) -> None:
        if self._checker is not None:
            self._checker.cancel()
            await asyncio.gather(self._checker, return_exceptions=True)
        await self.feed.stop()

    def close_all(self, code: int) -> None:
        for subs in self.channels.values():
            for sub in subs:
                sub.close(code)

    async def subscribe(self, sub: Subscriber) -> None:
        """Returns once the feed's subscription is live: every later message reaches `sub`."""
        channel = ReviewKeys(sub.rid).channel
        subs = self.channels.get(channel)
        if subs is None:
            subs = self.channels[channel] = set()
        subs.add(sub)
        await self.feed.subscribe(channel)

    async def unsubscribe(self, sub: Subscriber) -> None:
        channel = ReviewKeys(sub.rid).channel
        subs = self.channels.get(channel)
        if not subs or sub not in subs:
            return
        subs.discard(sub)
        if not subs:
            del self.channels[channel]
            self.heard.pop(channel, None)
            await self.feed.unsubscribe(channel)

    def caught_up(self, rid: str, event_id: str | None) -> None:
        """A socket of `rid` has everything up to `event_id` (its welcome): nothing before it is missing."""
        channel = ReviewKeys(rid).channel
        heard = self.heard.get(channel)
        if event_id and channel in self.channels and (heard is None or id_key(event_id) > id_key(heard)):
            self.heard[channel] = event_id

    def sockets(self) -> int:
        return sum(len(s) for s in self.channels.values())

    def channel_count(self) -> int:  # used by tests and /metrics
        return len(self.channels)

    # ------------------------------------------------- the feed's sink ---
    def message(self, channel: str, data: bytes) -> None:
        """One message of the feed, framed once for every socket of its review."""
        subs = self.channels.get(channel)
        if not subs:
            return
        frame = frame_of(data)
        if frame.id:
            self.heard[channel] = frame.id
        for sub in subs:
            sub.push(frame)
            if sub.overflowed:
                self.dropped += 1
        self.relayed += 1

    def up(self, resumed: bool) -> None:
        """The feed is up; `resumed`: after a loss, so every socket catches up from its log."""
        if self.on_state:
            self.on_state("ok")
        if resumed:
            self._resync(list(self.channels))

    def down(self) -> None:
        if self.on_state:
            self.on_state("degraded")

    # ------------------------------------------- the lost-last-message check ---
    async def check(self) -> None:
        """Pub/sub is at-most-once, and a lost message is noticed by the next frame's `prev`; a lost
        LAST message has no next frame. So compare each watched review's last event id with the
        last one relayed; a review still behind at the next check (so not a message in flight)
        gets its sockets caught up from the log."""
        assert self.log is not None
        channels = list(self.channels)
        if self.state != "ok" or not channels:
            return
        try:
            lasts = await self.log.last_ids([rid_of_channel(ch) for ch in channels])
        except Exception:  # Redis away: the feed's reconnect resyncs every socket anyway
            return
        seen: dict[str, tuple[str | None, str]] = {}
        late = []
        for ch, last in zip(channels, lasts):
            heard = self.heard.get(ch)
            if last is None or (heard is not None and id_key(heard) >= id_key(last)):
                continue
            if self._behind.get(ch) == (heard, last):
                self.heard[ch] = last
                late.append(ch)
            else:
                seen[ch] = (heard, last)
        self._behind = seen
        self._resync(late)

    async def _check_forever(self) -> None:
        while True:
            await asyncio.sleep(self.check_interval)
            await self.check()

    def _resync(self, channels: list[str]) -> None:
        for ch in channels:
            for sub in self.channels.get(ch, ()):
                sub.push(RESYNC)


def rid_of(channel: str) -> str:
    return rid_of_channel(channel)

"""The feed: the only code that touches Redis pub/sub (and a memory one, for tests).

One interface, small backends, as in encode/broadcaster. A feed subscribes to channels and hands
each message to its sink (the hub: server/hub.py) as soon as it arrives, in the callback that
read it. It tells the sink when it is up (`up(resumed)`: after a lost connection, messages
published meanwhile are lost, since pub/sub is at-most-once, so every socket must catch up from
its review's log) and when it is down.

`RedisFeed` keeps ONE pub/sub connection per server process. redis-py opens it (TLS, AUTH,
Sentinel, unix sockets: all of REDIS_URL); the feed then reads it itself, as an asyncio protocol
whose replies hiredis parses as they arrive and hands to the sink in the same callback: no task
switch, no future and no stream buffer per message (half of what a message cost the server with
redis-py's reader, which matters when many reviews each have a few sockets). That needs
redis-py's private transport (server/internals.py); where it is not found, the feed reads the
same connection through redis-py's public `read_response`, one task switch per message.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import random
from typing import Any, Awaitable, Callable, Protocol

import hiredis
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from redline.server.internals import pubsub_transport

log = logging.getLogger("redline.hub")

HEARTBEAT = "rl:hub:heartbeat"  # subscribed while no review is watched, so the connection stays open


class Sink(Protocol):
    """Where a feed delivers (the hub)."""

    def message(self, channel: str, data: bytes) -> None: ...

    def up(self, resumed: bool) -> None: ...

    def down(self) -> None: ...


class Feed(abc.ABC):
    state: str = "starting"  # "ok" | "degraded"

    @abc.abstractmethod
    async def start(self, sink: Sink, wait: float = 5.0) -> None:
        """Start delivering to `sink`; waits up to `wait` for the feed to be up, but returns anyway."""

    @abc.abstractmethod
    async def stop(self) -> None: ...

    @abc.abstractmethod
    async def subscribe(self, channel: str) -> None:
        """Returns once the subscription is live (every later message reaches the sink), or at once
        while the feed is down: it subscribes when it is up again, and says `up(resumed=True)`."""

    @abc.abstractmethod
    async def unsubscribe(self, channel: str) -> None: ...


class MemoryFeed(Feed):
    """Pub/sub inside one process: `publish` hands a message to the sink at once, in the caller's
    task. `drop` and `restore` act out a lost connection: what is published meanwhile is lost."""

    def __init__(self) -> None:
        self.channels: set[str] = set()
        self.sink: Sink | None = None

    async def start(self, sink: Sink, wait: float = 5.0) -> None:
        self.sink = sink
        self.state = "ok"
        sink.up(False)

    async def stop(self) -> None:
        self.sink = None

    async def subscribe(self, channel: str) -> None:
        self.channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self.channels.discard(channel)

    def publish(self, channel: str, data: bytes) -> int:
        """As Redis PUBLISH: the number of receivers (0 while the feed is down)."""
        if self.state != "ok" or self.sink is None or channel not in self.channels:
            return 0
        self.sink.message(channel, data)
        return 1

    def drop(self) -> None:
        if self.state != "degraded" and self.sink is not None:
            self.state = "degraded"
            self.sink.down()

    def restore(self) -> None:
        if self.state != "ok" and self.sink is not None:
            self.state = "ok"
            self.sink.up(True)


class RedisFeed(Feed):
    """Redis pub/sub on one connection for the whole process (see above)."""

    def __init__(self, connect: Callable[[], Redis]) -> None:
        self.connect = connect  # a new client for the pub/sub connection (no retries of its own)
        self.channels: set[str] = set()
        self.sink: Sink | None = None
        self.raw: bool | None = None  # the connection is read through its transport (None: not yet connected)
        self._client: Redis | None = None
        self._link: _Link | None = None
        self._pending: dict[str, asyncio.Future] = {}
        self._task: asyncio.Task | None = None
        self._connected = asyncio.Event()
        self._lock = asyncio.Lock()

    async def start(self, sink: Sink, wait: float = 5.0) -> None:
        """A server whose Redis is not up yet still starts (degraded) and connects as soon as it can."""
        self.sink = sink
        self._task = asyncio.create_task(self._run(), name="hub-listener")
        try:
            await asyncio.wait_for(asyncio.shield(self._connected.wait()), wait)
        except asyncio.TimeoutError:
            log.warning("Redis pub/sub not reachable yet; live updates start once it is")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._close()

    async def subscribe(self, channel: str) -> None:
        async with self._lock:  # held while connecting: a channel is never left out of a reconnect
            if channel in self.channels:
                fut = self._pending.get(channel)
            else:
                self.channels.add(channel)
                fut = None
                if self._link is not None and self.state == "ok":
                    fut = self._pending[channel] = asyncio.get_running_loop().create_future()
                    await self._command("SUBSCRIBE", channel)
        if fut is not None:
            await asyncio.wait_for(asyncio.shield(fut), 10)

    async def unsubscribe(self, channel: str) -> None:
        async with self._lock:
            if channel in self.channels:
                self.channels.discard(channel)
                if self.state == "ok":
                    await self._command("UNSUBSCRIBE", channel)

    # ------------------------------------------------------------- internals ---
    async def _command(self, *args: str) -> None:
        if self._link is not None:
            await self._link.send(args)

    async def _connect(self) -> None:
        self._client = self.connect()
        conn = await self._client.connection_pool.get_connection()  # connected and authenticated by redis-py
        transport = pubsub_transport(conn)
        self.raw = transport is not None
        self._link = _RawLink(transport, self._on_reply) if transport is not None else _PublicLink(conn, self._on_reply)
        async with self._lock:  # held until confirmed: a socket subscribing meanwhile waits, then finds us "ok"
            # A private heartbeat channel: its confirmation says the connection works.
            ready = self._pending[HEARTBEAT] = asyncio.get_running_loop().create_future()
            await self._command("SUBSCRIBE", HEARTBEAT, *self.channels)
            await asyncio.wait_for(asyncio.shield(ready), 5)

    async def _run(self) -> None:
        assert self.sink is not None
        backoff = 0.05
        first = True
        while True:
            try:
                await self._connect()
                backoff = 0.05
                self.state = "ok"
                self._connected.set()
                self.sink.up(not first)
                first = False
                assert self._link is not None
                exc = await self._link.lost
                raise ConnectionError(f"pub/sub connection lost ({exc!r})")
            except asyncio.CancelledError:
                raise
            except Exception as e:
                if self.state != "degraded":
                    log.warning("hub lost Redis pub/sub (%s); reconnecting", e.__class__.__name__)
                    self.state = "degraded"
                    self.sink.down()
                for fut in self._pending.values():
                    if not fut.done():
                        fut.set_result(None)
                self._pending.clear()
                await self._close()
                await asyncio.sleep(backoff * (0.5 + random.random()))
                backoff = min(backoff * 2, 3.0)

    async def _close(self) -> None:
        link, client = self._link, self._client
        self._link = self._client = None
        if link is not None:
            await link.close()
        if client is not None:
            try:
                await asyncio.wait_for(client.aclose(), 5)
            except Exception:
                pass

    def _on_reply(self, reply: Any) -> None:
        if isinstance(reply, list) and reply:
            kind = reply[0]
            if kind == b"message":
                assert self.sink is not None
                self.sink.message(reply[1].decode(), reply[2])
            elif kind == b"subscribe":
                fut = self._pending.pop(reply[1].decode(), None)
                if fut is not None and not fut.done():
                    fut.set_result(None)
        elif isinstance(reply, (hiredis.ReplyError, ResponseError)):
            log.warning("Redis refused a pub/sub command: %s", reply)


class _Link(abc.ABC):
    """One live pub/sub connection: commands out, replies to `on_reply`, `lost` when it ends."""

    lost: asyncio.Future

    @abc.abstractmethod
    def send(self, args: tuple[str, ...]) -> Awaitable[None]: ...

    @abc.abstractmethod
    async def close(self) -> None: ...


class _RawLink(_Link, asyncio.Protocol):
    """The connection's transport, read by this protocol: each reply goes to `on_reply` as soon as
    hiredis has parsed it."""

    def __init__(self, transport: asyncio.Transport, on_reply: Callable[[Any], None]) -> None:
        self.transport = transport
        self.on_reply = on_reply
        # redis-py's stream protocol: told when the connection ends, so that its close completes
        self.previous = transport.get_protocol()
        self.parser = hiredis.Reader()
        self.lost = asyncio.get_running_loop().create_future()
        transport.set_protocol(self)  # from here on, this protocol reads the connection

    async def send(self, args: tuple[str, ...]) -> None:
        if not self.transport.is_closing():
            self.transport.write(hiredis.pack_command(args))

    async def close(self) -> None:
        self.transport.close()

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


class _PublicLink(_Link):
    """The same connection through redis-py's public calls, read by a task of its own."""

    def __init__(self, conn: Any, on_reply: Callable[[Any], None]) -> None:
        self.conn = conn
        self.on_reply = on_reply
        self.lost = asyncio.get_running_loop().create_future()
        self.reader = asyncio.create_task(self._read(), name="hub-reader")

    async def send(self, args: tuple[str, ...]) -> None:
        await self.conn.send_command(*args, check_health=False)  # a health check would read a reply itself

    async def close(self) -> None:
        self.reader.cancel()
        await asyncio.gather(self.reader, return_exceptions=True)

    async def _read(self) -> None:
        exc: BaseException | None = None
        try:
            while True:
                try:
                    reply = await self.conn.read_response(disable_decoding=True, disconnect_on_error=False)
                except ResponseError as e:
                    reply = e
                try:
                    self.on_reply(reply)
                except Exception:
                    log.exception("hub: relaying a pub/sub message failed")
        except asyncio.CancelledError:
            pass
        except Exception as e:
            exc = e
        finally:
            if not self.lost.done():
                self.lost.set_result(exc)  # the feed closes the client, and with it this connection

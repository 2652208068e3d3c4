"""The websocket of one review: hello, replay or snapshot, live events, client ops.

Joining without a gap: subscribe to the hub first (frames wait in the socket's
queue), then read the log after the client's last id (or take a snapshot), send
that, and only then start the writer, which drops ids not greater than the last
one sent and fills any gap from the log (server/fanout.py). The connection owns
its queue (`Subscriber`), its writer and its tasks; the hub only pushes frames.

The socket speaks ASGI directly (server/app.py routes `/ws/reviews/{id}` here ahead of
Quart): Quart's websocket wrapper holds a queue, two tasks, a copy of the headers and its
contexts for every open socket, about a quarter of an idle socket's memory.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any, Awaitable, Callable

from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeoutError

from redline.jobs import events
from redline.server import protocol as P
from redline.server.fanout import Frame, Subscriber, TooSlow, Writer
from redline.server.services import STORE_REFUSED_MESSAGE, ServiceError as OpError, Services, store_refused
from redline.server.wire import Prebuilt, RawSocket, share_compression

log = logging.getLogger("redline.socket")

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class ClientGone(Exception):
    """The client closed the socket, or its connection dropped."""


class Connection:
    __slots__ = ("svc", "rid", "receive", "send", "closed", "conn_id", "sub", "writer", "handler", "name",
                 "joined", "raw", "client", "big", "dropped")

    def __init__(self, svc: Services, rid: str, receive: Receive, send: Send, client: str = "?") -> None:
        self.svc = svc
        self.dropped = False  # the connection was cut (mid-frame): no close frame can follow
        self.big = 0  # bytes of the largest welcome sent: memory to give back when the socket ends
        self.client = client  # the client's address: per-client limits are shared with its HTTP calls
        self.rid = rid
        self.receive, self.send = receive, send  # the ASGI callables of this socket
        self.closed = False
        self.conn_id = secrets.token_hex(8)
        self.sub = Subscriber(rid, svc.settings.ws_queue_max, svc.settings.ws_queue_max_bytes)
        self.writer = Writer(self.sub, svc.hub.log)  # type: ignore[arg-type]
        self.handler: asyncio.Task | None = None  # the socket's task, reading: cancelled to close it
        self.name = "Reviewer"
        self.joined = False
        self.raw: RawSocket | None = None  # writes the hub's ready-made frames straight to the transport

    # ------------------------------------------------------------ lifecycle ---
    async def run(self) -> None:
        """The socket's own task reads the client's messages; one writer task sends what the hub
        queues (frames that find the writer idle go out at once: `Writer.offer`). A close the
        server asks for (4408, 4404, 1001) cancels both, then this task closes."""
        sub = self.sub
        try:
            if not await self._join():
                return
            await self._read()
            await self.writer.stop()
            code = sub.close_code()
            if code == P.CLOSE_TOO_SLOW:
                await self._too_slow()
            elif code == P.CLOSE_NO_REVIEW:
                await self.close_within(P.CLOSE_NO_REVIEW, "the review was deleted")
            elif code is not None:
                await self.close_within(code, "server going away")
        except TooSlow:
            await self._too_slow()
        except ReviewGone:
            await self.close(P.CLOSE_NO_REVIEW, "no such review")
        finally:
            self.handler = None
            await self.writer.stop()  # the client went away (this task was cancelled): stop ours too
            await self.svc.hub.unsubscribe(sub)
            sub.on_stop = None  # set while joined: no cycle through this connection is left behind
            release_memory(self.big)
            if self.joined:
                try:
                    await self.svc.presence.leave(self.rid, self.conn_id)
                except Exception:
                    log.warning("presence leave failed for %s", self.rid)

    async def _join(self) -> bool:
        """Hello, welcome, then live. False when the client sent no hello (the socket is closed).
        Its own coroutine, so that nothing of the handshake stays with an open socket."""
        sub = self.sub
        hello = await self._await_hello()
        if hello is None:
            return False
        self.name = self.svc.person_name(hello.name, "name", "Reviewer") or "Reviewer"
        sub.on_stop = self._stop
        await self.svc.hub.subscribe(sub)
        await self._welcome(hello.last_event_id)
        self.svc.hub.caught_up(self.rid, self.writer.cursor_id)
        sub.push_text(P.reply_ok(hello.ref, {"connection_id": self.conn_id}).decode())
        self.writer.start(self)
        await self.svc.presence.join(self.rid, self.conn_id, self.name)
        self.joined = True
        return True

    async def _too_slow(self) -> None:
        """Over its byte or frame budget, or a send not taken within `ws_send_timeout_s`: close with
        4408, then drop the connection, and with it everything still waiting to be sent to it."""
        self.svc.metrics_slow_close()
        unsent = self.raw.transport.get_write_buffer_size() if self.raw is not None else 0
        log.warning("closing a socket of review %s that fell behind (%d frames / %d bytes queued, %d unsent)",
                    self.rid, self.sub.depth(), self.sub.nbytes, unsent)
        self.sub.overflowed = True
        self.sub.queue = None
        if self.dropped:
            self.closed = True
            release_memory(self.big)
            return
        await self.close_within(P.CLOSE_TOO_SLOW, "client too slow")
        if self.raw is not None and self.raw.transport.get_write_buffer_size():
            # The close frame waits behind what the peer has not read. A peer that reads again within
            # `ws_send_timeout_s` still finds it (and its 4408); after that the connection is dropped,
            # and what it held with it.
            asyncio.get_running_loop().call_later(self.svc.settings.ws_send_timeout_s, _drop_if_stuck,
                                                  self.raw.transport)
        else:
            release_memory(unsent)

    async def send_bounded(self, text: str) -> None:
        """A send that may wait for the client (a welcome, a replay, a catch-up): TooSlow when the
        client has not taken it within `ws_send_timeout_s`."""
        try:
            await asyncio.wait_for(self.send_text(text), self.svc.settings.ws_send_timeout_s)
        except asyncio.TimeoutError:
            raise TooSlow() from None

    async def _send_big(self, frame: Prebuilt) -> None:
        """A large frame (a welcome with its snapshot, shared by the sockets joining at once): written
        in pieces as the client takes them (`RawSocket.write_large`), so a client that never reads
        pins one piece, not a snapshot. What is still to write counts against the socket's byte
        budget; a client that has not taken it all within `ws_send_timeout_s` is dropped (TooSlow)."""
        self.big = max(self.big, len(frame.payload))
        deadline = time.monotonic() + self.svc.settings.ws_send_timeout_s
        sub = self.sub

        def left(n: int) -> bool:
            sub.pending = n
            return sub.overflowed

        raw = self.raw
        try:
            if raw is not None and await raw.write_large(frame, deadline, left):
                return
        except (asyncio.TimeoutError, ConnectionError):
            self.dropped = True
            raise TooSlow() from None
        await self.send_bounded(frame.payload.decode())

    # ------------------------------------------------------------------ ASGI ---
    async def accept(self, subprotocol: str | None = None) -> None:
        share_compression(self.send)  # if the client asks for compression: one compressed frame for all
        await self.send({"type": "websocket.accept", "subprotocol": subprotocol, "headers": []})
        self.raw = RawSocket.of(self.send)
        if self.raw is not None:
            self.sub.buffered = self.raw.transport.get_write_buffer_size

    async def _receive(self) -> str | bytes:
        """The client's next message (ClientGone once it has gone)."""
        while True:
            event = await self.receive()
            kind = event["type"]
            if kind == "websocket.receive":
                return event.get("bytes") or event["text"]
            if kind == "websocket.disconnect":
                self.closed = True
                raise ClientGone()

    async def send_text(self, text: str) -> None:
        await self.send({"type": "websocket.send", "bytes": None, "text": text})

    async def close(self, code: int, reason: str) -> None:
        if not self.closed:
            self.closed = True
            await self.send({"type": "websocket.close", "code": code, "reason": reason})

    async def close_within(self, code: int, reason: str) -> None:
        """Close with a code; a peer that reads nothing cannot block us (then the handler just ends)."""
        try:
            await asyncio.wait_for(self.close(code, reason), 2)
        except (asyncio.TimeoutError, Exception):
            pass

    async def refuse(self, code: int, reason: str) -> None:
        """Close with a code the client can act on. Reading its hello first (briefly) lets the close
        handshake complete: closing with unread data makes some browsers report 1006 instead."""
        try:
            await asyncio.wait_for(self._receive(), 1)
        except (asyncio.TimeoutError, Exception):
            pass
        await self.close(code, reason)

    # ----------------------------------------------------------- handshake ---
    async def _await_hello(self) -> P.Hello | None:
        while True:
            try:
                raw = await asyncio.wait_for(self._receive(), 30)
            except asyncio.TimeoutError:
                await self.close(P.CLOSE_PROTOCOL, "expected hello")
                return None
            try:
                msg = P.parse(raw)
            except P.ProtocolError as e:
                await self.send_text(P.reply_error(e.ref, e.code, e.message).decode())
                continue
            if isinstance(msg, P.Hello):
                if msg.last_event_id is not None and not events.valid_event_id(msg.last_event_id):
                    msg.last_event_id = "0-0"  # unknown to the log: the client gets a snapshot
                return msg
            await self.send_text(P.reply_error(msg.ref, "hello_first", "Send a hello message first.").decode())

    async def _welcome(self, last_id: str | None) -> None:
        store = self.svc.store
        book = self.writer.log
        if last_id and await book.contains(self.rid, last_id):
            missed = await book.after(self.rid, last_id)
            await self.send_bounded(P.welcome(True, None, last_event_id=last_id, service=self.svc.hub.state).decode())
            self._advance(last_id)
            for ev in missed:
                await self.send_bounded(ev.frame.decode())
                self._advance(ev.id)
                await asyncio.sleep(0)  # a long replay lets the other sockets run between frames
        else:
            async def build() -> tuple[Prebuilt, str | None] | None:
                snap = await store.snapshot(self.rid)
                if snap is None:
                    return None
                snap["reviewer"] = self.svc.reviewer_info()
                return Prebuilt(P.welcome(False, snap, service=self.svc.hub.state)), snap["last_event_id"]

            made = await self.svc.welcome_frame(self.rid, build)  # one snapshot for the sockets joining now
            if made is None:
                raise ReviewGone()
            frame, last = made
            await self._send_big(frame)
            del frame, made
            if last:
                self._advance(last)

    def _advance(self, eid: str) -> None:
        self.writer.advance(eid)

    # ------------------------------------------------ the writer's outlet ---
    def write_frame(self, frame: Frame) -> bool:
        """Write the hub's ready-made frame (server/wire.py) when this socket can take it as is."""
        raw, out = self.raw, frame.wire
        if raw is not None and out is not None and raw.write(out):
            self.svc.hub.prebuilt += 1
            return True
        return False

    async def resnapshot(self) -> None:
        await self._welcome(None)

    def writer_done(self) -> None:
        self.stop_reading()

    def _stop(self) -> None:
        """The subscriber's `on_stop`: stop the socket now, its writer even when blocked sending to a
        peer that reads nothing."""
        self.writer.cancel()
        self.stop_reading()

    def stop_reading(self) -> None:
        """Interrupt the socket's task (reading the client), which then closes the socket."""
        handler, self.handler = self.handler, None  # cancelled once: it tells our cancel from others'
        if handler is not None:
            handler.cancel()

    # ---------------------------------------------------------------- reader ---
    async def _read(self) -> None:
        """Read the client's messages in the socket's own task until the server stops the socket
        (`_stop` cancels this task, which then goes on to close it)."""
        if self.sub.stopped or not self.writer.running():
            return
        self.handler = asyncio.current_task()
        try:
            while self.handler is not None:
                await self._answer(await self._receive())
        except asyncio.CancelledError:
            # Ours if the socket was stopped (handler None) and no one else cancelled us too.
            if self.handler is not None or asyncio.current_task().uncancel():
                raise
        finally:
            self.handler = None

    async def _answer(self, raw: str | bytes) -> None:
        if not self.svc.limiter.allow(f"ws:{self.conn_id}", rate_per_s=20, burst=40):
            self._reply(P.reply_error(None, "rate_limited", "Too many messages; slow down."))
            return
        try:
            msg = P.parse(raw)
        except P.ProtocolError as e:
            self._reply(P.reply_error(e.ref, e.code, e.message))
            return
        try:
            data = await self._handle(msg)
            self._reply(P.reply_ok(msg.ref, data))
        except OpError as e:
            self._reply(P.reply_error(msg.ref, e.code, e.message))
        except (RedisConnectionError, RedisTimeoutError):
            log.warning("op %s: Redis unreachable", getattr(msg, "op", "?"))
            self._reply(P.reply_error(msg.ref, "unavailable", "The review store is unreachable just now; "
                                      "nothing was changed — try again in a few seconds."))
        except Exception as e:
            if store_refused(e):
                log.warning("op %s: Redis refused the write (%s)", getattr(msg, "op", "?"), str(e)[:200])
                self._reply(P.reply_error(msg.ref, "store_full", STORE_REFUSED_MESSAGE))
                return
            log.exception("op %s failed", getattr(msg, "op", "?"))
            self._reply(P.reply_error(msg.ref, "unavailable",
                                      "The service could not do this just now; try again."))

    def _reply(self, frame: bytes) -> None:
        self.sub.push_text(frame.decode())

    async def _handle(self, msg: Any) -> dict[str, Any]:
        svc, rid = self.svc, self.rid
        if isinstance(msg, P.Hello):
            raise OpError("already_greeted", "hello is the first message only.")
        if isinstance(msg, P.Ping):
            return {"pong": time.time()}
        if isinstance(msg, P.Analyze):
            svc.check_rate("analyze", self.client)
            return await svc.analyze(rid, msg.sections)
        if isinstance(msg, P.Cancel):
            if msg.all:
                return await svc.cancel_all(rid)
            if not msg.job_id:
                raise OpError("invalid_message", "cancel needs a job_id or \"all\": true.")
            return await svc.cancel(msg.job_id, rid)
        if isinstance(msg, P.Chat):
            svc.check_rate("chat", self.client)
            return await svc.chat(rid, msg.message, msg.section_id, self.name)
        if isinstance(msg, P.Decide):
            svc.check_rate("decide", self.client)
            if msg.item_ids is not None:
                return {"items": await svc.decide_many(rid, msg.item_ids, msg.decision, self.name,
                                                       replacement=msg.replacement, reason=msg.reason)}
            if msg.item_id is None:
                raise OpError("invalid_message", "decide needs an item_id (or item_ids).")
            item = await svc.decide(rid, msg.item_id, msg.decision, self.name,
                                    replacement=msg.replacement, reason=msg.reason)
            return {"item": item}
        raise OpError("unknown_op", "Unknown op.")


class ReviewGone(Exception):
    """The review was deleted while the socket was open."""


def _drop_if_stuck(transport: Any) -> None:
    unsent = transport.get_write_buffer_size()
    if unsent:
        transport.abort()
        release_memory(unsent)


_trim_scheduled = False


def release_memory(freed: int) -> None:
    """After a large buffer was let go, give the freed memory back to the OS soon (glibc keeps
    large freed blocks in its heap otherwise: the issue's server kept 2.5 GB after its sockets
    closed). One trim for a burst of such closes."""
    global _trim_scheduled
    if freed < 1 << 20 or _trim_scheduled:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    _trim_scheduled = True
    loop.call_later(0.5, _trim)


def _trim() -> None:
    global _trim_scheduled
    _trim_scheduled = False
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass

"""Fan-out: a review's frames, made once, queued per socket and sent in order, without gaps.

The hub (server/hub.py) turns each message of the feed into one `Frame` (id, `prev`, text and
ready-made websocket bytes) shared by every socket of the review, and pushes it to each socket's
`Subscriber`: a bounded queue owned by the socket's connection, which the hub never awaits. A
queue over its budget stops its socket (4408). Each socket's `Writer` sends what is queued:

* Joining without a gap: the connection subscribes first (frames wait in the queue), sends its
  welcome (a replay of the log or a snapshot), moves the writer's cursor to the welcome's last
  id, and only then starts the writer, which skips ids not greater than the cursor.
* Each event frame names its predecessor (`prev`): a frame whose `prev` is not the cursor means
  a message was lost on its way here, and the gap is filled from the review's log first. So is
  a `RESYNC` (the feed was down, or the log is ahead of what the hub relayed).
* While the writer is idle, a frame goes out at once from the hub's callback (`Writer.offer`):
  its ready-made bytes straight to the socket's transport, no task switch. Anything else (a gap,
  a close, a busy transport) wakes the writer's task.

Nothing here touches Redis or ASGI: the connection gives a `Log` and an `Outlet`
(server/socket.py), the tests give memory ones (tests/test_hub.py).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Callable, NamedTuple, Protocol, Sequence

from redline.jobs.events import frame_id, frame_prev, id_key, is_gone
from redline.server.protocol import CLOSE_NO_REVIEW, CLOSE_TOO_SLOW
from redline.server.wire import Prebuilt


class Frame(NamedTuple):
    """One message for the sockets of a review, made once for all of them."""

    text: str  # what the ASGI path sends
    id: str | None = None  # an event's stream id ("ms-seq"); None for other frames
    key: tuple[int, int] | None = None  # the id as it compares (id_key)
    prev: str | None = None  # the id of the review's event before this one ("" for the first)
    wire: Prebuilt | None = None  # the websocket frame, ready to write as it is (server/wire.py)
    gone: bool = False  # the review was deleted: its sockets close with 4404


RESYNC = Frame("")  # a marker, not a message: catch up from the log after the cursor


def frame_of(data: bytes) -> Frame:
    """A feed message as every socket takes it: read once per process, not once per socket."""
    eid = frame_id(data)
    if eid:
        return Frame(data.decode(), eid, id_key(eid), frame_prev(data), Prebuilt(data))
    return Frame(data.decode(), wire=Prebuilt(data), gone=is_gone(data))


class TooSlow(Exception):
    """The client did not take what was sent within the budget (bytes, time): close with 4408."""


class Subscriber:
    """One socket's queue: the hub pushes, the connection's writer takes.

    An idle socket holds no queue and no Event: the queue is made by the first frame and dropped
    when the writer has sent it all, and the writer waits on a plain future. The hub knows only
    `push`, `close` and `depth`; the connection is told through `on_stop` (stop the socket now)
    and, while its writer runs, offers to send a frame at once through `deliver`."""

    __slots__ = ("rid", "queue", "maxlen", "maxbytes", "nbytes", "buffered", "pending", "waiter", "overflowed",
                 "closing", "on_stop", "deliver")

    def __init__(self, rid: str, maxlen: int, maxbytes: int = 1 << 62,
                 on_stop: Callable[[], None] | None = None) -> None:
        self.rid = rid
        self.queue: deque[Frame] | None = None
        self.maxlen = maxlen
        # The byte budget: queued frames plus what the socket's transport still holds unsent (a
        # welcome snapshot the client has not read counts too). Over it: overflowed, as over maxlen.
        self.maxbytes = maxbytes
        self.nbytes = 0  # characters of the queued frames
        self.buffered: Callable[[], int] | None = None  # the transport's unsent bytes, when known
        self.pending = 0  # bytes of a large frame (the welcome) not yet handed to the transport
        self.waiter: asyncio.Future | None = None  # the writer, idle, waits on it for the next frame
        self.overflowed = False
        self.closing: int | None = None  # the close code the server asks for
        self.on_stop = on_stop  # the connection stops its writer and its reader: the socket closes
        self.deliver: Callable[[Frame], bool] | None = None  # the writer's `offer`, while it runs

    @property
    def stopped(self) -> bool:
        return self.overflowed or self.closing is not None

    def close_code(self) -> int | None:
        """The code the socket closes with, once stopped: 4408 when it fell behind."""
        return CLOSE_TOO_SLOW if self.overflowed else self.closing

    def depth(self) -> int:
        return len(self.queue) if self.queue else 0

    def push(self, frame: Frame) -> None:
        if self.overflowed:
            return  # nothing more is sent to this socket
        q = self.queue
        if q is None:
            if self.waiter is not None and self.deliver is not None and self.closing is None and self.deliver(frame):
                return
            q = self.queue = deque()
        size = len(frame.text)
        if frame is not RESYNC and (len(q) >= self.maxlen or self._over_budget(size)):
            self.overflowed = True
            self.queue = None  # nothing more will be sent: free the memory now
            self.nbytes = 0
            self._stop()
        else:
            q.append(frame)
            self.nbytes += size
            self._wake()

    def push_text(self, text: str) -> None:
        """A frame that is not an event (reply, presence, status): no id, sent as it comes."""
        self.push(Frame(text))

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

    def _over_budget(self, size: int) -> bool:
        total = self.nbytes + size + self.pending
        if total > self.maxbytes:
            return True
        buffered = self.buffered
        return buffered is not None and total + buffered() > self.maxbytes

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _stop(self) -> None:
        if self.on_stop is not None:
            self.on_stop()


class Logged(Protocol):
    id: str
    frame: bytes


class Log(Protocol):
    """The reviews' event logs, as a writer reads them to fill a gap (one for all sockets)."""

    async def contains(self, rid: str, event_id: str) -> bool: ...

    async def after(self, rid: str, event_id: str | None) -> Sequence[Logged]: ...


class Outlet(Protocol):
    """The socket, as the writer sends to it."""

    def write_frame(self, frame: Frame) -> bool:
        """Write the frame's ready-made bytes now, if the transport takes them as they are."""
        ...

    async def send_text(self, text: str) -> None:
        """Send through ASGI (waits while the client does not read)."""
        ...

    async def send_bounded(self, text: str) -> None:
        """Send through ASGI within the socket's time budget, else TooSlow."""
        ...

    async def resnapshot(self) -> None:
        """The log no longer holds the cursor: send a fresh welcome (and move the cursor)."""
        ...

    def writer_done(self) -> None:
        """The writer has ended: the socket's task goes on to close the socket."""
        ...


_SKIP, _GAP, _GONE = object(), object(), object()


class Writer:
    """Sends one socket's frames, in order, from a task of its own (`start`) or, while that task is
    idle, at once from the hub's callback (`offer`). It holds its outlet only while it runs, and
    its subscriber holds `offer` only then: a closed socket leaves no cycle for the collector."""

    __slots__ = ("sub", "log", "out", "cursor", "cursor_id", "task")

    def __init__(self, sub: Subscriber, log: Log) -> None:
        self.sub, self.log = sub, log
        self.out: Outlet | None = None
        self.cursor: tuple[int, int] = (0, 0)  # the last event sent (its id_key)
        self.cursor_id: str | None = None
        self.task: asyncio.Task | None = None

    def advance(self, event_id: str) -> None:
        self.cursor_id = event_id
        self.cursor = id_key(event_id)

    # ------------------------------------------------------------ its task ---
    def start(self, out: Outlet) -> None:
        self.out = out
        self.task = asyncio.create_task(self._run(out), name="ws-writer")

    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    async def stop(self) -> None:
        task = self.task
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self, out: Outlet) -> None:
        """Send what the hub queues, in order, until the socket is stopped; then (or when this fails)
        the socket's task goes on to close it."""
        sub = self.sub
        sub.deliver = self.offer
        try:
            while not sub.stopped:
                if not sub.queue:
                    await sub.idle()  # holding no reference to the queue: an idle socket keeps none
                    continue
                frame = sub.queue.popleft()
                sub.nbytes -= len(frame.text)
                verdict = self._admit(frame)
                if verdict is _SKIP:
                    continue
                if verdict is _GAP:
                    try:
                        await self.catch_up(out, None if frame is RESYNC else frame.id)
                    except TooSlow:
                        sub.overflowed = True  # the socket's task closes it with 4408
                        return
                    continue
                if verdict is _GONE:
                    sub.closing = CLOSE_NO_REVIEW
                    return
                if not out.write_frame(frame):
                    await out.send_text(frame.text)
        finally:
            sub.deliver = None
            self.out = None
            out.writer_done()

    def _admit(self, frame: Frame) -> Any:
        """What a queued frame asks of the writer: _SKIP (sent already, by a replay or catch-up),
        _GAP (a message before it was lost, or a RESYNC: fill from the log), _GONE (the review was
        deleted), or None: send it (the cursor moves past it)."""
        key = frame.key
        if key is not None:
            if key <= self.cursor:
                return _SKIP
            if frame.prev != (self.cursor_id or ""):
                return _GAP
            self.cursor, self.cursor_id = key, frame.id
            return None
        if frame is RESYNC:
            return _GAP
        return _GONE if frame.gone else None

    def offer(self, frame: Frame) -> bool:
        """The hub's fast path while the writer is idle: send `frame` from the caller's task when the
        transport takes its ready-made bytes now. False leaves it to the writer's task (a gap to
        fill, a resync, a close, a busy transport); the cursor moves only once the frame is out."""
        key = frame.key
        if key is not None:
            if key <= self.cursor:
                return True
            if frame.prev != (self.cursor_id or "") or not self.out.write_frame(frame):  # type: ignore[union-attr]
                return False
            self.cursor, self.cursor_id = key, frame.id
            return True
        if frame is RESYNC or frame.gone:
            return False
        return self.out.write_frame(frame)  # type: ignore[union-attr]

    async def catch_up(self, out: Outlet, upto: str | None) -> None:
        """Send what the log holds after the cursor (up to `upto` when given)."""
        rid = self.sub.rid
        if self.cursor_id and not await self.log.contains(rid, self.cursor_id):
            await out.resnapshot()  # older than the log: a fresh snapshot
            return
        for ev in await self.log.after(rid, self.cursor_id):
            if ev.id and id_key(ev.id) > self.cursor:
                await out.send_bounded(ev.frame.decode())
                self.advance(ev.id)
                await asyncio.sleep(0)  # a long catch-up lets the other sockets run between frames
            if upto and ev.id == upto:
                break

"""The hub in its two layers, without Redis: a memory feed (server/feed.py) under the fan-out
(server/hub.py, server/fanout.py), sockets that record what they were sent, and a review log in
memory. Then the two shortcuts into private attributes (server/internals.py), checked against
the installed redis-py and Hypercorn, with the public path they fall back to."""

from __future__ import annotations

import asyncio
import json
import socket
from collections import deque
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable

import pytest
import websockets
from redis.asyncio import Redis

from redline.jobs.events import gone_frame, id_key, make_frame
from redline.jobs.keys import ReviewKeys
from redline.jobs.settings import Settings
from redline.server import internals
from redline.server.fanout import RESYNC, Frame, Subscriber, TooSlow, Writer, frame_of
from redline.server.feed import MemoryFeed, RedisFeed
from redline.server.hub import Hub
from redline.server.protocol import CLOSE_GOING_AWAY, CLOSE_NO_REVIEW, CLOSE_TOO_SLOW
from redline.server.socket import ClientGone, Connection
from redline.server.wire import Prebuilt, RawSocket, share_compression

RID = "r" * 16


# ------------------------------------------------------------------ memory ---

@dataclass(frozen=True)
class Logged:
    id: str
    frame: bytes


class Bus:
    """A review's event log and its feed, as the event script keeps them: each event is appended
    to the log and published; `lose` appends without publishing (a lost pub/sub message)."""

    def __init__(self, feed: MemoryFeed) -> None:
        self.feed = feed
        self.logs: dict[str, list[Logged]] = {}
        self.seq = 0
        self.reads = 0  # catch-ups: reads of a log after an id

    def _append(self, rid: str, text: str) -> Logged:
        log = self.logs.setdefault(rid, [])
        self.seq += 1
        eid = f"1700000000000-{self.seq}"
        ev = Logged(eid, make_frame(eid, log[-1].id if log else "", "chat.delta",
                                    json.dumps({"message_id": "m", "text": text})))
        log.append(ev)
        return ev

    def publish(self, text: str, rid: str = RID) -> str:
        ev = self._append(rid, text)
        self.feed.publish(ReviewKeys(rid).channel, ev.frame)
        return ev.id

    def lose(self, text: str, rid: str = RID) -> str:
        return self._append(rid, text).id

    # the hub's EventLog
    async def contains(self, rid: str, event_id: str) -> bool:
        return any(e.id == event_id for e in self.logs.get(rid, []))

    async def after(self, rid: str, event_id: str | None) -> list[Logged]:
        self.reads += 1
        return [e for e in self.logs.get(rid, []) if event_id is None or id_key(e.id) > id_key(event_id)]

    async def last_ids(self, rids: list[str]) -> list[str | None]:
        return [self.logs[r][-1].id if self.logs.get(r) else None for r in rids]


class Sock:
    """A connection as server/socket.py makes one (subscriber, writer, outlet), recording what it
    sends: `fast` frames written from the hub's callback, the rest through its writer's task."""

    def __init__(self, hub: Hub, bus: Bus, *, maxlen: int = 100, maxbytes: int = 1 << 30,
                 raw: bool = True, rid: str = RID) -> None:
        self.hub, self.raw = hub, raw
        self.sub = Subscriber(rid, maxlen, maxbytes, self.stop)
        self.bus = bus
        self.writer = Writer(self.sub, bus)
        self.sent: list[str] = []  # the text of every frame, in the order it went out
        self.fast = 0
        self.snapshots = 0
        self.stopped = False
        self.done = False
        self.gate: asyncio.Event | None = None  # while set to an unset Event, the client reads nothing
        self.changed = asyncio.Event()

    async def join(self, cursor: str | None = None) -> Sock:
        await self.hub.subscribe(self.sub)
        if cursor:
            self.writer.advance(cursor)
        self.writer.start(self)
        while self.sub.waiter is None:  # the writer is idle: frames now go out from the hub's callback
            await asyncio.sleep(0)
        return self

    # the writer's outlet
    def write_frame(self, frame: Frame) -> bool:
        if not self.raw or self.gate is not None or frame.wire is None:
            return False
        self.fast += 1
        self._out(frame.wire.payload.decode())
        return True

    async def send_text(self, text: str) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self._out(text)

    async def send_bounded(self, text: str) -> None:
        await self.send_text(text)

    async def resnapshot(self) -> None:
        self.snapshots += 1

    def writer_done(self) -> None:
        self.done = True
        self.changed.set()

    def stop(self) -> None:  # the subscriber's on_stop
        self.stopped = True
        self.writer.cancel()
        self.changed.set()

    def _out(self, text: str) -> None:
        self.sent.append(text)
        self.changed.set()

    # for the tests
    def ids(self) -> list[str]:
        return [json.loads(t)["id"] for t in self.sent if t.startswith('{"type":"event"')]

    async def until(self, ok: Callable[[], bool]) -> None:
        while not ok():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 10)


@pytest.fixture
async def mem():
    feed = MemoryFeed()
    bus = Bus(feed)
    states: list[str] = []
    hub = Hub(feed=feed, on_state=states.append, log=bus, check_interval=0)
    await hub.start()
    yield hub, bus, states
    await hub.stop()


def text(t: str) -> str:
    return json.loads(t)["data"]["text"]


async def test_events_go_out_once_in_order_framed_once_for_every_socket(mem):
    hub, bus, _ = mem
    a, b = await Sock(hub, bus).join(), await Sock(hub, bus, raw=False).join()
    seen: list[Frame] = []
    a.sub.deliver = lambda f, offer=a.sub.deliver: seen.append(f) or offer(f)
    ids = [bus.publish(t) for t in ("one", "two", "three")]
    assert a.ids() == ids and a.fast == 3, "an idle socket is written to from the hub's callback"
    await b.until(lambda: len(b.sent) == 3)
    assert b.ids() == ids and b.fast == 0, "a socket that cannot take the ready bytes gets them from its writer"
    assert all(f.wire is not None and f.key == id_key(f.id) for f in seen)
    assert hub.relayed == 3 and hub.heard[ReviewKeys(RID).channel] == ids[-1]
    await b.until(lambda: b.sub.waiter is not None)
    held = b.writer.task.get_coro().cr_frame.f_locals.values()
    assert b.sub.queue is None and not any(isinstance(v, deque) for v in held), "an idle socket keeps no queue"


async def test_a_lost_message_is_filled_from_the_log_before_the_next(mem):
    hub, bus, _ = mem
    s = await Sock(hub, bus).join()
    first = bus.publish("one")
    lost = bus.lose("two")
    third = bus.publish("three")
    await s.until(lambda: len(s.sent) == 3)
    assert s.ids() == [first, lost, third] and [text(t) for t in s.sent] == ["one", "two", "three"]
    fourth = bus.publish("four")
    assert s.ids()[-1] == fourth and len(s.sent) == 4, "no duplicate, and back on the fast path"


async def test_joining_skips_what_the_welcome_already_sent(mem):
    hub, bus, _ = mem
    s = Sock(hub, bus)
    await hub.subscribe(s.sub)
    bus.publish("one")  # queued while the welcome is being sent
    e2 = bus.publish("two")
    s.writer.advance(e2)  # the welcome's snapshot held both
    s.writer.start(s)
    e3 = bus.publish("three")
    await s.until(lambda: len(s.sent) == 1)
    assert s.ids() == [e3] and s.bus.reads == 0


@pytest.mark.parametrize("maxlen,maxbytes", [(5, 1 << 30), (1000, 600)])
async def test_a_socket_that_falls_behind_closes_with_4408_and_the_others_keep_up(mem, maxlen, maxbytes):
    hub, bus, _ = mem
    slow = await Sock(hub, bus, maxlen=maxlen, maxbytes=maxbytes).join()
    other = await Sock(hub, bus).join()
    slow.gate = asyncio.Event()  # never set: the client reads nothing
    ids = [bus.publish(f"event {i:03}") for i in range(20)]
    assert slow.stopped and slow.sub.close_code() == CLOSE_TOO_SLOW
    assert slow.sub.queue is None and slow.sub.nbytes == 0, "what was queued is let go at once"
    assert hub.dropped > 0
    await slow.until(lambda: slow.done)
    await slow.writer.stop()
    assert other.ids() == ids
    await hub.unsubscribe(slow.sub)
    assert hub.sockets() == 1


async def test_a_socket_that_pauses_then_reads_again_gets_everything_in_order(mem):
    hub, bus, _ = mem
    s = await Sock(hub, bus, maxlen=50).join()
    s.gate = asyncio.Event()
    ids = [bus.publish(f"e{i}") for i in range(30)]
    assert not s.stopped and s.sub.depth() > 0
    gate, s.gate = s.gate, None
    gate.set()
    await s.until(lambda: len(s.sent) == 30)
    assert s.ids() == ids and s.sub.depth() == 0


async def test_after_the_feed_was_down_every_socket_resyncs_from_the_log(mem):
    hub, bus, states = mem
    a, b = await Sock(hub, bus).join(), await Sock(hub, bus).join()
    first = bus.publish("before")
    hub.feed.drop()
    assert hub.state == "degraded" and states[-1] == "degraded"
    missed = [bus.publish("while down 1"), bus.publish("while down 2")]  # published, but lost to this server
    assert a.ids() == [first]
    hub.feed.restore()
    assert hub.state == "ok" and states[-1] == "ok"
    for s in (a, b):
        await s.until(lambda s=s: len(s.sent) == 3)
    after = bus.publish("after")
    assert a.ids() == b.ids() == [first, *missed, after]


async def test_a_lost_last_message_arrives_at_the_second_check(mem):
    hub, bus, _ = mem
    s = await Sock(hub, bus).join()
    first = bus.publish("one")
    lost = bus.lose("the last")
    await hub.check()  # behind once: it may be a message in flight
    assert s.ids() == [first] and s.bus.reads == 0
    await hub.check()  # still behind: it was lost
    await s.until(lambda: len(s.sent) == 2)
    assert s.ids() == [first, lost]
    await hub.check()
    await hub.check()
    assert s.bus.reads == 1, "caught up: no further reads"


async def test_a_message_in_flight_at_a_check_is_not_resynced(mem):
    hub, bus, _ = mem
    s = await Sock(hub, bus).join()
    bus.publish("one")
    late = bus.lose("in flight")
    await hub.check()
    hub.feed.publish(ReviewKeys(RID).channel, bus.logs[RID][-1].frame)  # it arrives after all
    await hub.check()
    assert s.ids()[-1] == late and len(s.sent) == 2 and s.bus.reads == 0


async def test_a_deleted_review_closes_its_sockets_with_4404(mem):
    hub, bus, _ = mem
    s = await Sock(hub, bus).join()
    hub.feed.publish(ReviewKeys(RID).channel, gone_frame("deleted"))
    await s.until(lambda: s.done)
    assert s.sub.close_code() == CLOSE_NO_REVIEW and s.sent == []


async def test_close_all_and_the_last_unsubscribe(mem):
    hub, bus, _ = mem
    other = "o" * 16
    a, b, c = await Sock(hub, bus).join(), await Sock(hub, bus).join(), await Sock(hub, bus, rid=other).join()
    assert hub.channel_count() == 2 and hub.sockets() == 3
    assert hub.feed.channels == {ReviewKeys(RID).channel, ReviewKeys(other).channel}
    await hub.unsubscribe(a.sub)
    assert ReviewKeys(RID).channel in hub.feed.channels
    await hub.unsubscribe(b.sub)
    assert hub.feed.channels == {ReviewKeys(other).channel} and ReviewKeys(RID).channel not in hub.heard
    bus.publish("nobody listens")
    assert hub.relayed == 0
    hub.close_all(CLOSE_GOING_AWAY)
    assert c.stopped and c.sub.close_code() == CLOSE_GOING_AWAY


async def test_replies_and_presence_frames_have_no_id_and_pass_the_cursor(mem):
    hub, bus, _ = mem
    s = await Sock(hub, bus).join()
    e1 = bus.publish("one")
    hub.feed.publish(ReviewKeys(RID).channel, b'{"type":"presence","viewers":[]}')
    s.sub.push_text('{"type":"reply","ref":1,"ok":true,"data":{}}')  # not framed by the hub: its writer sends it
    await s.until(lambda: len(s.sent) == 3)
    assert [json.loads(t)["type"] for t in s.sent] == ["event", "presence", "reply"] and s.ids() == [e1]
    assert RESYNC.text == "" and frame_of(b'{"type":"presence"}').id is None


async def test_a_catch_up_the_client_does_not_take_in_time_closes_with_4408(mem):
    hub, bus, _ = mem
    s = await Sock(hub, bus).join()

    async def too_slow(text: str) -> None:
        raise TooSlow()

    s.send_bounded = too_slow  # type: ignore[method-assign]
    bus.publish("one")
    bus.lose("two")
    bus.publish("three")
    await s.until(lambda: s.done)
    assert s.sub.close_code() == CLOSE_TOO_SLOW


class Viewers:
    async def join(self, rid: str, conn_id: str, name: str) -> None: ...

    async def leave(self, rid: str, conn_id: str) -> None: ...


class Asgi:
    """The ASGI side of one websocket: what the client sends, what the server sent."""

    def __init__(self, *, reads: bool = True) -> None:
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.sent: list[dict] = []
        self.reads = reads  # False: a client that reads nothing (sends never complete; a close does)
        self.changed = asyncio.Event()

    async def send(self, message: dict) -> None:
        if message["type"] == "websocket.send" and not self.reads and self.sent:
            await asyncio.Event().wait()
        self.sent.append(message)
        self.changed.set()

    def frames(self) -> list[dict]:
        return [json.loads(m["text"]) for m in self.sent if m["type"] == "websocket.send"]

    async def until(self, ok: Callable[[], bool]) -> None:
        while not ok():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 10)


def connection(hub: Hub, bus: Bus, asgi: Asgi, **settings: Any) -> Connection:
    svc = SimpleNamespace(settings=Settings(**settings), redis=None, store=None, hub=hub, presence=Viewers(),
                          person_name=lambda value, what, default=None: value or default,
                          metrics_slow_close=lambda: None)
    conn = Connection(svc, RID, asgi.inbox.get, asgi.send)  # type: ignore[arg-type]
    return conn


async def test_a_connection_joins_gets_live_events_and_leaves_nothing_behind(mem):
    hub, bus, _ = mem
    first = bus.publish("before the socket")
    asgi = Asgi()
    conn = connection(hub, bus, asgi)
    await asgi.inbox.put({"type": "websocket.receive", "text": json.dumps({"op": "hello", "ref": 1, "last_event_id": first})})
    task = asyncio.create_task(conn.run())
    await asgi.until(lambda: len(asgi.sent) == 2)
    live = bus.publish("live")
    await asgi.until(lambda: len(asgi.sent) == 3)
    await asgi.inbox.put({"type": "websocket.disconnect", "code": 1000})
    with pytest.raises(ClientGone):
        await task
    frames = asgi.frames()
    assert [f["type"] for f in frames] == ["welcome", "reply", "event"] and frames[0]["recovered"] is True
    assert frames[2]["id"] == live and frames[2]["prev"] == first
    assert hub.sockets() == 0 and hub.feed.channels == set()
    # nothing that points back at the connection is left: it is freed without the cycle collector
    assert conn.sub.on_stop is None and conn.sub.deliver is None and conn.writer.out is None and conn.handler is None


async def test_a_connection_that_falls_behind_is_closed_with_4408(mem):
    hub, bus, _ = mem
    first = bus.publish("one")
    asgi = Asgi(reads=False)
    conn = connection(hub, bus, asgi, ws_queue_max=5)
    await asgi.inbox.put({"type": "websocket.receive", "text": json.dumps({"op": "hello", "last_event_id": first})})
    task = asyncio.create_task(conn.run())
    await asgi.until(lambda: len(asgi.sent) == 1)  # the welcome; its reply never completes
    for i in range(10):
        bus.publish(f"more {i}")
    await task
    assert asgi.sent[-1] == {"type": "websocket.close", "code": CLOSE_TOO_SLOW, "reason": "client too slow"}
    assert hub.sockets() == 0 and hub.dropped > 0


# ------------------------------------------- the private shortcuts, installed ---

class Recorder:
    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.states: list[Any] = []
        self.changed = asyncio.Event()

    def message(self, channel: str, data: bytes) -> None:
        self.messages.append((channel, data))
        self.changed.set()

    def up(self, resumed: bool) -> None:
        self.states.append(("up", resumed))
        self.changed.set()

    def down(self) -> None:
        self.states.append("down")
        self.changed.set()

    async def until(self, ok: Callable[[], bool]) -> None:
        while not ok():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 15)


@pytest.mark.parametrize("private", [True, False], ids=["private-transport", "public-fallback"])
async def test_the_redis_feed_on_the_installed_redis_py(redis_url, monkeypatch, private):
    if not private:
        monkeypatch.setattr("redline.server.feed.pubsub_transport", lambda conn: None)
    name = f"hub-test-{'private' if private else 'public'}"
    channel = f"rl:{{{name}}}:ev"
    feed, sink = RedisFeed(lambda: Redis.from_url(redis_url, client_name=name)), Recorder()
    pub = Redis.from_url(redis_url)
    try:
        await feed.start(sink)
        assert feed.state == "ok" and feed.raw is private and sink.states == [("up", False)]
        await feed.subscribe(channel)
        assert await pub.publish(channel, b"hello") == 1
        await sink.until(lambda: len(sink.messages) == 1)
        assert sink.messages == [(channel, b"hello")]
        # Redis drops the pub/sub connection: down, then up again, resumed, still subscribed.
        (ours,) = [c for c in await pub.client_list(_type="pubsub") if c["name"] == name]
        await pub.client_kill_filter(_id=ours["id"])
        await sink.until(lambda: ("up", True) in sink.states)
        assert sink.states[1:] == ["down", ("up", True)]
        await pub.publish(channel, b"again")
        await sink.until(lambda: len(sink.messages) == 2)
        await feed.unsubscribe(channel)
        # Redis has it once its UNSUBSCRIBE is read (until then a PUBLISH from another connection
        # can still reach the feed, which the hub ignores for a channel nobody watches)
        while (await pub.pubsub_numsub(channel))[0][1]:
            await asyncio.sleep(0.01)
        await pub.publish(channel, b"not heard")
        await feed.subscribe(channel + "2")  # a message the feed does hear, after the one it must not
        await pub.publish(channel + "2", b"heard")
        await sink.until(lambda: len(sink.messages) == 3)
        assert [m for _, m in sink.messages] == [b"hello", b"again", b"heard"]
    finally:
        await feed.stop()
        await pub.aclose()


async def test_the_raw_socket_on_the_installed_hypercorn():
    """RawSocket finds Hypercorn's parts behind a websocket's ASGI send, plain and compressed, and
    its frame arrives as the ASGI path's would; anything else gets None (the ASGI path)."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    found: list[RawSocket | None] = []

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()  # websocket.connect
        share_compression(send)
        await send({"type": "websocket.accept"})
        raw = RawSocket.of(send)
        found.append(raw)
        assert raw is not None and raw.write(Prebuilt(b'{"n":1}'))
        await send({"type": "websocket.send", "text": '{"n":2}'})
        await receive()  # until the client closes

    listening = socket.socket()  # bound and listening before the server runs: nothing to wait for
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    port = listening.getsockname()[1]
    config = Config()
    config.bind = [f"fd://{listening.detach()}"]  # the server owns it from here
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    try:
        for compression in (None, "deflate"):
            async with websockets.connect(f"ws://127.0.0.1:{port}/", compression=compression) as ws:
                assert [await ws.recv(), await ws.recv()] == ['{"n":1}', '{"n":2}']
        assert [r.deflate for r in found if r is not None] == [False, True]
    finally:
        stop.set()
        await server
    assert internals.hypercorn_socket(lambda message: None) is None
    assert RawSocket.of(object()) is None
    assert internals.pubsub_transport(object()) is None

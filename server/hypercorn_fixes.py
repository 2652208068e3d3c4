"""A fix to Hypercorn's websocket reading, applied by `redline serve` (issue 12, E).

Hypercorn (0.17/0.18) answers a message over `websocket_max_message_size` with a 1009 close
frame and then stops reading the events wsproto has already parsed from the same data (`break`).
What the client sent after the oversized frame (its close reply) then sits unparsed until the
next bytes arrive, usually the answer to the next ping: the socket closed ~20 s late, about 4 in
10 times (whenever the frame arrived in more than one read). Here the loop goes on: the rest of
the oversized message is dropped, and the client's close reply ends the socket at once.
"""

from __future__ import annotations

import inspect
import logging

log = logging.getLogger("redline.hypercorn")


def apply() -> bool:
    try:
        from hypercorn.protocol import ws_stream as W
    except ImportError:
        return False
    cls = W.WSStream
    if getattr(cls, "_redline_too_big_fix", False):
        return True
    try:
        source = inspect.getsource(cls._handle_events)
    except (OSError, TypeError):
        return False
    if "FrameTooLargeError" not in source or "break" not in source:
        log.info("Hypercorn's websocket reader changed; its oversized-frame handling is left as it is")
        return False

    async def _handle_events(self) -> None:
        for event in self.connection.events():
            if isinstance(event, W.Message):
                if getattr(self, "_redline_too_big", False):
                    continue  # the rest of a message we already refused
                try:
                    self.buffer.extend(event)
                except W.FrameTooLargeError:
                    self._redline_too_big = True
                    self.buffer.clear()
                    await self._send_wsproto_event(W.CloseConnection(code=W.CloseReason.MESSAGE_TOO_BIG))
                    continue
                if event.message_finished:
                    await self.app_put(self.buffer.to_message())
                    self.buffer.clear()
            elif isinstance(event, W.Ping):
                await self._send_wsproto_event(event.response())
            elif isinstance(event, W.CloseConnection):
                if self.connection.state == W.ConnectionState.REMOTE_CLOSING:
                    await self._send_wsproto_event(event.response())
                await self.send(W.StreamClosed(stream_id=self.stream_id))

    cls._handle_events = _handle_events
    cls._redline_too_big_fix = True
    return True

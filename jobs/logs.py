"""Logging: one JSON line per notable thing, and no storm while Redis is away.

Fields: ts, level, logger, msg, and when known review_id, job_id, request_id.
Tokens and document text are never logged (nothing here formats request data).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time

from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeoutError

CONTEXT_FIELDS = ("review_id", "job_id", "request_id", "worker_id", "queue")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": round(record.created, 3), "level": record.levelname.lower(), "logger": record.name,
               "msg": record.getMessage()}
        for f in CONTEXT_FIELDS:
            v = getattr(record, f, None)
            if v is not None:
                out[f] = v
        if record.exc_info and record.exc_info[1] is not None:
            e = record.exc_info[1]
            out["error"] = f"{e.__class__.__name__}: {e}"[:500]
            if record.levelno >= logging.ERROR and not isinstance(e, (RedisConnectionError, RedisTimeoutError)):
                out["trace"] = self.formatException(record.exc_info)[-4000:]
        return json.dumps(out, ensure_ascii=False)


class RedisOutageFilter(logging.Filter):
    """While Redis is unreachable every loop of every component fails; say so once per interval."""

    def __init__(self, interval: float = 30.0) -> None:
        super().__init__()
        self.interval = interval
        self._last = 0.0
        self._suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
            return True
        now = time.monotonic()
        if now - self._last < self.interval:
            self._suppressed += 1
            return False
        self._last = now
        record.msg = f"Redis unreachable ({exc}); retrying in the background"
        if self._suppressed:
            record.msg += f" ({self._suppressed} similar messages suppressed)"
        record.args = ()
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = None
        self._suppressed = 0
        return True


def setup_logging() -> None:
    level = os.environ.get("REDLINE_LOG_LEVEL", "INFO").upper()
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("REDLINE_LOG_FORMAT", "json") == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedisOutageFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet = {"saq": logging.ERROR, "hypercorn.access": logging.WARNING, "hypercorn.error": logging.WARNING,
             "httpx": logging.WARNING, "anthropic": logging.WARNING, "httpx2": logging.WARNING}
    if level != "DEBUG":
        for name, lvl in quiet.items():
            logging.getLogger(name).setLevel(lvl)

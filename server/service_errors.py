"""How a review operation says no, over HTTP and the websocket alike: ServiceError (a code, a
message for a person, an HTTP status) and RateLimited; the store refusing writes (store_refused
and its message: a 503, nothing changed); a validation error's first problem, for a message."""

from __future__ import annotations


class ServiceError(Exception):
    """A request that cannot be done, with a code and a message for a person."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class RateLimited(ServiceError):
    """429 with Retry-After (HTTP), or a `rate_limited` error reply (websocket)."""

    def __init__(self, kind: str, wait: float) -> None:
        super().__init__("rate_limited", f"Too many {kind.replace('_', ' ')} requests; "
                         f"try again in {max(1, round(wait))} s.", 429)
        self.retry_after = max(1, round(wait + 0.49))


def store_refused(e: BaseException) -> bool:
    """Redis up but refusing writes: disk full (MISCONF: the last save failed), out of memory (OOM),
    a read-only replica. A 503 with Retry-After for the caller, not a 500: nothing was changed."""
    from redis.exceptions import OutOfMemoryError, ReadOnlyError, ResponseError

    if isinstance(e, (OutOfMemoryError, ReadOnlyError)):
        return True
    if isinstance(e, ResponseError):
        text = str(e)
        return any(mark in text for mark in ("MISCONF", "OOM ", "READONLY", "-OOM", "-MISCONF"))
    return False


STORE_REFUSED_MESSAGE = ("The review store cannot save anything just now (its disk is full or it is out of "
                         "memory); nothing was changed — try again in a minute.")


def first_error(e: Exception) -> str:
    errors = getattr(e, "errors", None)
    if callable(errors):
        err = errors()[0]
        return f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}"
    return str(e)

"""Every error as the contract's {"error": {"code", "message"}}: a ServiceError as raised, HTTP
errors by status, Redis down or refusing writes as 503, anything else as 500 (logged)."""

from __future__ import annotations

import logging

from quart import Quart, Response, g, request
from redis.exceptions import ConnectionError as RedisConnectionError, ResponseError as RedisResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.exceptions import HTTPException

from redline.jobs.settings import Settings
from redline.server.api import error
from redline.server.services import STORE_REFUSED_MESSAGE, ServiceError, store_refused

log = logging.getLogger("redline.app")


def install_error_handlers(app: Quart, settings: Settings) -> None:
    @app.errorhandler(ServiceError)
    async def service_error(e: ServiceError) -> Response:
        headers = {"Retry-After": str(e.retry_after)} if hasattr(e, "retry_after") else None
        return error(e.code, e.message, e.status, headers)

    @app.errorhandler(HTTPException)
    async def http_error(e: HTTPException) -> Response:
        if e.code == 413:
            mb = settings.max_upload_mb
            return error("too_large", f"The upload is larger than the limit of {mb:g} MB.", 413)
        code = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}.get(e.code or 500, "http_error")
        return error(code, e.description or e.name, e.code or 500)

    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    async def redis_down(e: Exception) -> Response:
        return error("service_unavailable", "The review store (Redis) is not reachable just now; "
                     "nothing was lost — try again in a few seconds.", 503, {"Retry-After": "2"})

    @app.errorhandler(RedisResponseError)
    async def redis_refused(e: RedisResponseError) -> Response:
        if store_refused(e):
            log.warning("Redis refused a write on %s %s: %s", request.method, request.path, str(e)[:200])
            return error("store_full", STORE_REFUSED_MESSAGE, 503, {"Retry-After": "30"})
        return await unexpected(e)

    @app.errorhandler(Exception)
    async def unexpected(e: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.path,
                      extra={"request_id": getattr(g, "request_id", None)})
        return error("internal_error", "Something went wrong on our side; the review is unchanged.", 500)

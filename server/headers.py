"""What every HTTP answer carries and every request goes through first: the security headers
(CSP), the request id, and the body read before any answer."""

from __future__ import annotations

import secrets

from quart import Quart, Response, g, request

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def install_request_hooks(app: Quart) -> None:
    @app.before_request
    async def read_body_first() -> None:
        """Answering before the request body is read (401, 429, ...) makes the server drop the
        connection under a client still sending: read it first (its size is bounded)."""
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            await request.get_data(cache=True)

    @app.before_request
    async def request_id() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given[:64] if given.replace("-", "").isalnum() else secrets.token_hex(8)

    @app.after_request
    async def security_headers(resp: Response) -> Response:
        if getattr(g, "request_id", None):
            resp.headers["X-Request-ID"] = g.request_id
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        return resp

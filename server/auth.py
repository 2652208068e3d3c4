"""Tokens: where a request carries one, and whether it opens a review."""

from __future__ import annotations

import hmac

from quart import Request, Websocket


def token_of(req: Request | Websocket) -> str | None:
    auth = req.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return req.args.get("token") or None


def admin_ok(req: Request | Websocket, admin_token: str | None) -> bool:
    given = token_of(req)
    return bool(admin_token) and bool(given) and hmac.compare_digest(given.encode(), admin_token.encode())  # type: ignore[union-attr]

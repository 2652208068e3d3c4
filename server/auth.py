"""Tokens: where a request carries one, and whether it opens a review."""

from __future__ import annotations

import hmac

from quart import Request, Websocket


def token_of(req: Request | Websocket) -> str | None:
    return token_from(req.headers.get("Authorization", ""), req.args.get("token"))


def token_from(authorization: str, query_token: str | None) -> str | None:
    """`Authorization: Bearer <token>`, else `?token=<token>`."""
    if authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    return query_token or None


def admin_ok(req: Request | Websocket, admin_token: str | None) -> bool:
    given = token_of(req)
    return bool(admin_token) and bool(given) and hmac.compare_digest(given.encode(), admin_token.encode())  # type: ignore[union-attr]

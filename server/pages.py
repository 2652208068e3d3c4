"""The pages: the upload page, a review's page, and their scripts and styles."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from quart import Blueprint, Response, send_from_directory

# The page, its scripts and styles: package data of redline.static (in the wheel, or static/
# of a checkout with an editable install), read through importlib.resources.
STATIC = Path(str(resources.files("redline.static")))

pages = Blueprint("pages", __name__)


@pages.get("/")
async def index() -> Response:
    return await send_from_directory(STATIC, "index.html")


@pages.get("/r/<rid>")
async def review_page(rid: str) -> Response:
    return await send_from_directory(STATIC, "review.html")


@pages.get("/static/<path:path>")
async def static_file(path: str) -> Response:
    return await send_from_directory(STATIC, path)

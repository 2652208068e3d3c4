"""An upload parsed into a document (in a limited child process, jobs.parsing), its refusal
(unsupported, unreadable, too large...) as a ServiceError for the caller."""

from __future__ import annotations

from redline.jobs.documents import DocumentError
from redline.jobs.parsing import parse_upload
from redline.server.service_errors import ServiceError


async def parse_document(filename: str, data: bytes, limit: int, what: str = "document"):
    try:
        return await parse_upload(filename, data, max_bytes=limit)  # a limited child process
    except DocumentError as e:
        raise ServiceError(e.code, e.message if what == "document" else f"The {what}: {e.message}", e.status) from None

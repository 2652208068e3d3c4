"""Uploads are parsed in a child process, with CPU-time and memory limits.

``parse_upload`` is what the server awaits for a document or guidelines upload. The cheap
checks (type, size, empty) run in the server; the parse itself runs in a fresh
``python -m redline.jobs.parsing`` process started with ``asyncio.create_subprocess_exec``, so the
event loop only writes the bytes to the child's stdin and reads its JSON answer: a slow or
hostile file never holds the server's event loop or its GIL.

The child, before it parses anything, sets
- RLIMIT_CPU to REDLINE_PARSE_TIMEOUT_S (soft: SIGXCPU, turned into a clear error; hard, two
  seconds later: the kernel kills it, for a parse stuck in C code),
- RLIMIT_AS to REDLINE_PARSE_MAX_MEMORY_MB (an allocation past it raises MemoryError, which is
  answered as ``parse_memory``).
The server also waits at most twice the CPU limit plus a few seconds of wall-clock time (a
child starved of CPU, or blocked) and kills the child past that. At most
REDLINE_PARSE_CONCURRENCY children run at once per server process; more uploads wait their turn.

Every failure is a :class:`jobs.documents.DocumentError` (4xx, with a message for a person):
``parse_timeout`` and ``parse_memory`` (413) and ``parse_failed`` (422, the child died in a way
we did not foresee; its stderr is logged) come from here, the rest from the parser itself.

Why a process per parse rather than a pool: a parse that hits a limit is killed with its
process, and a fresh process has no state left by an earlier hostile file. It costs a Python
start (about 0.1 s, more for .docx/.pdf, whose libraries are imported only when needed), which
is small next to an upload.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import weakref
from dataclasses import asdict
from typing import Any

import orjson

from redline.jobs.documents import (
    DocumentError,
    ParsedDocument,
    ParsedSection,
    ParseLimits,
    _display_name,
    check_upload,
    parse_document,
)

log = logging.getLogger("redline.parsing")

_WALL_GRACE_S = 5.0
_CPU_HARD_EXTRA_S = 2
_SLOTS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]" = weakref.WeakKeyDictionary()


# =============================================================================== the server side


async def parse_upload(filename: str, data: bytes, *, max_bytes: int, settings: Any = None) -> ParsedDocument:
    """Parse an upload in a limited child process; raise DocumentError (4xx) for anything unusable."""
    if settings is None:
        from redline.jobs.settings import get_settings

        settings = get_settings()
    check_upload(filename, data, max_bytes=max_bytes)  # type, size, emptiness: no child needed
    params = {
        "filename": filename,
        "max_bytes": max_bytes,
        "limits": asdict(ParseLimits.from_settings(settings)),
        "cpu_s": float(settings.parse_timeout_s),
        "memory_mb": int(settings.parse_max_memory_mb),
    }
    async with _slots(settings.parse_concurrency):
        return await _run_child(params, data)


def _slots(concurrency: int) -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _SLOTS.get(loop)
    if slots is None:
        slots = _SLOTS[loop] = asyncio.Semaphore(max(1, int(concurrency)))
    return slots


async def _run_child(params: dict[str, Any], data: bytes) -> ParsedDocument:
    name = _display_name(params["filename"])
    wall = 2 * params["cpu_s"] + _WALL_GRACE_S
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "redline.jobs.parsing",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=_child_env(),
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(orjson.dumps(params) + b"\n" + data), wall)
    except asyncio.TimeoutError:
        _kill(proc)
        await proc.wait()
        log.warning("parse of %s killed after %.0f s of wall-clock time", name, wall)
        raise _timeout(name, params["cpu_s"]) from None
    except BaseException:  # cancelled: the client went away or the server is stopping
        _kill(proc)
        raise
    return _answer(name, params, proc.returncode, out, err)


def _child_env() -> dict[str, str]:
    """The server's own environment: the child imports the same installed `redline`."""
    return dict(os.environ)


def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        try:
            proc.kill()
        except ProcessLookupError:
            pass


def _answer(name: str, params: dict[str, Any], returncode: int | None, out: bytes, err: bytes) -> ParsedDocument:
    try:
        answer = orjson.loads(out) if out else None
    except orjson.JSONDecodeError:
        answer = None
    if isinstance(answer, dict) and "error" in answer:
        e = answer["error"]
        raise DocumentError(e["code"], e["message"], int(e["status"]))
    if returncode == 0 and isinstance(answer, dict) and "ok" in answer:
        doc = answer["ok"]
        return ParsedDocument(kind=doc["kind"], title=doc["title"], date=doc.get("date"),
                              sections=[ParsedSection(s["title"], s["text"], s["level"], s.get("marks") or [],
                                                      s.get("key") or "") for s in doc["sections"]])
    tail = err[-2000:].decode("utf-8", "replace")
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise _timeout(name, params["cpu_s"])
    if "MemoryError" in tail:
        raise _memory(name, params["memory_mb"])
    log.warning("parse of %s failed (exit %s): %s", name, returncode, tail)
    raise DocumentError(
        "parse_failed",
        f"Reading '{name}' stopped unexpectedly, so it could not be reviewed. Save or export it "
        "again (or as PDF) and upload that; if it keeps failing, tell the administrator.",
        422,
    )


def _timeout(name: str, cpu_s: float) -> DocumentError:
    return DocumentError(
        "parse_timeout",
        f"Reading '{name}' took longer than the {cpu_s:g} s allowed (REDLINE_PARSE_TIMEOUT_S), so it "
        "was stopped. Upload the write-up without its appendices, split it into parts, or save it "
        "as a simpler .docx or PDF.",
        413,
    )


def _memory(name: str, memory_mb: int) -> DocumentError:
    return DocumentError(
        "parse_memory",
        f"Reading '{name}' needed more than the {memory_mb} MB of memory allowed "
        "(REDLINE_PARSE_MAX_MEMORY_MB), so it was stopped. Remove large images or embedded "
        "objects, or split the write-up into parts, and upload again.",
        413,
    )


# =============================================================================== the child


class _CpuTimeExceeded(BaseException):
    """Raised by the SIGXCPU handler; a BaseException so no parser's `except Exception` eats it."""


def _on_sigxcpu(signum: int, frame: Any) -> None:
    raise _CpuTimeExceeded()


def _set_limits(cpu_s: float, memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: no limits, the wall-clock timeout still applies
        return
    soft = max(1, int(cpu_s + 0.999))
    used = int(resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(resource.RUSAGE_SELF).ru_stime)
    signal.signal(signal.SIGXCPU, _on_sigxcpu)
    resource.setrlimit(resource.RLIMIT_CPU, (used + soft, used + soft + _CPU_HARD_EXTRA_S))
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _memory_in_cause(exc: BaseException) -> bool:
    """lxml reports an allocation failure as 'Memory allocation failed' (wrapped as corrupt)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, MemoryError) or "memory allocation failed" in str(exc).lower():
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1  # type: ignore[assignment]
    return False


def _child(stdin: Any, stdout: Any) -> int:
    params = orjson.loads(stdin.readline())
    data = stdin.read()
    name = _display_name(params["filename"])
    _set_limits(params["cpu_s"], params["memory_mb"])
    try:
        try:
            doc = parse_document(params["filename"], data, max_bytes=params["max_bytes"],
                                 limits=ParseLimits(**params["limits"]))
        finally:
            del data
        answer: dict[str, Any] = {"ok": {"kind": doc.kind, "title": doc.title, "date": doc.date,
                                         "sections": [asdict(s) for s in doc.sections]}}
        del doc
    except DocumentError as e:
        if e.code == "corrupt_document" and _memory_in_cause(e):
            e = _memory(name, params["memory_mb"])
        answer = {"error": {"code": e.code, "message": e.message, "status": e.status}}
    except MemoryError:
        e = _memory(name, params["memory_mb"])
        answer = {"error": {"code": e.code, "message": e.message, "status": e.status}}
    except _CpuTimeExceeded:
        e = _timeout(name, params["cpu_s"])
        answer = {"error": {"code": e.code, "message": e.message, "status": e.status}}
    stdout.write(orjson.dumps(answer))
    stdout.flush()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=os.environ.get("REDLINE_LOG_LEVEL", "WARNING"), stream=sys.stderr)
    sys.exit(_child(sys.stdin.buffer, sys.stdout.buffer))

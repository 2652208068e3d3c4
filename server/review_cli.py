"""`redline review FILE`: a whole review from the terminal, as a client of the contract.

Without --server it runs the embedded stack (private Redis, server and worker) itself.

With --previous it runs a round: the previous version (a file, reviewed first, or an existing
review's URL with its token) gets FILE as its next version (POST /api/reviews/{id}/versions), only
the changed and added sections are analyzed, and the round is summed up: how many earlier findings
were resolved, are still open, are outdated, and how many are new.

Output: on a terminal, a live progress bar (rich) on stderr with a line per finished section;
piped, one plain line per event that matters (no ANSI codes). The findings go to stdout, or with
--json one JSON document and nothing else. The stack's JSON log lines go to a file under the data
folder (REDLINE_DATA_DIR/logs/review.log), or to stderr with --verbose.

This module is the command: its arguments and help, and review_command. The rest lives beside
it: review_run (the run against the contract's HTTP and websocket, rounds, the --json document),
review_output (progress and findings, rich or plain), review_exits (exit codes, ReviewError),
review_stack (the embedded stack) and review_logs (where the log lines go).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import re
import signal
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import websockets

from redline.server.review_exits import (
    EXIT_BAD_FILE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SECTIONS_FAILED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    ReviewError,
)
from redline.server.review_logs import route_logs as _route_logs
from redline.server.review_output import PlainReporter, RichReporter, round_summary
from redline.server.review_output import print_items as _print_items
from redline.server.review_run import (  # noqa: F401 (TERMINAL, JSON_VERSION, RESOLUTION_ORDER: re-exported)
    JSON_VERSION,
    RESOLUTION_ORDER,
    TERMINAL,
    Run,
    run_review,
)
from redline.server.review_stack import StackFailed as _StackFailed
from redline.server.review_stack import with_embedded_stack as _with_embedded_stack

INCLUDE_CHOICES = ("accepted", "accepted_and_pending", "all")
CHANGES_CHOICES = ("both", "tracked", "comments")

EXIT_CODES_HELP = """\
the .docx:
  --include picks the findings written to it: accepted, accepted_and_pending or all.
  The terminal's default is all, since nobody accepts or rejects findings here (the
  page's default is accepted).
  --changes: both (default: accepted rewrites as tracked changes, with their comments),
  tracked (tracked changes without comments on them) or comments (rewrites quoted in
  comments, no tracked changes). Only accepted findings become tracked changes.
  --audit appends the review record (who did what, when and why) as a table at the end.

rounds (--previous):
  redline review v2.docx --previous v1.docx reviews v1.docx, uploads v2.docx as its next
  version, analyzes only the changed and added sections, and prints the round first: how
  many earlier findings were resolved (their quote is gone or rewritten), are still open,
  are outdated (their section is gone), and how many are new; then every finding with its
  resolution. --previous may also be a review's URL with its token, as the page shows it
  (http://host:port/r/<id>#token=<token>) or in the API form
  (http://host:port/api/reviews/<id>?token=<token>): FILE becomes the next version of that
  review, on the server the URL names (or on --server). With --json the document gains
  "round" and each item a "resolution" (open, resolved, outdated, or new).

exit codes:
  0    done: every section reviewed and the .docx written
  1    one or more sections failed (or the server failed the review or its export)
  2    bad usage: wrong arguments, FILE, --guidelines or the --previous file not found,
       a malformed --previous URL, or a review URL whose token the server refuses
  3    a bad file: the server refused it (unsupported type, unreadable, too large, ...),
       the previous version or FILE as the next version alike
  4    the server is unreachable or unavailable (502/503/504), or the embedded stack
       could not start
  130  interrupted (Ctrl-C or SIGTERM); the review's unfinished jobs are cancelled

logs go to REDLINE_DATA_DIR/logs/review.log (printed at the end on a terminal), or
to stderr with --verbose.
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The `review` subcommand's arguments, help and exit codes (called from cli.py)."""
    p.description = ("A whole review from the terminal: upload FILE, analyze every section with live\n"
                     "progress, print the findings and write the reviewed .docx (every finding as a Word\n"
                     "comment). Without --server it runs its own embedded stack.")
    p.epilog = EXIT_CODES_HELP
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("file", metavar="FILE", help="the write-up: .docx, .pdf, .md or .txt")
    p.add_argument("--guidelines", metavar="FILE", help="your own guidelines to review against (same types)")
    p.add_argument("--server", metavar="URL", help="a running Redline (http://host:port); default: the embedded stack")
    p.add_argument("--out", metavar="FILE.docx", help="where to write the reviewed .docx (default: FILE.reviewed.docx)")
    p.add_argument("--include", choices=INCLUDE_CHOICES, default="all",
                   help="findings in the .docx (default: all; the page's default is accepted)")
    p.add_argument("--changes", choices=CHANGES_CHOICES, default="both",
                   help="rewrites as tracked changes, comments, or both (default: both)")
    p.add_argument("--previous", metavar="FILE|URL",
                   help="a round: the previous version (reviewed first) or a review's URL with its token; "
                        "FILE becomes its next version and only changed sections are analyzed")
    p.add_argument("--audit", action="store_true", help="append the review record (the audit trail) as a table")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout and nothing else there")
    p.add_argument("--verbose", "-v", action="store_true", help="write the log lines to stderr instead of the log file")


# ------------------------------------------------------------ the command ---
_REVIEW_PATH = re.compile(r"/(?:r|api/reviews)/([0-9A-Za-z_-]{1,64})/?")
_TOKEN = re.compile(r"[0-9A-Za-z_~.%-]{8,512}")


def looks_like_url(text: str) -> bool:
    """--previous names a review (not a file) when it is a URL, or the page's path with a token."""
    return "://" in text or (text.startswith(("/r/", "/api/reviews/")) and "token=" in text and not Path(text).exists())


def parse_review_url(text: str, server: str | None) -> tuple[str, str, str]:
    """(the server's origin, review id, token) from a review's URL: the page's form
    (http://host:port/r/<id>#token=<token>) or the API's (…/api/reviews/<id>?token=<token>);
    a bare path takes --server's origin. ValueError with a message for a person otherwise."""
    want = "a review's URL with its token, like http://host:port/r/<id>#token=<token>"
    try:
        u = urlsplit(text.strip())
        u.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        raise ValueError(f"not {want}: {text!r}") from None
    if u.scheme or u.netloc:
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"not {want}: {text!r}")
        origin = f"{u.scheme}://{u.netloc}"
    elif server:
        origin = server
    else:
        raise ValueError(f"not {want} (or give --server): {text!r}")
    m = _REVIEW_PATH.fullmatch(u.path)
    tokens = parse_qs(u.fragment).get("token") or parse_qs(u.query).get("token") or []
    if not m:
        raise ValueError(f"no review in {text!r}: want {want}")
    if not tokens or not _TOKEN.fullmatch(tokens[0]):
        raise ValueError(f"no token in {text!r}: want {want}")
    return origin, m.group(1), tokens[0]


def review_command(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"redline review: No such file: {path}", file=sys.stderr)
        return EXIT_USAGE
    guidelines = Path(args.guidelines) if args.guidelines else None
    if guidelines and not guidelines.is_file():
        print(f"redline review: No such guidelines file: {guidelines}", file=sys.stderr)
        return EXIT_USAGE
    server = args.server.rstrip("/") if args.server else None
    if server is not None and not server.startswith(("http://", "https://")):
        print(f"redline review: --server must be an http:// or https:// URL, not {args.server!r}", file=sys.stderr)
        return EXIT_USAGE
    previous = getattr(args, "previous", None)
    previous_path: Path | None = None
    previous_review: tuple[str, str] | None = None
    if previous is not None and looks_like_url(previous):
        try:
            origin, rid, token = parse_review_url(previous, server)
        except ValueError as e:
            print(f"redline review: --previous: {e}", file=sys.stderr)
            return EXIT_USAGE
        if guidelines:
            print("redline review: --guidelines goes with a new review; the review --previous names has its own",
                  file=sys.stderr)
            return EXIT_USAGE
        server, previous_review = server or origin, (rid, token)
    elif previous is not None:
        previous_path = Path(previous)
        if not previous_path.is_file():
            print(f"redline review: No such previous file: {previous_path}", file=sys.stderr)
            return EXIT_USAGE
    out = Path(args.out) if args.out else path.with_name(path.stem + ".reviewed.docx")
    include = getattr(args, "include", "all") or "all"
    changes = getattr(args, "changes", "both") or "both"

    log_file = _route_logs(bool(getattr(args, "verbose", False)))
    tty = sys.stderr.isatty()
    rep: Any = RichReporter("Connecting…" if server else "Starting Redline…") if tty else PlainReporter()
    run = Run(path, out, include, changes)
    run.audit = bool(getattr(args, "audit", False))
    run.previous_path, run.previous_review = previous_path, previous_review

    async def main() -> None:
        me = asyncio.current_task()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, me.cancel)  # type: ignore[union-attr]

        async def go(base: str) -> None:
            await run_review(base, run, guidelines, rep, remote=server is not None)

        if server:
            await go(server)
        else:
            await _with_embedded_stack(go)

    def fail(code: int, error: str, message: str) -> None:
        run.exit_code, run.error = code, {"code": error, "message": message}

    rep.start()
    try:
        asyncio.run(main())
        failed = run.failed_sections()
        if failed:
            names = ", ".join(s["title"] for s in failed[:5]) + (", …" if len(failed) > 5 else "")
            fail(EXIT_SECTIONS_FAILED, "sections_failed",
                 f"{len(failed)} of {len(run.sections)} sections could not be reviewed: {names}")
    except ReviewError as e:
        fail(e.exit_code, e.code, e.message)
    except _StackFailed as e:
        fail(EXIT_UNREACHABLE, "stack_failed", f"the embedded stack could not start: {e}")
    except (KeyboardInterrupt, asyncio.CancelledError):
        fail(EXIT_INTERRUPTED, "interrupted", "interrupted; the review's unfinished jobs were cancelled")
    except (httpx.TransportError, OSError, websockets.WebSocketException) as e:
        where = server or "the embedded server"
        fail(EXIT_UNREACHABLE, "unreachable", f"cannot reach {where} ({e.__class__.__name__}: {e})")
    except Exception as e:  # noqa: BLE001 - a run ends with a message, not a traceback
        logging.getLogger("redline.review").exception("review failed")
        fail(EXIT_SECTIONS_FAILED, "internal_error", f"{e.__class__.__name__}: {e}")
    finally:
        rep.stop()

    if run.export:
        n = run.export["comments"]
        rep.note(f"Wrote {run.export['path']}" + (f" with {n} comments" if n is not None else "")
                 + f" (include {include}, changes {changes}).")
    # --previous URL refused or unreachable: the review is as it was, and its URL is the one just given
    untouched = run.previous_review is not None and run.exit_code in (EXIT_USAGE, EXIT_BAD_FILE, EXIT_UNREACHABLE)
    if run.url and run.exit_code != EXIT_INTERRUPTED and not untouched:
        rep.note(f"Open it in the browser: {run.url}", dim=True)
    if log_file is not None and log_file.stream is not None:
        log_file.flush()
        if tty or run.exit_code != EXIT_OK:
            rep.note(f"Log: {log_file.baseFilename}", dim=True)
    if run.error:
        rep.note(f"redline review: {run.error['message']}")

    if args.json:
        if run.round is not None and run.exit_code != EXIT_INTERRUPTED:
            for line in round_summary(run.round):
                rep.note(line)
        json.dump(run.document(), sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        if run.round is not None and run.exit_code != EXIT_INTERRUPTED:
            print("\n".join(round_summary(run.round)))
        if run.items:
            _print_items(run)
    sys.stdout.flush()
    return run.exit_code

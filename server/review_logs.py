"""Where `redline review` sends the stack's JSON log lines: a file under the data folder
(REDLINE_DATA_DIR/logs/review.log), or stderr with --verbose, never between the output lines."""

from __future__ import annotations

import logging
import logging.handlers
import sys
import tempfile
from pathlib import Path
from typing import Any


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is now (rich's live display redirects it above the bar)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def route_logs(verbose: bool) -> logging.Handler | None:
    """Logs go to REDLINE_DATA_DIR/logs/review.log (created on the first line), or with --verbose to
    stderr. Returns the file handler, if any."""
    root = logging.getLogger()
    old = list(root.handlers)
    formatter = old[0].formatter if old else None
    filters = [f for h in old for f in h.filters]
    if verbose:
        handler: logging.Handler = _CurrentStderr()
        file_handler = None
    else:
        logging.captureWarnings(True)
        from redline.jobs.settings import get_settings

        try:
            folder = get_settings().data_dir / "logs"
            folder.mkdir(parents=True, exist_ok=True)
        except Exception:
            folder = Path(tempfile.gettempdir()) / "redline-logs"
            folder.mkdir(parents=True, exist_ok=True)
        handler = file_handler = logging.handlers.RotatingFileHandler(
            folder / "review.log", maxBytes=5 * 1024 * 1024, backupCount=3, delay=True, encoding="utf-8")
    if formatter:
        handler.setFormatter(formatter)
    for f in filters:
        handler.addFilter(f)
    root.handlers[:] = [handler]
    return file_handler

"""`redline review`'s exit codes, and the error that ends a run with a message for a person and
one of them (the codes are listed for users in review_cli.EXIT_CODES_HELP)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_SECTIONS_FAILED = 1
EXIT_USAGE = 2
EXIT_BAD_FILE = 3
EXIT_UNREACHABLE = 4
EXIT_INTERRUPTED = 130


class ReviewError(Exception):
    """Ends the run with a message for a person and an exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_SECTIONS_FAILED, code: str = "review_failed") -> None:
        super().__init__(message)
        self.message, self.exit_code, self.code = message, exit_code, code

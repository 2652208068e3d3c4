"""`python -m tests.screenshots`: regenerate the README's screenshots in docs/screenshots.

The test suite takes the same screenshots into temporary folders (so a test run leaves the
checkout as it found it); this command runs those tests with REDLINE_SCREENSHOTS_DIR set.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.browser_helpers import SCREENSHOTS


def main() -> int:
    env = {**os.environ, "REDLINE_SCREENSHOTS_DIR": str(SCREENSHOTS)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "screenshots", "tests/"]
    rc = subprocess.call(cmd, env=env)
    if rc == 0:
        print(f"screenshots written to {SCREENSHOTS}")
    return rc


if __name__ == "__main__":
    sys.exit(main())

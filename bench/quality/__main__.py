"""`python -m bench.quality`: review the labelled corpus offline, print the figures, write docs/quality.md.

`python -m bench.quality --calibrate` first writes the tuning set's record per rule into
jobs/reviewers/offline_confidence.py (the rules' stated confidences), then reviews again with it."""

from __future__ import annotations

import importlib
import sys

from bench.common import ROOT
from bench.quality.harness import render, run, totals, write_calibration


def main() -> int:
    if "--calibrate" in sys.argv[1:]:
        record = write_calibration(run("tune"))
        print(f"offline_confidence.MEASURED written: {len(record)} rules")
        _reload_confidence()
    results = run()
    text = render(results)
    (ROOT / "docs" / "quality.md").write_text(text)
    for split in ("heldout", "tune"):
        t = totals([r for r in results if r.split == split])
        print(f"{split:8} precision {t['precision']:.2f}  recall {t['recall']:.2f}  "
              f"findings/section {t['per_section']:.2f}  HIGH false {t['high_false']}  "
              f"({t['findings']} findings, {t['problems']} problems)")
    print("docs/quality.md written")
    return 0


def _reload_confidence() -> None:
    """The reviewer reads the table at import: load the one just written."""
    from redline.jobs.reviewers import offline_confidence, offline_reviewer
    importlib.reload(offline_confidence)
    offline_reviewer.calibrated = offline_confidence.calibrated


if __name__ == "__main__":
    sys.exit(main())

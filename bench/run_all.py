"""Run every benchmark, then render docs/benchmarks.md from bench/results/*.json.

    python -m bench [--quick] [--only fanout,cancel] [--render-only]

Each benchmark runs as its own process (`python -m bench.<name>`), one after the
other, so a failure in one does not stop the others (its old result, if any, stays).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from bench.common import ROOT, log
from bench.report import BENCHES, main as render

# Each benchmark's own wall-clock bound: it is stopped past this (they stop by themselves well before).
LIMIT_S = {"fanout": 3600, "cancel": 600, "pipeline": 900, "document": 900, "latency": 900, "memory": 1200,
           "slowclient": 900}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes and short steps")
    ap.add_argument("--only", help="comma list of: " + ", ".join(BENCHES))
    ap.add_argument("--render-only", action="store_true")
    args = ap.parse_args(argv)
    failed = []
    if not args.render_only:
        names = args.only.split(",") if args.only else BENCHES
        for name in names:
            cmd = [sys.executable, "-m", f"bench.{name}"] + (["--quick"] if args.quick else [])
            log(f"=== {' '.join(cmd[1:])}")
            t0 = time.monotonic()
            try:
                rc = subprocess.run(cmd, cwd=ROOT, timeout=LIMIT_S[name]).returncode
            except subprocess.TimeoutExpired:
                rc = -1
            log(f"=== {name}: exit {rc} after {time.monotonic() - t0:.0f} s")
            if rc != 0:
                failed.append(name)
    render()
    if failed:
        log(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

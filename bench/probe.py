"""GC probe: run a Python program with a recorder of garbage-collector pauses.

    python -m bench.probe server.cli serve --no-worker ...   # = python -m server.cli serve ...

It changes nothing in the program: it only adds a `gc.callbacks` entry that times
each collection (about a microsecond per collection) and three signal handlers:

  SIGUSR1  write the record to $BENCH_GC_FILE
  SIGUSR2  write it, then reset it (so each benchmark step gets its own record)
  SIGPWR   gc.collect(); gc.freeze(), then touch $BENCH_GC_FILE.frozen
           (to measure what `gc.freeze()` after start-up would change)

BENCH_GC_THRESHOLD="a,b,c" calls gc.set_threshold(a, b, c) first (an experiment knob).
BENCH_GC_STOCK=1 turns the program's own gc.freeze() and gc.set_threshold() into no-ops, so it
runs with CPython's stock collector (Redline sets both once it has started: the fan-out
benchmark's `redline-stock`, to compare with the peer's stock GC).

The python-socketio peer (bench/sio_peer.py) installs the same recorder.
"""

from __future__ import annotations

import gc
import json
import os
import runpy
import signal
import sys
import time

PAUSE_MS = (1, 5, 10, 20, 50, 100, 200)


class GcRecorder:
    def __init__(self) -> None:
        self.reset()
        self._t = 0.0
        self._frozen = False

    def reset(self) -> None:
        self.since = time.time()
        self.count = [0, 0, 0]
        self.total = [0.0, 0.0, 0.0]
        self.max = [0.0, 0.0, 0.0]
        self.over = {ms: 0 for ms in PAUSE_MS}
        self.collected = 0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._t = time.perf_counter()
            return
        d = time.perf_counter() - self._t
        g = info.get("generation", 0)
        self.count[g] += 1
        self.total[g] += d
        if d > self.max[g]:
            self.max[g] = d
        ms = d * 1e3
        for limit in PAUSE_MS:
            if ms >= limit:
                self.over[limit] += 1
        self.collected += info.get("collected", 0)

    def snapshot(self) -> dict:
        wall = max(1e-9, time.time() - self.since)
        return {
            "seconds": round(wall, 3),
            "collections": {f"gen{g}": self.count[g] for g in range(3)},
            "total_ms": {f"gen{g}": round(self.total[g] * 1e3, 2) for g in range(3)},
            "max_ms": {f"gen{g}": round(self.max[g] * 1e3, 2) for g in range(3)},
            "max_pause_ms": round(max(self.max) * 1e3, 2),
            "gc_share": round(sum(self.total) / wall, 4),
            "pauses_over_ms": {str(k): v for k, v in self.over.items()},
            "frozen": self._frozen,
            "freeze_count": gc.get_freeze_count(),
            "tracked_objects": len(gc.get_objects()) if os.environ.get("BENCH_GC_COUNT_OBJECTS") else None,
            "thresholds": gc.get_threshold(),
        }

    def dump(self, reset: bool) -> None:
        path = os.environ.get("BENCH_GC_FILE")
        if path:
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(self.snapshot(), f)
            os.replace(tmp, path)
        if reset:
            self.reset()

    def freeze(self) -> None:
        gc.collect()
        gc.freeze()
        self._frozen = True
        path = os.environ.get("BENCH_GC_FILE")
        if path:
            open(path + ".frozen", "w").close()


RECORDER = GcRecorder()


def install() -> GcRecorder:
    if os.environ.get("BENCH_GC_STOCK"):
        gc.freeze = lambda: None  # type: ignore[assignment]
        gc.set_threshold = lambda *a: None  # type: ignore[assignment]
    threshold = os.environ.get("BENCH_GC_THRESHOLD")  # an experiment: "700,10,10" is CPython's default
    if threshold:
        gc.set_threshold(*(int(x) for x in threshold.split(",")))
    if RECORDER not in gc.callbacks:
        gc.callbacks.append(RECORDER)
    signal.signal(signal.SIGUSR1, lambda *_: RECORDER.dump(False))
    signal.signal(signal.SIGUSR2, lambda *_: RECORDER.dump(True))
    signal.signal(signal.SIGPWR, lambda *_: RECORDER.freeze())
    return RECORDER


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m bench.probe MODULE [ARGS...]")
    module = sys.argv[1]
    sys.argv = [module] + sys.argv[2:]
    install()
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()

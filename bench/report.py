"""Render docs/benchmarks.md (and the chart docs/benchmarks/fanout-p99.svg) from the
JSON results in bench/results/. `python -m bench.report` re-renders without running
anything; `python -m bench` runs every benchmark and then renders.
"""

from __future__ import annotations

import math
from typing import Any

from bench.common import CHARTS, DOC, ROOT, fmt, read_result

BENCHES = ["fanout", "cancel", "pipeline", "document", "latency", "memory", "slowclient", "longdoc"]
EXTRA_PACKAGES = "python-socketio uvicorn httptools"


def us_per_frame(step: dict[str, Any]) -> float | None:
    """The server's CPU per delivered frame in a fan-out step, in µs of one core."""
    return step["server_cpu"] / step["delivered_per_s"] * 1e6 if step["delivered_per_s"] else None


def _yes(ok: bool | None) -> str:
    return "–" if ok is None else ("**met**" if ok else "**not met**")


# ------------------------------------------------------------------ chart ---

COLORS = {"redline": "#c0392b", "redline-stock": "#e67e22", "peer": "#2471a3", "peer-stock": "#7fb3d5",
          "peer-hypercorn": "#17a589"}
DASH = {"100x1": "2,3", "1000x1": "", "2000x1": "8,4", "1000x100": "10,3,2,3"}


def chart(fanout: dict[str, Any]) -> str:
    """p99 latency (log) against delivered events/s, one line per server and configuration."""
    W, H, L, R, T, B = 1000, 500, 70, 330, 30, 50
    runs = [r for r in fanout.get("runs", []) if r.get("steps")]
    xs = [s["delivered_per_s"] for r in runs for s in r["steps"]]
    xmax = max(xs + [1000])
    mag = 10 ** math.floor(math.log10(xmax))
    xmax = math.ceil(xmax / mag) * mag
    ymin, ymax = 1.0, 10000.0

    def px(x: float) -> float:
        return L + (W - L - R) * x / xmax

    def py(y: float) -> float:
        y = min(max(y, ymin), ymax)
        return T + (H - T - B) * (1 - (math.log10(y) - math.log10(ymin)) / (math.log10(ymax) - math.log10(ymin)))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{L}" y="18" font-size="14" font-weight="bold">p99 latency (publish to receipt) against '
           f'delivered events/s</text>']
    for y in (1, 10, 100, 1000, 10000):
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{L - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:,} ms</text>')
    out.append(f'<line x1="{L}" x2="{W - R}" y1="{py(100):.1f}" y2="{py(100):.1f}" stroke="#888" '
               f'stroke-dasharray="6,3"/>')
    out.append(f'<text x="{W - R - 4}" y="{py(100) - 4:.1f}" text-anchor="end" fill="#555">p99 limit 100 ms</text>')
    steps = 5
    for i in range(steps + 1):
        x = xmax * i / steps
        out.append(f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{T}" y2="{H - B}" stroke="#eee"/>')
        out.append(f'<text x="{px(x):.1f}" y="{H - B + 16}" text-anchor="middle">{int(x):,}</text>')
    out.append(f'<text x="{(L + W - R) / 2:.0f}" y="{H - 10}" text-anchor="middle">delivered events/s '
               f'(all sockets)</text>')
    out.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#333"/>')
    ly = T + 10
    for r in runs:
        color = COLORS.get(r["server"], "#555")
        dash = DASH.get(r["config"], "4,2")
        pts = [(px(s["delivered_per_s"]), py(s["p99_ms"] or ymax)) for s in r["steps"]]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2" '
                   f'stroke-dasharray="{dash}"/>')
        for (x, y), s in zip(pts, r["steps"]):
            fill = color if s["ok"] else "white"
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{fill}" stroke="{color}"/>')
        name = {"redline": "Redline", "peer": "python-socketio", "redline-stock": "Redline, stock GC",
                "peer-stock": "python-socketio, stock GC", "peer-hypercorn": "python-socketio on Hypercorn",
                "redline-exp": "Redline, other checkout"}.get(r["server"], r["server"])
        n, rooms = r["sockets"], r["rooms"]
        label = f"{name}: {n:,} sockets" + (f" in {rooms} reviews" if rooms > 1 else "")
        out.append(f'<line x1="{W - R + 10}" x2="{W - R + 40}" y1="{ly}" y2="{ly}" stroke="{color}" '
                   f'stroke-width="2" stroke-dasharray="{dash}"/>')
        out.append(f'<text x="{W - R + 46}" y="{ly + 4}" font-size="11">{label}</text>')
        ly += 18
    out.append(f'<text x="{W - R + 10}" y="{ly + 10}" font-size="11" fill="#555">python-socketio runs with '
               f"Redline's GC settings unless marked</text>")
    ly += 16
    out.append(f'<text x="{W - R + 10}" y="{ly + 10}" font-size="11" fill="#555">filled: p99 ≤ 100 ms, no loss</text>')
    out.append(f'<text x="{W - R + 10}" y="{ly + 26}" font-size="11" fill="#555">hollow: a step that failed</text>')
    out.append("</svg>")
    return "\n".join(out)


# ------------------------------------------------------------------ sections ---

def machine_section(m: dict[str, Any]) -> list[str]:
    p = m.get("packages", {})
    pk = ", ".join(f"{k} {v}" for k, v in p.items() if v)
    return [
        "## Machine and versions", "",
        f"- **Machine:** {m.get('nproc')} cores ({m.get('cpu')}), {m.get('ram_gib')} GiB RAM, Linux {m.get('kernel')}. "
        "A **shared** machine: other engineers ran test suites on the same 2 cores during the runs, so "
        "absolute numbers are noisy; the comparisons are fair because both sides ran in the same run, "
        "one after the other, under the same conditions.",
        f"- **Python:** {m.get('implementation')} {m.get('python')}; redis-server {m.get('redis_server')}.",
        f"- **Packages:** {pk}.",
        f"- **Date:** {m.get('date')}; load average at the start of the fan-out run: "
        f"{', '.join(str(x) for x in m.get('loadavg_at_start', []))}.", ""]


def _best(r: dict[str, Any] | None) -> str:
    if r is None:
        return "–"
    if not r.get("best"):
        first = r["steps"][0] if r.get("steps") else None
        why = (f" (first step {fmt(first['target_delivered_per_s'])} ev/s: p99 {fmt(first['p99_ms'])} ms, "
               f"gc max {fmt(first['gc_max_pause_ms'])} ms)") if first else ""
        return "none" + why
    b = r["best"]
    return f"{fmt(b['delivered_per_s'], 0)} ev/s (p99 {fmt(b['p99_ms'])} ms; gc max {fmt(b['gc_max_pause_ms'])} ms)"


def gc_parity(f: dict[str, Any]) -> list[str]:
    """1,000 sockets on one review, both servers under the same collector settings, twice."""
    by = {r["server"]: r for r in f["runs"] if r["config"] == "1000x1"}
    if not {"redline", "peer", "redline-stock", "peer-stock"} <= set(by):
        return []
    lines = ["", "### The same collector settings on both sides (1,000 sockets, one review)", "",
             "Redline raises CPython's collector thresholds and freezes its start-up objects; a comparison "
             "must not credit the relay with a GC setting. So the peer runs with Redline's settings, and both "
             "run again with CPython's stock collector.", "",
             "| collector | Redline | peer | Redline ÷ peer |", "|---|---|---|---|"]
    for title, a, b in (("Redline's (gc.freeze() after start-up, thresholds 50,000/20/100)", "redline", "peer"),
                        ("CPython's stock (no freeze, 700/10/10)", "redline-stock", "peer-stock")):
        ra, rb = by[a], by[b]
        x, y = ra.get("best_delivered_per_s") or 0, rb.get("best_delivered_per_s") or 0
        ratio = f"{x / y:.2f}×" if x and y else ("no finite ratio: the peer held no step" if x else "–")
        lines.append(f"| {title} | {_best(ra)} | {_best(rb)} | {ratio} |")
    return lines


def fanout_section(f: dict[str, Any], targets: list) -> list[str]:
    p = f["params"]
    lines = ["## 1. Fan-out: delivered events/s to many sockets (`python -m bench.fanout`)", "",
             "One server process, sockets held by one load-generator process (`bench/loadgen.py`, the same lean "
             "websocket client for both servers), a publisher stepping up the event rate through each product's "
             f"real publish path. Events are ~{p['payload_bytes']}-byte JSON. Each step runs {p['step_s']:g} s "
             f"(longer for slow rates, so each step has at least 20 events), then waits up to {p['drain_s']:g} s for "
             "stragglers. *Latency* is publish call to receipt by the client (both on this machine's clock). A step is "
             f"good when p99 ≤ {p['p99_limit_ms']:g} ms, nothing was lost, duplicated or reordered, every frame "
             "was well-formed JSON (the client parses each one), the publisher kept to its schedule (at most "
             f"{p.get('lag_limit_ms', 50):g} ms behind) and ≥ 90 % of the target "
             "rate was delivered. Each socket's queue has Redline's default bound "
             f"({p.get('ws_queue_max', 1000):,} frames, then 4408). CPU is the share of one core over the step. `gc max` is the longest "
             "garbage-collector pause in the server during the step (bench/probe.py).", ""]
    cpus = p.get("cpus")
    if cpus:
        lines += [f"The server under test runs alone on core {', '.join(map(str, cpus['server']))}; the load "
                  f"generator, the publisher and Redis share core {', '.join(map(str, cpus['harness']))} "
                  "(`--no-pin` lets them all share every core). A ladder ends at the first failed steps; each "
                  "run says what filled up there: *server* (its core), *harness* (the load generator, publisher "
                  "and Redis had filled theirs, or the publisher fell behind its schedule: the rate was not "
                  "offered as asked) or *latency* (neither was full).", ""]
    lines += ["Servers:", ""]
    seen = []
    for r in f["runs"]:
        if r["server"] not in seen:
            seen.append(r["server"])
            lines.append(f"- `{r['server']}`: {r['label']}")
    lines += ["", "### Highest rate with p99 ≤ 100 ms and zero loss", "",
              "| sockets × reviews | " + " | ".join(seen) + " | Redline ÷ peer |",
              "|---|" + "---|" * len(seen) + "---|"]
    configs = []
    for r in f["runs"]:
        if r["config"] not in configs:
            configs.append(r["config"])
    for c in configs:
        by = {r["server"]: r for r in f["runs"] if r["config"] == c}
        cells = []
        for s in seen:
            r = by.get(s)
            if r is None:
                cells.append("–")
            elif r.get("error"):
                cells.append("error")
            elif not r.get("best"):
                cells.append("none")
            else:
                b = r["best"]
                stop = r.get("stopped_by")
                cells.append(f"{fmt(b['delivered_per_s'], 0)} ev/s ({fmt(b['rate'], 1)} events/s × "
                             f"{r['sockets'] // r['rooms']}; p99 {fmt(b['p99_ms'])} ms"
                             + (f"; next step: {stop}" if stop else "") + ")")
        ratio = f.get("ratios", {}).get(c)
        if ratio:
            rtext = f"{fmt(ratio, 2)}×"
        elif by.get("redline", {}).get("best") and by.get("peer") and not by["peer"].get("best"):
            rtext = "no finite ratio: the peer held no step"
        else:
            rtext = "–"
        lines.append(f"| {c.replace('x', ' × ')} | " + " | ".join(cells) + f" | {rtext} |")
    lines += gc_parity(f)
    lines += ["", "![p99 latency against delivered events/s](benchmarks/fanout-p99.svg)", "",
              "### Side by side at the same rates", "",
              "p99 latency and the server's CPU per delivered event (µs of one core: server CPU ÷ delivered "
              "events/s, the cost of one frame to one socket, less sensitive to a busy machine than latency).", "",
              "| sockets × reviews | target ev/s | Redline p99 ms | peer p99 ms | Redline µs/event | peer µs/event "
              "| Redline gc max ms | peer gc max ms |", "|---|---|---|---|---|---|---|---|"]
    for c in configs:
        by = {r["server"]: r for r in f["runs"] if r["config"] == c}
        rl_, pe_ = by.get("redline"), by.get("peer")
        if not rl_ or not pe_:
            continue
        ps = {st["target_delivered_per_s"]: st for st in pe_["steps"]}
        for st in rl_["steps"]:
            o = ps.get(st["target_delivered_per_s"])
            if o is None:
                continue
            lines.append(f"| {c.replace('x', ' × ')} | {fmt(st['target_delivered_per_s'])} | {fmt(st['p99_ms'])} | "
                         f"{fmt(o['p99_ms'])} | {fmt(us_per_frame(st), 0)} | {fmt(us_per_frame(o), 0)} | "
                         f"{fmt(st['gc_max_pause_ms'])} | "
                         f"{fmt(o['gc_max_pause_ms'])} |")
    lines += ["",
              "### Every step", "",
              "| server | sockets × reviews | target ev/s | events/s published | delivered ev/s | p50 ms | p95 ms | p99 ms "
              "| max ms | lost | dup | out of order | bad JSON | publisher lag ms | server CPU | server RSS MB | gc max ms | gen2 GCs | slowest delivery > 100 ms "
              "| machine load (1 min) | ok |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in f["runs"]:
        for s in r["steps"]:
            lines.append(
                f"| {r['server']} | {r['config'].replace('x', ' × ')} | {fmt(s['target_delivered_per_s'])} | "
                f"{fmt(s['publish_rate'], 1)} | {fmt(s['delivered_per_s'], 0)} | {fmt(s['p50_ms'])} | {fmt(s['p95_ms'])} | "
                f"{fmt(s['p99_ms'])} | {fmt(s['max_ms'])} | {fmt(s['lost'])} | {fmt(s['dups'])} | "
                f"{fmt(s.get('out_of_order'))} | {fmt(s.get('bad'))} | {fmt(s['publisher_lag_max_ms'])} | "
                f"{fmt(s['server_cpu'], 2)} | {fmt(s['server_rss_mb'])} | {fmt(s['gc_max_pause_ms'])} | "
                f"{fmt(s['gc_gen2'])} | {s['events_slowest_over_100ms']} of {s['events']} events | "
                f"{fmt(s.get('loadavg_1m'), 2)} | {'yes' if s['ok'] else 'no'} |")
    lines += ["", "Joining (all sockets connect, then the server goes quiet):", "",
              "| server | sockets × reviews | connect s | until quiet s | frames received while joining | RSS idle → connected MB |",
              "|---|---|---|---|---|---|"]
    for r in f["runs"]:
        c = r.get("connect")
        if c:
            lines.append(f"| {r['server']} | {r['config'].replace('x', ' × ')} | {c['seconds']} | {c['settle_seconds']} | "
                         f"{fmt(c['frames_while_joining'])} | {r.get('rss_idle_mb')} → {r.get('rss_connected_mb')} |")
    lines.append("")
    # targets
    by = {(r["server"], r["config"]): r for r in f["runs"]}
    rl, pe = by.get(("redline", "1000x1")), by.get(("peer", "1000x1"))
    if rl and pe and pe.get("best_delivered_per_s"):
        ratio = rl["best_delivered_per_s"] / pe["best_delivered_per_s"]
        targets.append(("Fan-out at 1,000 sockets ≥ 2× python-socketio (same GC settings)", f"{ratio:.2f}×", ratio >= 2))
    elif rl and pe:
        best = rl.get("best_delivered_per_s") or 0
        below = [st for st in rl["steps"] if not st["ok"] and st["delivered_per_s"] < best]
        caveat = (f"; but Redline's own {', '.join(fmt(st['target_delivered_per_s']) for st in below)} ev/s "
                  f"step failed too (p99 {', '.join(fmt(st['p99_ms']) for st in below)} ms): fragile") if below else ""
        targets.append(("Fan-out at 1,000 sockets ≥ 2× python-socketio (same GC settings)",
                        f"Redline {fmt(best, 0)} ev/s; the peer held none of its steps (from "
                        f"{fmt(pe['steps'][0]['target_delivered_per_s'] if pe.get('steps') else None)} ev/s up)"
                        + caveat, True if best > 0 else None))
    many = by.get(("redline", "1000x100"))
    if rl and many and rl.get("best_delivered_per_s"):
        ratio = many["best_delivered_per_s"] / rl["best_delivered_per_s"]
        text = f"{fmt(many['best_delivered_per_s'], 0)} vs {fmt(rl['best_delivered_per_s'], 0)} ev/s ({ratio:.2f}×)"
        ok: bool | None = ratio >= 0.95
        if not ok and many.get("stopped_by") == "harness":
            # The many-review ladder ended where the harness ran out, not the server: compare the
            # server's cost per delivered frame at the rates both shapes held.
            one = {st["target_delivered_per_s"]: st for st in rl["steps"] if st["ok"]}
            both = [(st, one[st["target_delivered_per_s"]]) for st in many["steps"]
                    if st["ok"] and st["target_delivered_per_s"] in one and st["target_delivered_per_s"] >= 10000]
            if both:
                per = sum(us_per_frame(a) for a, _ in both) / len(both)
                per1 = sum(us_per_frame(b) for _, b in both) / len(both)
                p99_better = sum(1 for a, b in both if a["p99_ms"] <= b["p99_ms"])
                stop = next(st for st in many["steps"] if st.get("bound") == "harness")
                text += (f"; the 100-review ladder stopped at {fmt(stop['target_delivered_per_s'])} ev/s on the "
                         f"harness (it publishes 100× as many events: load generator, publisher and Redis "
                         f"{stop['loadgen_cpu'] + stop['publisher_cpu'] + stop['redis_cpu']:.2f} core, publisher "
                         f"{fmt(stop['publisher_lag_max_ms'])} ms behind), with the server at "
                         f"{stop['server_cpu']:.2f} core. At the {len(both)} rates from 10,000 ev/s that both held: "
                         f"server {per:.1f} vs {per1:.1f} µs per delivered frame, p99 lower over 100 reviews "
                         f"at {p99_better} of {len(both)}")
                ok = None if per <= per1 * 1.1 else False
        targets.append(("Over 100 reviews no worse than on one (1,000 sockets)", text, ok))
    return lines


def cancel_section(c: dict[str, Any], targets: list) -> list[str]:
    r, s = c["redline"], c["saq"]
    lines = ["## 2. Cancel (`python -m bench.cancel`)", "",
             f"{r['trials']} trials. Each starts job A (running) and job B (queued behind A, analysis concurrency 1), "
             "cancels B, then A, with `{\"op\":\"cancel\"}` on the websocket. Measured from the moment the cancel "
             "message is sent. Beside it, SAQ's plain path in the same run: a plain SAQ worker with its default "
             "timers, `queue.abort(job)`, measured to the job's status becoming `aborted` (polled every 5 ms) and to "
             "the coroutine stopping.", "",
             "| path | job | to job.cancelled (SAQ: status aborted) p50 / p99 ms | to coroutine stopped p50 / p99 ms | "
             "cancelled queued jobs that started |", "|---|---|---|---|---|",
             f"| Redline | running | {fmt(r['running']['to_cancelled_event']['p50'])} / "
             f"{fmt(r['running']['to_cancelled_event']['p99'])} | {fmt(r['running']['to_coroutine_stopped']['p50'])} / "
             f"{fmt(r['running']['to_coroutine_stopped']['p99'])} | |",
             f"| Redline | queued | {fmt(r['queued']['to_cancelled_event']['p50'])} / "
             f"{fmt(r['queued']['to_cancelled_event']['p99'])} | never started | {r['queued']['started_after_cancel']} |",
             f"| plain SAQ `job.abort` | running | {fmt(s['running']['to_aborted_status']['p50'])} / "
             f"{fmt(s['running']['to_aborted_status']['p99'])} | {fmt(s['running']['to_coroutine_stopped']['p50'])} / "
             f"{fmt(s['running']['to_coroutine_stopped']['p99'])} | |",
             f"| plain SAQ `job.abort` | queued | {fmt(s['queued']['to_aborted_status']['p50'])} / "
             f"{fmt(s['queued']['to_aborted_status']['p99'])} | never started | {s['queued']['started_after_cancel']} |", ""]
    p99 = max(r["running"]["to_cancelled_event"]["p99"] or 1e9, r["queued"]["to_cancelled_event"]["p99"] or 1e9)
    targets.append(("Cancel p99 < 150 ms to job.cancelled", f"{fmt(p99)} ms (worst of running and queued)", p99 < 150))
    targets.append(("A cancelled queued job never starts", f"{r['queued']['started_after_cancel']} of {r['trials']} started",
                    r["queued"]["started_after_cancel"] == 0))
    return lines


def pipeline_section(p: dict[str, Any], targets: list) -> list[str]:
    r, s, pr = p["redline"], p["saq"], p["params"]
    lines = ["## 3. Pipeline: no-op jobs/s (`python -m bench.pipeline`)", "",
             f"{pr['jobs']} no-op analysis jobs ({pr['reviews']} reviews × {pr['sections']} sections, analysed at once) "
             f"through Redline's whole path, worker concurrency {pr['concurrency']}; beside it raw SAQ no-op jobs "
             f"(same count, {pr['reviews']} concurrent enqueuers, same concurrency, same Redis) in the same run.", "",
             "| path | jobs | seconds | jobs/s | CPU (share of a core) |", "|---|---|---|---|---|",
             f"| Redline: websocket analyze → enqueue → worker → event log → relay → socket | {r['completed']} "
             f"| {r['seconds']} | {fmt(r['jobs_per_s'])} | {', '.join(f'{k} {v}' for k, v in r['cpu'].items())} |",
             f"| raw SAQ no-op | {s['completed']} | {s['seconds']} | {fmt(s['jobs_per_s'])} | "
             f"{', '.join(f'{k} {v}' for k, v in s['cpu'].items())} |", "",
             f"Redline ÷ raw SAQ: **{p['ratio']:.0%}**. Each Redline job also publishes {r['events_per_job']:g} events "
             "(job.queued, job.started, job.completed) and writes its state, all of which raw SAQ does not do.", ""]
    rounds = p.get("rounds")
    if rounds:
        lines[-1:-1] = [f"The rows are each side's median of {pr['rounds']} alternating rounds (jobs/s per round: "
                        f"Redline {', '.join(fmt(x, 0) for x in rounds['redline'])}; raw SAQ "
                        f"{', '.join(fmt(x, 0) for x in rounds['saq'])}): single rounds of a few seconds vary by "
                        "a third on this shared machine."]
    targets.append(("Pipeline ≥ 50 % of raw SAQ no-op jobs/s", f"{p['ratio']:.0%}" + (
        f" (medians of {pr['rounds']} rounds)" if rounds else ""), p["ratio"] >= 0.5))
    return lines


def document_section(d: dict[str, Any], targets: list) -> list[str]:
    lines = ["## 4. A 50-section document against the fake model (`python -m bench.document`)", ""]
    if d.get("skipped"):
        return lines + [f"Skipped: {d['skipped']}.", ""]
    lines += ["The Claude reviewer (`jobs/reviewers/claude.py`) against `tests/fake_anthropic.py` on 127.0.0.1. Every "
              "answer takes `latency` seconds, shaped like a real one: its first byte (message_start: the provider "
              "has read the prompt and written its cache) after the share of the latency in *first byte*, then the "
              "tool's JSON streamed over the rest. Redline's own fleet limits are set to the concurrency and the rate "
              "(REDLINE_MODEL_CONCURRENCY, REDLINE_MODEL_RPM_ANALYSIS per REDLINE_MODEL_RATE_WINDOW_S = 1 s). Time is "
              "`analyze` sent → the 50th `job.completed` received. Bound = max(50 × latency / concurrency, 50 / rate). "
              "*Turnaround* is Redline's own time per call when concurrency-bound: from an answer's last byte to the "
              "next request taking its slot. *Cache writes* counts the calls sent before the first answer began "
              "(each of those writes the prompt cache itself, at 1.25× the input price, instead of reading it at "
              "0.1×).",
              "", "| scenario | latency s | first byte | concurrency | rate /s | warm-up | bound s | total s | vs bound | "
              "turnaround p50 ms | cache writes | most in flight | most requests in 1 s | failed |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    shaped, upfront = [], []
    for r in d["runs"]:
        turn = r.get("turnaround_ms")
        lines.append(f"| {r['scenario']} | {r['latency_s']} | {r.get('ttft_share', 1.0):.0%} | {r['concurrency']} | "
                     f"{r['rate_per_s']} | {'on' if r.get('warm_up', True) else 'off'} | {r['bound_s']} | "
                     f"{r['total_s']} | {r['over_bound']:+.1%} | {fmt(turn['p50']) if turn else '–'} | "
                     f"{r.get('cache_writes', '–')} | {r['max_in_flight']} | {r['max_in_1s_window']} | {r['failed']} |")
        (shaped if r.get("ttft_share", 1.0) < 1 else upfront).append(r)
    lines.append("")
    if upfront:
        lines += ["With the whole latency before the first byte, the prompt-cache warm-up costs one whole answer: "
                  "the first call of a document runs alone until its first byte, so that every other call reads the "
                  "cache (issue 3). With real answers the first byte comes after the prompt is read, a small share "
                  "of the answer's time, and the warm-up costs that share. Turning it off "
                  "(REDLINE_MODEL_CACHE_WARM_WAIT_S=0) meets the bound in the worst case too, at the price of a cache "
                  "write per concurrent first call.", ""]
    if shaped:
        worst = max(r["over_bound"] for r in shaped)
        text = f"worst {worst:+.1%} (answers shaped like real ones)"
        if upfront:
            text += "; " + ", ".join(f"{r['over_bound']:+.1%} {r['scenario'].split(', ')[-1]}" for r in upfront)
        targets.append(("Document within 10 % of the bound", text, worst <= 0.10))
    return lines


def latency_section(lt: dict[str, Any], targets: list) -> list[str]:
    a = lt["analyze"]
    lines = ["## 5. Latency (`python -m bench.latency`)", "",
             f"{lt['trials']} sequential trials each, reviewer: {lt['reviewer']}.", "",
             "| measure | p50 ms | p99 ms | max ms |", "|---|---|---|---|",
             f"| analyze message → first event (job.queued) | {fmt(a['to_first_event']['p50'])} | "
             f"{fmt(a['to_first_event']['p99'])} | {fmt(a['to_first_event']['max'])} |",
             f"| analyze message → job.started | {fmt(a['to_job_started']['p50'])} | {fmt(a['to_job_started']['p99'])} | "
             f"{fmt(a['to_job_started']['max'])} |"]
    ch = lt.get("chat", {})
    if "overhead" in ch:
        lines += [f"| chat message → first chat.delta | {fmt(ch['to_first_delta']['p50'])} | "
                  f"{fmt(ch['to_first_delta']['p99'])} | {fmt(ch['to_first_delta']['max'])} |",
                  f"| the fake model's own time to first token | {fmt(ch['model_ttft']['p50'])} | "
                  f"{fmt(ch['model_ttft']['p99'])} | {fmt(ch['model_ttft']['max'])} |",
                  f"| **chat relay overhead** (first delta − model's time to first token) | {fmt(ch['overhead']['p50'])} | "
                  f"{fmt(ch['overhead']['p99'])} | {fmt(ch['overhead']['max'])} |"]
    lines.append("")
    targets.append(("Analyze → first event p50 < 20 ms", f"{fmt(a['to_first_event']['p50'])} ms",
                    (a["to_first_event"]["p50"] or 1e9) < 20))
    if "overhead" in ch:
        targets.append(("Chat relay overhead p50 < 30 ms", f"{fmt(ch['overhead']['p50'])} ms",
                        (ch["overhead"]["p50"] or 1e9) < 30))
    else:
        lines += [f"Chat: {ch.get('skipped', 'not measured')}.", ""]
    return lines


def memory_section(m: dict[str, Any], targets: list) -> list[str]:
    lines = ["## 6. Memory per idle socket (`python -m bench.memory`)", "",
             f"RSS of the server process with N idle sockets ({m['per_review']} per review) minus its RSS after start-up "
             "and a warm-up, divided by N.", "",
             "| server | sockets | reviews | RSS baseline MB | RSS with sockets MB | per socket KB |", "|---|---|---|---|---|---|"]
    worst = None
    for r in m["runs"]:
        lines.append(f"| {r['server']} | {fmt(r['sockets'])} | {r['reviews']} | {r['rss_baseline_mb']} | {r['rss_mb']} | "
                     f"{r['per_socket_kb']} |")
        if r["server"] == "redline":
            worst = r["per_socket_kb"] if worst is None else max(worst, r["per_socket_kb"])
    lines.append("")
    if worst is not None:
        targets.append(("Idle memory ≤ 40 KB per socket", f"worst {worst} KB", worst <= 40))
    return lines


def slowclient_section(r: dict[str, Any], targets: list) -> list[str]:
    p = r["params"]
    a, b = r["without"], r["with_stalled"]
    lines = ["## 7. A frozen client among healthy ones (`python -m bench.slowclient`)", "",
             f"{p['sockets']} healthy sockets on one review, {fmt(p['rate'])} events/s of ~8 kB for {fmt(p['seconds'])} s, "
             "run twice: without, then with one client that stops reading (tiny receive buffer). "
             "Latency is the healthy sockets' publish-to-receipt.", "",
             "| run | p50 ms | p95 ms | p99 ms | max ms | lost | stalled client |", "|---|---|---|---|---|---|---|",
             f"| without | {a['latency_ms']['p50']} | {a['latency_ms']['p95']} | {a['latency_ms']['p99']} | "
             f"{a['latency_ms']['max']} | {a['lost']} | – |",
             f"| with a stalled client | {b['latency_ms']['p50']} | {b['latency_ms']['p95']} | {b['latency_ms']['p99']} | "
             f"{b['latency_ms']['max']} | {b['lost']} | closed with {b['stalled_close_code']} |", ""]
    worst = max(v for v in r["ratio"].values() if v is not None)
    targets.append(("Healthy clients' latency with a stalled one ≤ 2× without",
                    f"p50 ×{r['ratio']['p50']:.2f}, p99 ×{r['ratio']['p99']:.2f}; stalled closed with "
                    f"{b['stalled_close_code']}; {b['lost']} lost", worst <= 2 and b["lost"] == 0))
    return lines


def longdoc_section(r: dict[str, Any], targets: list) -> list[str]:
    lines = ["## 8. A long write-up, offline, end to end (`python -m bench.longdoc`)", "",
             "A Markdown write-up made of the quality corpus's tuning documents, repeated as parts (plain paragraphs "
             "hard-wrapped at 80 columns), reviewed by the offline reviewer through the whole `redline review` "
             "command: the private Redis and worker started, the upload parsed, every section analyzed, the .docx "
             f"written. Measured on {r.get('machine', {}).get('cpu') or 'this machine'}, "
             f"{r.get('machine', {}).get('nproc', '?')} cores (the other sections' machine may differ).", "",
             "| pages (500 words) | words | kB | sections | seconds | comments |", "|---|---|---|---|---|---|"]
    for row in r["rows"]:
        lines.append(f"| {row['pages']} | {fmt(row['words'])} | {fmt(row['kB'])} | {row['sections']} | "
                     f"{row['seconds']} | {row['comments']} |")
    lines.append("")
    longest = max(r["rows"], key=lambda row: row["pages"])
    if longest["pages"] >= 300:
        targets.append(("A 300-page write-up reviewed offline in under a minute",
                        f"{longest['pages']} pages in {longest['seconds']} s", longest["seconds"] < 60))
    return lines


def deflate_section(f: dict[str, Any]) -> list[str]:
    lines = ["### With compression, as browsers connect (`python -m bench.fanout --deflate`)", "",
             "Browsers offer permessage-deflate and both Hypercorn and uvicorn accept it. The peer then compresses "
             "every frame once per socket; Redline answers with `server_no_context_takeover` and compresses each "
             "event once for all its sockets (server/wire.py). The same clients, offering the extension:", "",
             "| server | sockets × reviews | target ev/s | delivered ev/s | p50 ms | p99 ms | server CPU | µs/event "
             "| gc max ms | ok |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in f.get("runs", []):
        for st in r["steps"]:
            lines.append(f"| {r['server']} | {r['config'].replace('x', ' × ')} | {fmt(st['target_delivered_per_s'])} | "
                         f"{fmt(st['delivered_per_s'], 0)} | {fmt(st['p50_ms'])} | {fmt(st['p99_ms'])} | "
                         f"{fmt(st['server_cpu'], 2)} | {fmt(us_per_frame(st), 0)} | {fmt(st['gc_max_pause_ms'])} | "
                         f"{'yes' if st['ok'] else 'no'} |")
    lines.append("")
    return lines


def render() -> str:
    results = {name: read_result(name) for name in BENCHES + ["fanout-deflate"]}
    machine = next((r["machine"] for r in results.values() if r), {})
    fan = results.get("fanout") or {}
    if fan.get("machine"):
        machine = fan["machine"]
    targets: list[tuple[str, str, bool | None]] = []
    body: list[str] = []
    sections = [("fanout", fanout_section), ("cancel", cancel_section), ("pipeline", pipeline_section),
                ("document", document_section), ("latency", latency_section), ("memory", memory_section),
                ("slowclient", slowclient_section), ("longdoc", longdoc_section)]
    for name, fn in sections:
        r = results.get(name)
        if r is None:
            body += [f"## {name}", "", f"Not run yet: `python -m bench.{name}`.", ""]
            continue
        try:
            body += fn(r, targets)
            if name == "fanout" and results.get("fanout-deflate"):
                body += deflate_section(results["fanout-deflate"])
        except Exception as e:  # a partial result file: say so, render the rest
            body += [f"## {name}", "", f"Result file could not be rendered ({e!r}).", ""]
    if fan.get("runs"):
        CHARTS.mkdir(parents=True, exist_ok=True)
        (CHARTS / "fanout-p99.svg").write_text(chart(fan))
    head = [
        "# Redline benchmarks", "",
        "<!-- Generated by `python -m bench` (bench/run_all.py) from bench/results/*.json; do not edit by hand. -->", "",
        "How fast Redline relays review events, measured against what a Python team would pick instead "
        "(python-socketio with AsyncRedisManager on uvicorn, run with Redline's own garbage-collector settings), in the same "
        "run on the same machine, with the same client, payload and rates.", "",
        "## How to run", "",
        "```sh",
        f"pip install -e \".[bench]\"   # Redline plus the peer and its server ({EXTRA_PACKAGES})",
        "python -m bench               # every benchmark at full size, then this page (20-40 minutes)",
        "python -m bench --quick       # small sizes and short steps (a few minutes; overwrites bench/results)",
        "python -m bench.fanout        # one benchmark alone (also: cancel, pipeline, document, latency, memory, slowclient, longdoc)",
        "python -m bench.report        # re-render this page from bench/results/*.json",
        "python -m bench.fanout --deflate --configs 1000x1 --servers redline,peer "
        "--ladder 1000,2000,5000,10000,20000,50000,100000,150000,200000,250000 --out fanout-deflate",
        "# a change side by side with the code before it (another checkout of the project as redline-exp):",
        "BENCH_EXPERIMENT_ROOT=/tmp/redline-before python -m bench.memory --servers redline-exp,redline --out scratch",
        "```", "",
        "Every benchmark starts its own private Redis (`jobs.redis_server.EmbeddedRedis`) and its own server and "
        "worker processes, talks only to 127.0.0.1, stops by itself (bounded counts and times), and writes "
        "`bench/results/<name>.json`; this page is rendered from those files. The packages the benchmarks need "
        f"beyond Redline's own are `{EXTRA_PACKAGES}` (a `bench` extra would hold them).", ""]
    head += machine_section(machine) if machine else []
    summary = ["## Targets", "", "| target | measured | |", "|---|---|---|"]
    summary += [f"| {t} | {v} | {_yes(ok)} |" for t, v, ok in targets]
    summary.append("")
    notes = notes_section(results)
    return "\n".join(head + summary + body + notes) + "\n"


def notes_section(results: dict[str, Any]) -> list[str]:
    path = ROOT / "bench" / "NOTES.md"
    if not path.exists():
        return []
    return ["", path.read_text().strip(), ""]


def main() -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render())
    print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Helpers of the browser tests: Chromium, an HTTP upload, waiting on the page's state.

The page exposes `window.redline` (static/js/review.js): `state`, `eventLog` (ids of every
applied event, in order), `connection` (state and stats), `counts()`.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "docs" / "screenshots"


def screenshot_dir(default: Path) -> Path:
    """Where a screenshot test writes: `default` (a temporary folder), or docs/screenshots when
    `python -m tests.screenshots` asks for it (REDLINE_SCREENSHOTS_DIR). The suite itself never
    rewrites tracked files."""
    out = Path(os.environ.get("REDLINE_SCREENSHOTS_DIR") or default)
    out.mkdir(parents=True, exist_ok=True)
    return out

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through sync Playwright; import it into a browser test module.

    Module-scoped on purpose: while sync Playwright runs, its event loop is the thread's
    running loop, which would break pytest-asyncio tests of later modules."""
    exe = chromium_path()
    if exe is None:
        pytest.skip("Chromium not found: apt-get install -y chromium (the browser tests use Debian's)")
    sync_api = pytest.importorskip("playwright.sync_api")
    pw = sync_api.sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()
    finally:
        pw.stop()


def chromium_path() -> str | None:
    for candidate in (os.environ.get("REDLINE_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def upload(base: str, *, filename: str, data: bytes, title: str | None = None,
           guidelines: tuple[str, bytes] | None = None) -> dict[str, Any]:
    """POST /api/reviews (sync), as the page's upload does."""
    files = {"document": (filename, data)}
    if guidelines:
        files["guidelines"] = guidelines
    r = httpx.post(base + "/api/reviews", files=files, data={"title": title} if title else None, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()


def snapshot(base: str, review: dict[str, Any]) -> dict[str, Any]:
    r = httpx.get(f"{base}/api/reviews/{review['review_id']}",
                  headers={"Authorization": f"Bearer {review['token']}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def wait_until(fn, timeout: float = 20.0, interval: float = 0.05, message: str = "condition"):
    """Poll a Python-side condition (server state, Redis); the page side uses wait_js."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(interval)


def new_page(browser, name: str = "Ines", viewport: dict[str, int] | None = None, *,
             ignore_console: tuple[str, ...] = (), **context: Any):
    """A page in a context of its own, its reviewer `name` remembered, every page error,
    console error and dialog recorded in `page.errors` (a test asserts it is empty). Console
    errors containing one of `ignore_console` (a 400 the test provoked) are not recorded."""
    ctx = browser.new_context(viewport=viewport or {"width": 1280, "height": 720}, **context)
    ctx.add_init_script(f"try {{ localStorage.setItem('redline.name', {json.dumps(name)}); }} catch (e) {{}}")
    p = ctx.new_page()
    p.errors = []
    p.on("pageerror", lambda e: p.errors.append(f"pageerror: {e}"))
    p.on("console", lambda m: m.type == "error" and not any(s in m.text for s in ignore_console)
         and p.errors.append(f"console: {m.text}"))
    p.on("dialog", lambda d: (p.errors.append(f"dialog: {d.message}"), d.dismiss()))
    return p


def open_review(page, base: str, review: dict[str, Any]) -> None:
    """Open a review's page (its URL carries the token) and wait until its socket is open."""
    path, frag = review["url"].split("#", 1)
    page.goto(f"{base}{path}#{frag}")
    page.wait_for_selector("body[data-ready=true]", timeout=15000)
    wait_js(page, "() => window.redline.connection.state === 'open'", timeout=15)


def wait_js(page, body: str, arg: Any = None, timeout: float = 20.0):
    """Wait until the JS arrow function `body` (e.g. "() => ...") returns a truthy value.

    The page's CSP has no 'unsafe-eval', so only function forms work (string
    expressions would need eval). On the review page it also waits until the
    page has rendered that state (renders run on the next animation frame), so
    what the DOM shows can be asserted right after."""
    settled = f"(arg) => {{ const v = ({body})(arg); return v && (!window.redline || window.redline.settled) ? v : false; }}"
    return page.wait_for_function(settled, arg=arg, timeout=timeout * 1000).json_value()


def counts(page) -> dict[str, Any]:
    return page.evaluate("() => window.redline.counts()")


def snapshot_counts(snap: dict[str, Any]) -> dict[str, Any]:
    """The same shape as window.redline.counts(), from an API snapshot."""
    def by(key: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in snap["items"]:
            out[i[key]] = out.get(i[key], 0) + 1
        return out
    return {"items": len(snap["items"]), "risk": by("risk"), "type": by("type"), "decision": by("decision"),
            "sections": {s["id"]: s["status"] for s in snap["sections"]}, "chat": len(snap["chat"])}


def decisions(page) -> dict[str, str]:
    return page.evaluate("() => Object.fromEntries(window.redline.state.items.map(i => [i.id, i.decision]))")


def set_name(context, name: str) -> None:
    """The reviewer's name (localStorage), before any page script runs."""
    context.add_init_script(f"try {{ localStorage.setItem('redline.name', {json.dumps(name)}); }} catch (e) {{}}")


def select_text(page, section_id: str, quote: str) -> None:
    """Select `quote` inside a section's text in the document pane, as a mouse would."""
    page.evaluate(
        """([sid, quote]) => {
            const box = document.querySelector(`.section-text[data-section-id="${sid}"]`);
            const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
            const nodes = [];
            let text = "";
            for (let n = walker.nextNode(); n; n = walker.nextNode()) { nodes.push([n, text.length]); text += n.data; }
            const start = text.indexOf(quote);
            if (start < 0) throw new Error("quote not in section");
            const end = start + quote.length;
            const at = (off) => {
                for (const [n, base] of nodes) if (off <= base + n.data.length) return [n, off - base];
                const [n] = nodes[nodes.length - 1];
                return [n, n.data.length];
            };
            const range = document.createRange();
            range.setStart(...at(start));
            range.setEnd(...at(end));
            const sel = document.getSelection();
            sel.removeAllRanges();
            sel.addRange(range);
            box.scrollIntoView({block: "center"});
        }""",
        [section_id, quote],
    )

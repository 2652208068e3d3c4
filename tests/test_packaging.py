"""A non-editable install serves the page: the wheel carries the one import package `redline`
with the page, its scripts and styles, and nothing named `server` or `jobs` at the top level.

Built and installed as a new user would (`pip install .` is a wheel build), into a fresh
virtual environment, then `redline serve` from another folder; every asset the page
references is fetched."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

import httpx
import pytest

from redline.jobs.redis_server import free_port

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (path,) = out.glob("redline-*.whl")
    return path


def test_the_wheel_holds_one_import_package_and_the_page(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.startswith("redline-")}
    assert tops == {"redline"}, tops
    for asset in ("redline/static/index.html", "redline/static/review.html", "redline/static/js/review.js",
                  "redline/static/css/review.css", "redline/server/cli.py", "redline/jobs/reviewers/claude.py"):
        assert asset in names, asset


def _assets(html: str) -> set[str]:
    return {m for m in re.findall(r'(?:src|href)="(/static/[^"#?]+)', html)}


def _imports(js: str) -> set[str]:
    return set(re.findall(r'''(?:from|import)\s*["'](\./[^"']+|\.\./[^"']+)["']''', js))


def test_a_wheel_install_in_a_fresh_venv_serves_the_page_and_every_asset(wheel, tmp_path, redis_url):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
                   check=True, capture_output=True, timeout=600)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDLINE_", "ANTHROPIC_", "PYTHON"))}
    env.update(REDIS_URL=redis_url, REDLINE_DATA_DIR=str(tmp_path / "data"))
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([str(env_dir / "bin" / "redline"), "serve", "--port", str(port)], cwd=elsewhere,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.1)
        seen: set[str] = set()
        todo = ["/", "/r/anything"]
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            r = httpx.get(base + path, timeout=10)
            assert r.status_code == 200, (path, r.status_code)
            if path.endswith(".js"):
                folder = path.rsplit("/", 1)[0]
                for rel in _imports(r.text):
                    todo.append(os.path.normpath(f"{folder}/{rel}"))
            elif not path.startswith("/static/") or path.endswith(".html"):
                todo.extend(_assets(r.text))
        scripts = [p for p in seen if p.endswith(".js")]
        assert len(scripts) >= 10 and any(p.endswith(".css") for p in seen), sorted(seen)
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()

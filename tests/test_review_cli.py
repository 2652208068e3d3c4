"""`redline review FILE`: offline, with its own embedded stack, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import BytesIO

from docx import Document

from tests import samples
from tests.conftest import ROOT


def comment_text(comment) -> str:
    return "\n".join(p.text for p in comment.paragraphs)


def test_review_command_offline_writes_a_commented_docx(tmp_path):
    src = tmp_path / "report.docx"
    src.write_bytes(samples.sample_docx())
    out = tmp_path / "reviewed.docx"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDLINE_", "ANTHROPIC_", "REDIS_URL"))}
    env.update(REDLINE_DATA_DIR=str(tmp_path / "data"), REDLINE_OFFLINE_PACE_MS="5")
    run = subprocess.run([sys.executable, "-m", "redline.server.cli", "review", str(src), "--out", str(out), "--json"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    printed = json.loads(run.stdout)["items"]
    assert printed and all(i["source"] == "offline" for i in printed)
    for title, _ in samples.SAMPLE_SECTIONS:
        assert title in run.stderr, "a progress line per section"
    comments = list(Document(BytesIO(out.read_bytes())).comments)
    assert len(comments) == len(printed)
    texts = sorted(comment_text(c) for c in comments)
    for item in printed:
        assert sum(item["description"] in t for t in texts) >= 1, item["description"]
    assert all(c.author == "Redline" for c in comments)


def test_review_command_explains_a_bad_file(tmp_path):
    bad = tmp_path / "notes.docx"
    bad.write_bytes(b"not a word file")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDLINE_", "ANTHROPIC_", "REDIS_URL"))}
    env.update(REDLINE_DATA_DIR=str(tmp_path / "data"))
    run = subprocess.run([sys.executable, "-m", "redline.server.cli", "review", str(bad)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    message = run.stderr.strip().splitlines()[-1]
    assert message.startswith("redline review:") and ".docx" in message, message
    missing = subprocess.run([sys.executable, "-m", "redline.server.cli", "review", str(tmp_path / "nope.md")], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "No such file" in missing.stderr

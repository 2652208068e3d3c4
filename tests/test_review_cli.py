"""`redline review FILE`: offline, with its own embedded stack or against a running server, as a user runs
it: piped (plain lines, no log lines), under a terminal (a progress bar), with --json, and every exit code."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from io import BytesIO

import httpx
import pytest
from docx import Document

from redline.jobs.redis_server import free_port
from tests import samples
from tests.conftest import ROOT, start_server

CLI = [sys.executable, "-m", "redline.server.cli", "review"]


def comment_text(comment) -> str:
    return "\n".join(p.text for p in comment.paragraphs)


def cli_env(tmp_path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDLINE_", "ANTHROPIC_", "REDIS_URL"))}
    env.update({"REDLINE_DATA_DIR": str(tmp_path / "data"), "REDLINE_OFFLINE_PACE_MS": "5", **extra})
    return env


def review(tmp_path, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=ROOT, env=cli_env(tmp_path, **env), capture_output=True, text=True,
                          timeout=timeout)


def sample(tmp_path):
    src = tmp_path / "report.docx"
    src.write_bytes(samples.sample_docx())
    return src


def json_log_lines(text: str) -> list[str]:
    """Lines that are JSON log records (what the stack's logger writes)."""
    found = []
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and ("level" in rec or "logger" in rec or "msg" in rec):
            found.append(line)
    return found


def assert_clean(run: subprocess.CompletedProcess) -> None:
    for name, text in (("stdout", run.stdout), ("stderr", run.stderr)):
        assert not json_log_lines(text), f"JSON log lines on {name}:\n" + "\n".join(json_log_lines(text)[:5])
        assert "\x1b" not in text, f"ANSI codes on {name} while piped"


def test_piped_run_prints_plain_progress_and_findings_and_no_log_lines(tmp_path):
    src = sample(tmp_path)
    out = tmp_path / "reviewed.docx"
    run = review(tmp_path, str(src), "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert_clean(run)
    lines = run.stderr.splitlines()
    n = len(samples.SAMPLE_SECTIONS)
    assert lines[0] == f"Reviewing report.docx: {n} sections (offline reviewer)"
    for title, _ in samples.SAMPLE_SECTIONS:
        assert sum(line.startswith("[") and f"] {title}: done, " in line for line in lines) == 1, \
            f"one progress line for {title}:\n{run.stderr}"
    assert [line for line in lines if line.startswith("[")][-1].startswith(f"[{n}/{n}] ")
    assert any(line.startswith(f"Wrote {out}") and "(include all, changes both)" in line for line in lines)
    assert "%" not in run.stderr, "no intermediate progress when piped"
    assert "[HIGH  ]" in run.stdout or "[MEDIUM]" in run.stdout or "[LOW   ]" in run.stdout
    # the log lines went to the log file instead
    log = tmp_path / "data" / "logs" / "review.log"
    assert log.exists() and json_log_lines(log.read_text())


def test_json_is_one_document_with_the_run(tmp_path):
    src = sample(tmp_path)
    out = tmp_path / "reviewed.docx"
    run = review(tmp_path, str(src), "--out", str(out), "--json")
    assert run.returncode == 0, run.stderr
    assert_clean(run)
    doc = json.loads(run.stdout)  # the whole of stdout is one document
    assert doc["version"] == 1 and doc["ok"] is True and doc["exit_code"] == 0 and doc["error"] is None
    assert doc["title"] and doc["review_id"]
    assert doc["reviewer"] == "offline" and doc["model"] is None
    titles = [s["title"] for s in doc["sections"]]
    assert titles == [t for t, _ in samples.SAMPLE_SECTIONS]
    assert all(s["status"] == "done" and s["error"] is None for s in doc["sections"])
    items = doc["items"]
    assert items and all(i["source"] == "offline" for i in items)
    assert sum(s["items"] for s in doc["sections"]) == len(items)
    counts = doc["counts"]
    assert counts["sections"] == len(titles) == counts["done"] and counts["failed"] == 0
    assert counts["items"] == len(items) == sum(counts["by_type"].values()) == sum(counts["by_risk"].values())
    assert doc["export"] == {"path": str(out.resolve()), "include": "all", "changes": "both",
                             "comments": len(items)}
    for title in titles:
        assert title in run.stderr, "a progress line per section, on stderr"
    comments = list(Document(BytesIO(out.read_bytes())).comments)
    assert len(comments) == len(items)
    texts = sorted(comment_text(c) for c in comments)
    for item in items:
        assert sum(item["description"] in t for t in texts) >= 1, item["description"]
    assert all(c.author == "Redline" for c in comments)


def test_against_a_server_with_the_export_rule(tmp_path, server):
    src = sample(tmp_path)
    out = tmp_path / "accepted.docx"
    run = review(tmp_path, str(src), "--server", server, "--out", str(out), "--include", "accepted",
                 "--changes", "comments", "--json")
    assert run.returncode == 0, run.stderr
    assert_clean(run)
    doc = json.loads(run.stdout)
    assert doc["items"] and doc["url"].startswith(f"{server}/r/{doc['review_id']}#token=")
    # nobody accepted anything from the terminal: an accepted-only export has no comments
    assert doc["export"]["include"] == "accepted" and doc["export"]["changes"] == "comments"
    assert doc["export"]["comments"] == 0 and not list(Document(str(out)).comments)

    out2 = tmp_path / "pending.docx"
    run = review(tmp_path, str(src), "--server", server, "--out", str(out2), "--include", "accepted_and_pending",
                 "--json")
    doc = json.loads(run.stdout)
    if run.returncode == 1 and (doc["error"] or {}).get("code") == "invalid_include":
        pytest.skip("this server does not know include=accepted_and_pending yet (400 invalid_include)")
    assert run.returncode == 0, run.stderr
    assert doc["export"]["include"] == "accepted_and_pending"
    assert doc["export"]["comments"] == len(doc["items"]), "every finding is pending: all of them are exported"


def test_a_terminal_gets_a_progress_bar(tmp_path):
    src = sample(tmp_path)
    out = tmp_path / "reviewed.docx"
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command under a pseudo-terminal
        os.chdir(ROOT)
        env = cli_env(tmp_path, COLUMNS="120", LINES="40", TERM="xterm-256color")
        env.pop("NO_COLOR", None)
        os.execvpe(CLI[0], [*CLI, str(src), "--out", str(out)], env)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    text = b"".join(chunks).decode(errors="replace")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, text[-3000:]
    assert "━" in text, "rich's progress bar"
    assert "\x1b[" in text, "a live display (cursor and colour codes)"
    assert "✓" in text and "findings" in text
    for title, _ in samples.SAMPLE_SECTIONS:
        assert title in text
    assert f"Log: {tmp_path / 'data' / 'logs' / 'review.log'}" in text.replace("\r\n", "\n").replace("\n", ""), \
        "the log file's path, once, at the end"
    assert not json_log_lines(text.replace("\r", "\n")), "no JSON log line on the terminal"
    assert len(list(Document(str(out)).comments)) > 0


def test_exit_code_3_for_a_bad_file(tmp_path):
    bad = tmp_path / "notes.docx"
    bad.write_bytes(b"not a word file")
    run = review(tmp_path, str(bad))
    assert run.returncode == 3, run.stderr
    assert_clean(run)
    message = run.stderr.strip().splitlines()[-1]
    assert message.startswith("redline review:") and ".docx" in message, message
    unsupported = tmp_path / "slides.pptx"
    unsupported.write_bytes(b"PK\x03\x04 whatever")
    run = review(tmp_path, str(unsupported), "--json")
    assert run.returncode == 3, run.stderr
    doc = json.loads(run.stdout)
    assert doc["exit_code"] == 3 and doc["ok"] is False and doc["error"]["code"] and doc["export"] is None


def test_exit_code_2_for_bad_usage(tmp_path):
    src = sample(tmp_path)
    missing = review(tmp_path, str(tmp_path / "nope.md"), timeout=60)
    assert missing.returncode == 2 and "No such file" in missing.stderr
    for args in (["--include", "everything"], ["--changes", "redlines"], ["--no-such-option"],
                 ["--server", "localhost:8000"], ["--guidelines", str(tmp_path / "nope.txt")]):
        run = review(tmp_path, str(src), *args, timeout=60)
        assert run.returncode == 2, (args, run.stderr)
        assert run.stdout == "" and run.stderr.strip(), args
    assert review(tmp_path, timeout=60).returncode == 2  # no FILE
    helped = review(tmp_path, "--help", timeout=60)
    assert helped.returncode == 0
    for text in ("exit codes:", "130", "accepted_and_pending", "default is all", "--verbose"):
        assert text in helped.stdout, text


def test_exit_code_4_for_an_unreachable_server(tmp_path):
    src = sample(tmp_path)
    port = free_port()  # nothing listens there
    started = time.monotonic()
    run = review(tmp_path, str(src), "--server", f"http://127.0.0.1:{port}", "--json", timeout=60)
    assert run.returncode == 4, run.stderr
    assert time.monotonic() - started < 30
    assert_clean(run)
    assert run.stderr.strip().splitlines()[-1].startswith(f"redline review: cannot reach http://127.0.0.1:{port}")
    doc = json.loads(run.stdout)
    assert doc["exit_code"] == 4 and doc["error"]["code"] == "unreachable" and doc["sections"] == []


def test_exit_code_4_when_the_embedded_stack_has_no_redis(tmp_path):
    src = sample(tmp_path)
    run = review(tmp_path, str(src), "--json", timeout=90, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert run.returncode == 4, run.stderr
    assert_clean(run)
    assert json.loads(run.stdout)["exit_code"] == 4
    assert run.stderr.strip().splitlines()[-1].startswith("redline review:")


def test_verbose_sends_the_logs_to_stderr(tmp_path):
    src = sample(tmp_path)
    run = review(tmp_path, str(src), "--out", str(tmp_path / "r.docx"), "--json", "--verbose")
    assert run.returncode == 0, run.stderr
    assert json_log_lines(run.stderr) and not json_log_lines(run.stdout)
    json.loads(run.stdout)
    assert not (tmp_path / "data" / "logs" / "review.log").exists()


def test_ctrl_c_exits_130(tmp_path):
    src = sample(tmp_path)
    p = subprocess.Popen([*CLI, str(src), "--out", str(tmp_path / "r.docx"), "--json"], cwd=ROOT,
                         env=cli_env(tmp_path, REDLINE_OFFLINE_PACE_MS="5000"), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        first = p.stderr.readline()
        assert first.startswith("Reviewing report.docx"), first
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    assert not json_log_lines(out) and not json_log_lines(err)
    assert "interrupted" in err.strip().splitlines()[-1]
    doc = json.loads(out)
    assert doc["exit_code"] == 130 and doc["error"]["code"] == "interrupted"
    assert not (tmp_path / "r.docx").exists()


def test_exit_code_1_when_sections_fail(tmp_path):
    """Claude unreachable: every section fails, each with its error on its line and in --json."""
    src = sample(tmp_path)
    run = review(tmp_path, str(src), "--out", str(tmp_path / "r.docx"), "--json", ANTHROPIC_API_KEY="sk-test",
                 ANTHROPIC_BASE_URL=f"http://127.0.0.1:{free_port()}", REDLINE_MODEL_MAX_RETRIES="0",
                 REDLINE_JOB_ATTEMPTS="1")
    assert run.returncode == 1, run.stderr
    assert_clean(run)
    doc = json.loads(run.stdout)
    assert doc["reviewer"] == "claude" and doc["model"]
    assert doc["error"]["code"] == "sections_failed" and doc["counts"]["failed"] == len(doc["sections"]) > 0
    assert all(s["status"] == "failed" and s["error"] for s in doc["sections"])
    for s in doc["sections"]:
        assert f"] {s['title']}: failed: {s['error']}" in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("redline review: ")
    assert (tmp_path / "r.docx").exists(), "the .docx is still written"


def test_ctrl_c_cancels_the_reviews_jobs_on_the_server(tmp_path, own_redis_url):
    proc, url = start_server(own_redis_url, tmp_path, REDLINE_OFFLINE_PACE_MS="3000")
    try:
        src = sample(tmp_path)
        p = subprocess.Popen([*CLI, str(src), "--server", url, "--out", str(tmp_path / "r.docx"), "--json"],
                             cwd=ROOT, env=cli_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert p.stderr.readline().startswith("Reviewing report.docx")
            time.sleep(0.5)
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
        assert p.returncode == 130, err
        doc = json.loads(out)
        token = doc["url"].split("#token=", 1)[1]
        deadline = time.monotonic() + 20
        while True:
            snap = httpx.get(f"{url}/api/reviews/{doc['review_id']}",
                             headers={"Authorization": f"Bearer {token}"}).json()
            if all(s["status"] == "cancelled" for s in snap["sections"]) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert [s["status"] for s in snap["sections"]] == ["cancelled"] * len(snap["sections"])
    finally:
        proc.stop()

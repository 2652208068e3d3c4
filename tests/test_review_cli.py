"""`redline review FILE`: offline, with its own embedded stack or against a running server, as a user runs
it: piped (plain lines, no log lines), under a terminal (a progress bar), with --json, and every exit code."""

from __future__ import annotations

import json
import os
import pty
import re
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


# ------------------------------------------------------------------- rounds ---
# v1 carries two slips the offline rules flag with a certain fix (a doubled word, a typo); v2 fixes
# both and drops the last section; v3 adds a section with a new slip.
ROUND_DROPPED = "Recommendations"


def round_versions(tmp_path):
    v1 = [(t, x.replace("is inspected weekly by the maintenance", "is inspected weekly by the the maintenance")
           .replace("prevent a recurrence.", "prevent a recurrence of what occured."))
          for t, x in samples.SAMPLE_SECTIONS]
    assert v1 != samples.SAMPLE_SECTIONS
    v2 = [(t, x.replace("by the the maintenance", "by the maintenance").replace("occured", "occurred"))
          for t, x in v1 if t != ROUND_DROPPED]
    v3 = v2 + [("Lessons Learned", "Hose fittings from a new supplier need a first-article check before they go "
                                   "into service, and the torque must be be recorded on the work order.")]
    paths = []
    for n, sections in enumerate((v1, v2, v3), 1):
        path = tmp_path / f"report-v{n}.docx"
        path.write_bytes(samples.docx_from_sections(samples.SAMPLE_TITLE, sections))
        paths.append(path)
    return paths


ROUND_LINE = re.compile(r"^Round (\d+): (\d+) resolved, (\d+) still open, (\d+) outdated, (\d+) new$")


def finding_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("[")]


def test_previous_file_runs_a_round_and_prints_its_summary(tmp_path):
    v1, v2, _ = round_versions(tmp_path)
    out = tmp_path / "v2.reviewed.docx"
    run = review(tmp_path, str(v2), "--previous", str(v1), "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert_clean(run)
    lines = run.stdout.splitlines()
    m = ROUND_LINE.match(lines[0])
    assert m, run.stdout[:500]
    version, resolved, still_open, outdated, new = map(int, m.groups())
    assert lines[1] == "Sections: 2 changed, 0 added, 1 removed, 5 unchanged; 2 analyzed"
    findings = finding_lines(run.stdout)
    by_resolution = {r: [f for f in findings if f.endswith(f" ({r})")] for r in ("resolved", "open", "outdated", "new")}
    assert sum(map(len, by_resolution.values())) == len(findings), "every finding says its resolution"
    assert (version, resolved, outdated) == (2, 2, len(by_resolution["outdated"]))
    assert (still_open, new) == (len(by_resolution["open"]), len(by_resolution["new"]))
    assert outdated > 0 and all(f" {ROUND_DROPPED} · " in f for f in by_resolution["outdated"])
    assert still_open > 0
    # the two fixed slips are the resolved ones: their quotes follow their lines
    quoted = {lines[lines.index(f) + 2] for f in by_resolution["resolved"]}
    assert quoted == {"    > the the", "    > recurrence of what occured."}, quoted
    # the progress: the whole previous version, then only the changed sections of this one
    err = run.stderr.splitlines()
    assert err[0] == f"Reviewing {v1.name}: {len(samples.SAMPLE_SECTIONS)} sections (offline reviewer)"
    assert f"Version 2 ({v2.name}): 2 changed, 0 added, 1 removed, 5 unchanged; analyzing 2 sections" in err
    assert f"Reviewing {v2.name} (version 2): 2 sections (offline reviewer)" in err
    again = [line for line in err[err.index(f"Reviewing {v2.name} (version 2): 2 sections (offline reviewer)"):]
             if line.startswith("[")]
    assert sorted(line.split("] ", 1)[1].split(":")[0] for line in again) == ["Background", "Executive Summary"]
    # the .docx is the new version's
    text = "\n".join(p.text for p in Document(str(out)).paragraphs)
    assert "by the maintenance" in text and "the the" not in text and ROUND_DROPPED not in text
    assert len(list(Document(str(out)).comments)) > 0


def test_previous_file_round_in_json(tmp_path):
    v1, v2, _ = round_versions(tmp_path)
    run = review(tmp_path, str(v2), "--previous", str(v1), "--out", str(tmp_path / "r.docx"), "--json")
    assert run.returncode == 0, run.stderr
    assert_clean(run)
    doc = json.loads(run.stdout)
    rnd, items = doc["round"], doc["items"]
    assert doc["ok"] and doc["file"] == str(v2) and rnd["file"] == str(v2) and rnd["previous"] == {"file": str(v1)}
    assert rnd["version"] == 2 and rnd["sections"] == {"unchanged": 5, "changed": 2, "added": 0, "removed": 1}
    titles = {s["id"]: s["title"] for s in doc["sections"]}
    assert ROUND_DROPPED not in titles.values() and len(titles) == len(samples.SAMPLE_SECTIONS) - 1
    assert sorted(titles[sid] for sid in rnd["analyzed"]) == ["Background", "Executive Summary"]
    assert all(s["analyzed"] == (s["id"] in rnd["analyzed"]) and s["status"] == "done" for s in doc["sections"])
    assert {s["change"] for s in doc["sections"] if s["id"] in rnd["analyzed"]} == {"changed"}
    assert {s["change"] for s in doc["sections"] if s["id"] not in rnd["analyzed"]} == {"unchanged"}
    dropped = rnd["removed_sections"]
    assert [r["title"] for r in dropped] == [ROUND_DROPPED]
    # every finding has its resolution, and the counts are those of the list
    assert all(i["resolution"] in ("open", "resolved", "outdated", "new") for i in items)
    for res in ("resolved", "open", "outdated", "new"):
        assert rnd[res] == sum(i["resolution"] == res for i in items), res
    resolved = sorted(i["quote"] for i in items if i["resolution"] == "resolved")
    assert resolved == ["recurrence of what occured.", "the the"]
    assert all(i["settled_in"] == 2 for i in items if i["resolution"] in ("resolved", "outdated"))
    outdated = [i for i in items if i["resolution"] == "outdated"]
    assert outdated and {i["section_id"] for i in outdated} == {dropped[0]["id"]}
    # the earlier findings of the changed sections are kept, still open, and not raised twice
    earlier_open = [i for i in items if i["resolution"] == "open" and i["section_id"] in rnd["analyzed"]]
    assert earlier_open and all(i["job_id"] for i in earlier_open)
    signatures = [(i["section_id"], i["description"], i["quote"]) for i in items]
    assert len(signatures) == len(set(signatures))
    new = [i for i in items if i["resolution"] == "new"]
    assert all(i["section_id"] in rnd["analyzed"] for i in new), "only the analyzed sections raise new findings"
    # the server's record of the version agrees on what the upload settled
    record = rnd["versions"][-1]
    assert [v["version"] for v in rnd["versions"]] == [1, 2] and record["filename"] == v2.name
    assert (record["resolved"], record["open"], record["outdated"]) == (rnd["resolved"], rnd["open"], rnd["outdated"])
    assert doc["counts"]["items"] == len(items) and doc["export"]["path"] == str((tmp_path / "r.docx").resolve())
    assert (f"Round 2: {rnd['resolved']} resolved, {rnd['open']} still open, {rnd['outdated']} outdated, "
            f"{rnd['new']} new") in run.stderr.splitlines()


def test_previous_url_uploads_the_next_version_of_a_review_on_a_server(tmp_path, server):
    v1, v2, v3 = round_versions(tmp_path)
    first = review(tmp_path, str(v1), "--server", server, "--out", str(tmp_path / "v1.docx"), "--json")
    assert first.returncode == 0, first.stderr
    doc1 = json.loads(first.stdout)
    rid, token = doc1["review_id"], doc1["url"].split("#token=", 1)[1]
    assert doc1["round"] is None

    # the page's URL on its own names the server
    run = review(tmp_path, str(v2), "--previous", doc1["url"], "--out", str(tmp_path / "v2.docx"), "--json")
    assert run.returncode == 0, run.stderr
    assert_clean(run)
    doc = json.loads(run.stdout)
    rnd = doc["round"]
    assert doc["review_id"] == rid and doc["url"] == doc1["url"] and rnd["previous"] == {"review_id": rid}
    dropped = next(s["id"] for s in doc1["sections"] if s["title"] == ROUND_DROPPED)
    assert (rnd["version"], rnd["resolved"], rnd["outdated"]) == (2, 2, sum(i["section_id"] == dropped
                                                                            for i in doc1["items"]))
    assert rnd["open"] + rnd["resolved"] + rnd["outdated"] == len(doc1["items"]), "every earlier finding is settled"
    assert f"Reviewing {v2.name} (version 2): 2 sections" in run.stderr and f"Reviewing {v1.name}" not in run.stderr
    snap = httpx.get(f"{server}/api/reviews/{rid}", headers={"Authorization": f"Bearer {token}"}).json()
    assert snap["version"] == 2 and [v["filename"] for v in snap["versions"]][-1] == v2.name

    # the API's form with --server; v3 only adds a section, with a new slip in it
    run = review(tmp_path, str(v3), "--previous", f"/api/reviews/{rid}?token={token}", "--server", server,
                 "--out", str(tmp_path / "v3.docx"))
    assert run.returncode == 0, run.stderr
    assert_clean(run)
    lines = run.stdout.splitlines()
    m = ROUND_LINE.match(lines[0])
    assert m and (int(m[1]), int(m[2]), int(m[4])) == (3, 0, 0), lines[0]
    assert int(m[3]) == rnd["open"] + rnd["new"], "round 2's open and new findings are round 3's open ones"
    assert lines[1] == "Sections: 0 changed, 1 added, 0 removed, 7 unchanged; 1 analyzed"
    new = [f for f in finding_lines(run.stdout) if f.endswith(" (new)")]
    assert int(m[5]) == len(new) >= 1 and all(" Lessons Learned · " in f for f in new)
    assert "    > be be" in lines


def test_previous_errors_are_one_line_with_their_exit_code(tmp_path, server):
    v1, v2, _ = round_versions(tmp_path)
    r = httpx.post(f"{server}/api/reviews", files={"document": ("v1.md", samples.sample_markdown().encode())})
    assert r.status_code == 201, r.text
    rid, token = r.json()["review_id"], r.json()["token"]
    page = f"{server}/r/{rid}#token={token}"

    def one_line(run: subprocess.CompletedProcess, code: int, starts: str) -> None:
        assert run.returncode == code, (code, run.stderr)
        assert run.stdout == "" and "Traceback" not in run.stderr
        lines = [line for line in run.stderr.splitlines() if not line.startswith("Log: ")]
        assert len(lines) == 1 and lines[0].startswith(starts), run.stderr

    one_line(review(tmp_path, str(v2), "--previous", str(tmp_path / "nope.docx"), timeout=60), 2,
             "redline review: No such previous file: ")
    for bad in (f"{server}/r/{rid}", f"{server}/r/{rid}#token=", f"{server}/elsewhere/{rid}#token={token}",
                f"ftp://127.0.0.1/r/{rid}#token={token}", f"http://127.0.0.1:99999/r/{rid}#token={token}",
                f"/r/{rid}#token={token}"):
        one_line(review(tmp_path, str(v2), "--previous", bad, timeout=60), 2, "redline review: --previous: ")
    one_line(review(tmp_path, str(v2), "--previous", page, "--guidelines", str(v1), timeout=60), 2,
             "redline review: --guidelines ")
    # the server refuses: a wrong token (2), a broken next version (3); nothing changes
    one_line(review(tmp_path, str(v2), "--previous", f"{server}/r/{rid}#token={'x' * 32}", timeout=60), 2,
             f"redline review: --previous: the server refused review {rid} (unauthorized)")
    broken = tmp_path / "v2-broken.docx"
    broken.write_bytes(b"not a word file")
    one_line(review(tmp_path, str(broken), "--previous", page, timeout=60), 3, f"redline review: {broken.name}: ")
    snap = httpx.get(f"{server}/api/reviews/{rid}", headers={"Authorization": f"Bearer {token}"}).json()
    assert snap["version"] == 1
    one_line(review(tmp_path, str(v2), "--previous", f"http://127.0.0.1:{free_port()}/r/{rid}#token={token}",
                    timeout=60), 4, "redline review: cannot reach http://127.0.0.1:")
    helped = review(tmp_path, "--help", timeout=60)
    for text in ("--previous", "rounds (--previous):", "#token=<token>", "resolved", "outdated"):
        assert text in helped.stdout, text


def test_a_quote_across_line_breaks_prints_on_one_line(capsys):
    """A quote that spans the author's line breaks ("must\\nmanually kicked", from a wrapped Markdown
    paragraph) prints as one "> " line, not as lines that lose the indentation."""
    from types import SimpleNamespace

    from redline.server.review_output import print_items

    item = {"section_id": "s1", "risk": "low", "type": "suggestion", "category": "grammar",
            "description": "'must manually kicked' is missing a verb.", "quote": "must\nmanually kicked",
            "suggestion": "must be manually kicked"}
    long = dict(item, quote="word " * 50)
    # a finding across sections names the other place, as the page's "Compare with" does
    across = dict(item, category="consistency: duration vs timeline", quote="lasted nine hours",
                  related_section_id="s2", related_quote="2022-06-02 10:00 - Problem\nstarts")
    sections = [{"id": "s1", "title": "What went poorly"}, {"id": "s2", "title": "Timeline"}]
    print_items(SimpleNamespace(sections=sections, round=None, items=[item, long, across]))
    out = capsys.readouterr().out.splitlines()
    assert "    > must manually kicked" in out
    assert any(line.startswith("    > word word") and line.endswith("…") for line in out)
    assert '    Compare with Timeline: "2022-06-02 10:00 - Problem starts"' in out
    assert sum(line.startswith("    Compare with") for line in out) == 1

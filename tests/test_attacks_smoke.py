"""bench/attacks.py without a server (a few seconds): the hostile inputs are what the issue names,
the /proc readings work, and the table is judged and written between its markers."""

from __future__ import annotations

import os
import zipfile
import io

from bench import attacks as A


def test_inputs_are_the_issues():
    pdf = A.flate_bomb_pdf(20)
    assert pdf.startswith(b"%PDF-1.4") and b"/FlateDecode" in pdf and len(pdf) < 40_000  # ~1000:1
    data, inflated = A.docx_bomb(paragraphs=2_000)  # the bench uses 50,000: ~100 MB in ~1.2 MB
    xml = zipfile.ZipFile(io.BytesIO(data)).getinfo("word/document.xml")
    assert xml.file_size == inflated and 50 < inflated / xml.compress_size < 200  # under a 200-fold check
    assert 299_990 < len(A.one_paragraph(300_000)) <= 300_000 and "\n" not in A.one_paragraph(300_000)
    assert 1.5e6 <= len(A.big_document(1.5)) < 1.6e6


def test_proc_readings():
    me = os.getpid()
    assert A.rss_mb(me) > 1 and A.hwm_mb(me) >= A.rss_mb(me) * 0.9
    tree = A.tree_rss(me)
    assert tree["server"] == A.rss_mb(me) or abs(tree["server"] - A.rss_mb(me)) < 5


def row(**over):
    base = {"attack": "9. x", "size": "1", "answer": "400 nope", "ok": True, "answer_s": 0.1, "rss_before_mb": 100.0,
            "rss_peak_mb": 150.0, "rss_after_mb": 105.0, "lost": [], "decider_n": 5, "decider_failed": 0,
            "decider_failures": [], "decider_p99_ms": 20.0, "decider_max_ms": 20.0, "healthz_n": 10,
            "healthz_failed": 0, "healthz_max_s": 0.01, "sampled_peak_server_mb": 140.0, "peak_redis_mb": 5.0,
            "peak_parse_mb": 0.0, "peak_pool_mb": 0.0, "max_parse_children": 0, "max_pool_children": 0}
    return {**base, **over}


def test_judge_and_doc(tmp_path, monkeypatch):
    assert all(A.judge(row()).values())
    bad = A.judge(row(rss_after_mb=111.0, decider_p99_ms=600.0, rss_peak_mb=401.0, lost=["u1"]))
    assert [k for k, ok in bad.items() if not ok] == ["decider p99", "peak", "after", "nothing lost"]
    result = {"machine": {"date": "today", "nproc": 2, "cpu": "cpu", "ram_gib": 1, "kernel": "k", "python": "3"},
              "run_s": 1.0, "rows": [row(), row(rss_after_mb=120.0)], "baseline_mb": 100.0, "end_mb": 120.0,
              "final": {"decisions_acked": 3, "lost": []}, "decider": {"n": 3, "p99_ms": 1, "max_ms": 1, "failed": 0},
              "healthz": {"n": 3, "max_s": 0.01, "failed": 0}}
    doc = tmp_path / "reliability.md"
    doc.write_text("# Reliability\n\nrows\n")
    monkeypatch.setattr(A, "DOC", doc)
    A.write_doc(A.render(result))
    A.write_doc(A.render(result))  # a second run replaces the table between the markers
    text = doc.read_text()
    assert text.startswith("# Reliability\n\nrows\n") and text.count(A.HEADING) == 1 and text.count(A.START) == 1
    assert "| pass |" in text and "**FAIL**: after" in text

"""bench/longdoc: a long write-up reviewed offline, end to end, by `redline review` (issue 14:
"a 300-page document is reviewed offline in under a minute, linear in its length").

    python -m bench.longdoc [--pages 75 150 300]

The document is made of the corpus's tuning Markdown write-ups (bench/quality/corpus), each a
"## Part k" with its headings one level down, repeated until it holds `pages` x 500 words; plain
paragraphs are hard-wrapped at 80 columns, as many real write-ups are (so the soft line breaks
are there to read). Time = the whole command: the private Redis and worker started, the upload
parsed, every section analyzed (document pass included), the .docx written. Peak memory is the
command's own process (the worker runs in it).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, write_result

CORPUS = ROOT / "bench" / "quality" / "corpus"
WORDS_PER_PAGE = 500


def make_document(pages: int) -> str:
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    sources = [(CORPUS / e["file"]).read_text() for e in manifest if e["split"] == "tune" and e["file"].endswith(".md")]
    parts, words, k = ["# A long incident report\n"], 0, 0
    while words < pages * WORDS_PER_PAGE:
        source = sources[k % len(sources)]
        k += 1
        body = re.sub(r"^# .*$", "", source, count=1, flags=re.M)
        body = re.sub(r"^(#{1,5}) ", lambda m: "#" * (len(m.group(1)) + 1) + " ", body, flags=re.M)
        paragraphs = [p if p.startswith(("#", "-", "*", "|", "```", ">", " ")) or "\n" in p.strip()
                      else "\n".join(textwrap.wrap(p, 80)) or p for p in body.split("\n\n")]
        parts.append(f"## Part {k}\n\n" + "\n\n".join(paragraphs))
        words += len(body.split())
    return "\n\n".join(parts)


def review(path: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "redline.server.cli", "review", str(path), "--out",
                          str(path.with_suffix(".reviewed.docx"))], capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - t0
    if run.returncode != 0:
        raise SystemExit(f"redline review failed ({run.returncode}):\n{run.stderr[-2000:]}")
    head = re.search(r"Reviewing .*?: (\d+) sections", run.stderr + run.stdout)
    wrote = re.search(r"with (\d+) comments", run.stderr + run.stdout)
    return {"seconds": round(seconds, 1), "sections": int(head.group(1)) if head else None,
            "comments": int(wrote.group(1)) if wrote else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[75, 150, 300])
    parser.add_argument("--quick", action="store_true", help="20 and 40 pages (python -m bench --quick)")
    args = parser.parse_args()
    if args.quick:
        args.pages = [20, 40]
    rows = []
    with tempfile.TemporaryDirectory(prefix="redline-longdoc-") as tmp:
        for pages in args.pages:
            text = make_document(pages)
            path = Path(tmp) / f"report-{pages}p.md"
            path.write_text(text)
            row = {"pages": pages, "words": len(text.split()), "kB": round(len(text.encode()) / 1024), **review(path)}
            row["peak_MB"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
            rows.append(row)
            print(f"{pages:4} pages  {row['words']:7,} words  {row['kB']:5,} kB  {row['sections']} sections  "
                  f"{row['seconds']:6.1f} s  {row['comments']} comments  peak {row['peak_MB']} MB (so far)")
    write_result("longdoc", {"rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())

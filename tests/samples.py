"""Sample investigation write-ups, built in memory for tests.

One realistic incident report (``SAMPLE_TITLE`` + ``SAMPLE_SECTIONS``) rendered as
.docx, .pdf, Markdown and plain text. Its text deliberately carries the weaknesses an
offline rule-based reviewer should flag:

* hedging ("it appears", "possibly", "seems to indicate", "could not be confirmed");
* passive voice hiding who acted ("the valve was opened", "the alarm was acknowledged");
* a vague timeline in places ("Later that night", "Some time afterwards", "approx.");
* actions without an owner or due date ("Improve operator training ...");
* a root cause that is a symptom ("human error");
* an overlong sentence (in "Impact Assessment", see ``OVERLONG_SENTENCE``).

Section text uses the same plain-text conventions the parser produces: paragraphs are
separated by a blank line, list items are ``"- "`` lines, and the timeline table is a
block of ``"cell | cell | cell"`` rows (a real table in the .docx and .pdf).

Usage::

    from tests.samples import SAMPLE_SECTIONS, sample_docx, sample_file
    name, data = sample_file(".docx")
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

SAMPLE_TITLE = "Incident Investigation Report: Hydraulic Oil Fire on Press Line 3"

OVERLONG_SENTENCE = (
    "Line 3 was stopped for 26 hours and about 9,000 parts were not produced, which meant "
    "that two customer deliveries were rescheduled and overtime had to be arranged on the "
    "following weekend in order to recover the lost output, and the customer was informed "
    "by the account manager who also agreed a revised delivery plan that had to be approved "
    "by the plant manager before the end of the week because the original schedule could no "
    "longer be met."
)

TIMELINE_ROWS: list[tuple[str, str, str]] = [
    ("Time", "Event", "Source"),
    ("14 March 2024, 02:10", "High oil temperature alarm on the Line 3 HPU", "Control system log"),
    (
        "14 March 2024, 02:14",
        "The alarm was acknowledged and the press kept running",
        "Control system log",
    ),
    ("02:25 (approx.)", "Smoke noticed in the HPU enclosure by a press operator", "Operator interview"),
    ("02:27", "Fire alarm activated; the valve was opened to drain the accumulator", "Fire panel log"),
    ("02:37", "Fire extinguished with a CO2 extinguisher", "Shift supervisor statement"),
]

TIMELINE_TABLE_TEXT = "\n".join(" | ".join(row) for row in TIMELINE_ROWS)

SAMPLE_SECTIONS: list[tuple[str, str]] = [
    (
        "Executive Summary",
        "On 14 March 2024 a small fire broke out at the hydraulic power unit (HPU) of Press "
        "Line 3 at the Northfield stamping plant. The fire was extinguished by the night-shift "
        "team within approximately ten minutes and nobody was injured. It appears that "
        "hydraulic oil leaked from a failed hose fitting onto the hot surface of the pump motor "
        "and possibly ignited there.\n\n"
        "Production on Line 3 was stopped for 26 hours. This report describes the sequence of "
        "events, the investigation carried out, the root cause and the actions agreed to "
        "prevent a recurrence.",
    ),
    (
        "Background",
        "Press Line 3 is an 800-tonne hydraulic stamping press installed in 2009. Its HPU holds "
        "about 1,200 litres of mineral hydraulic oil and operates at up to 210 bar. The HPU is "
        "located in an enclosure next to the press and is inspected weekly by the maintenance "
        "team.\n\n"
        "The high-pressure hose between the main pump and the manifold was replaced during the "
        "planned shutdown in January 2024. The replacement hose and fittings were sourced from "
        "a new supplier because the usual part was out of stock.",
    ),
    (
        "Timeline",
        "The following sequence was reconstructed from the control system log, the fire panel "
        "log and interviews with the people on shift.\n\n"
        + TIMELINE_TABLE_TEXT
        + "\n\n"
        "Later that night the HPU was isolated and the area was handed over to maintenance. "
        "Some time afterwards the damaged hose was removed and stored for examination.",
    ),
    (
        "Investigation Process",
        "An investigation team was formed on 15 March 2024, led by the Health and Safety "
        "Manager with the Maintenance Lead and the Line 3 Production Supervisor. The team "
        "inspected the HPU enclosure, reviewed the control system and fire panel logs, and "
        "interviewed the five people who were on shift.\n\n"
        "The failed hose assembly was sent to the supplier for analysis. The maintenance "
        "records were checked and it was found that the torque values for the fittings had "
        "not been recorded. The investigation seems to indicate that the fitting was not "
        "tightened correctly, although this could not be confirmed.",
    ),
    (
        "Root Cause",
        "The root cause was human error: the technician who fitted the new hose in January did "
        "not tighten the fitting to the correct torque. The high temperature alarm was also "
        "missed by the operator.\n\n"
        "Contributing factors were the hot surface of the pump motor close to the hose route "
        "and the change of hose supplier.",
    ),
    (
        "Impact Assessment",
        "There were no injuries. Damage was limited to the hose assembly, the pump motor "
        "wiring and the enclosure paintwork, with an estimated repair cost of 18,500 EUR. "
        + OVERLONG_SENTENCE
        + " The event was reported to the insurer.",
    ),
    (
        "Preventive Actions",
        "- Improve operator training on responding to HPU alarms.\n"
        "- Review the hose installation procedure.\n"
        "- Install a heat shield between the pump motor and the hose route. Owner: Maintenance "
        "Lead (J. Patel). Due: 30 April 2024.\n"
        "- Record torque values for all hydraulic fittings on the maintenance work order.",
    ),
    (
        "Recommendations",
        "It is recommended that the other presses are checked for similar hose routing. "
        "Management should possibly consider an automatic shutdown of the HPU on high oil "
        "temperature. The supplier qualification process should be looked at.",
    ),
]

SAMPLE_SECTION_TITLES: list[str] = [title for title, _ in SAMPLE_SECTIONS]

# In the sample .docx/.pdf this section's heading is a bold body-text paragraph (no
# heading style / no larger font), as in many real write-ups.
UNSTYLED_HEADING = "Impact Assessment"

Sections = list[tuple[str, str]]


# --------------------------------------------------------------------------- text formats


def markdown_from_sections(title: str | None, sections: Sections) -> str:
    """A Markdown write-up: ``# title`` then one ``## heading`` per section."""
    parts = [f"# {title}"] if title else []
    for heading, text in sections:
        parts.append(f"## {heading}")
        if text:
            parts.append(text)
    return "\n\n".join(parts) + "\n"


def text_from_sections(title: str | None, sections: Sections) -> str:
    """A plain-text write-up: an ``===``-underlined title, then bare headings on their own line."""
    parts = [f"{title}\n{'=' * len(title)}"] if title else []
    for heading, text in sections:
        parts.append(heading)
        if text:
            parts.append(text)
    return "\n\n".join(parts) + "\n"


def sample_markdown() -> str:
    return markdown_from_sections(SAMPLE_TITLE, SAMPLE_SECTIONS)


def sample_text() -> str:
    return text_from_sections(SAMPLE_TITLE, SAMPLE_SECTIONS)


# --------------------------------------------------------------------------- .docx


def _split_blocks(text: str) -> list[str]:
    return [block for block in text.split("\n\n") if block.strip()]


def _is_table_block(block: str) -> bool:
    return all(" | " in line for line in block.split("\n"))


def _is_list_block(block: str) -> bool:
    return all(line.startswith("- ") for line in block.split("\n"))


def docx_from_sections(
    title: str | None,
    sections: Sections,
    *,
    unstyled_headings: tuple[str, ...] = (),
) -> bytes:
    """A .docx: Title paragraph, ``Heading 1`` sections, bullet lists, real tables.

    Headings named in ``unstyled_headings`` are written as bold Normal paragraphs.
    Blocks whose lines all contain " | " become tables; ``"- "`` blocks become bullets.
    """
    import docx  # python-docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
        document.add_paragraph(title, style="Title")
    for heading, text in sections:
        if heading in unstyled_headings:
            document.add_paragraph().add_run(heading).bold = True
        else:
            document.add_heading(heading, level=1)
        for block in _split_blocks(text):
            _add_docx_block(document, block)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _add_docx_block(document, block: str) -> None:
    lines = block.split("\n")
    if _is_table_block(block):
        rows = [line.split(" | ") for line in lines]
        table = document.add_table(rows=len(rows), cols=len(rows[0]))
        table.style = "Table Grid"
        for row, values in zip(table.rows, rows):
            for cell, value in zip(row.cells, values):
                cell.text = value
    elif _is_list_block(block):
        for line in lines:
            document.add_paragraph(line[2:], style="List Bullet")
    else:
        document.add_paragraph(block)


def sample_docx() -> bytes:
    return docx_from_sections(SAMPLE_TITLE, SAMPLE_SECTIONS, unstyled_headings=(UNSTYLED_HEADING,))


# --------------------------------------------------------------------------- .pdf


def pdf_from_sections(
    title: str | None,
    sections: Sections,
    *,
    unstyled_headings: tuple[str, ...] = (),
    encrypt_password: str | None = None,
) -> bytes:
    """A PDF made with reportlab platypus: 18pt title, 14pt bold headings, 10pt body.

    Headings in ``unstyled_headings`` are bold 10pt body text. Table blocks become a
    gridded table. ``encrypt_password`` sets a user (open) password.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    styles = getSampleStyleSheet()
    body = styles["BodyText"]  # Helvetica 10pt, spaceBefore 6
    flow = []
    if title:
        flow.append(Paragraph(escape(title), styles["Title"]))
    for heading, text in sections:
        if heading in unstyled_headings:
            flow.append(Paragraph(f"<b>{escape(heading)}</b>", body))
        else:
            flow.append(Paragraph(escape(heading), styles["Heading2"]))
        for block in _split_blocks(text):
            flow.extend(_pdf_block(block, body))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title=title or "", encrypt=encrypt_password)
    document.build(flow)
    return buffer.getvalue()


def _pdf_block(block: str, body) -> list:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, Table, TableStyle

    lines = block.split("\n")
    if _is_table_block(block):
        cell_style = ParagraphStyle("cell", parent=body, fontSize=9, leading=11, spaceBefore=0)
        rows = [[Paragraph(escape(value), cell_style) for value in line.split(" | ")] for line in lines]
        table = Table(rows, colWidths=[110, 230, 110])
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black")]))
        return [table]
    if _is_list_block(block):
        return [Paragraph(escape(line), body) for line in lines]
    return [Paragraph(escape(block), body)]


def sample_pdf(*, encrypt_password: str | None = None) -> bytes:
    return pdf_from_sections(
        SAMPLE_TITLE,
        SAMPLE_SECTIONS,
        unstyled_headings=(UNSTYLED_HEADING,),
        encrypt_password=encrypt_password,
    )


# --------------------------------------------------------------------------- any format


def sample_file(ext: str) -> tuple[str, bytes]:
    """``(filename, bytes)`` of the sample write-up for ``.docx``, ``.pdf``, ``.md`` or ``.txt``."""
    ext = ext.lower() if ext.startswith(".") else f".{ext.lower()}"
    builders = {
        ".docx": sample_docx,
        ".pdf": sample_pdf,
        ".md": lambda: sample_markdown().encode("utf-8"),
        ".txt": lambda: sample_text().encode("utf-8"),
    }
    if ext not in builders:
        raise ValueError(f"no sample for {ext!r}; choose one of {sorted(builders)}")
    return f"incident-report{ext}", builders[ext]()


def long_writeup(n: int = 20) -> Sections:
    """A write-up of `n` sections: the sample's eight, then numbered follow-up sections,
    each with its own facts (for the whole-document prompt and its cache)."""
    extra = [(f"Follow-up {k}: Line {k % 5 + 1} checks",
              f"On day {k} after the fire the maintenance team inspected press line {k % 5 + 1}. "
              f"They found {k + 2} hoses past their replacement date and replaced them by 17:{k:02d}. "
              f"The inspection report {1000 + k} is attached. It appears that the checklist was not signed "
              f"by the shift lead. The inspection took {k % 4 + 2} hours and cost about EUR {k * 150}.")
             for k in range(1, max(0, n - len(SAMPLE_SECTIONS)) + 1)]
    return (list(SAMPLE_SECTIONS) + extra)[:n]


# --------------------------------------------------------------------------- hostile inputs
# Shared by the tests of bounded input (tests/test_bounded_input.py, tests/test_abuse.py) and
# the attack benchmark (bench/attacks.py).

HOSTILE_SENTENCE = "The pump was started by the operator at 14:32 and it appears the valve was opened. "
_MB = 1 << 20


def one_paragraph(chars: int) -> str:
    """`chars` characters of ordinary sentences with no paragraph break."""
    return (HOSTILE_SENTENCE * (chars // len(HOSTILE_SENTENCE) + 1))[:chars].rstrip()


def flate_bomb_pdf(zeros_mb: int) -> bytes:
    """A one-page PDF whose content stream is `zeros_mb` MB of zeros, FlateDecode'd (~1000:1)."""
    import zlib

    packer = zlib.compressobj(9)
    stream = b"".join(packer.compress(b"\0" * _MB) for _ in range(zeros_mb)) + packer.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def big_document(mb: float) -> str:
    """Markdown of about `mb` million characters: sections of random words (a large review)."""
    import random
    import string

    rnd = random.Random(12)
    words = ["".join(rnd.choices(string.ascii_lowercase, k=7)) for _ in range(3000)]
    parts, size, i = [], 0, 0
    while size < mb * 1e6:
        para = " ".join(rnd.choices(words, k=3000)) + "."
        parts.append(f"# Section {i}\n\n{para}\n")
        size += len(para)
        i += 1
    return "\n".join(parts)


def sections_of(parsed):
    """A parsed document's sections as a review holds them (ids s1, s2, ...; each with its heading
    level and its marks), as the rules and the export receive them."""
    from redline.jobs.models import Section

    return [Section(id=f"s{i + 1}", title=p.title, index=i, text=p.text, level=p.level, marks=p.marks)
            for i, p in enumerate(parsed.sections)]


def review_sections(filename: str, data: bytes | str):
    """``data`` parsed as an upload is, into the Sections a review holds (`sections_of`)."""
    from redline.jobs.documents import parse_document

    raw = data.encode() if isinstance(data, str) else data
    return sections_of(parse_document(filename, raw, max_bytes=64 << 20))


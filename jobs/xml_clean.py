"""XML 1.0 text for a .docx: the characters XML forbids, removed before python-docx sees them.

One rule for every text the export writes (comments, notes, a built document, the audit
appendix of jobs.export_audit): python-docx raises on these characters."""

from __future__ import annotations

import re

# Characters XML 1.0 forbids; python-docx raises on them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    return _XML_INVALID.sub("", text)

"""Invisible controls removed from what people and uploads give: names, titles, reasons, a
section's text and a rewrite (bidi overrides can make a passage read differently from what
it says, in the page, the findings and the export)."""

from __future__ import annotations

# Bidirectional overrides and isolates (U+202A-202E, U+2066-2069) can make a name or title read
# differently from what it is ("Trojan Source"); other invisible controls are removed with them.
_BIDI = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C])
_CONTROLS = dict.fromkeys([c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)] + [0x7F])


def strip_controls(text: str) -> str:
    return text.translate(_BIDI).translate(_CONTROLS)


def strip_bidi(text: str) -> str:
    return text.translate(_BIDI)

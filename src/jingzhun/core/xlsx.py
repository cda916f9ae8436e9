"""Workbooks from plain data (.xlsx): a title row, a frozen header row and the rows, in 宋体.

The official lists of the teacher and project pages are written by this one function; their
fixed texts are Chinese constants, chosen by the callers. No text is ever turned into a
formula.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import xlsxwriter


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a title, the headers and the rows (plain values)."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]


def workbook(sheets: Sequence[Sheet]) -> bytes:
    """Return an .xlsx with one sheet per Sheet: title row, header row (frozen), rows.

    No text is ever turned into a formula (a name beginning with = stays text).
    """
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    bold = book.add_format({"bold": True, "font_name": "宋体"})
    head = book.add_format({"bold": True, "border": 1, "bg_color": "#E6E6E6", "font_name": "宋体"})
    body = book.add_format({"border": 1, "font_name": "宋体"})
    for n, sheet in enumerate(sheets, start=1):
        name = "".join(c for c in sheet.title if c not in "[]:*?/\\")[:28] or f"Sheet{n}"
        ws = book.add_worksheet(name)
        ws.write_string(0, 0, sheet.title, bold)
        for c, h in enumerate(sheet.headers):
            ws.write_string(1, c, h, head)
            ws.set_column(c, c, max(10, len(h) * 2 + 2))
        for r, row in enumerate(sheet.rows, start=2):
            for c, value in enumerate(row):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    ws.write_number(r, c, value, body)
                else:
                    ws.write_string(r, c, "" if value is None else str(value), body)
        ws.freeze_panes(2, 0)
    book.close()
    return buffer.getvalue()

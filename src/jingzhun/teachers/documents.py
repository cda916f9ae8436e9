"""Teacher documents from plain data: workbooks of the roster and the II.3 tables, and the
list of teachers with 20 years or more at village schools and teaching points (PDF).

They are official documents and always in Chinese, whatever the user's language: their
fixed texts are Chinese constants, deliberately not wrapped in gettext. No document carries
a whole ID number: the roster shows it masked, as the pages do.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import xlsxwriter
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from jingzhun.core.pdf import cjk_font, printable


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


@dataclass(frozen=True)
class LongServiceLine:
    """One teacher on the commendation list (II.3.4)."""

    name: str
    id_masked: str
    township: str
    school: str
    years: float


def _cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def long_service_pdf(
    lines: Sequence[LongServiceLine], *, issuer: str, on: dt.date, years: int
) -> bytes:
    """Return the list of teachers with `years` or more at village schools and teaching points."""
    font = cjk_font()
    title = ParagraphStyle("title", fontName=font, fontSize=18, leading=26, alignment=TA_CENTER)
    plain = ParagraphStyle("plain", fontName=font, fontSize=11, leading=16, wordWrap="CJK")
    small = ParagraphStyle("small", fontName=font, fontSize=10, leading=14, wordWrap="CJK")

    def para(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(printable(text, font)), style)

    header = ["序号", "姓名", "身份证号", "乡镇", "学校", "乡村学校和教学点任教年限"]
    data: list[list[object]] = [[para(h, small) for h in header]]
    for n, line in enumerate(lines, start=1):
        data.append(
            [
                para(str(n), small),
                para(line.name, small),
                para(line.id_masked, small),
                para(line.township, small),
                para(line.school, small),
                para(f"{line.years:.1f}年", small),
            ]
        )
    table = Table(
        data,
        colWidths=[12 * mm, 24 * mm, 40 * mm, 24 * mm, 40 * mm, 26 * mm],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E6E6E6")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story: list[object] = [
        para(f"在乡村学校和教学点任教{years}年以上教师名单", title),
        Spacer(1, 6 * mm),
        para(f"填报单位：{issuer}　　统计日期：{_cn(on)}　　共{len(lines)}人", plain),
        Spacer(1, 4 * mm),
        table if lines else para("无符合条件的教师。", plain),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title="",
        author="",
    )
    doc.build(story)  # type: ignore[arg-type]
    return buffer.getvalue()

"""Teacher documents from plain data: the list of teachers with 20 years or more at village
schools and teaching points (PDF); the workbooks are written by :mod:`jingzhun.core.xlsx`.

They are official documents and always in Chinese, whatever the user's language: their
fixed texts are Chinese constants, deliberately not wrapped in gettext. No document carries
a whole ID number: the roster shows it masked, as the pages do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from jingzhun.core.pdf import cjk_font, pdf_bytes, printable
from jingzhun.core.pdf import cn_date as _cn


@dataclass(frozen=True)
class LongServiceLine:
    """One teacher on the commendation list (II.3.4)."""

    name: str
    id_masked: str
    township: str
    school: str
    years: float


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
    return pdf_bytes(story, pagesize=A4, side_mm=15, top_mm=20)

"""A report as an official .xlsx (Chinese headings) and as a PDF in Chinese official style."""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from jingzhun.core.pdf import cjk_font, cn_date, pdf_bytes, printable
from jingzhun.core.xlsx import Sheet, workbook
from jingzhun.dashboard.reports import Report, Section

NO_RECORDS_CN = "本期无记录"


def cn_heading(report: Report) -> str:
    """Return the report's Chinese title: unit, period, name (and "as of" for an open period)."""
    text = f"{report.unit.name}{report.period.cn_label}{report.cn_title}"
    if report.as_of is not None:
        text += f"（截至{cn_date(report.as_of)}）"
    return text


def _cn_rows(section: Section) -> list[list[Any]]:
    rows = [list(r) for r in section.rows]
    if section.total is not None:
        rows.append(["合计", *section.total])
    return rows


def report_xlsx(report: Report) -> bytes:
    """Return the report as a workbook: one sheet per section, titles and headings in Chinese."""
    heading = cn_heading(report)
    sheets = []
    for section in report.sections:
        rows = _cn_rows(section) or [[NO_RECORDS_CN]]
        if section.cn_note:
            rows.append([f"说明：{section.cn_note}"])
        sheets.append(Sheet(f"{section.cn_title}（{heading}）", section.cn_headers, rows))
    return workbook(sheets)


def report_pdf(report: Report, *, printed_on: dt.date) -> bytes:
    """Return the report as a PDF: a centred title, numbered sections, ruled tables."""
    font = cjk_font()
    wide = max((len(s.cn_headers) for s in report.sections), default=0) > 7
    title = ParagraphStyle("t", fontName=font, fontSize=16, leading=24, alignment=TA_CENTER)
    sub = ParagraphStyle("s", fontName=font, fontSize=10, leading=14, alignment=TA_CENTER)
    head = ParagraphStyle("h", fontName=font, fontSize=12, leading=18, spaceBefore=8)
    plain = ParagraphStyle("p", fontName=font, fontSize=9, leading=13)
    cell = ParagraphStyle("c", fontName=font, fontSize=8, leading=10)
    right = ParagraphStyle("r", parent=cell, alignment=TA_RIGHT)

    def para(text: Any, style: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(printable(str(text), font), quote=False), style)

    story: list[Any] = [
        para(cn_heading(report), title),
        para(f"填报单位：{report.unit.name}　　报告期：{report.period.cn_label}", sub),
        Spacer(1, 4 * mm),
    ]
    for section in report.sections:
        story.append(para(section.cn_title, head))
        rows = _cn_rows(section)
        if not rows:
            story.append(para(NO_RECORDS_CN + "。", plain))
            continue
        data = [[para(h, cell) for h in section.cn_headers]]
        for row in rows:
            data.append([para(v, right if n and _numeric(v) else cell) for n, v in enumerate(row)])
        table = Table(data, repeatRows=1)
        style = [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E6E6E6")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
        if section.total is not None:
            style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#F2F2F2")))
        table.setStyle(TableStyle(style))
        story.append(table)
        if section.cn_note:
            story.append(para(f"说明：{section.cn_note}", plain))
    story += [
        Spacer(1, 10 * mm),
        para(f"填报单位（盖章）：{report.unit.name}　　　　打印日期：{cn_date(printed_on)}", plain),
    ]
    return pdf_bytes(story, pagesize=landscape(A4) if wide else A4, side_mm=15, top_mm=20)


def _numeric(value: Any) -> bool:
    text = str(value).replace(".", "", 1).replace("-", "", 1)
    return isinstance(value, int | float) or text.isdigit()

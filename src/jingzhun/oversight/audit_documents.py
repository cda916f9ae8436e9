"""The year-end audit as documents: the workbook (one sheet per kind) and the PDF report.

They are official documents and always in Chinese, whatever the user's language: their fixed
texts are Chinese constants, and each anomaly gives its Chinese sentence. No document holds a
whole ID or account number: the sentences carry only masked values. The report's sections
(the fund ledger's trial balance and bank reconciliation, when they exist) come first.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from jingzhun.core import xlsx
from jingzhun.core.pdf import cjk_font, pdf_bytes, printable
from jingzhun.oversight.audit import AuditReport, KindCount, Severity, State

STATE_ZH = {
    State.CHECKED: "已核查",
    State.LATER: "尚未核查（资金台账上线后核查）",
    State.UNAVAILABLE: "无法核查",
}
HEADERS = ["序号", "严重程度", "情况说明", "金额（元）", "学校", "支付流水号"]


def title_of(report: AuditReport) -> str:
    return f"{report.county_name}{report.school_year}—{report.school_year + 1}学年教育精准扶贫资金年终审计异常情况"


def _count_text(c: KindCount) -> str:
    if c.count is None:
        return STATE_ZH[c.kind.state]
    return str(c.count)


def audit_xlsx(report: AuditReport) -> bytes:
    """Return the workbook: the sections, a summary, then one sheet per kind."""
    sheets = [xlsx.Sheet(s.title_zh, list(s.headers), list(s.rows)) for s in report.sections]
    sheets.append(
        xlsx.Sheet(
            f"汇总　{title_of(report)}",
            ["序号", "异常类型", "严重程度", "核查状态", "发现数", "说明"],
            [
                [
                    n,
                    c.kind.label_zh,
                    Severity.LABELS_ZH[c.kind.severity],
                    STATE_ZH[c.kind.state],
                    c.count if c.count is not None else "",
                    c.kind.note_zh,
                ]
                for n, c in enumerate(report.counts, start=1)
            ],
        )
    )
    for c in report.counts:
        rows: list[list[Any]] = []
        if c.count is None:
            rows.append(["", "", c.kind.note_zh or STATE_ZH[c.kind.state], "", "", ""])
        for n, a in enumerate(report.of_kind(c.kind.key), start=1):
            rows.append(
                [
                    n,
                    Severity.LABELS_ZH[a.severity],
                    a.text_zh,
                    f"{a.amount:.2f}",
                    a.school,
                    "、".join(a.references),
                ]
            )
        sheets.append(xlsx.Sheet(c.kind.label_zh, HEADERS, rows))
    return xlsx.workbook(sheets)


def audit_pdf(report: AuditReport, *, issuer: str) -> bytes:
    """Return the report to print and sign: sections, counts per kind, then the anomalies."""
    font = cjk_font()
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=24, alignment=TA_CENTER)
    plain = ParagraphStyle("plain", fontName=font, fontSize=11, leading=16, wordWrap="CJK")
    head = ParagraphStyle("head", fontName=font, fontSize=12, leading=18, spaceBefore=6)
    small = ParagraphStyle("small", fontName=font, fontSize=9, leading=12, wordWrap="CJK")

    def para(text: Any, style: ParagraphStyle = small) -> Paragraph:
        return Paragraph(escape(printable(str(text), font)), style)

    def table(header: list[str], rows: list[list[Any]], widths: list[float]) -> Table:
        data = [[para(h) for h in header]] + [[para(v) for v in row] for row in rows]
        t = Table(data, colWidths=[w * mm for w in widths] or None, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E6E6E6")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        return t

    made = timezone.localtime(report.made_at) if report.made_at else timezone.localtime()
    story: list[Any] = [
        para(title_of(report), title),
        Spacer(1, 4 * mm),
        para(
            f"填报单位：{issuer}　　生成时间：{made:%Y年%m月%d日 %H:%M}　　异常共{report.total}项",
            plain,
        ),
        Spacer(1, 3 * mm),
    ]
    for section in report.sections:
        story += [
            para(section.title_zh, head),
            table(list(section.headers), [list(r) for r in section.rows], []),
        ]
    story += [
        para("一、各类异常汇总", head),
        table(
            ["序号", "异常类型", "严重程度", "发现数（或核查状态）", "说明"],
            [
                [
                    n,
                    c.kind.label_zh,
                    Severity.LABELS_ZH[c.kind.severity],
                    _count_text(c),
                    c.kind.note_zh,
                ]
                for n, c in enumerate(report.counts, start=1)
            ],
            [12, 70, 20, 40, 120],
        ),
        para("二、异常明细", head),
    ]
    listed = [c for c in report.counts if c.count]
    if not listed:
        story.append(para("已核查的各类均未发现异常。", plain))
    for c in listed:
        story.append(para(f"{c.kind.label_zh}（{c.count}项）", plain))
        story.append(
            table(
                HEADERS,
                [
                    [
                        n,
                        Severity.LABELS_ZH[a.severity],
                        a.text_zh,
                        f"{a.amount:,.2f}",
                        a.school,
                        "、".join(a.references),
                    ]
                    for n, a in enumerate(report.of_kind(c.kind.key), start=1)
                ],
                [12, 16, 140, 24, 40, 35],
            )
        )
        story.append(Spacer(1, 3 * mm))
    story += [Spacer(1, 10 * mm), para("审计人员（签字）：　　　　　　　　复核人（签字）：", plain)]
    return pdf_bytes(story, pagesize=landscape(A4), side_mm=12, top_mm=15)

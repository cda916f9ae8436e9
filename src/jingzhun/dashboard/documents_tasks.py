"""The wall chart's printouts (A3 landscape PDF, .xlsx) and the task book to sign (PDF).

They are official documents and always in Chinese: the callers compute the tasks with
Chinese active (translation.override), and the fixed texts here are Chinese constants,
deliberately not wrapped in gettext.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A3, A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from jingzhun.core.pdf import cjk_font, pdf_bytes, printable
from jingzhun.core.pdf import cn_date as _cn
from jingzhun.core.xlsx import Sheet, workbook
from jingzhun.dashboard import tasks as T
from jingzhun.dashboard.taskbook import Book

CN_KIND = {T.CASE: "控辍个案", T.NODE: "项目节点", T.RECTIFICATION: "整改", T.TARGET: "任务书目标"}
CN_FLAG = {T.OPEN: "进行中", T.BLACK: "黑旗（逾期）", T.RED: "红旗（按期完成）", T.LATE: "逾期完成"}
FLAG_COLOURS = {
    T.OPEN: colors.HexColor("#CBD5E1"),
    T.BLACK: colors.HexColor("#111827"),
    T.RED: colors.HexColor("#DC2626"),
    T.LATE: colors.HexColor("#6B7280"),
}
HEADERS = [
    "序号",
    "类别",
    "任务",
    "乡镇",
    "学校",
    "责任人",
    "开始",
    "截止日期",
    "完成日期",
    "状态",
    "旗帜",
]


def escape(text: str) -> str:
    """Return text safe inside a reportlab Paragraph (its markup is a small XML)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _d(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def task_rows(tasks: Sequence[T.Task]) -> list[list[object]]:
    return [
        [
            n,
            CN_KIND[t.kind],
            t.title,
            t.township,
            t.school,
            t.owner,
            _d(t.start),
            _d(t.due),
            _d(t.done),
            t.status,
            CN_FLAG[t.flag],
        ]
        for n, t in enumerate(tasks, 1)
    ]


def wall_chart_xlsx(tasks: Sequence[T.Task], *, title: str) -> bytes:
    return workbook([Sheet(title=title, headers=HEADERS, rows=task_rows(tasks))])


def wall_chart_pdf(
    tasks: Sequence[T.Task],
    *,
    months: Sequence[dt.date],
    title: str,
    issuer: str,
    today: dt.date,
    filters: str,
) -> bytes:
    """Return the wall chart on A3 landscape: tasks down, months across, flag colours."""
    font = cjk_font()
    big = ParagraphStyle("t", fontName=font, fontSize=18, leading=24, alignment=TA_CENTER)
    plain = ParagraphStyle("p", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    small = ParagraphStyle("s", fontName=font, fontSize=7.5, leading=9.5, wordWrap="CJK")

    def para(text: str, style: ParagraphStyle = small) -> Paragraph:
        return Paragraph(escape(printable(text, font)), style)

    head = ["序号", "类别", "任务", "乡镇／学校", "责任人", "截止", "状态"]
    month_heads = [f"{m.year % 100:02d}年{m.month}月" for m in months]
    data: list[list[object]] = [[para(h) for h in head + month_heads]]
    style: list[tuple[object, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#94A3B8")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E6E6E6")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (len(head), 1), (-1, -1), 7),
        ("ALIGN", (len(head), 1), (-1, -1), "CENTER"),
    ]
    for row, t in enumerate(tasks, 1):
        first, last = t.span(today)
        cells: list[object] = []
        for col, m in enumerate(months, len(head)):
            end = T.month_end(m)
            mark = ""
            if first <= end and last >= m:
                style.append(("BACKGROUND", (col, row), (col, row), FLAG_COLOURS[t.flag]))
                if t.flag in (T.BLACK, T.RED, T.LATE):
                    style.append(("TEXTCOLOR", (col, row), (col, row), colors.white))
            if m <= t.due <= end:
                mark = "◆"
            if t.done and m <= t.done <= end:
                mark = "√" if not mark else "◆√"
            cells.append(printable(mark, font))
        place = " ".join(x for x in (t.township, t.school) if x)
        data.append(
            [
                para(str(row)),
                para(CN_KIND[t.kind]),
                para(t.title),
                para(place),
                para(t.owner),
                para(_d(t.due)),
                para(f"{t.status}／{CN_FLAG[t.flag]}"),
                *cells,
            ]
        )
    page_w = landscape(A3)[0] - 20 * mm
    fixed = [10 * mm, 16 * mm, 78 * mm, 40 * mm, 28 * mm, 18 * mm, 30 * mm]
    month_w = max(8 * mm, (page_w - sum(fixed)) / max(1, len(months)))
    table = Table(data, colWidths=fixed + [month_w] * len(months), repeatRows=1)
    table.setStyle(TableStyle(style))  # type: ignore[arg-type]
    legend = "图例：灰色＝进行中　黑色＝逾期（黑旗）　红色＝按期完成（红旗）　深灰＝逾期完成　◆截止月　√完成月"
    story: list[object] = [
        para(title, big),
        Spacer(1, 4 * mm),
        para(f"单位：{issuer}　　打印日期：{_cn(today)}　　共{len(tasks)}项　　{filters}", plain),
        para(legend, plain),
        Spacer(1, 3 * mm),
        table if tasks else para("没有符合条件的任务。", plain),
    ]
    return pdf_bytes(story, pagesize=landscape(A3), side_mm=10, top_mm=12)


def task_book_pdf(book: Book, *, issuer: str, today: dt.date) -> bytes:
    """Return the unit's task book to sign: targets, tasks, responsible persons, fingerprint,
    signature lines."""
    font = cjk_font()
    big = ParagraphStyle("t", fontName=font, fontSize=20, leading=28, alignment=TA_CENTER)
    plain = ParagraphStyle("p", fontName=font, fontSize=11, leading=17, wordWrap="CJK")
    small = ParagraphStyle("s", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    h2 = ParagraphStyle("h", fontName=font, fontSize=13, leading=20, spaceBefore=6)

    def para(text: str, style: ParagraphStyle = small) -> Paragraph:
        return Paragraph(escape(printable(text, font)), style)

    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E6E6E6")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )
    unit_word = "学校" if book.unit.kind == "school" else "乡镇"
    targets: list[list[object]] = [[para(h) for h in ("序号", "条款", "目标", "目标数")]]
    for n, t in enumerate(book.targets, 1):
        figure = f"{t.target:,.0f}" if t.code != "dropout_control" else "零辍学"
        targets.append([para(str(n)), para(t.clause), para(t.text), para(figure)])
    target_table = Table(targets, colWidths=[12 * mm, 18 * mm, 118 * mm, 28 * mm], repeatRows=1)
    target_table.setStyle(grid)
    tasks: list[list[object]] = [[para(h) for h in ("序号", "类别", "任务", "截止日期", "责任人")]]
    for n, task in enumerate(book.tasks, 1):
        tasks.append(
            [
                para(str(n)),
                para(CN_KIND[task.kind]),
                para(task.title),
                para(_d(task.due)),
                para(task.owner),
            ]
        )
    task_table = Table(tasks, colWidths=[12 * mm, 20 * mm, 92 * mm, 24 * mm, 28 * mm], repeatRows=1)
    task_table.setStyle(grid)
    persons = "、".join(f"{name}（{post}）" for name, post in book.persons) or "（未指定）"
    story: list[object] = [
        para(f"{book.unit.name}{book.year}年度教育精准扶贫任务书", big),
        Spacer(1, 5 * mm),
        para(
            f"下达单位：{issuer}　　承担{unit_word}：{book.unit.name}　　年度：{book.year}年", plain
        ),
        para(f"责任人：{persons}", plain),
        para("一、目标任务", h2),
        target_table,
        para("二、时间节点与责任人", h2),
        task_table if book.tasks else para("本年度无到期的项目节点和整改任务。", plain),
        Spacer(1, 6 * mm),
        para(f"文书指纹（SHA-256）：{book.fingerprint}", small),
        para("指纹由任务书内容计算，内容（目标、任务、期限、责任人）有变动即不同。", small),
        Spacer(1, 12 * mm),
    ]
    sign = Table(
        [
            [para("下达单位（盖章）：", plain), para(f"承担{unit_word}（盖章）：", plain)],
            [para("负责人签字：", plain), para("负责人签字：", plain)],
            [para("日期：　　年　　月　　日", plain), para("日期：　　年　　月　　日", plain)],
        ],
        colWidths=[88 * mm, 88 * mm],
        rowHeights=[14 * mm, 14 * mm, 14 * mm],
    )
    story += [sign, Spacer(1, 4 * mm), para(f"打印日期：{_cn(today)}", small)]
    return pdf_bytes(story, pagesize=A4, side_mm=17, top_mm=18)

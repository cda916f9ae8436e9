"""Produce the aid documents from plain data: the notice sheet and the coverage workbook.

Nothing here touches the database: the callers gather the data (and check permissions and
write the audit trail) and pass the dataclasses defined below.

The documents are official county documents and are always in Chinese, whatever the user's
language: their fixed texts are plain Chinese string constants, deliberately not wrapped in
``gettext``. Money is ``Decimal`` yuan with two places throughout; a Decimal becomes a float
only as the value of an Excel cell, where the cell's number format shows it to the cent.

Public notice sheet (公示名单)
    :func:`notice_sheet_pdf` (A4 portrait, header row repeated on every page, "第 1 页 共 3 页"
    at the foot) and :func:`notice_sheet_xlsx`. A :class:`NoticeRow` has a name, class,
    programme and amount only: a notice never shows an ID number, an address, a family's
    phone or a birth date, and the row has no field to carry one. Rows are sorted by class
    (numbers in the class name, Arabic or Chinese, compare as numbers) then by the name's
    pinyin. Waived amounts read "免 180.00". The end of the list totals each programme and
    then all of them; when both cash and waivers occur the totals are "现金发放合计",
    "免除合计" and "总计", else a single "合计".

Coverage workbook
    :func:`coverage_xlsx`: one sheet per :class:`CoverageSheet`, a title row, a header row and
    the rows; Decimals show two decimals with thousands separators, floats are fractions
    between 0 and 1 shown as percentages.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TypeAlias
from xml.sax.saxutils import escape

from pypinyin import Style, lazy_pinyin
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from jingzhun.core.money import format_yuan
from jingzhun.core.pdf import cjk_font
from jingzhun.core.pdf import cn_date as _cn_date
from jingzhun.core.pdf import printable as _printable
from jingzhun.funds.documents import check_money, new_workbook

__all__ = [
    "CoverageSheet",
    "CoverageValue",
    "NoticeRow",
    "NoticeSheet",
    "cjk_font",
    "coverage_xlsx",
    "notice_sheet_pdf",
    "notice_sheet_xlsx",
]

Semester: TypeAlias = Literal["autumn", "spring"]
AidKind: TypeAlias = Literal["cash", "waiver"]
PaymentStatus: TypeAlias = Literal["paid", "failed"]
CoverageValue: TypeAlias = str | int | Decimal | float | None

SEMESTER_LABELS: dict[str, str] = {"autumn": "秋季学期", "spring": "春季学期"}
AID_KINDS: tuple[str, ...] = ("cash", "waiver")

# =========================================================================== notice sheet


@dataclass(frozen=True, slots=True)
class NoticeRow:
    """One line of a public notice: deliberately no ID, address, phone or birth date."""

    student_name: str
    class_name: str
    #: Programme label in Chinese, e.g. "生活费补助", "免学费".
    programme: str
    amount: Decimal
    #: "cash" is paid out; "waiver" is a fee not charged (shown "免 180.00").
    kind: AidKind = "cash"

    def __post_init__(self) -> None:
        """Check the amount and the kind."""
        check_money(self.amount, "amount")
        if self.kind not in AID_KINDS:
            raise ValueError(f"kind must be one of {AID_KINDS}, not {self.kind!r}")
        if not self.student_name.strip():
            raise ValueError("student_name is empty")


@dataclass(frozen=True, slots=True)
class NoticeSheet:
    """The public notice of the aid granted in one school for one semester."""

    school_name: str
    township_name: str
    #: The year the school year starts: 2018 means 2018-2019.
    school_year: int
    semester: Semester
    period_start: dt.date
    period_end: dt.date
    #: The bureau's phone for objections; may be empty.
    objection_phone: str
    rows: Sequence[NoticeRow]

    def __post_init__(self) -> None:
        """Check the semester and the period."""
        if self.semester not in SEMESTER_LABELS:
            raise ValueError(f"semester must be 'autumn' or 'spring', not {self.semester!r}")
        if self.period_end < self.period_start:
            raise ValueError("the notice period ends before it starts")

    @property
    def title(self) -> str:
        """Return the heading, e.g. "XX学校 2018-2019学年秋季学期 家庭经济困难学生资助公示"."""
        return f"{self.school_name} {self.title_tail}"

    @property
    def title_tail(self) -> str:
        """Return the heading after the school's name."""
        year = self.school_year
        semester = SEMESTER_LABELS[self.semester]
        return f"{year}-{year + 1}学年{semester} 家庭经济困难学生资助公示"


@dataclass(frozen=True, slots=True)
class _Total:
    """A line of the totals at the end of a notice."""

    label: str
    count: int
    amount: Decimal
    #: The kind the amount is shown as; ``None`` for a plain sum of cash and waivers.
    kind: AidKind | None
    #: Whether this is an overall total rather than a programme's.
    overall: bool = False


def _period_line(notice: NoticeSheet) -> str:
    """Return the notice period line."""
    return f"公示期：{_cn_date(notice.period_start)}至{_cn_date(notice.period_end)}"


def _objection_line(notice: NoticeSheet) -> str:
    """Return the line inviting objections to the bureau during the period."""
    text = "公示期内如对名单有异议，请向县教育局反映"
    phone = notice.objection_phone.strip()
    return f"{text}，联系电话：{phone}。" if phone else f"{text}。"


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_CN_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUMBER_RUN = re.compile(r"(\d+|[零〇一二两三四五六七八九十]+)")


def _cn_number(text: str) -> int:
    """Return the value of a Chinese numeral: 七, 十一, 二十三, or digit by digit (二〇一八)."""
    tens, ten, units = text.partition("十")
    if ten:
        if len(tens) > 1 or len(units) > 1:
            return 0  # not a numeral up to 99 (e.g. 十十): compare it as zero
        return _CN_DIGITS.get(tens, 1) * 10 + _CN_DIGITS.get(units, 0)
    value = 0
    for char in text:
        value = value * 10 + _CN_DIGITS[char]
    return value


def _natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Return a key comparing numbers in *text* (七年级2班, 七年级10班, 八年级) as numbers."""
    key: list[tuple[int, int, str]] = []
    for i, part in enumerate(_NUMBER_RUN.split(text)):
        if not part:
            continue
        if i % 2:
            key.append((0, int(part) if part.isdigit() else _cn_number(part), part))
        else:
            key.append((1, 0, part))
    return tuple(key)


def _name_key(name: str) -> tuple[str, str]:
    """Return a key ordering names by pinyin (tone as a digit), then by the characters."""
    return (" ".join(lazy_pinyin(name, style=Style.TONE3)), name)


def _sorted_rows(rows: Iterable[NoticeRow]) -> list[NoticeRow]:
    """Return the rows by class, then name, then programme."""
    return sorted(
        rows,
        key=lambda r: (_natural_key(r.class_name), _name_key(r.student_name), r.programme),
    )


def _amount_text(amount: Decimal, kind: AidKind | None) -> str:
    """Return "1,250.00", or "免 180.00" for a waiver."""
    text = format_yuan(amount)
    return f"免 {text}" if kind == "waiver" else text


def _totals(rows: Sequence[NoticeRow]) -> list[_Total]:
    """Return a total per programme (cash first), then the overall totals."""
    groups: dict[tuple[AidKind, str], list[Decimal]] = {}
    for row in rows:
        groups.setdefault((row.kind, row.programme), []).append(row.amount)
    order = sorted(groups, key=lambda k: (AID_KINDS.index(k[0]), _natural_key(k[1])))
    totals = [
        _Total(key[1], len(groups[key]), sum(groups[key], Decimal(0)), key[0]) for key in order
    ]
    by_kind: dict[AidKind, list[Decimal]] = {"cash": [], "waiver": []}
    for row in rows:
        by_kind[row.kind].append(row.amount)
    cash, waived = by_kind["cash"], by_kind["waiver"]
    if cash and waived:
        totals.append(_Total("现金发放合计", len(cash), sum(cash, Decimal(0)), "cash", True))
        totals.append(_Total("免除合计", len(waived), sum(waived, Decimal(0)), "waiver", True))
        totals.append(_Total("总计", len(rows), sum(cash + waived, Decimal(0)), None, True))
    else:
        kind: AidKind = "waiver" if waived else "cash"
        totals.append(_Total("合计", len(rows), sum(cash + waived, Decimal(0)), kind, True))
    return totals


# --------------------------------------------------------------------------- PDF

_PAGE_WIDTH, _PAGE_HEIGHT = A4
_MARGIN_X = 20 * mm
_MARGIN_TOP = 20 * mm
_MARGIN_BOTTOM = 20 * mm
_TEXT_WIDTH = _PAGE_WIDTH - 2 * _MARGIN_X
_GRID = colors.black
_HEADER_FILL = colors.HexColor("#E6E6E6")
#: Column widths of the list (序号, 姓名, 班级, 资助项目, 金额(元)): 170 mm, the text width.
_LIST_WIDTHS = (14 * mm, 30 * mm, 40 * mm, 56 * mm, 30 * mm)
#: Column widths of the totals (资助项目, 人次, 金额(元)).
_TOTAL_WIDTHS = (110 * mm, 30 * mm, 30 * mm)
NOTICE_HEADERS = ("序号", "姓名", "班级", "资助项目", "金额(元)")
TOTAL_HEADERS = ("资助项目", "人次", "金额(元)")


def _styles(font: str) -> dict[str, ParagraphStyle]:
    """Return the paragraph styles of a notice."""
    base = ParagraphStyle("base", fontName=font, fontSize=10.5, leading=15, wordWrap="CJK")
    return {
        "title": ParagraphStyle(
            "title", parent=base, fontSize=16, leading=24, alignment=TA_CENTER, spaceAfter=8
        ),
        "line": ParagraphStyle("line", parent=base, spaceAfter=2),
        "heading": ParagraphStyle("heading", parent=base, fontSize=12, leading=18),
        "cell": ParagraphStyle("cell", parent=base, fontSize=10, leading=13),
        "cell_centre": ParagraphStyle(
            "cell_centre", parent=base, fontSize=10, leading=13, alignment=TA_CENTER
        ),
        "sign": ParagraphStyle("sign", parent=base, alignment=TA_RIGHT, leading=20),
    }


def _table_style(font: str, *, right_column: int, centred: Sequence[int]) -> TableStyle:
    """Return the thin-grid style of a notice table, header row shaded."""
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), 10),
        ("GRID", (0, 0), (-1, -1), 0.5, _GRID),
        ("BACKGROUND", (0, 0), (-1, 0), _HEADER_FILL),
        ("ALIGN", (0, 0), (-1, 0), "CENTER"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ("ALIGN", (right_column, 1), (right_column, -1), "RIGHT"),
    ]
    commands += [("ALIGN", (c, 1), (c, -1), "CENTER") for c in centred]
    return TableStyle(commands)


def _title(notice: NoticeSheet, style: ParagraphStyle) -> Paragraph:
    """Return the title on one line if it fits, else broken after the school's name."""
    font = style.fontName
    if pdfmetrics.stringWidth(notice.title, font, style.fontSize) <= _TEXT_WIDTH:
        return Paragraph(escape(_printable(notice.title, font)), style)
    lines = (notice.school_name, notice.title_tail.replace(" ", ""))
    return Paragraph("<br/>".join(escape(_printable(line, font)) for line in lines), style)


def _notice_story(notice: NoticeSheet, font: str) -> list[Any]:
    """Return the flowables of a notice (built anew for each pass: a build consumes them)."""
    styles = _styles(font)

    def para(text: str, style: str) -> Paragraph:
        return Paragraph(escape(_printable(text, font)), styles[style])

    rows = _sorted_rows(notice.rows)
    data: list[list[Any]] = [list(NOTICE_HEADERS)]
    for number, row in enumerate(rows, start=1):
        data.append(
            [
                str(number),
                para(row.student_name, "cell_centre"),
                para(row.class_name, "cell_centre"),
                para(row.programme, "cell"),
                _amount_text(row.amount, row.kind),
            ]
        )
    list_style = _table_style(font, right_column=4, centred=(0,))
    if not rows:
        data.append(["（无）", "", "", "", ""])
        list_style.add("SPAN", (0, 1), (-1, 1))
    table = Table(data, colWidths=_LIST_WIDTHS, repeatRows=1, hAlign="CENTER")
    table.setStyle(list_style)

    totals: list[list[Any]] = [list(TOTAL_HEADERS)]
    overall = 0
    for total in _totals(rows):
        totals.append(
            [para(total.label, "cell"), str(total.count), _amount_text(total.amount, total.kind)]
        )
        overall = overall or (len(totals) - 1 if total.overall else 0)
    totals_style = _table_style(font, right_column=2, centred=(1,))
    totals_style.add("LINEABOVE", (0, overall), (-1, overall), 1.2, _GRID)
    totals_table = Table(totals, colWidths=_TOTAL_WIDTHS, repeatRows=1, hAlign="CENTER")
    totals_table.setStyle(totals_style)

    township = notice.township_name.strip()
    return [
        _title(notice, styles["title"]),
        *([para(f"所属乡镇：{township}", "line")] if township else []),
        para(_period_line(notice), "line"),
        para(_objection_line(notice), "line"),
        Spacer(0, 4 * mm),
        table,
        Spacer(0, 6 * mm),
        KeepTogether(
            [
                para("汇总", "heading"),
                Spacer(0, 1.5 * mm),
                totals_table,
                Spacer(0, 10 * mm),
                para(f"公示单位：{notice.school_name}", "sign"),
                para(_cn_date(notice.period_start), "sign"),
            ]
        ),
    ]


def _page_marks(notice: NoticeSheet, font: str, pages: int) -> Callable[[Any, Any], None]:
    """Return the callback drawing the page number and, after page 1, a running head."""
    running_head = _printable(f"{notice.title}（续）", font)

    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 9)
        canvas.setFillColor(colors.HexColor("#444444"))
        canvas.drawCentredString(
            _PAGE_WIDTH / 2, 11 * mm, f"第 {doc.page} 页 共 {max(pages, doc.page)} 页"
        )
        if doc.page > 1:
            canvas.drawCentredString(_PAGE_WIDTH / 2, _PAGE_HEIGHT - 12 * mm, running_head)
        canvas.restoreState()

    return draw


def _render_notice(notice: NoticeSheet, font: str, pages: int) -> tuple[bytes, int]:
    """Build the PDF once; return it and its number of pages."""
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN_X,
        rightMargin=_MARGIN_X,
        topMargin=_MARGIN_TOP,
        bottomMargin=_MARGIN_BOTTOM,
        title=notice.title,
        author=notice.school_name,
        subject="家庭经济困难学生资助公示",
        creator="Jingzhun",
        lang="zh-CN",
        displayDocTitle=True,
        invariant=True,
    )
    # No frame padding: the text and the tables span exactly the text width.
    frame = Frame(
        _MARGIN_X,
        _MARGIN_BOTTOM,
        _TEXT_WIDTH,
        _PAGE_HEIGHT - _MARGIN_TOP - _MARGIN_BOTTOM,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates(
        [PageTemplate(id="notice", frames=[frame], onPage=_page_marks(notice, font, pages))]
    )
    doc.build(_notice_story(notice, font))
    return buffer.getvalue(), int(doc.page)


def notice_sheet_pdf(notice: NoticeSheet) -> bytes:
    """Return the public notice as an A4 portrait PDF.

    The document is laid out twice: the first pass counts the pages for "共 N 页".
    """
    font = cjk_font()
    _, pages = _render_notice(notice, font, 0)
    pdf, _ = _render_notice(notice, font, pages)
    return pdf


# --------------------------------------------------------------------------- xlsx

_AMOUNT_FORMAT = "#,##0.00"
_WAIVER_FORMAT = '"免 "#,##0.00'
_A4 = 9  # XlsxWriter paper code


def _display_width(value: object) -> int:
    """Return the width of a value in Excel columns, a Chinese character counting two."""
    text = value if isinstance(value, str) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def notice_sheet_xlsx(notice: NoticeSheet) -> bytes:
    """Return the public notice as a workbook of one sheet, printable on A4 portrait.

    Rows 1-4 hold the title, township, period and objection lines (merged over the five
    columns), row 6 the header, then the list, an empty row, "汇总" and the totals table
    (资助项目 merged over columns A-C, 人次 in D, 金额(元) in E). Amounts are numbers formatted
    ``#,##0.00``, waivers ``"免 "#,##0.00``.
    """
    buffer, workbook = new_workbook()
    sheet = workbook.add_worksheet("公示名单")
    font = {"font_name": "宋体", "font_size": 11}
    title_fmt = workbook.add_format(
        {**font, "bold": True, "font_size": 14, "align": "center", "valign": "vcenter"}
    )
    line_fmt = workbook.add_format({**font, "text_wrap": True, "valign": "vcenter"})
    cell = {**font, "border": 1, "valign": "vcenter"}
    header_fmt = workbook.add_format(
        {**cell, "bold": True, "align": "center", "bg_color": "#E6E6E6"}
    )
    text_fmt = workbook.add_format({**cell, "text_wrap": True})
    centre_fmt = workbook.add_format({**cell, "align": "center", "text_wrap": True})
    formats = {
        "cash": workbook.add_format({**cell, "num_format": _AMOUNT_FORMAT}),
        "waiver": workbook.add_format({**cell, "num_format": _WAIVER_FORMAT}),
    }
    heading_fmt = workbook.add_format({**font, "bold": True})

    last_col = len(NOTICE_HEADERS) - 1
    sheet.merge_range(0, 0, 0, last_col, notice.title, title_fmt)
    sheet.set_row(0, 30)
    township = notice.township_name.strip()
    sheet.merge_range(1, 0, 1, last_col, f"所属乡镇：{township}" if township else "", line_fmt)
    sheet.merge_range(2, 0, 2, last_col, _period_line(notice), line_fmt)
    sheet.merge_range(3, 0, 3, last_col, _objection_line(notice), line_fmt)
    sheet.set_row(3, 30)

    header_row = 5
    for col, header in enumerate(NOTICE_HEADERS):
        sheet.write_string(header_row, col, header, header_fmt)
    rows = _sorted_rows(notice.rows)
    r = header_row
    for number, row in enumerate(rows, start=1):
        r = header_row + number
        sheet.write_number(r, 0, number, centre_fmt)
        sheet.write_string(r, 1, row.student_name, centre_fmt)
        sheet.write_string(r, 2, row.class_name, centre_fmt)
        sheet.write_string(r, 3, row.programme, text_fmt)
        sheet.write_number(r, 4, float(row.amount), formats[row.kind])
    if not rows:
        r += 1
        sheet.merge_range(r, 0, r, last_col, "（无）", centre_fmt)

    r += 2
    sheet.write_string(r, 0, "汇总", heading_fmt)
    r += 1
    sheet.merge_range(r, 0, r, 2, TOTAL_HEADERS[0], header_fmt)
    sheet.write_string(r, 3, TOTAL_HEADERS[1], header_fmt)
    sheet.write_string(r, 4, TOTAL_HEADERS[2], header_fmt)
    for total in _totals(rows):
        r += 1
        sheet.merge_range(r, 0, r, 2, total.label, text_fmt)
        sheet.write_number(r, 3, total.count, centre_fmt)
        sheet.write_number(r, 4, float(total.amount), formats[total.kind or "cash"])
    r += 2
    sheet.write_string(r, 3, f"公示单位：{notice.school_name}", workbook.add_format(font))

    widths = [6, 12, 16, 24, 14]
    for row in rows:
        widths[1] = max(widths[1], _display_width(row.student_name) + 2)
        widths[2] = max(widths[2], _display_width(row.class_name) + 2)
        widths[3] = max(widths[3], _display_width(row.programme) + 2)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, min(width, 40))
    sheet.freeze_panes(header_row + 1, 0)
    sheet.set_paper(_A4)
    sheet.set_portrait()
    sheet.set_margins(left=0.6, right=0.6, top=0.7, bottom=0.8)
    sheet.center_horizontally()
    sheet.repeat_rows(header_row)
    sheet.fit_to_pages(1, 0)
    sheet.set_footer("&C第 &P 页 共 &N 页")
    workbook.close()
    return buffer.getvalue()


# =========================================================================== coverage


@dataclass(frozen=True, slots=True)
class CoverageSheet:
    """One sheet of a coverage workbook."""

    #: Sheet title, written in row 1; also the sheet name (shortened to Excel's 31 characters).
    title: str
    headers: Sequence[str]
    #: Values: str, int, Decimal (two decimals), float (a fraction 0..1, as a percentage) or
    #: None (an empty cell).
    rows: Sequence[Sequence[CoverageValue]]

    def __post_init__(self) -> None:
        """Check that every row has one value per header and that the values are allowed."""
        for number, row in enumerate(self.rows, start=1):
            if len(row) != len(self.headers):
                raise ValueError(
                    f"row {number} of {self.title!r} has {len(row)} values for "
                    f"{len(self.headers)} headers"
                )
            for value in row:
                if isinstance(value, bool) or not isinstance(
                    value, str | int | Decimal | float | type(None)
                ):
                    raise TypeError(f"unsupported value {value!r} in {self.title!r}")
                if isinstance(value, float) and not (0.0 <= value <= 1.0):
                    raise ValueError(f"a float must be a fraction between 0 and 1: {value!r}")


_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(title: str, used: set[str]) -> str:
    """Return a valid, unused Excel sheet name for *title*."""
    base = _SHEET_NAME_FORBIDDEN.sub("_", title).strip("'").strip() or "Sheet"
    name, n = base[:31], 1
    while name.casefold() in used:
        n += 1
        suffix = f"({n})"
        name = base[: 31 - len(suffix)] + suffix
    used.add(name.casefold())
    return name


def coverage_xlsx(sheets: Sequence[CoverageSheet]) -> bytes:
    """Return a workbook with one sheet per :class:`CoverageSheet`.

    Row 1 holds the title, row 2 the headers (frozen, with a filter), the values follow.
    """
    buffer, workbook = new_workbook()
    font = {"font_name": "宋体", "font_size": 11}
    title_fmt = workbook.add_format({**font, "bold": True, "font_size": 13})
    header_fmt = workbook.add_format(
        {**font, "bold": True, "border": 1, "bg_color": "#E6E6E6", "text_wrap": True}
    )
    cell = {**font, "border": 1}
    text_fmt = workbook.add_format(cell)
    int_fmt = workbook.add_format({**cell, "num_format": "0"})
    money_fmt = workbook.add_format({**cell, "num_format": _AMOUNT_FORMAT})
    percent_fmt = workbook.add_format({**cell, "num_format": "0.0%"})
    used: set[str] = set()
    for spec in sheets:
        sheet = workbook.add_worksheet(_sheet_name(spec.title, used))
        sheet.write_string(0, 0, spec.title, title_fmt)
        widths = [max(8, _display_width(h) + 2) for h in spec.headers]
        for col, header in enumerate(spec.headers):
            sheet.write_string(1, col, header, header_fmt)
        for r, row in enumerate(spec.rows, start=2):
            for col, value in enumerate(row):
                if value is None:
                    sheet.write_blank(r, col, None, text_fmt)
                    continue
                if isinstance(value, str):
                    sheet.write_string(r, col, value, text_fmt)
                    shown = value
                elif isinstance(value, Decimal):
                    sheet.write_number(r, col, float(value), money_fmt)
                    shown = f"{value:,.2f}"
                elif isinstance(value, float):
                    if math.isnan(value):
                        raise ValueError("NaN in a coverage sheet")
                    sheet.write_number(r, col, value, percent_fmt)
                    shown = "100.0%"
                else:
                    sheet.write_number(r, col, value, int_fmt)
                    shown = str(value)
                widths[col] = max(widths[col], _display_width(shown) + 2)
        for col, width in enumerate(widths):
            sheet.set_column(col, col, min(width, 50))
        sheet.freeze_panes(2, 0)
        if spec.headers and spec.rows:
            sheet.autofilter(1, 0, 1 + len(spec.rows), len(spec.headers) - 1)
        sheet.set_paper(_A4)
        sheet.fit_to_pages(1, 0)
    workbook.close()
    return buffer.getvalue()

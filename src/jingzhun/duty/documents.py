"""Duty documents from plain data: letters of responsibility, the deadline-to-return notice,
and the ledgers and reports as workbooks.

They are official documents and always in Chinese, whatever the user's language: their
fixed texts are Chinese constants, deliberately not wrapped in gettext. A notice to a
guardian never carries the child's ID number, address or birth date.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

import xlsxwriter
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, Spacer

from jingzhun.core.pdf import cjk_font, pdf_bytes, printable
from jingzhun.core.pdf import cn_date as _cn

# What each link of the chain answers for, in the letter's words.
DUTIES: dict[str, tuple[str, str]] = {
    "township": (
        "联系乡镇",
        "督促指导所联系乡镇落实教育精准扶贫各项政策，定期听取控辍保学和学生资助工作汇报，"
        "协调解决突出问题，对所联系乡镇建档立卡贫困家庭适龄儿童少年失学辍学负领导责任。",
    ),
    "school": (
        "负责学校",
        "组织学校落实“一校一策”，建立建档立卡贫困学生台账，确保资助政策应享尽享，"
        "确保义务教育阶段建档立卡贫困家庭学生不因贫失学辍学。",
    ),
    "class": (
        "负责班级",
        "组织班主任开展家访和帮扶，每学期核对班级建档立卡贫困学生名单，"
        "发现学生辍学苗头立即报告并组织劝返。",
    ),
    "student": (
        "帮扶学生",
        "每学期至少家访一次，掌握学生学习、生活和资助情况；学生连续缺勤立即报告，"
        "学生辍学时参与劝返，直至学生返校并巩固。",
    ),
    "village": (
        "联系贫困村",
        "掌握所联系贫困村建档立卡贫困家庭适龄儿童少年就学情况，配合乡镇和村委会开展控辍保学，"
        "对无学籍的适龄儿童少年逐一登记、上门劝学。",
    ),
}


@dataclass(frozen=True)
class Letter:
    """A letter of responsibility (责任书) for one link of the chain."""

    kind: str  # township | school | class | student | village
    issuer: str  # the assigning unit, e.g. 某某县教育局
    holder_name: str
    holder_post: str
    target: str  # what they answer for, in words (乡镇、学校、班级、学生或贫困村的名称)
    starts_on: dt.date
    signed_on: dt.date | None


@dataclass(frozen=True)
class ReturnNotice:
    """A deadline-to-return notice (限期复学通知书) to a guardian."""

    guardian_name: str
    child_name: str
    school_name: str
    class_name: str
    left_on: str  # when the child stopped attending, in words
    return_by: dt.date
    issuer: str
    issued_on: dt.date
    contact: str  # the responsible person's name ("" when nobody is known)
    village_name: str = ""  # where the child lives, for a child with no school
    contact_phone: str = ""  # the contact's work phone, never the family's
    contact_unit: str = ""  # whom to call when no person is known (the school)


def contact_line(notice: ReturnNotice) -> str:
    """Return the notice's contact line: a name and phone, never blank."""
    if notice.contact.strip():
        phone = notice.contact_phone.strip()
        phone = f"，联系电话：{phone}" if phone else ""
        return f"联系人：{notice.contact.strip()}{phone}"
    unit = notice.contact_unit.strip() or notice.school_name.strip() or notice.issuer.strip()
    return f"联系人：请与{unit}联系" if unit else "联系人：请与学校联系"


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "base", fontName=font, fontSize=12, leading=20, firstLineIndent=24, wordWrap="CJK"
    )
    return {
        "title": ParagraphStyle(
            "title", fontName=font, fontSize=20, leading=28, alignment=TA_CENTER
        ),
        "body": base,
        "plain": ParagraphStyle("plain", parent=base, firstLineIndent=0),
        "right": ParagraphStyle("right", parent=base, firstLineIndent=0, alignment=TA_RIGHT),
    }


def _para(text: str, style: ParagraphStyle, font: str) -> Paragraph:
    return Paragraph(escape(printable(text, font)), style)


def _pdf(story: list[object]) -> bytes:
    return pdf_bytes(story, pagesize=A4, side_mm=25, top_mm=25)


def letters_pdf(letters: Sequence[Letter]) -> bytes:
    """Return one page per letter of responsibility, ready to print and sign."""
    font = cjk_font()
    st = _styles(font)
    story: list[object] = []
    for n, letter in enumerate(letters):
        title, duty = DUTIES[letter.kind]
        if n:
            story.append(PageBreak())
        story += [
            _para("控辍保学和教育精准扶贫责任书", st["title"], font),
            Spacer(1, 10 * mm),
            _para(f"发文单位：{letter.issuer}", st["plain"], font),
            _para(f"责任人：{letter.holder_name}（{letter.holder_post}）", st["plain"], font),
            _para(f"{title}：{letter.target}", st["plain"], font),
            _para(
                f"责任期限：自{_cn(letter.starts_on)}起，至工作调整或书面解除时止。",
                st["plain"],
                font,
            ),
            Spacer(1, 6 * mm),
            _para(f"一、责任内容。{duty}", st["body"], font),
            _para(
                "二、工作要求。按“一校一策、一生一案”建立工作台账，每一项工作留有记录；"
                "发现问题当日报告，限期整改，做到动态销号。",
                st["body"],
                font,
            ),
            _para(
                "三、责任追究。因工作不力造成建档立卡贫困家庭学生失学辍学或资助政策落实不到位的，"
                "按有关规定追究责任。",
                st["body"],
                font,
            ),
            _para("本责任书一式两份，双方各执一份，自签订之日起生效。", st["body"], font),
            Spacer(1, 20 * mm),
            _para(f"发文单位（盖章）：{letter.issuer}", st["plain"], font),
            Spacer(1, 8 * mm),
            _para("责任人（签名）：____________", st["plain"], font),
            Spacer(1, 8 * mm),
            _para(
                f"签订日期：{_cn(letter.signed_on) if letter.signed_on else '______年____月____日'}",
                st["right"],
                font,
            ),
        ]
    return _pdf(story)


def return_notice_pdf(notice: ReturnNotice) -> bytes:
    """Return the deadline-to-return notice for a guardian."""
    font = cjk_font()
    st = _styles(font)
    story: list[object] = [
        _para("限期复学通知书", st["title"], font),
        Spacer(1, 10 * mm),
        _para(f"{notice.guardian_name}（监护人）：", st["plain"], font),
        _para(
            f"您的子女{notice.child_name}系{notice.school_name}{notice.class_name}学生，"
            f"自{notice.left_on}起未到校上课。根据《中华人民共和国义务教育法》第五条、第十一条，"
            "适龄儿童、少年的父母或者其他法定监护人应当依法保证其按时入学接受并完成义务教育。",
            st["body"],
            font,
        ),
        _para(
            f"请您于{_cn(notice.return_by)}前送子女{'返校复学' if notice.school_name else '入学'}。确有特殊困难的，"
            "请及时与学校联系，学校和有关部门将帮助解决。逾期不返校的，将依法依规处理。",
            st["body"],
            font,
        ),
        _para(contact_line(notice), st["plain"], font),
        Spacer(1, 20 * mm),
        _para(f"{notice.issuer}（盖章）", st["right"], font),
        _para(_cn(notice.issued_on), st["right"], font),
        Spacer(1, 16 * mm),
        _para("监护人签收：____________    签收日期：______年____月____日", st["plain"], font),
    ]
    return _pdf(story)


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a title, the headers and the rows (plain values)."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[str | int | None]]


def workbook(sheets: Sequence[Sheet]) -> bytes:
    """Return an .xlsx with one sheet per Sheet: title row, header row (frozen), rows."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    bold = book.add_format({"bold": True, "font_name": "宋体"})
    head = book.add_format({"bold": True, "border": 1, "bg_color": "#E6E6E6", "font_name": "宋体"})
    cell = book.add_format({"border": 1, "font_name": "宋体"})
    for n, sheet in enumerate(sheets, start=1):
        name = "".join(c for c in sheet.title if c not in "[]:*?/\\")[:28] or f"Sheet{n}"
        ws = book.add_worksheet(f"{name}" if name else f"Sheet{n}")
        ws.write(0, 0, sheet.title, bold)
        for c, h in enumerate(sheet.headers):
            ws.write(1, c, h, head)
            ws.set_column(c, c, max(10, len(h) * 2 + 2))
        for r, row in enumerate(sheet.rows, start=2):
            for c, value in enumerate(row):
                ws.write(r, c, "" if value is None else value, cell)
        ws.freeze_panes(2, 0)
    book.close()
    return buffer.getvalue()

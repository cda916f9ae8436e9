"""Bad input: each rule gives a clear per-row error, and a rejected file changes nothing."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import xlwt
from tests.imports.helpers import (
    CHILD1,
    CHILD2,
    OTHER_CHILD,
    REGISTRY_HEADER,
    ROLLS_HEADER,
    base_county,
    registry_rows,
    rolls_rows,
    run_import,
    write_csv,
)

from jingzhun.core.models import ImportBatch
from jingzhun.registry.models import Household, Person
from jingzhun.schools.models import Enrolment, Student

pytestmark = pytest.mark.django_db


def report_rows(batch: ImportBatch) -> list[tuple[object, ...]]:
    """Return the rows of an import's .xlsx report (line, column, value, reason, severity)."""
    ws = openpyxl.load_workbook(batch.report_path).active
    return [tuple(r) for r in ws.iter_rows(min_row=2, values_only=True)]


def reject(kind: str, tmp_path: Path, header: list[str], rows: list[list[str]]) -> ImportBatch:
    batch = run_import(kind, write_csv(tmp_path / f"{kind}-bad.csv", header, rows), strict=True)
    assert batch.status == ImportBatch.Status.REJECTED, batch.message
    assert "all or nothing" in batch.message
    return batch


@pytest.fixture
def county_files(tmp_path: Path) -> Path:
    base_county(tmp_path)
    return tmp_path


def test_excel_number_id_is_rejected_with_explanation(county_files: Path) -> None:
    rows = registry_rows()
    rows[1][10] = "4.20101E+17"
    rows[2][10] = CHILD2[:15] + "000"
    batch = reject("registry", county_files, REGISTRY_HEADER, rows)
    found = report_rows(batch)
    assert [(r[0], r[1]) for r in found if r[4] == "error"] == [(3, "身份证号"), (4, "身份证号")]
    # In a CSV no spreadsheet rounded the text: an ID ending in 000 that fails its checks is
    # a wrong ID, not an Excel number; scientific notation is Excel's in any file.
    reasons = [str(r[3]) for r in found if r[4] == "error"]
    assert "Excel" in reasons[0] and "check character" in reasons[1]
    assert Person.objects.count() == 0 and Household.objects.count() == 0


@pytest.mark.parametrize(
    ("row", "col", "value", "reason_part"),
    [
        (1, 10, "420101201005030131", "check character"),
        (1, 10, "42010120100230013", "18 characters"),
        (1, 10, "420101201002300135", "birth date"),
        (1, 1, "420101009009", "Unknown village"),
        (1, 12, "2010-13-45", "Not a date"),
        (1, 2, "二〇一五", "whole number"),
        (1, 3, "半脱贫", "allowed values"),
        (1, 8, "62284800", "12 to 25 digits"),
        (1, 9, "", "required"),
    ],
)
def test_registry_row_errors_name_line_column_reason(
    county_files: Path, row: int, col: int, value: str, reason_part: str
) -> None:
    rows = registry_rows()
    rows[row][col] = value
    batch = reject("registry", county_files, REGISTRY_HEADER, rows)
    errors = [r for r in report_rows(batch) if r[4] == "error"]
    assert errors[0][0] == row + 2  # header is line 1
    assert errors[0][1] == REGISTRY_HEADER[col]
    assert reason_part in str(errors[0][3])
    assert Person.objects.count() == 0


def test_duplicate_id_in_registry_file(county_files: Path) -> None:
    rows = registry_rows()
    rows.append(list(rows[1]))
    batch = reject("registry", county_files, REGISTRY_HEADER, rows)
    errors = [r for r in report_rows(batch) if r[4] == "error"]
    assert [(e[0], e[1]) for e in errors] == [(7, "身份证号")]
    assert "more than once" in str(errors[0][3])
    assert CHILD1 not in str(errors[0][2])  # the report masks ID numbers


def test_household_fields_must_agree(county_files: Path) -> None:
    rows = registry_rows()
    rows[1][1] = "420101002001"
    batch = reject("registry", county_files, REGISTRY_HEADER, rows)
    assert [(r[0], r[1]) for r in report_rows(batch) if r[4] == "error"] == [(3, "村代码")]


def test_one_id_on_two_roll_rows_lands_both_marked_naming_both_lines(county_files: Path) -> None:
    # given an ID on two roll numbers at two schools (a sibling's ID typed in, or 重复学籍)
    rows = rolls_rows()
    twin = list(rows[0])
    twin[0], twin[1], twin[5] = "L201800000000000099", "王小二", "2142010002"
    rows.append(twin)
    # when
    batch = run_import("rolls", write_csv(county_files / "rolls.csv", ROLLS_HEADER, rows))
    # then both rows land, both students are marked, and the warning names both lines
    assert batch.status == ImportBatch.Status.DONE, batch.message
    assert batch.rows_set_aside == 0
    warnings = [r for r in report_rows(batch) if r[4] == "warning"]
    assert [(w[0], w[1]) for w in warnings] == [(2, "身份证号"), (5, "身份证号")]
    assert "lines 2 and 5" in str(warnings[0][3]) and "lines 2 and 5" in str(warnings[1][3])
    shared = Student.objects.filter(shared_id=True).order_by("name")
    assert [s.name for s in shared] == [rows[0][1], "王小二"]
    assert Student.objects.filter(shared_id=False).count() == len(rows) - 2


def test_birth_date_after_roll_date(county_files: Path) -> None:
    rows = rolls_rows()
    rows[1][4] = "2019-01-01"
    rows[1][2] = ""
    batch = reject("rolls", county_files, ROLLS_HEADER, rows)
    errors = [r for r in report_rows(batch) if r[4] == "error"]
    assert [(e[0], e[1]) for e in errors] == [(3, "出生日期")]


def test_roll_with_bad_checksum_lands_as_invalid_id_with_warning(county_files: Path) -> None:
    rows = rolls_rows()
    rows[1][2] = OTHER_CHILD[:-1] + ("1" if OTHER_CHILD[-1] != "1" else "2")
    batch = run_import("rolls", write_csv(county_files / "rolls.csv", ROLLS_HEADER, rows))
    assert batch.status == "done", batch.message
    assert batch.warnings == 1
    assert Student.objects.get(name="李小花").id_status == "invalid"
    assert [r[4] for r in report_rows(batch)] == ["warning"]


def test_rejected_newer_file_leaves_previous_data(county_files: Path) -> None:
    good = run_import("rolls", write_csv(county_files / "rolls.csv", ROLLS_HEADER, rolls_rows()))
    assert good.status == "done"
    before = list(
        Enrolment.objects.order_by("id").values_list("id", "school_id", "grade", "status")
    )
    rows = rolls_rows()
    rows[0][8] = "4"  # a real update ...
    rows[2][5] = "9999999999"  # ... in a file with one bad row
    reject("rolls", county_files, ROLLS_HEADER, rows)
    after = list(Enrolment.objects.order_by("id").values_list("id", "school_id", "grade", "status"))
    assert after == before


def test_gb18030_csv_and_english_headers(county_files: Path) -> None:
    english = [
        "roll_number",
        "name",
        "id_number",
        "sex",
        "birth_date",
        "school_code",
        "school_year",
        "stage",
        "grade",
        "class_name",
        "head_teacher",
        "boarding",
        "status",
        "status_date",
        "enrolled_on",
        "registered_poor",
    ]
    path = write_csv(county_files / "rolls-gbk.csv", english, rolls_rows(), encoding="gb18030")
    batch = run_import("rolls", path)
    assert batch.status == "done", batch.message
    assert sorted(Student.objects.values_list("name", flat=True)) == ["张小明", "李小花", "王五"]


def test_xls_file(county_files: Path) -> None:
    wb = xlwt.Workbook()
    ws = wb.add_sheet("学籍")
    ws.write(0, 0, "学籍信息表")
    for c, h in enumerate(ROLLS_HEADER):
        ws.write(1, c, h)
    for r, row in enumerate(rolls_rows(), start=2):
        for c, v in enumerate(row):
            ws.write(r, c, v)
    path = county_files / "rolls.xls"
    wb.save(str(path))
    batch = run_import("rolls", path)
    assert batch.status == "done", batch.message
    assert Student.objects.count() == 3


def test_unsupported_file_type_is_refused(county_files: Path) -> None:
    path = county_files / "rolls.txt"
    path.write_text("x")
    with pytest.raises(ValueError, match=r"\.xlsx"):
        run_import("rolls", path)

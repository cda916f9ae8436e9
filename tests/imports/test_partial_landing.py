"""Partial landing: the good rows of a file land and the bad ones are set aside (sealed, with
their reasons), unless more than IMPORT_MAX_BAD_PERCENT of the rows are bad or the import is
all-or-nothing; a later file that lands a row with the same key closes its set-aside row."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from tests.imports.helpers import (
    REGISTRY_HEADER,
    ROLLS_HEADER,
    base_county,
    make_id,
    registry_rows,
    rolls_rows,
    run_import,
    write_csv,
)

from jingzhun.core import crypto
from jingzhun.core.importing import set_aside_values
from jingzhun.core.models import AuditEvent, ImportBatch, ImportChange, SetAsideRow
from jingzhun.registry.models import Household, Person
from jingzhun.schools.models import Enrolment, Student

pytestmark = pytest.mark.django_db

COL = {h: i for i, h in enumerate(REGISTRY_HEADER)}
# Extra members of the first household (valid IDs), to make files of 10 rows.
EXTRA = [make_id("420101", f"2013010{d}", f"{d}41") for d in range(1, 6)]
# An ID with a wrong check character (it does not end in 000).
GOOD_ID = make_id("420101", "20130601", "245")
BAD_ID = GOOD_ID[:-1] + ("1" if GOOD_ID[-1] != "1" else "2")
# What Excel leaves of GOOD_ID: the first 15 digits, then 000 (this fails the checks).
ROUNDED = GOOD_ID[:15] + "000"


def extra_member(i: int, id_number: str | None = None, birth: str | None = None) -> list[str]:
    row = list(registry_rows()[1])
    row[COL["姓名"]] = f"张{'一二三四五'[i]}"
    row[COL["身份证号"]] = EXTRA[i] if id_number is None else id_number
    row[COL["出生日期"]] = f"2013-01-0{i + 1}" if birth is None else birth
    return row


def ten_rows() -> list[list[str]]:
    return registry_rows() + [extra_member(i) for i in range(5)]


def spoil_dates(rows: list[list[str]], count: int) -> list[list[str]]:
    """Give the last `count` rows a birth date that is no date (an error that sets a row aside)."""
    for row in rows[len(rows) - count :]:
        row[COL["出生日期"]] = "2013-13-45"
    return rows


def registry(tmp_path: Path, name: str, rows: list[list[str]], **kwargs: object) -> ImportBatch:
    path = write_csv(tmp_path / name, REGISTRY_HEADER, rows)
    return run_import("registry", path, county="420101", **kwargs)  # type: ignore[arg-type]


def report_rows(batch: ImportBatch) -> list[tuple[object, ...]]:
    ws = openpyxl.load_workbook(batch.report_path).active
    return [tuple(r) for r in ws.iter_rows(min_row=2, values_only=True)]


def counted(batch: ImportBatch) -> int:
    return batch.rows_created + batch.rows_updated + batch.rows_unchanged + batch.rows_set_aside


@pytest.fixture
def county_files(tmp_path: Path) -> Path:
    base_county(tmp_path)
    return tmp_path


# --------------------------------------------------------------------------- landing


def test_good_rows_land_and_the_bad_row_is_set_aside(county_files: Path) -> None:
    bad = extra_member(0, id_number=BAD_ID, birth="2013-06-01")
    batch = registry(county_files, "r.csv", registry_rows() + [bad])
    assert batch.status == ImportBatch.Status.DONE, batch.message
    assert (batch.rows_total, batch.rows_created, batch.rows_updated) == (6, 5, 0)
    assert (batch.rows_unchanged, batch.rows_set_aside, batch.rows_rejected) == (0, 1, 1)
    assert counted(batch) == batch.rows_total
    assert batch.message.startswith("1 rows were set aside to fix")
    assert Person.objects.count() == 5 and Household.objects.count() == 2
    assert not Person.objects.filter(name="张一").exists()
    (row,) = SetAsideRow.objects.all()
    assert (row.batch_id, row.kind, row.county_code, row.line, row.label, row.status) == (
        batch.pk,
        "registry",
        "420101",
        7,
        "line 7",
        "open",
    )
    assert row.fixed_by is None and row.closed_at is None
    assert len(row.reasons) == 1
    reason = row.reasons[0]
    assert reason["column"] == "身份证号"
    assert reason["value"] == crypto.mask_id(BAD_ID) != BAD_ID
    assert reason["reason"].startswith("The ID number's check character is wrong")
    assert reason["reason"].endswith(
        "Without 人口编号 this person cannot be kept: fix the ID number."
    )
    assert row.row_key == crypto.blind_index(f"registry:id_number:{BAD_ID}", purpose="setaside")
    # The original cells are sealed, and come back whole.
    assert set_aside_values(row) == dict(zip(REGISTRY_HEADER, bad, strict=True))
    sealed = bytes(row.values_cipher)
    assert BAD_ID.encode() not in sealed and "张一".encode() not in sealed
    # The report names the line and column too.
    errors = [(r[0], r[1]) for r in report_rows(batch) if r[4] == "error"]
    assert errors == [(7, "身份证号")]
    event = AuditEvent.objects.get(action="import.done", object_id=str(batch.pk))
    assert (event.data["set_aside"], event.data["created"], event.data["rows"]) == (1, 5, 6)


def test_a_row_with_several_errors_keeps_every_reason(county_files: Path) -> None:
    bad = extra_member(0, id_number=BAD_ID, birth="2013-13-45")
    bad[COL["性别"]] = "未知"
    batch = registry(county_files, "r.csv", registry_rows() + [bad])
    assert (batch.rows_created, batch.rows_set_aside) == (5, 1)
    (row,) = SetAsideRow.objects.all()
    assert sorted((r["column"], r["value"]) for r in row.reasons) == [
        ("出生日期", "2013-13-45"),
        ("性别", "未知"),
        ("身份证号", crypto.mask_id(BAD_ID)),
    ]
    reasons = {r["column"]: r["reason"] for r in row.reasons}
    assert reasons["出生日期"] == "Not a date; write it like 2010-05-03."
    assert reasons["性别"] == "Not one of the allowed values."


def test_counts_add_up_when_updating_with_rows_set_aside(county_files: Path) -> None:
    assert registry(county_files, "r1.csv", registry_rows()).rows_created == 5
    rows = registry_rows()
    rows[0][COL["联系电话"]] = "13900000009"  # one updated
    rows += [extra_member(0), extra_member(1, birth="2013-13-45")]  # one new, one bad
    batch = registry(county_files, "r2.csv", rows)
    assert (batch.rows_total, batch.rows_created, batch.rows_updated) == (7, 1, 1)
    assert (batch.rows_unchanged, batch.rows_set_aside) == (4, 1)
    assert counted(batch) == batch.rows_total
    assert Person.objects.get(name="张大山").phone == "13900000009"
    assert Person.objects.filter(name="张一").exists()
    assert not Person.objects.filter(name="张二").exists()


def test_excel_rounded_id_in_xlsx_and_in_csv(county_files: Path) -> None:
    assert ROUNDED != GOOD_ID
    rows = registry_rows() + [extra_member(0, id_number=ROUNDED, birth="2013-06-01")]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(REGISTRY_HEADER)
    for row in rows:
        ws.append(row)
    wb.save(county_files / "r.xlsx")
    in_xlsx = run_import("registry", county_files / "r.xlsx", county="420101")
    in_csv = registry(county_files, "r.csv", rows)
    (from_xlsx,) = SetAsideRow.objects.filter(batch=in_xlsx)
    (from_csv,) = SetAsideRow.objects.filter(batch=in_csv)
    assert from_xlsx.reasons[0]["reason"].startswith("Excel turned this ID number into a number")
    assert from_csv.reasons[0]["reason"].startswith("The ID number's check character is wrong")
    # The same key: the CSV's row replaces the one the .xlsx set aside.
    assert from_xlsx.row_key == from_csv.row_key
    from_xlsx.refresh_from_db()
    assert (from_xlsx.status, from_csv.status) == ("superseded", "open")


# --------------------------------------------------------------------------- the threshold


def test_exactly_the_threshold_still_lands(county_files: Path) -> None:
    batch = registry(county_files, "r.csv", spoil_dates(ten_rows(), 3))
    assert batch.status == ImportBatch.Status.DONE, batch.message
    assert (batch.rows_total, batch.rows_created, batch.rows_set_aside) == (10, 7, 3)
    assert sorted(SetAsideRow.objects.values_list("line", flat=True)) == [9, 10, 11]


def test_above_the_threshold_the_whole_file_is_refused(county_files: Path) -> None:
    batch = registry(county_files, "r.csv", spoil_dates(ten_rows(), 4))
    assert batch.status == ImportBatch.Status.REJECTED
    assert batch.message.startswith("4 of 10 rows have errors, more than 30%")
    assert "line 8, 出生日期: Not a date" in batch.message
    assert (batch.rows_rejected, batch.rows_created, batch.rows_set_aside) == (4, 0, 0)
    assert Person.objects.count() == 0 and Household.objects.count() == 0
    assert not SetAsideRow.objects.exists()
    assert [(r[0], r[1]) for r in report_rows(batch) if r[4] == "error"] == [
        (8, "出生日期"),
        (9, "出生日期"),
        (10, "出生日期"),
        (11, "出生日期"),
    ]
    assert AuditEvent.objects.filter(action="import.rejected", object_id=str(batch.pk)).exists()


def test_refusal_leaves_earlier_data_untouched(county_files: Path) -> None:
    first = registry(county_files, "r1.csv", registry_rows())
    assert first.rows_created == 5
    before = list(Person.objects.order_by("id").values_list("id", "row_hash", "phone", "name"))
    households = list(Household.objects.order_by("id").values_list("id", "row_hash", "status"))
    earlier = registry(county_files, "r0.csv", registry_rows() + [extra_member(4, birth="x")])
    assert earlier.rows_set_aside == 1
    open_row = SetAsideRow.objects.get()

    rows = registry_rows()
    rows[0][COL["联系电话"]] = "13900000009"
    for row in rows[3:5]:
        row[COL["户状态"]], row[COL["脱贫年度"]] = "在册", ""
    rows += [extra_member(i, birth="2013-13-45") for i in range(4)]  # 4 of 9 bad
    rows.append(extra_member(4))  # would land and close the earlier set-aside row
    batch = registry(county_files, "r2.csv", rows)
    assert batch.status == ImportBatch.Status.REJECTED
    assert batch.message.startswith("4 of 10 rows have errors")
    assert (
        list(Person.objects.order_by("id").values_list("id", "row_hash", "phone", "name")) == before
    )
    assert (
        list(Household.objects.order_by("id").values_list("id", "row_hash", "status")) == households
    )
    assert not ImportChange.objects.filter(batch=batch).exists()
    assert list(SetAsideRow.objects.values_list("pk", "status")) == [(open_row.pk, "open")]


def test_the_threshold_is_a_setting(county_files: Path, settings: object) -> None:
    settings.IMPORT_MAX_BAD_PERCENT = 10  # type: ignore[attr-defined]
    batch = registry(county_files, "r.csv", spoil_dates(ten_rows(), 2))
    assert batch.status == ImportBatch.Status.REJECTED
    assert batch.message.startswith("2 of 10 rows have errors, more than 10%")
    settings.IMPORT_MAX_BAD_PERCENT = 20  # type: ignore[attr-defined]
    batch = registry(county_files, "r2.csv", spoil_dates(ten_rows(), 2))
    assert (batch.status, batch.rows_created, batch.rows_set_aside) == ("done", 8, 2)


def test_strict_refuses_a_single_bad_row(county_files: Path) -> None:
    batch = registry(county_files, "r.csv", spoil_dates(ten_rows(), 1), strict=True)
    assert batch.status == ImportBatch.Status.REJECTED
    assert batch.message.startswith(
        "1 rows have errors; nothing was imported (all or nothing). Open the error report."
    )
    assert "line 11, 出生日期: Not a date" in batch.message
    assert (batch.rows_created, batch.rows_set_aside, batch.rows_rejected) == (0, 0, 1)
    assert Person.objects.count() == 0 and not SetAsideRow.objects.exists()


def test_strict_lands_a_clean_file(county_files: Path) -> None:
    batch = registry(county_files, "r.csv", ten_rows(), strict=True)
    assert (batch.status, batch.rows_created, batch.rows_set_aside) == ("done", 10, 0)


# --------------------------------------------------------------------------- closing rows


def test_a_corrected_file_closes_the_row_as_fixed(county_files: Path) -> None:
    first = registry(county_files, "r1.csv", spoil_dates(ten_rows(), 1))
    assert (first.rows_created, first.rows_set_aside) == (9, 1)
    row = SetAsideRow.objects.get()
    second = registry(county_files, "r2.csv", ten_rows())
    assert (second.rows_created, second.rows_unchanged, second.rows_set_aside) == (1, 9, 0)
    row.refresh_from_db()
    assert (row.status, row.fixed_by_id) == ("fixed", second.pk)
    assert row.closed_at is not None
    assert "1 rows set aside by earlier imports are fixed by this file." in second.message
    assert Person.objects.get(name="张五").birth_date.isoformat() == "2013-01-05"


def test_a_row_set_aside_again_supersedes_the_earlier_one(county_files: Path) -> None:
    rows = spoil_dates(ten_rows(), 1)
    first = registry(county_files, "r1.csv", rows)
    rows[-1][COL["出生日期"]] = "2013-02-30"  # still no date
    second = registry(county_files, "r2.csv", rows)
    assert (second.rows_unchanged, second.rows_set_aside) == (9, 1)
    assert list(SetAsideRow.objects.order_by("id").values_list("batch_id", "status", "line")) == [
        (first.pk, "superseded", 11),
        (second.pk, "open", 11),
    ]
    assert SetAsideRow.objects.get(batch=first).closed_at is not None
    assert set_aside_values(SetAsideRow.objects.get(batch=second))["出生日期"] == "2013-02-30"
    assert "fixed by this file" not in second.message


def test_other_rows_do_not_close_a_set_aside_row(county_files: Path) -> None:
    registry(county_files, "r1.csv", spoil_dates(ten_rows(), 1))
    batch = registry(county_files, "r2.csv", registry_rows())
    assert batch.rows_unchanged == 5
    assert SetAsideRow.objects.get().status == "open"


def test_reimport_does_not_duplicate_a_keyless_set_aside_row(county_files: Path) -> None:
    rows = registry_rows() + [extra_member(0, id_number="")]
    path = write_csv(county_files / "r.csv", REGISTRY_HEADER, rows)
    first = run_import("registry", path, county="420101")
    assert first.rows_set_aside == 1
    assert SetAsideRow.objects.get().row_key != ""  # known by its place in the file
    second = run_import("registry", path, county="420101")
    assert (second.rows_unchanged, second.rows_set_aside) == (5, 1)
    assert SetAsideRow.objects.filter(status="open").count() == 1


# --------------------------------------------------------------------------- rolls


def test_a_roll_row_with_an_unknown_grade_is_set_aside_and_fixed(county_files: Path) -> None:
    assert (
        run_import(
            "registry", write_csv(county_files / "r.csv", REGISTRY_HEADER, registry_rows())
        ).status
        == ImportBatch.Status.DONE
    )
    fourth = list(rolls_rows()[2])
    fourth[0], fourth[1] = "L201800000000000002", "赵六"
    rows = rolls_rows() + [fourth]  # 1 bad row of 4: under the threshold
    rows[2][ROLLS_HEADER.index("年级")] = "十"
    first = run_import("rolls", write_csv(county_files / "rolls.csv", ROLLS_HEADER, rows))
    assert first.status == ImportBatch.Status.DONE, first.message
    assert (first.rows_total, first.rows_created, first.rows_set_aside) == (4, 3, 1)
    assert counted(first) == first.rows_total
    assert Student.objects.count() == 3 and Enrolment.objects.count() == 3
    assert not Student.objects.filter(name="王五").exists()
    row = SetAsideRow.objects.get()
    assert (row.kind, row.line, row.county_code) == ("rolls", 4, "420101")
    assert [(r["column"], r["value"]) for r in row.reasons] == [("年级", "十")]
    assert row.reasons[0]["reason"].startswith("Not a grade we know")
    assert row.row_key == crypto.blind_index(
        "rolls:roll_number:L201800000000000001", purpose="setaside"
    )
    rows[2][ROLLS_HEADER.index("年级")] = "1"
    second = run_import("rolls", write_csv(county_files / "rolls2.csv", ROLLS_HEADER, rows))
    assert (second.rows_created, second.rows_unchanged, second.rows_set_aside) == (1, 3, 0)
    row.refresh_from_db()
    assert (row.status, row.fixed_by_id) == ("fixed", second.pk)

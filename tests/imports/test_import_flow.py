"""The import path end to end on a small hand-made county."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from tests.imports.helpers import (
    AREAS_HEADER,
    CHILD1,
    REGISTRY_HEADER,
    ROLLS_HEADER,
    SCHOOLS_HEADER,
    base_county,
    make_id,
    registry_rows,
    rolls_rows,
    run_import,
    write_csv,
)

from jingzhun.core import crypto
from jingzhun.core.models import AuditEvent, ImportBatch, ImportChange
from jingzhun.core.sensitive import unseal
from jingzhun.registry.models import Area, Household, HouseholdStatusChange, Person
from jingzhun.schools.models import Enrolment, School, SchoolClass, Student

pytestmark = pytest.mark.django_db


def test_areas_and_schools_land(tmp_path: Path) -> None:
    base_county(tmp_path)
    assert Area.objects.count() == 5
    assert Area.objects.get(code="420101001001").is_poor is True
    assert School.objects.get(code="2142010001").in_poor_village is True
    assert School.objects.get(code="1110000001").township is None


def test_registry_import_creates_households_persons_history(tmp_path: Path) -> None:
    base_county(tmp_path)
    batch = run_import(
        "registry",
        write_csv(
            tmp_path / "r.csv", REGISTRY_HEADER, registry_rows(), title="测试县建档立卡贫困人口"
        ),
    )
    assert batch.status == "done", batch.message
    assert (batch.rows_total, batch.rows_created, batch.rows_updated) == (5, 5, 0)
    assert Household.objects.count() == 2
    assert Person.objects.count() == 5
    child = Person.objects.get(name="张小明")
    assert child.id_masked == CHILD1[:6] + "*" * 12
    assert unseal(child, prefix="id", purpose="id") == CHILD1
    assert str(child.birth_date) == "2010-05-03"
    assert child.guardian_id_masked == crypto.mask_id(registry_rows()[0][10])
    left = Household.objects.get(household_no="4201010020010001")
    assert (left.status, left.exit_year) == ("left_poverty", 2017)
    assert HouseholdStatusChange.objects.filter(household=left).count() == 1
    assert AuditEvent.objects.filter(action="import.done", object_id=str(batch.pk)).count() == 1


def test_reimport_same_file_changes_nothing(tmp_path: Path) -> None:
    base_county(tmp_path)
    path = write_csv(tmp_path / "r.csv", REGISTRY_HEADER, registry_rows())
    run_import("registry", path)
    before = list(Person.objects.order_by("id").values_list("id", "row_hash"))
    again = run_import("registry", path)
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 5)
    assert list(Person.objects.order_by("id").values_list("id", "row_hash")) == before
    assert HouseholdStatusChange.objects.count() == 2


def test_newer_file_updates_by_natural_key_and_records_changes(tmp_path: Path) -> None:
    base_county(tmp_path)
    run_import("registry", write_csv(tmp_path / "r.csv", REGISTRY_HEADER, registry_rows()))
    rows = registry_rows()
    for row in rows[:3]:
        row[3], row[4] = "已脱贫", "2018"
    rows[1][20] = "13900000002"
    batch = run_import("registry", write_csv(tmp_path / "r2.csv", REGISTRY_HEADER, rows))
    assert batch.status == "done", batch.message
    assert (batch.rows_created, batch.rows_updated, batch.rows_unchanged) == (0, 1, 4)
    change = ImportChange.objects.get(batch=batch, entity="person")
    assert change.changes == {"phone": ["", "13900000002"]}
    hh = ImportChange.objects.get(batch=batch, entity="household")
    assert hh.changes["status"] == ["registered", "left_poverty"]
    history = HouseholdStatusChange.objects.filter(household__household_no="4201010010010001")
    assert list(history.values_list("status", "year")) == [
        ("registered", 2015),
        ("left_poverty", 2018),
    ]


def test_rolls_import_students_classes_enrolments(tmp_path: Path) -> None:
    base_county(tmp_path)
    batch = run_import("rolls", write_csv(tmp_path / "rolls.csv", ROLLS_HEADER, rolls_rows()))
    assert batch.status == "done", batch.message
    assert batch.county_code == "" or batch.county_code == "420101"
    assert Student.objects.count() == 3
    assert set(Student.objects.values_list("county_code", flat=True)) == {"420101"}
    assert Student.objects.get(name="王五").id_status == "missing"
    assert SchoolClass.objects.count() == 2
    e = Enrolment.objects.get(student__name="张小明")
    assert (e.school_year, e.stage, e.grade, e.boarding, e.status) == (
        2018,
        "primary",
        3,
        True,
        "enrolled",
    )
    assert e.school_class is not None and e.school_class.head_teacher_name == "王老师"
    assert unseal(e.student, prefix="roll", purpose="roll") == "G" + CHILD1
    assert e.student.roll_masked == "G" + CHILD1[:6] + "*" * 12


def test_transfer_in_newer_roll_closes_old_enrolment(tmp_path: Path) -> None:
    base_county(tmp_path)
    run_import("rolls", write_csv(tmp_path / "rolls.csv", ROLLS_HEADER, rolls_rows()))
    rows = rolls_rows()
    rows[0][5], rows[0][7], rows[0][8], rows[0][9] = "2142010002", "初中", "1", "2班"
    batch = run_import("rolls", write_csv(tmp_path / "rolls2.csv", ROLLS_HEADER, rows))
    assert batch.status == "done", batch.message
    statuses = dict(
        Enrolment.objects.filter(student__name="张小明").values_list("school__code", "status")
    )
    assert statuses == {"2142010001": "transferred_out", "2142010002": "enrolled"}
    assert ImportChange.objects.filter(batch=batch, action="transferred_out").count() == 1


def test_xlsx_with_title_row_and_notes(tmp_path: Path) -> None:
    base_county(tmp_path)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["XX县2018年学籍信息表"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(ROLLS_HEADER))
    ws.append(ROLLS_HEADER)
    for row in rolls_rows():
        ws.append(row)
    ws.append([])
    ws.append(["注：本表由县教育局提供"])
    path = tmp_path / "rolls.xlsx"
    wb.save(path)
    batch = run_import("rolls", path)
    assert batch.status == "done", batch.message
    assert batch.rows_total == 3


def test_unknown_headers_need_mapping_then_kept_for_source(tmp_path: Path) -> None:
    base_county(tmp_path)
    header = list(ROLLS_HEADER)
    header[0] = "学生全国学籍编号XYZ"
    header[6] = "年度"
    path = write_csv(tmp_path / "rolls.csv", header, rolls_rows())
    batch = run_import("rolls", path, source="某某县教育局")
    assert batch.status == ImportBatch.Status.NEEDS_MAPPING
    assert batch.proposed_mapping["roll_number"] == "学生全国学籍编号XYZ"
    assert batch.proposed_mapping["name"] == "姓名"
    assert Student.objects.count() == 0
    from jingzhun.core.importing import mapping_save

    mapping = {
        **{k: v for k, v in batch.proposed_mapping.items()},
        "roll_number": "学生全国学籍编号XYZ",
        "school_year": "年度",
    }
    mapping_save(actor=None, kind="rolls", source="某某县教育局", mapping=mapping)
    again = run_import("rolls", path, source="某某县教育局")
    assert again.status == "done", again.message
    assert Student.objects.count() == 3


def test_a_file_spanning_two_counties_sets_each_students_county(tmp_path: Path) -> None:
    # given a second county with a school, beside the first county's schools
    base_county(tmp_path)
    rows = [["420102", "另一县", "县", "", ""], ["420102001", "丙镇", "乡镇", "420102", ""]]
    assert run_import("areas", write_csv(tmp_path / "a2.csv", AREAS_HEADER, rows)).status == "done"
    school = [["2142020001", "丙镇小学", "小学", "420102001", "", "否", "县内"]]
    assert (
        run_import("schools", write_csv(tmp_path / "s2.csv", SCHOOLS_HEADER, school)).status
        == "done"
    )
    other = make_id("420102", "20100101", "017")
    rolls = rolls_rows() + [
        [
            "G" + other,
            "赵六",
            other,
            "男",
            "2010-01-01",
            "2142020001",
            "2018",
            "小学",
            "3",
            "1班",
            "钱老师",
            "否",
            "在读",
            "",
            "",
            "否",
        ],
        [
            "G" + other[:-1] + "9",
            "孙七",
            other[:-1] + "9",
            "男",
            "2010-01-01",
            "1110000001",
            "2018",
            "大学",
            "1",
            "",
            "",
            "否",
            "在读",
            "",
            "",
            "否",
        ],
    ]
    # when the province's rolls arrive as one file, with no county given
    batch = run_import("rolls", write_csv(tmp_path / "province.csv", ROLLS_HEADER, rolls))
    # then each student takes the county of their school, and a student at a school outside
    # any county with no valid ID lands with a warning and no county
    assert batch.status == "done", batch.message
    counties = dict(Student.objects.values_list("name", "county_code"))
    assert counties["赵六"] == "420102" and counties["张小明"] == "420101"
    assert counties["孙七"] == ""
    assert batch.warnings == 2  # 孙七's bad check digit, and the unknown county

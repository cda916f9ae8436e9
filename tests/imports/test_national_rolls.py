"""The national student-roll export (全国中小学生学籍信息管理系统) imported as is: a GBK CSV
without 学年 or 学段, 年级 written as text, 就读方式 and 是否随迁子女, schools named but not
listed (they are taken from the rolls), one ID now and then on two roll numbers."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from django.utils import timezone
from tests.conftest import make_user
from tests.imports.helpers import AREAS_HEADER, make_id, run_import, write_csv

from jingzhun.accounts.roles import Role
from jingzhun.core import crypto
from jingzhun.core.models import (
    CountyProfile,
    DataQualityTask,
    ImportBatch,
    ImportChange,
    SetAsideRow,
)
from jingzhun.core.periods import SchoolYear
from jingzhun.core.sensitive import unseal
from jingzhun.registry.models import Area
from jingzhun.schools.models import Enrolment, School, SchoolClass, Student
from jingzhun.schools.services import school_update

pytestmark = pytest.mark.django_db

HEADER = [
    "全国学籍号",
    "姓名",
    "身份证号",
    "性别",
    "出生日期",
    "学校标识码",
    "学校名称",
    "年级",
    "班级",
    "就读方式",
    "是否随迁子女",
    "是否建档立卡",
]
COL = {h: i for i, h in enumerate(HEADER)}
# The county, with two townships sharing the stem 青山 and one with a two-character stem.
AREAS = [
    ["420101", "测试县", "县", "", ""],
    ["420101001", "甲镇", "乡镇", "420101", ""],
    ["420101002", "白水乡", "乡镇", "420101", ""],
    ["420101003", "青山镇", "乡镇", "420101", ""],
    ["420101004", "青山乡", "乡镇", "420101", ""],
]
TOWN = {"甲镇": "420101001", "白水乡": "420101002", "青山镇": "420101003", "青山乡": "420101004"}

PRIMARY = ("2142010101", "甲镇中心小学")
JUNIOR = ("2142010102", "白水初级中学")
SECONDARY = ("2142010103", "青山中学")  # 青山镇 or 青山乡: a tie
VOCATIONAL = ("2142010104", "县职业技术学校")
KINDERGARTEN = ("2142010105", "青山镇中心幼儿园")
NINE_YEAR = ("2142010106", "县实验学校")

IDS = [
    make_id("420101", f"20{y:02d}0{m}0{m}", f"{i}{i}3")
    for i, (y, m) in enumerate(
        [(10, 5), (11, 3), (12, 4), (13, 2), (14, 6), (15, 7), (16, 8), (11, 9), (10, 1), (12, 1)]
    )
]


def roll(
    i: int,
    school: tuple[str, str],
    grade: str,
    *,
    boarding: str = "走读",
    migrant: str = "否",
    id_number: str | None = None,
    number: str | None = None,
    class_name: str = "1班",
) -> list[str]:
    id_ = IDS[i] if id_number is None else id_number
    return [
        number or "G" + IDS[i],
        f"学生{'甲乙丙丁戊己庚辛壬癸'[i]}",
        id_,
        "男" if i % 2 == 0 else "女",
        f"{IDS[i][6:10]}-{IDS[i][10:12]}-{IDS[i][12:14]}",
        school[0],
        school[1],
        grade,
        class_name,
        boarding,
        migrant,
        "是",
    ]


def the_rolls() -> list[list[str]]:
    return [
        roll(0, PRIMARY, "一年级", boarding="住校"),
        roll(1, PRIMARY, "三年级", migrant="是"),
        roll(2, JUNIOR, "初一", boarding="住校"),
        roll(3, JUNIOR, "八年级"),
        roll(4, SECONDARY, "初三"),
        roll(5, SECONDARY, "高二", boarding="住校"),
        roll(6, VOCATIONAL, "中职二年级"),
        roll(7, KINDERGARTEN, "小班"),
        roll(8, NINE_YEAR, "三年级"),
        roll(9, NINE_YEAR, "初二"),
    ]


def write_rolls(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="gbk", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


@pytest.fixture
def areas(tmp_path: Path) -> Path:
    batch = run_import("areas", write_csv(tmp_path / "areas.csv", AREAS_HEADER, AREAS))
    assert batch.status == ImportBatch.Status.DONE, batch.message
    return tmp_path


def land(path: Path, **kwargs: object) -> ImportBatch:
    batch = run_import("rolls", path, **kwargs)  # type: ignore[arg-type]
    assert batch.status == ImportBatch.Status.DONE, batch.message
    return batch


def enrolment_of(i: int) -> Enrolment:
    return Enrolment.objects.select_related("school", "school_class").get(
        student__roll_index=crypto.blind_index("G" + IDS[i], purpose="roll")
    )


def report_rows(batch: ImportBatch) -> list[tuple[object, ...]]:
    ws = openpyxl.load_workbook(batch.report_path).active
    return [tuple(r) for r in ws.iter_rows(min_row=2, values_only=True)]


# --------------------------------------------------------------------------- landing


def test_the_national_rolls_land(areas: Path) -> None:
    batch = land(write_rolls(areas / "rolls.csv", the_rolls()), school_year=2018)
    assert (batch.rows_total, batch.rows_created, batch.rows_updated) == (10, 10, 0)
    assert (batch.rows_unchanged, batch.rows_set_aside) == (0, 0)
    assert batch.county_code == "420101"
    assert Student.objects.count() == 10
    assert set(Student.objects.values_list("county_code", flat=True)) == {"420101"}
    got = {
        i: (e.school.code, e.school_year, e.stage, e.grade)
        for i in range(10)
        for e in [enrolment_of(i)]
    }
    assert got == {
        0: (PRIMARY[0], 2018, "primary", 1),
        1: (PRIMARY[0], 2018, "primary", 3),
        2: (JUNIOR[0], 2018, "junior", 1),
        3: (JUNIOR[0], 2018, "junior", 2),
        4: (SECONDARY[0], 2018, "junior", 3),
        5: (SECONDARY[0], 2018, "senior", 2),
        6: (VOCATIONAL[0], 2018, "vocational", 2),
        7: (KINDERGARTEN[0], 2018, "preschool", 1),
        8: (NINE_YEAR[0], 2018, "primary", 3),
        9: (NINE_YEAR[0], 2018, "junior", 2),
    }
    first = enrolment_of(0)
    assert first.school_class is not None
    assert (first.school_class.stage, first.school_class.grade, first.school_class.name) == (
        "primary",
        1,
        "1班",
    )
    assert SchoolClass.objects.count() == 10
    student = Student.objects.get(roll_index=crypto.blind_index("G" + IDS[0], purpose="roll"))
    assert (student.name, student.sex, str(student.birth_date)) == ("学生甲", "M", "2010-05-05")
    assert (student.id_status, student.poor_flag) == ("valid", True)
    assert unseal(student, prefix="id", purpose="id") == IDS[0]


def test_boarding_and_migrant_flags(areas: Path) -> None:
    land(write_rolls(areas / "rolls.csv", the_rolls()), school_year=2018)
    boarding = {i: enrolment_of(i).boarding for i in range(10)}
    assert [i for i, b in boarding.items() if b] == [0, 2, 5]
    migrants = Student.objects.filter(migrant=True)
    assert [s.name for s in migrants] == ["学生乙"]
    assert Student.objects.filter(migrant=False).count() == 9


def test_schools_taken_from_the_rolls(areas: Path) -> None:
    batch = land(write_rolls(areas / "rolls.csv", the_rolls()), school_year=2018)
    schools = {
        s.code: (s.name, s.kind, s.township.code if s.township else None, s.boarding, s.location)
        for s in School.objects.select_related("township")
    }
    assert schools == {
        PRIMARY[0]: (PRIMARY[1], "primary", TOWN["甲镇"], True, "in_county"),
        JUNIOR[0]: (JUNIOR[1], "junior_high", TOWN["白水乡"], True, "in_county"),
        SECONDARY[0]: (SECONDARY[1], "complete_secondary", None, True, "in_county"),
        VOCATIONAL[0]: (VOCATIONAL[1], "vocational", None, False, "in_county"),
        KINDERGARTEN[0]: (KINDERGARTEN[1], "kindergarten", TOWN["青山镇"], False, "in_county"),
        NINE_YEAR[0]: (NINE_YEAR[1], "nine_year", None, False, "in_county"),
    }
    derived = {
        c.key: c.changes
        for c in ImportChange.objects.filter(batch=batch, entity="school", action="derived")
    }
    assert sorted(derived) == sorted(schools)
    assert derived[JUNIOR[0]]["kind"] == "junior_high"
    assert derived[SECONDARY[0]]["township_id"] is None
    assert (
        "Schools taken from the rolls: 6 (kind from the grades taught); 3 need their township "
        "chosen on the schools page." in batch.message
    )


def test_a_school_without_its_township_is_a_task_until_placed(areas: Path) -> None:
    # given rolls naming three schools whose township cannot be told from the name
    land(write_rolls(areas / "rolls.csv", the_rolls()), school_year=2018)
    open_tasks = DataQualityTask.objects.filter(kind="school_township", status="open")
    unplaced = {SECONDARY[0], VOCATIONAL[0], NINE_YEAR[0]}
    assert {School.objects.get(pk=t.object_id).code for t in open_tasks} == unplaced
    # when the clerk chooses the township of one of them
    clerk = make_user("clerk", Role.COUNTY_ADMIN, area=Area.objects.get(level="county"))
    school = School.objects.get(code=SECONDARY[0])
    school_update(
        actor=clerk, instance=school, data={"township": Area.objects.get(code=TOWN["甲镇"])}
    )
    # then its task is resolved and the others stay open
    assert {School.objects.get(pk=t.object_id).code for t in open_tasks.all()} == unplaced - {
        SECONDARY[0]
    }
    done = DataQualityTask.objects.get(kind="school_township", status="resolved")
    assert done.object_id == school.pk


def test_known_schools_are_left_as_they_are(areas: Path) -> None:
    School.objects.create(code=PRIMARY[0], name="甲镇一小", kind="nine_year")
    batch = land(write_rolls(areas / "rolls.csv", the_rolls()), school_year=2018)
    known = School.objects.get(code=PRIMARY[0])
    assert (known.name, known.kind, known.township_id) == ("甲镇一小", "nine_year", None)
    assert not ImportChange.objects.filter(batch=batch, key=PRIMARY[0]).exists()
    assert School.objects.count() == 6


def test_an_unknown_school_without_its_name_is_set_aside(areas: Path) -> None:
    rows = the_rolls()
    rows[9][COL["学校标识码"]] = "2142019999"
    rows[9][COL["学校名称"]] = ""
    batch = land(write_rolls(areas / "rolls.csv", rows), school_year=2018)
    assert (batch.rows_created, batch.rows_set_aside) == (9, 1)
    (row,) = SetAsideRow.objects.all()
    assert row.line == 11
    assert [(r["column"], r["value"]) for r in row.reasons] == [("学校标识码", "2142019999")]
    assert row.reasons[0]["reason"].startswith("Unknown school code")
    assert not School.objects.filter(code="2142019999").exists()


# --------------------------------------------------------------------------- grades, years


def test_unknown_grades_are_set_aside(areas: Path) -> None:
    rows = the_rolls()
    rows[3][COL["年级"]] = "十年级"
    rows[8][COL["年级"]] = "3"  # a number without 学段
    batch = land(write_rolls(areas / "rolls.csv", rows), school_year=2018)
    assert (batch.rows_total, batch.rows_created, batch.rows_set_aside) == (10, 8, 2)
    set_aside = SetAsideRow.objects.order_by("line")
    assert [(r.line, r.reasons[0]["column"], r.reasons[0]["value"]) for r in set_aside] == [
        (5, "年级", "十年级"),
        (10, "年级", "3"),
    ]
    assert all(r.reasons[0]["reason"].startswith("Not a grade we know") for r in set_aside)


def test_school_year_chosen_at_import(areas: Path) -> None:
    land(write_rolls(areas / "rolls.csv", the_rolls()), school_year=2016)
    assert set(Enrolment.objects.values_list("school_year", flat=True)) == {2016}
    assert set(SchoolClass.objects.values_list("school_year", flat=True)) == {2016}


def test_school_year_is_the_working_year_when_not_chosen(areas: Path) -> None:
    CountyProfile.objects.create(county_code="420101", name="测试县", working_year=2017)
    land(write_rolls(areas / "rolls.csv", the_rolls()))
    assert set(Enrolment.objects.values_list("school_year", flat=True)) == {2017}


def test_school_year_is_todays_without_a_profile(areas: Path) -> None:
    land(write_rolls(areas / "rolls.csv", the_rolls()))
    today = SchoolYear.of(timezone.localdate()).start
    assert set(Enrolment.objects.values_list("school_year", flat=True)) == {today}


# --------------------------------------------------------------------------- IDs


def test_one_id_on_two_roll_numbers_lands_both_marked(areas: Path) -> None:
    rows = the_rolls()
    # A sibling's ID typed in: 学生丁's row carries 学生乙's ID under its own roll number.
    rows[3][COL["身份证号"]] = IDS[1]
    batch = land(write_rolls(areas / "rolls.csv", rows), school_year=2018)
    assert (batch.rows_created, batch.rows_set_aside) == (10, 0)
    shared = Student.objects.filter(shared_id=True).order_by("name")
    assert [s.name for s in shared] == ["学生丁", "学生乙"]
    assert {s.id_index for s in shared} == {crypto.blind_index(IDS[1], purpose="id")}
    assert Student.objects.filter(shared_id=False).count() == 8
    warned = [r for r in report_rows(batch) if r[4] == "warning" and r[1] == "身份证号"]
    assert [r[0] for r in warned] == [3, 5]
    for r in warned:
        assert "This ID number is on lines 3 and 5, under different roll numbers" in str(r[3])
        assert str(r[2]) == crypto.mask_id(IDS[1])
    # The ID inside 全国学籍号 still tells them apart.
    ding = shared[0]
    assert ding.roll_id_index == crypto.blind_index(IDS[3], purpose="id")
    tasks = DataQualityTask.objects.filter(kind="shared_id", status="open")
    assert sorted(tasks.values_list("object_id", flat=True)) == sorted(s.pk for s in shared)


def test_roll_id_index_and_id15_index(areas: Path) -> None:
    rows = the_rolls()
    rows[0][COL["身份证号"]] = ""  # the ID only inside the roll number
    rows[1][COL["全国学籍号"]] = "L2018000000001"  # a roll number without an ID
    land(write_rolls(areas / "rolls.csv", rows), school_year=2018)
    first = Student.objects.get(name="学生甲")
    assert (first.id_status, first.id_index, first.id15_index) == ("missing", None, None)
    assert first.roll_id_index == crypto.blind_index(IDS[0], purpose="id")
    second = Student.objects.get(name="学生乙")
    assert second.roll_id_index is None
    assert second.id15_index == crypto.blind_index(IDS[1][:15], purpose="id15")
    assert second.id_index == crypto.blind_index(IDS[1], purpose="id")


def test_ids_in_a_csv_roll(areas: Path) -> None:
    rounded = IDS[2][:15] + "000"
    rows = the_rolls()
    rows[2][COL["身份证号"]] = rounded
    rows[3][COL["身份证号"]] = "4.20101201302E+17"
    batch = land(write_rolls(areas / "rolls.csv", rows), school_year=2018)
    assert (batch.rows_created, batch.rows_set_aside) == (9, 1)
    kept = Student.objects.get(name="学生丙")
    assert (kept.id_status, kept.id_index) == ("invalid", crypto.blind_index(rounded, purpose="id"))
    (row,) = SetAsideRow.objects.all()
    assert (row.line, row.reasons[0]["column"]) == (5, "身份证号")
    assert row.reasons[0]["reason"].startswith("Excel turned this ID number into a number")


# --------------------------------------------------------------------------- idempotence


def test_reimport_of_the_same_file_changes_nothing(areas: Path) -> None:
    rows = the_rolls()
    rows[3][COL["身份证号"]] = IDS[1]
    path = write_rolls(areas / "rolls.csv", rows)
    land(path, school_year=2018)
    students = list(Student.objects.order_by("id").values_list("id", "row_hash", "shared_id"))
    enrolments = list(Enrolment.objects.order_by("id").values_list("id", "row_hash", "status"))
    schools = list(School.objects.order_by("id").values_list("id", "kind", "township_id"))
    tasks = list(DataQualityTask.objects.order_by("id").values_list("id", "status"))
    again = land(path, school_year=2018)
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 10)
    assert list(Student.objects.order_by("id").values_list("id", "row_hash", "shared_id")) == (
        students
    )
    assert list(Enrolment.objects.order_by("id").values_list("id", "row_hash", "status")) == (
        enrolments
    )
    assert list(School.objects.order_by("id").values_list("id", "kind", "township_id")) == schools
    assert list(DataQualityTask.objects.order_by("id").values_list("id", "status")) == tasks
    assert SchoolClass.objects.count() == 10
    assert not ImportChange.objects.filter(batch=again).exists()
    assert "Schools taken from the rolls" not in again.message
    assert "Students: 0 new, 0 updated." in again.message

"""Study outside the county's rolls: the aid office's university list (kind ``university``)
and receiving schools' confirmations (kind ``outside``) land as students enrolled at
out-of-county schools created by name."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from tests.imports.helpers import AREAS, AREAS_HEADER, make_id, run_import, write_csv

from jingzhun.core import crypto
from jingzhun.core.models import ImportBatch, ImportChange, SetAsideRow
from jingzhun.core.sensitive import unseal
from jingzhun.schools.elsewhere import home_province, location_of
from jingzhun.schools.models import Enrolment, School, Student

pytestmark = pytest.mark.django_db

UNIVERSITY = ["姓名", "身份证号", "录取学校", "学校所在省份", "层次", "年级", "是否新生"]
OUTSIDE = ["姓名", "身份证号", "就读学校", "学校所在地", "学段", "年级", "学年"]
IDS = [make_id("420101", f"{1995 + i}0{1 + i % 9}1{i % 10}", f"{i}{i}5") for i in range(10)]


def code(prefix: str, name: str) -> str:
    return prefix + hashlib.sha256(name.encode()).hexdigest()[:16]


def write_xlsx(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2018年建档立卡家庭子女就读情况"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


@pytest.fixture
def county(tmp_path: Path) -> Path:
    batch = run_import("areas", write_csv(tmp_path / "areas.csv", AREAS_HEADER, AREAS))
    assert batch.status == ImportBatch.Status.DONE, batch.message
    return tmp_path


def land(kind: str, path: Path, **kwargs: Any) -> ImportBatch:
    batch = run_import(kind, path, **kwargs)
    assert batch.status == ImportBatch.Status.DONE, batch.message
    return batch


def enrolment(id_number: str, prefix: str) -> Enrolment:
    return Enrolment.objects.select_related("school", "student").get(
        student__roll_index=crypto.blind_index(prefix + id_number, purpose="roll")
    )


def university_rows() -> list[list[str]]:
    return [
        ["学生甲", IDS[0], "武汉大学", "湖北省", "本科", "大一", "是"],
        ["学生乙", IDS[1], "北京大学", "北京市", "硕士", "研一", "否"],
        ["学生丙", IDS[2], "湖北职业技术学院", "湖北", "专科", "大二", ""],
        ["学生丁", IDS[3], "武汉大学", "湖北省", "本科", "大三", "否"],
        ["学生戊", IDS[4], "清华大学", "北京", "", "研二", "否"],
    ]


def outside_rows() -> list[list[str]]:
    return [
        ["学生甲", IDS[5], "武昌实验小学", "湖北省武汉市", "小学", "三年级", "2018"],
        ["学生乙", IDS[6], "深圳中学", "广东省深圳市", "高中", "高一", "2018-2019"],
        ["学生丙", IDS[7], "东莞职业技术学校", "广东省东莞市", "中职", "中职一年级", ""],
        ["学生丁", IDS[8], "宜昌市第一中学", "湖北省宜昌市", "初中", "2", ""],
        ["学生戊", IDS[9], "汉口幸福幼儿园", "湖北省武汉市", "学前", "大班", "2017"],
    ]


# --------------------------------------------------------------------------- province


def test_home_province_from_the_county_code(settings: Any) -> None:
    settings.PROVINCE_NAME = ""
    assert home_province("420101") == "湖北"
    assert home_province("110105") == "北京"
    assert home_province("990101") == ""
    assert location_of("湖北省武汉市", "420101") == "in_province"
    assert location_of(" 湖北", "420101") == "in_province"
    assert location_of("北京市", "420101") == "out_of_province"
    assert location_of("", "420101") == "out_of_province"
    assert location_of(None, "420101") == "out_of_province"
    assert location_of("湖北省", "990101") == "out_of_province"


def test_home_province_from_the_setting(settings: Any) -> None:
    settings.PROVINCE_NAME = "江汉省"
    assert home_province("420101") == "江汉省"
    assert location_of("江汉省江城市", "420101") == "in_province"
    assert location_of("江汉", "420101") == "in_province"
    assert location_of("湖北省", "420101") == "out_of_province"


# --------------------------------------------------------------------------- university


def test_university_list_lands(county: Path, settings: Any) -> None:
    settings.PROVINCE_NAME = ""
    batch = land(
        "university",
        write_xlsx(county / "university.xlsx", UNIVERSITY, university_rows()),
        school_year=2018,
    )
    assert (batch.rows_total, batch.rows_created, batch.rows_updated) == (5, 5, 0)
    assert (batch.rows_unchanged, batch.rows_set_aside) == (0, 0)
    assert batch.county_code == "420101"
    got = {
        i: (e.school.name, e.stage, e.grade, e.degree, e.freshman, e.school_year, e.status)
        for i in range(5)
        for e in [enrolment(IDS[i], "U")]
    }
    assert got == {
        0: ("武汉大学", "university", 1, "bachelor", True, 2018, "enrolled"),
        1: ("北京大学", "university", 5, "graduate", False, 2018, "enrolled"),
        2: ("湖北职业技术学院", "university", 2, "associate", False, 2018, "enrolled"),
        3: ("武汉大学", "university", 3, "bachelor", False, 2018, "enrolled"),
        4: ("清华大学", "university", 6, "graduate", False, 2018, "enrolled"),
    }
    schools = {s.code: (s.name, s.kind, s.location, s.township_id) for s in School.objects.all()}
    assert schools == {
        code("U", "武汉大学"): ("武汉大学", "university", "in_province", None),
        code("U", "北京大学"): ("北京大学", "university", "out_of_province", None),
        code("U", "湖北职业技术学院"): ("湖北职业技术学院", "university", "in_province", None),
        code("U", "清华大学"): ("清华大学", "university", "out_of_province", None),
    }
    assert "Schools outside the county added: 4." in batch.message
    assert ImportChange.objects.filter(batch=batch, entity="school", action="derived").count() == 4
    student = enrolment(IDS[0], "U").student
    assert (student.name, student.county_code, student.poor_flag) == ("学生甲", "420101", True)
    assert student.id_status == "valid"
    assert unseal(student, prefix="id", purpose="id") == IDS[0]


def test_university_location_follows_the_province_setting(county: Path, settings: Any) -> None:
    settings.PROVINCE_NAME = "北京市"
    land("university", write_xlsx(county / "u.xlsx", UNIVERSITY, university_rows()))
    locations = dict(School.objects.values_list("name", "location"))
    assert locations == {
        "武汉大学": "out_of_province",
        "北京大学": "in_province",
        "湖北职业技术学院": "out_of_province",
        "清华大学": "in_province",
    }


def test_university_rows_without_grade_or_id_are_set_aside(county: Path) -> None:
    rows = university_rows()
    rows += [
        ["学生己", IDS[5], "武汉大学", "湖北省", "本科", "大十", "否"],
        ["学生庚", "", "武汉大学", "湖北省", "本科", "大一", "是"],
    ]
    rows += [[f"学生{i}", IDS[i], "武汉大学", "湖北省", "本科", "大二", ""] for i in (6, 7, 8)]
    batch = land("university", write_xlsx(county / "u.xlsx", UNIVERSITY, rows), school_year=2018)
    assert (batch.rows_total, batch.rows_created, batch.rows_set_aside) == (10, 8, 2)
    grade, blank = SetAsideRow.objects.order_by("line")
    assert (grade.kind, grade.line, grade.county_code) == ("university", 8, "420101")
    assert [(r["column"], r["value"]) for r in grade.reasons] == [("年级", "大十")]
    assert grade.reasons[0]["reason"].startswith("Not a grade we know")
    assert blank.line == 9
    assert {r["column"] for r in blank.reasons} == {"身份证号"}
    assert not Student.objects.filter(name__in=["学生己", "学生庚"]).exists()


def test_university_reimport_changes_nothing(county: Path) -> None:
    path = write_xlsx(county / "u.xlsx", UNIVERSITY, university_rows())
    land("university", path, school_year=2018)
    before = list(Enrolment.objects.order_by("id").values_list("id", "row_hash"))
    again = land("university", path, school_year=2018)
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 5)
    assert list(Enrolment.objects.order_by("id").values_list("id", "row_hash")) == before
    assert School.objects.count() == 4
    assert "Schools outside the county added" not in again.message


def test_a_later_list_updates_the_freshman_flag(county: Path) -> None:
    land(
        "university",
        write_xlsx(county / "u1.xlsx", UNIVERSITY, university_rows()),
        school_year=2018,
    )
    rows = university_rows()
    rows[0][6] = "否"
    batch = land("university", write_xlsx(county / "u2.xlsx", UNIVERSITY, rows), school_year=2018)
    assert (batch.rows_created, batch.rows_updated, batch.rows_unchanged) == (0, 1, 4)
    assert enrolment(IDS[0], "U").freshman is False
    change = ImportChange.objects.get(batch=batch, entity="enrolment")
    assert change.changes == {"freshman": [1, 0]}


def test_a_fifth_year_undergraduate_is_not_a_graduate(county: Path) -> None:
    rows = [["学生甲", IDS[0], "武汉大学", "湖北省", "", "大五", "否"]]
    land("university", write_xlsx(county / "u.xlsx", UNIVERSITY, rows), school_year=2018)
    e = enrolment(IDS[0], "U")
    assert (e.stage, e.grade) == ("university", 5)
    assert e.degree == ""


# --------------------------------------------------------------------------- outside


def test_outside_confirmations_land_by_stage(county: Path, settings: Any) -> None:
    settings.PROVINCE_NAME = ""
    batch = land(
        "outside", write_xlsx(county / "outside.xlsx", OUTSIDE, outside_rows()), school_year=2016
    )
    assert (batch.rows_total, batch.rows_created, batch.rows_set_aside) == (5, 5, 0)
    got = {
        i: (e.school.name, e.school.kind, e.school.location, e.stage, e.grade, e.school_year)
        for i in range(5, 10)
        for e in [enrolment(IDS[i], "X")]
    }
    assert got == {
        5: ("武昌实验小学", "primary", "in_province", "primary", 3, 2018),
        6: ("深圳中学", "general_high", "out_of_province", "senior", 1, 2018),
        7: ("东莞职业技术学校", "vocational", "out_of_province", "vocational", 1, 2016),
        8: ("宜昌市第一中学", "junior_high", "in_province", "junior", 2, 2016),
        9: ("汉口幸福幼儿园", "kindergarten", "in_province", "preschool", 3, 2017),
    }
    assert set(School.objects.values_list("code", flat=True)) == {
        code("X", r[2]) for r in outside_rows()
    }
    assert set(Enrolment.objects.values_list("degree", "freshman")) == {("", False)}
    assert "Schools outside the county added: 5." in batch.message


def test_outside_kind_from_all_the_stages_a_school_has(county: Path) -> None:
    rows = [
        ["学生甲", IDS[0], "武汉外国语学校", "湖北省武汉市", "初中", "初一", ""],
        ["学生乙", IDS[1], "武汉外国语学校", "湖北省武汉市", "高中", "高二", ""],
        ["学生丙", IDS[2], "黄冈启智学校", "湖北省黄冈市", "初中", "初二", ""],
        ["学生丁", IDS[3], "长沙培智学校", "湖南省长沙市", "小学", "二年级", ""],
        ["学生戊", IDS[4], "深圳某村教学点", "广东省", "小学", "一年级", ""],
    ]
    land("outside", write_xlsx(county / "o.xlsx", OUTSIDE, rows), school_year=2018)
    kinds = dict(School.objects.values_list("name", "kind"))
    assert kinds == {
        "武汉外国语学校": "complete_secondary",
        "黄冈启智学校": "junior_high",
        "长沙培智学校": "special",
        "深圳某村教学点": "teaching_point",
    }


def test_outside_without_the_stage_reads_the_grade_text(county: Path) -> None:
    rows = outside_rows()
    for row in rows:
        row[4] = ""
    rows[3][5] = "初二"
    rows[0][5] = "三"  # not a grade
    batch = land("outside", write_xlsx(county / "o.xlsx", OUTSIDE, rows), school_year=2018)
    assert (batch.rows_created, batch.rows_set_aside) == (4, 1)
    assert (enrolment(IDS[8], "X").stage, enrolment(IDS[8], "X").grade) == ("junior", 2)
    assert (enrolment(IDS[6], "X").stage, enrolment(IDS[6], "X").grade) == ("senior", 1)
    (row,) = SetAsideRow.objects.all()
    assert (row.kind, row.line) == ("outside", 3)
    assert [(r["column"], r["value"]) for r in row.reasons] == [("年级", "三")]


def test_the_same_id_on_both_lists_gives_two_students(county: Path) -> None:
    land("university", write_xlsx(county / "u.xlsx", UNIVERSITY, university_rows()[:1]))
    rows = [["学生甲", IDS[0], "武昌实验小学", "湖北省武汉市", "小学", "三年级", "2018"]]
    land("outside", write_xlsx(county / "o.xlsx", OUTSIDE, rows))
    assert Student.objects.filter(id_index=crypto.blind_index(IDS[0], purpose="id")).count() == 2
    assert School.objects.get(code=code("U", "武汉大学")).kind == "university"
    assert School.objects.get(code=code("X", "武昌实验小学")).kind == "primary"

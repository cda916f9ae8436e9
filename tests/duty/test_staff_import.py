"""The staff directory import ("staff"): rows matched to schools, classes and places, bad rows
set aside with their reasons, and a second import of the same sheet changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl

from jingzhun.accounts.models import StaffMember
from jingzhun.core.importing import import_create, import_run

HEADER = [
    "姓名",
    "性别",
    "手机号码",
    "岗位",
    "学校标识码",
    "学校名称",
    "年级",
    "班级",
    "乡镇",
    "行政村",
]


def sheet(path: Path, rows: list[list[str]]) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def run(path: Path) -> Any:
    batch = import_create(actor=None, kind="staff", path=path, file_name=path.name)
    batch.county_code = "420101"
    batch.school_year = 2018
    batch.save()
    return import_run(batch=batch)


ROWS = [
    ["王芳", "女", "13812341234", "班主任", "2142010001", "", "三年级", "1班", "", ""],
    ["赵校长", "男", "13900001111", "校长", "", "甲镇中心小学", "", "", "", ""],
    ["陈中心", "男", "13700002222", "中心校校长", "", "", "", "", "甲镇", ""],
    ["刘书记", "男", "13600003333", "驻村第一书记", "", "", "", "", "甲镇", "甲村"],
    ["钱专干", "女", "13500004444", "乡镇教育专干", "", "", "", "", "乙乡", ""],
    ["孙老师", "男", "13400005555", "班主任", "2142010001", "", "五年级", "3班", "", ""],
    ["周某", "男", "12", "村干部", "", "", "", "", "", "不存在村"],
]


def test_staff_import_lands_sets_aside_and_is_idempotent(county: Any, tmp_path: Path) -> None:
    batch = run(sheet(tmp_path / "staff.xlsx", ROWS))
    assert (batch.status, batch.rows_created, batch.rows_set_aside) == ("done", 5, 2)
    wang = StaffMember.objects.get(name="王芳")
    assert (wang.post, wang.school, wang.school_class, wang.phone_masked) == (
        "class_teacher",
        county.school_a,
        county.class_a,
        "138****1234",
    )
    liu = StaffMember.objects.get(name="刘书记")
    assert (liu.post, liu.village, liu.township, liu.area_code) == (
        "village_cadre",
        county.village_a,
        county.township_a,
        county.village_a.code,
    )
    assert StaffMember.objects.get(name="钱专干").township == county.township_b
    # class B had no head teacher in the sheet: the rolls' 李老师 is taken in, without a phone
    li = StaffMember.objects.get(name="李老师")
    assert (li.school_class, li.phone, li.source) == (county.class_b, "", "roster")
    # the same sheet again changes nothing
    again = run(sheet(tmp_path / "staff2.xlsx", ROWS))
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 5)
    assert StaffMember.objects.count() == 6
    # a changed post updates the person
    changed = [list(r) for r in ROWS]
    changed[0][3] = "教师"
    third = run(sheet(tmp_path / "staff3.xlsx", changed))
    assert (third.rows_created, third.rows_updated) == (0, 1)
    assert StaffMember.objects.get(name="王芳").post == "other"


def test_a_roster_teacher_is_matched_when_the_sheet_brings_their_phone(
    county: Any, tmp_path: Path
) -> None:
    run(sheet(tmp_path / "a.xlsx", [ROWS[1]]))  # the roster adds 王老师 and 李老师
    assert StaffMember.objects.get(name="王老师").source == "roster"
    run(
        sheet(
            tmp_path / "b.xlsx",
            [["王老师", "女", "13811112222", "班主任", "2142010001", "", "三年级", "1班", "", ""]],
        )
    )
    wang = StaffMember.objects.get(name="王老师")
    assert (wang.phone, wang.source, wang.school_class) == ("13811112222", "import", county.class_a)
    assert StaffMember.objects.filter(name="王老师").count() == 1

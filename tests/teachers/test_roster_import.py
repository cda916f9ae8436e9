"""The teacher roster import (kind ``teachers``): Chinese or English headers, the ID as the key, a
bad row named by line, column and reason, and a second import of the same file changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.imports.helpers import run_import, write_csv
from tests.teachers.helpers import teacher_id

from conftest import County
from jingzhun.core.importing import ERROR_MESSAGES
from jingzhun.core.models import ImportChange, SetAsideRow
from jingzhun.core.sensitive import unseal
from jingzhun.teachers.models import Teacher

HEADER = [
    "姓名",
    "身份证号",
    "性别",
    "出生日期",
    "学校标识码",
    "岗位",
    "任教学科",
    "职称",
    "编制",
    "到校日期",
    "是否骨干",
]
ENGLISH = [
    "name",
    "id_number",
    "sex",
    "birth_date",
    "school_code",
    "post",
    "subject",
    "title",
    "staffing",
    "started_on",
    "backbone",
]
T1, T2, T3, T4 = (teacher_id(n) for n in (1, 2, 3, 4))
BAD_ID = T4[:-1] + ("0" if T4[-1] != "0" else "1")  # a wrong check character


def rows() -> list[list[str]]:
    return [
        [
            "王芳",
            T1,
            "女",
            "1980-01-01",
            "2142010001",
            "教师",
            "语文",
            "高级教师",
            "在编",
            "2005-09-01",
            "是",
        ],
        ["赵刚", T2, "", "", "2142010001", "校长", "数学", "正高级", "在编", "2001-09-01", "否"],
        [
            "钱明",
            T3,
            "男",
            "1980-01-01",
            "2142010002",
            "",
            "英语",
            "一级教师",
            "特岗",
            "2016-09-01",
            "",
        ],
        ["孙丽", BAD_ID, "女", "1980-01-01", "2142010002", "教师", "音乐", "无", "代课", "", ""],
        [
            "李强",
            teacher_id(5),
            "男",
            "",
            "2142010002",
            "教师",
            "体育",
            "二级教师",
            "合同制",
            "",
            "否",
        ],
    ]


def test_a_roster_lands_with_its_bad_row_set_aside(county: County, tmp_path: Path) -> None:
    # when
    batch = run_import("teachers", write_csv(tmp_path / "roster.csv", HEADER, rows()))

    # then: four teachers landed, the row with a wrong ID is set aside with its reason
    assert (batch.status, batch.rows_created, batch.rows_set_aside) == ("done", 4, 1)
    assert batch.county_code == "420101"
    (bad,) = SetAsideRow.objects.filter(batch=batch)
    assert bad.line == 5
    assert bad.reasons == [
        {
            "column": "身份证号",
            "value": "420101************",
            "reason": str(ERROR_MESSAGES["id_checksum"]),
        }
    ]
    wang = Teacher.objects.get(name="王芳")
    assert (wang.school, wang.post, wang.title, wang.staffing, wang.backbone) == (
        county.school_a,
        "teacher",
        "senior",
        "in_establishment",
        True,
    )
    assert (wang.subject, wang.started_on, wang.county_code) == (
        "语文",
        dt.date(2005, 9, 1),
        "420101",
    )
    assert unseal(wang, prefix="id", purpose="id") == T1
    assert wang.id_masked == "420101************"
    # blank sex and birth date are read from the ID (17th digit 2: a woman)
    zhao = Teacher.objects.get(name="赵刚")
    assert (zhao.post, zhao.title, zhao.sex, zhao.birth_date) == (
        "principal",
        "full_senior",
        "F",
        dt.date(1980, 1, 1),
    )
    # a blank post is a teacher's
    qian = Teacher.objects.get(name="钱明")
    assert (qian.post, qian.title, qian.staffing, qian.school) == (
        "teacher",
        "intermediate",
        "special_post",
        county.school_b,
    )
    assert Teacher.objects.get(name="李强").title == "junior"


def test_the_same_roster_again_changes_nothing(county: County, tmp_path: Path) -> None:
    first = run_import("teachers", write_csv(tmp_path / "a.csv", HEADER, rows()))
    stored = list(Teacher.objects.order_by("pk").values_list("pk", "row_hash", "id_cipher"))

    again = run_import("teachers", write_csv(tmp_path / "b.csv", HEADER, rows()))

    assert (first.rows_created, again.rows_created, again.rows_updated, again.rows_unchanged) == (
        4,
        0,
        0,
        4,
    )
    assert list(Teacher.objects.order_by("pk").values_list("pk", "row_hash", "id_cipher")) == stored
    assert not ImportChange.objects.filter(batch=again).exists()


def test_a_changed_row_updates_its_teacher_and_the_change_hides_the_id(
    county: County, tmp_path: Path
) -> None:
    run_import("teachers", write_csv(tmp_path / "a.csv", HEADER, rows()))
    moved = rows()
    moved[0][4] = "2142010002"  # 王芳 moves to school B
    moved[0][7] = "正高级教师"

    batch = run_import("teachers", write_csv(tmp_path / "b.csv", ENGLISH, moved))

    assert (batch.rows_created, batch.rows_updated, batch.rows_unchanged) == (0, 1, 3)
    wang = Teacher.objects.get(name="王芳")
    assert (wang.school, wang.title) == (county.school_b, "full_senior")
    (change,) = ImportChange.objects.filter(batch=batch)
    assert (change.entity, change.key) == ("teacher", "420101************")
    assert change.changes == {
        "school_id": [county.school_a.pk, county.school_b.pk],
        "title": ["senior", "full_senior"],
    }
    assert T1 not in str(change.changes)


def test_unknown_school_duplicate_and_missing_ids_are_errors(
    county: County, tmp_path: Path
) -> None:
    good = rows()[:3]
    bad = [
        ["周一", teacher_id(6), "男", "", "9999999999", "教师", "", "", "", "", ""],
        ["周二", T1, "男", "", "2142010001", "教师", "", "", "", "", ""],
        ["周三", "", "男", "", "2142010001", "教师", "", "", "", "", ""],
    ]
    # enough good rows that three bad ones are set aside rather than the file refused
    lines = good + [[f"{r[0]}{i}", teacher_id(10 + i), *r[2:]] for i, r in enumerate(good * 2)]
    batch = run_import("teachers", write_csv(tmp_path / "c.csv", HEADER, lines + bad))

    assert (batch.status, batch.rows_created, batch.rows_set_aside) == ("done", 9, 3)
    reasons = {
        row.line: [(r["column"], r["reason"]) for r in row.reasons]
        for row in SetAsideRow.objects.filter(batch=batch)
    }
    assert reasons == {
        11: [("学校标识码", "Unknown school code; import the school list first.")],
        12: [("身份证号", "This ID number appears more than once in the file.")],
        13: [("身份证号", str(ERROR_MESSAGES["required"]))],
    }
    assert not Teacher.objects.filter(name__startswith="周").exists()


def test_a_salary_card_is_sealed_and_its_change_recorded_without_the_number(
    county: County, tmp_path: Path
) -> None:
    """The card the rural teacher living allowance is paid to (II.3.4): sealed, masked, keyed."""
    header = [*HEADER, "开户银行", "工资卡号"]
    first = [[*rows()[0], "农业银行", "6228480012345670001"]]
    run_import("teachers", write_csv(tmp_path / "a.csv", header, first))
    wang = Teacher.objects.get(name="王芳")
    assert unseal(wang, prefix="bank", purpose="bank") == "6228480012345670001"
    assert wang.bank_masked.endswith("0001") and "62284800123" not in wang.bank_masked
    assert wang.bank_name == "农业银行"
    moved = [[*rows()[0], "农业银行", "6228480012345679999"]]
    batch = run_import("teachers", write_csv(tmp_path / "b.csv", header, moved))
    assert batch.rows_updated == 1
    (change,) = ImportChange.objects.filter(batch=batch)
    assert change.changes == {"bank_account": ["***", "***"]}
    assert "6228480012345679999" not in str(change.changes)

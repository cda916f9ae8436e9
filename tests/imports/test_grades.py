"""Grades as the national rolls write them, the kind of a school taken from the rolls, and the
township proposed from a school's name (pure functions of schools/derive.py)."""

from __future__ import annotations

import pytest

from jingzhun.schools.derive import parse_grade, propose_township, school_kind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("小班", ("preschool", 1)),
        ("中班", ("preschool", 2)),
        ("大班", ("preschool", 3)),
        ("学前班", ("preschool", 3)),
        ("一年级", ("primary", 1)),
        ("六年级", ("primary", 6)),
        ("3年级", ("primary", 3)),
        ("七年级", ("junior", 1)),
        ("九年级", ("junior", 3)),
        ("初一", ("junior", 1)),
        ("初三", ("junior", 3)),
        ("初中二年级", ("junior", 2)),
        ("高一", ("senior", 1)),
        ("高二", ("senior", 2)),
        ("高中三年级", ("senior", 3)),
        ("中职一年级", ("vocational", 1)),
        ("中职二年级", ("vocational", 2)),
        ("中职2年级", ("vocational", 2)),
        ("职高三年级", ("vocational", 3)),
        ("中职四", ("vocational", 4)),
        ("大一", ("university", 1)),
        ("大五", ("university", 5)),
        ("研一", ("university", 5)),
        ("研三", ("university", 7)),
        (" 高 二 ", ("senior", 2)),
        ("初\u3000一", ("junior", 1)),
    ],
)
def test_text_grades_carry_their_stage(text: str, expected: tuple[str, int]) -> None:
    assert parse_grade(text) == expected


@pytest.mark.parametrize(
    ("text", "stage", "expected"),
    [
        ("3", "primary", ("primary", 3)),
        ("1", "junior", ("junior", 1)),
        ("2", "senior", ("senior", 2)),
        (" 2 ", "vocational", ("vocational", 2)),
        # N年级 beside a stage that says otherwise: the stage wins for grades 1-4.
        ("一年级", "junior", ("junior", 1)),
        ("二年级", "university", ("university", 2)),
        ("三年级", "preschool", ("preschool", 3)),
        # A text grade ignores a stage beside it.
        ("初二", "primary", ("junior", 2)),
        ("小班", "primary", ("preschool", 1)),
    ],
)
def test_grades_with_a_stage(text: str, stage: str, expected: tuple[str, int]) -> None:
    assert parse_grade(text, stage) == expected


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        (None, None),
        (None, "primary"),
        ("", None),
        ("3", None),  # a plain number needs the stage
        ("0", "primary"),
        ("10", "primary"),
        ("十年级", None),
        ("初四", None),
        ("高四", None),
        ("中职五年级", None),
        ("研六", None),  # 研六 would be the tenth year of university study
        ("一班", None),
        ("三年级二班", None),
        ("高二上", None),
        ("grade 3", None),
        ("特大班", None),
    ],
)
def test_unknown_grades_give_none(text: str | None, stage: str | None) -> None:
    assert parse_grade(text, stage) is None


@pytest.mark.parametrize(
    ("stages", "name", "kind"),
    [
        ({"primary"}, "甲镇中心小学", "primary"),
        (set(), "甲镇某学校", "primary"),
        ({"junior"}, "乙乡中学", "junior_high"),
        ({"primary", "junior"}, "丙镇学校", "nine_year"),
        ({"junior", "senior"}, "县第一中学", "complete_secondary"),
        ({"primary", "junior", "senior"}, "县实验学校", "complete_secondary"),
        ({"senior"}, "县第二中学", "general_high"),
        ({"vocational"}, "县第三中学", "vocational"),
        ({"senior"}, "县职业技术学校", "vocational"),
        ({"senior"}, "县职校", "vocational"),
        ({"preschool"}, "甲镇中心学校", "kindergarten"),
        ({"preschool", "primary"}, "甲镇中心幼儿园", "kindergarten"),
        ({"preschool", "primary"}, "甲镇中心小学", "primary"),
        ({"primary", "junior"}, "县特殊教育学校", "special"),
        ({"primary"}, "县特教中心", "special"),
        ({"primary"}, "县培智学校", "special"),
        ({"primary"}, "甲村教学点", "teaching_point"),
        ({"preschool"}, "甲村教学点", "teaching_point"),
        ({"university"}, "省城大学", "university"),
    ],
)
def test_school_kind(stages: set[str], name: str, kind: str) -> None:
    assert school_kind(stages, name) == kind


TOWNS = [(1, "青山镇"), (2, "白水乡"), (3, "城关街道"), (4, "王乡")]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("青山镇中心小学", 1),
        ("青山小学", 1),  # the stem of 青山镇
        ("白水乡中学", 2),
        ("白水初级中学", 2),
        ("城关街道第一小学", 3),
        ("城关小学", 3),
        ("王乡小学", 4),
        ("王家小学", None),  # 王乡's stem would be one character: not used
        ("县第一中学", None),
        ("", None),
    ],
)
def test_propose_township(name: str, expected: int | None) -> None:
    assert propose_township(name, TOWNS) == expected


def test_propose_township_longest_name_wins() -> None:
    towns = [(1, "青山镇"), (2, "大青山乡")]
    assert propose_township("大青山乡小学", towns) == 2
    assert propose_township("大青山小学", towns) == 2
    assert propose_township("青山镇小学", towns) == 1


def test_propose_township_tie_proposes_nothing() -> None:
    assert propose_township("青山小学", [(1, "青山镇"), (2, "青山乡")]) is None
    assert propose_township("东山西河联办小学", [(1, "东山镇"), (2, "西河乡")]) is None
    # The full name breaks the tie of the stems.
    assert propose_township("青山乡中心小学", [(1, "青山镇"), (2, "青山乡")]) == 2


def test_propose_township_without_townships() -> None:
    assert propose_township("青山镇中心小学", []) is None

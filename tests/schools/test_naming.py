"""A class has one name: the same numbering on screen, in Excel and in PDFs."""

from __future__ import annotations

from django.utils import translation

from jingzhun.schools.naming import class_name, class_name_zh


def test_chinese_names_count_grades_from_primary_one() -> None:
    assert class_name_zh("primary", 3, "1班") == "三年级1班"
    assert class_name_zh("junior", 2, "9班") == "八年级9班"
    assert class_name_zh("senior", 1, "3班") == "高一3班"
    assert class_name_zh("vocational", 2, "1班") == "中职二年级1班"
    assert class_name_zh("preschool", None, "大班") == "大班"
    assert class_name_zh("junior", 2, "") == ""


def test_screen_name_follows_the_language_with_the_same_numbers() -> None:
    with translation.override("zh-hans"):
        assert class_name("junior", 2, "9班") == "八年级9班"
    with translation.override("en"):
        assert class_name("junior", 2, "9班") == "Grade 8, 9班"
        assert class_name("senior", 1, "3班") == "Senior 1, 3班"

"""The basic standard and the task book ship as data files, and a bad file is refused with an
error naming the item (or target) and the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jingzhun.projects.rulebook import (
    STANDARD_FILE,
    TASK_BOOK_FILE,
    RulesFileError,
    load_standard,
    load_task_book,
    shipped_source,
)

GOOD = """\
name: test_standard
valid_from: 2016-01-01
items:
  - id: safe_buildings
    clause: II.2.3
    basis: 教基一〔2013〕10号
    zh: 校舍安全
    en: Safe buildings
    kinds: [primary]
"""


def test_the_shipped_standard_loads() -> None:
    spec = load_standard(shipped_source(STANDARD_FILE))

    assert spec.name == "basic_standard_2018"
    assert spec.valid_from == dt.date(2016, 1, 1)
    assert len(spec.items) == 15
    beds = next(i for i in spec.items if i.code == "bed_per_boarder")
    assert beds.boarding_only is True
    assert "teaching_point" not in beds.kinds
    assert beds.text_zh.startswith("寄宿生一人一床位")


def test_a_good_file_loads() -> None:
    spec = load_standard(GOOD)

    assert [(i.code, i.clause, i.kinds, i.boarding_only) for i in spec.items] == [
        ("safe_buildings", "II.2.3", ("primary",), False)
    ]


def test_an_unknown_school_kind_names_the_item_and_the_field() -> None:
    with pytest.raises(RulesFileError) as caught:
        load_standard(GOOD.replace("[primary]", "[primary, highschool]"), source="mine.yaml")

    assert caught.value.errors == [
        "item safe_buildings: field kinds names an unknown school kind highschool"
    ]
    assert str(caught.value).startswith("mine.yaml: item safe_buildings")


def test_every_problem_is_listed_at_once() -> None:
    text = GOOD.replace("    en: Safe buildings\n", "").replace("II.2.3", "2.3") + (
        "  - id: safe_buildings\n    clause: II.2.3\n    basis: x\n    zh: x\n    en: x\n"
        "    kinds: [primary]\n    colour: red\n"
    )

    with pytest.raises(RulesFileError) as caught:
        load_standard(text)

    assert caught.value.errors == [
        "item safe_buildings: field en is missing",
        "item safe_buildings: field clause 2.3 is not like II.2.3",
        "item safe_buildings: unknown field colour",
        "item safe_buildings: field id is used twice",
    ]


def test_a_file_without_a_date_is_refused() -> None:
    with pytest.raises(RulesFileError) as caught:
        load_standard(GOOD.replace("valid_from: 2016-01-01\n", ""))

    assert caught.value.errors == [
        "the standard: field valid_from must be a date such as 2016-01-01"
    ]


def test_the_shipped_task_book_holds_the_plans_targets() -> None:
    targets = load_task_book(shipped_source(TASK_BOOK_FILE))

    assert [(t.id, t.clause, t.year, t.target) for t in targets] == [
        ("kindergartens_2016", "II.2.2", 2016, Decimal(3)),
        ("kindergartens_2017", "II.2.2", 2017, Decimal(2)),
        ("renovated_schools_2016", "II.2.3", 2016, Decimal(18)),
        ("renovated_schools_2017", "II.2.3", 2017, Decimal(15)),
        ("informatization_2016", "II.2.4", 2016, Decimal("2200000.00")),
        ("special_education_funds", "II.2.6", None, Decimal("6000.00")),
        ("care_centres", "II.2.6", None, Decimal(1)),
    ]


def test_a_task_book_amount_written_as_a_float_is_refused() -> None:
    text = shipped_source(TASK_BOOK_FILE).replace('"2200000.00"', "2200000.0")

    with pytest.raises(RulesFileError) as caught:
        load_task_book(text)

    assert caught.value.errors == [
        'target informatization_2016: field target must be an amount written as text, e.g. "6000.00"'
    ]

"""The assessment's weights file: the shipped one loads; a bad one names file, key and reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from jingzhun.oversight.assessment_rules import (
    INDICATOR_IDS,
    WeightsFileError,
    load_weights,
    weights_from_text,
)

GOOD = """
version: "t1"
year: 2018
valid_from: 2018-09-01
valid_until: 2019-08-31
indicators:
  - {id: aid_coverage, clause: I.1, school: 60, township: 50, scoring: proportional}
  - {id: training, clause: II.3.2, school: 40, township: 50, scoring: threshold, threshold: 90}
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(WeightsFileError) as info:
        weights_from_text(text, source="assessment-2018.yaml")
    assert str(info.value).startswith("assessment-2018.yaml: ")
    return info.value.errors


def test_the_shipped_file_weighs_every_indicator() -> None:
    weights = load_weights(2018)
    assert weights is not None
    assert (weights.version, weights.valid_from, weights.valid_until) == (
        "2018.1",
        dt.date(2018, 9, 1),
        dt.date(2019, 8, 31),
    )
    assert tuple(i.id for i in weights.indicators) == INDICATOR_IDS
    assert sum(i.school for i in weights.indicators) == 100
    assert sum(i.township for i in weights.indicators) == 100
    assert weights.of("identification").school == 0  # type: ignore[union-attr]


def test_scoring_proportional_and_threshold() -> None:
    weights = weights_from_text(GOOD, source="x.yaml")
    aid, training = weights.indicators
    assert aid.points("school", Decimal("0.5")) == Decimal("30.0")
    assert training.points("township", Decimal("0.9")) == Decimal(50)
    assert training.points("township", Decimal("0.89")) == Decimal(0)


def test_every_problem_is_named() -> None:
    text = """
version: ""
year: 1999
valid_from: someday
colour: red
indicators:
  - {id: aid_coverage, clause: I.1, school: 60, township: -1}
  - {id: aid_coverage, clause: x, school: 1, township: 1, scoring: fancy}
  - {id: happiness, clause: I.1, school: 1, township: 1}
  - {id: training, clause: II.3.2, school: 1, township: 1, scoring: threshold}
  - {id: dropout_cases, clause: III.1, school: 1, township: 1, weight: 3}
"""
    assert errors_of(text) == [
        "unknown key colour",
        "version: missing",
        "year: must be a school year's first year, like 2018",
        "valid_from: missing or not a date like 2018-09-01",
        "indicators[0] (aid_coverage).township: the weight must be a number from 0 to 100",
        "indicators[1] (aid_coverage).id: weighed twice",
        "indicators[1] (aid_coverage).clause: missing or not a clause like III.1",
        "indicators[1] (aid_coverage).scoring: must be one of proportional, threshold",
        "indicators[2] (happiness).id: not an indicator the platform computes (one of "
        + ", ".join(INDICATOR_IDS)
        + ")",
        "indicators[3] (training).threshold: threshold scoring needs a percentage from 0 to 100",
        "indicators[4]: unknown key weight",
    ]


def test_weights_that_add_up_to_nothing_are_refused() -> None:
    text = GOOD.replace("school: 60", "school: 0").replace("school: 40", "school: 0")
    assert errors_of(text) == ["indicators: no indicator has a weight for school"]


def test_not_yaml_and_not_a_mapping() -> None:
    assert errors_of("a: [")[0].startswith("not valid YAML")
    assert errors_of(GOOD.replace("2018-09-01", "2018-13-01")) == [
        "not valid YAML: month must be in 1..12"
    ]
    assert errors_of("- 1") == ["the file must be a mapping with version, year and indicators"]


def test_a_later_year_keeps_the_last_weights_while_they_hold(tmp_path: Path) -> None:
    (tmp_path / "assessment-2018.yaml").write_text(GOOD, encoding="utf-8")
    assert load_weights(2017, directory=tmp_path) is None
    assert load_weights(2018, directory=tmp_path) is not None
    assert load_weights(2019, directory=tmp_path) is None  # valid until 2019-08-31
    (tmp_path / "assessment-2018.yaml").write_text(
        GOOD.replace("valid_until: 2019-08-31\n", ""), encoding="utf-8"
    )
    assert load_weights(2020, directory=tmp_path).version == "t1"  # type: ignore[union-attr]


def test_a_file_must_name_its_own_year(tmp_path: Path) -> None:
    (tmp_path / "assessment-2019.yaml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(WeightsFileError) as info:
        load_weights(2019, directory=tmp_path)
    assert info.value.errors == ["year: 2018 does not match the file's name"]

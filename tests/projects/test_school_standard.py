"""The checklist rule: which items apply to a school, not-applicable answers, the latest survey
wins, and edits of the standard make new versions."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from tests.projects.helpers import (
    BOARDING_PRIMARY,
    DAY_SCHOOL,
    NA,
    NOT_MET,
    ON,
    load_standard,
    survey,
)

from conftest import County, Personas
from jingzhun.core.models import AuditEvent
from jingzhun.projects.models import StandardVersion, Survey
from jingzhun.projects.selectors import NOT_SURVEYED, school_standard, standard_items
from jingzhun.projects.services import (
    Answer,
    standard_item_update,
    standard_item_withdraw,
    standard_load_shipped,
    survey_create,
)
from jingzhun.schools.models import School


def _row(rows: list, school: School):  # type: ignore[no-untyped-def]
    return next(r for r in rows if r.school_id == school.pk)


def test_applicable_items_follow_kind_and_boarding(county: County, personas: Personas) -> None:
    load_standard()
    point = School.objects.create(
        code="2142010003", name="甲村教学点", kind="teaching_point", township=county.township_a
    )
    School.objects.create(
        code="2142010004", name="甲镇幼儿园", kind="kindergarten", township=county.township_a
    )

    rows = school_standard(personas.county_officer, on=ON)

    # the kindergarten is not measured; the teaching point has its own informatization item
    assert [(r.school_name, r.applicable) for r in rows] == [
        ("甲镇中心小学", 14),
        ("甲村教学点", 11),
        ("乙乡中学", 12),
    ]
    point_gaps = [g.item_code for g in _row(rows, point).gaps]
    assert "digital_resources_point" in point_gaps
    assert "multimedia_classrooms" not in point_gaps
    assert "lab_equipment" not in point_gaps
    # the day school is not asked for beds or a canteen
    assert {g.item_code for g in _row(rows, county.school_b).gaps} == set(DAY_SCHOOL)


def test_a_school_never_surveyed_does_not_reach(county: County, personas: Personas) -> None:
    load_standard()

    row = _row(school_standard(personas.county_officer, on=ON), county.school_a)

    assert row.surveyed_on is None
    assert row.reached is False
    assert {(g.item_code, g.status) for g in row.gaps} == {
        (c, NOT_SURVEYED) for c in BOARDING_PRIMARY
    }


def test_every_applicable_item_met_or_not_applicable_reaches(
    county: County, personas: Personas
) -> None:
    load_standard()
    survey(personas.county_officer, county.school_a, dt.date(2018, 5, 1), na=["canteen"])

    row = _row(school_standard(personas.county_officer, on=ON), county.school_a)

    assert (row.surveyed_on, row.applicable, row.met, row.gaps, row.reached) == (
        dt.date(2018, 5, 1),
        14,
        14,
        [],
        True,
    )


def test_one_item_not_met_is_a_gap(county: County, personas: Personas) -> None:
    load_standard()
    survey(personas.county_officer, county.school_a, dt.date(2018, 5, 1), not_met=["toilets"])

    row = _row(school_standard(personas.county_officer, on=ON), county.school_a)

    assert row.reached is False
    assert [(g.item_code, g.status, g.project_id) for g in row.gaps] == [("toilets", NOT_MET, None)]
    assert row.gaps[0].wording == "Enough clean toilets, separate for boys and girls"


def test_an_item_missing_from_the_survey_is_a_gap(county: County, personas: Personas) -> None:
    load_standard()
    items = [c for c in BOARDING_PRIMARY if c != "broadband"]
    survey(personas.county_officer, county.school_a, dt.date(2018, 5, 1), items=items)

    row = _row(school_standard(personas.county_officer, on=ON), county.school_a)

    assert [(g.item_code, g.status) for g in row.gaps] == [("broadband", NOT_SURVEYED)]


def test_the_latest_survey_by_the_date_wins(county: County, personas: Personas) -> None:
    load_standard()
    officer = personas.county_officer
    survey(officer, county.school_a, dt.date(2018, 3, 1), not_met=["toilets"])
    survey(officer, county.school_a, dt.date(2018, 6, 1))
    survey(officer, county.school_a, dt.date(2018, 12, 1), not_met=["canteen"])

    def gaps(on: dt.date) -> list[str]:
        return [g.item_code for g in _row(school_standard(officer, on=on), county.school_a).gaps]

    assert gaps(dt.date(2018, 4, 1)) == ["toilets"]
    assert gaps(ON) == []
    assert gaps(dt.date(2019, 1, 1)) == ["canteen"]


def test_a_later_survey_on_the_same_day_wins(county: County, personas: Personas) -> None:
    load_standard()
    officer = personas.county_officer
    survey(officer, county.school_a, dt.date(2018, 6, 1), not_met=["toilets"])
    survey(officer, county.school_a, dt.date(2018, 6, 1))

    assert _row(school_standard(officer, on=ON), county.school_a).reached is True


def test_a_survey_with_an_unknown_item_is_refused(county: County, personas: Personas) -> None:
    load_standard()

    with pytest.raises(ValidationError):
        survey(personas.county_officer, county.school_a, ON, items=["safe_buildings", "pool"])

    assert not Survey.objects.exists()
    assert not AuditEvent.objects.filter(action="survey.create").exists()


def test_loading_the_shipped_standard_twice_changes_nothing(db: None) -> None:
    first, created = standard_load_shipped()
    again, created_again = standard_load_shipped()

    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert StandardVersion.objects.count() == 1
    assert first.items.count() == 15


def test_an_edit_makes_a_new_version_from_its_date(county: County, personas: Personas) -> None:
    load_standard()
    officer = personas.county_officer
    survey(officer, county.school_b, dt.date(2018, 5, 1), items=DAY_SCHOOL)

    # given the county extends the canteen item to day schools from 2019
    version = standard_item_update(
        actor=officer,
        code="canteen",
        valid_from=dt.date(2019, 1, 1),
        boarding_only=False,
        note="县教育局决定:走读学校也须有食堂",
    )

    assert version.number == 2
    assert [i.code for i in standard_items(user=officer, on=dt.date(2019, 1, 1))] == [
        i.code for i in standard_items(user=officer, on=ON)
    ]
    assert _row(school_standard(officer, on=ON), county.school_b).reached is True
    later = _row(school_standard(officer, on=dt.date(2019, 2, 1)), county.school_b)
    assert [(g.item_code, g.status) for g in later.gaps] == [("canteen", NOT_SURVEYED)]
    assert AuditEvent.objects.filter(action="standard_item.update").count() == 1


def test_a_withdrawn_item_no_longer_applies(county: County, personas: Personas) -> None:
    load_standard()
    officer = personas.county_officer
    survey(officer, county.school_a, dt.date(2018, 5, 1), not_met=["security"])

    standard_item_withdraw(actor=officer, code="security", valid_from=dt.date(2019, 1, 1), note="")

    assert _row(school_standard(officer, on=ON), county.school_a).reached is False
    assert _row(school_standard(officer, on=dt.date(2019, 1, 1)), county.school_a).reached is True


def test_an_edit_that_breaks_the_standard_is_refused(county: County, personas: Personas) -> None:
    load_standard()

    with pytest.raises(ValidationError) as caught:
        standard_item_update(
            actor=personas.county_officer,
            code="canteen",
            valid_from=dt.date(2019, 1, 1),
            kinds=["canteen_school"],
            note="",
        )

    assert caught.value.messages == [
        "item canteen: field kinds names an unknown school kind canteen_school"
    ]
    assert StandardVersion.objects.count() == 1


@pytest.mark.parametrize("who", ["principal_a", "township_a", "nobody"])
def test_only_the_county_edits_the_standard(county: County, personas: Personas, who: str) -> None:
    load_standard()

    with pytest.raises(PermissionDenied):
        standard_item_withdraw(
            actor=getattr(personas, who), code="security", valid_from=dt.date(2019, 1, 1), note=""
        )

    assert StandardVersion.objects.count() == 1


def test_not_applicable_needs_a_reason(county: County, personas: Personas) -> None:
    load_standard()

    with pytest.raises(ValidationError) as caught:
        survey_create(
            actor=personas.county_officer,
            school=county.school_a,
            surveyed_on=ON,
            answers=[Answer("canteen", NA), Answer("toilets", NA, note="新建中")],
        )

    assert caught.value.message_dict == {"answers": ["Say why these items do not apply: canteen"]}
    assert not Survey.objects.exists()


def test_the_command_loads_the_shipped_standard_once(db: None) -> None:
    out = io.StringIO()

    call_command("load_basic_standard", stdout=out)
    call_command("load_basic_standard", stdout=out)

    assert out.getvalue().splitlines() == [
        "Loaded basic_standard_2018.yaml as version 1: 15 items.",
        "basic_standard_2018.yaml is already version 1: nothing changed.",
    ]
    assert AuditEvent.objects.filter(action="standard_version.load").count() == 1


def test_the_command_refuses_a_bad_file(db: None, tmp_path: Path) -> None:
    bad = tmp_path / "mine.yaml"
    bad.write_text("name: x\nvalid_from: 2016-01-01\nitems:\n  - id: x1\n", encoding="utf-8")

    with pytest.raises(CommandError) as caught:
        call_command("load_basic_standard", file=str(bad))

    assert str(caught.value).splitlines()[0] == "mine.yaml: item x1: field clause is missing"
    assert not StandardVersion.objects.exists()

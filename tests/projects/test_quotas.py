"""Quotas (II.2.5): the share of the quality high schools' places taken by children of poor
villages and townships, counted from the rolls; and the county naming its quality schools
through a preview and a confirmation."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from conftest import County, Personas
from jingzhun.core.audit import AuditEvent
from jingzhun.core.sensitive import seal
from jingzhun.identification.models import IdentificationRun, Link
from jingzhun.projects.models import QualityHighSchool
from jingzhun.projects.selectors import quotas
from jingzhun.projects.services import quality_high_schools_set
from jingzhun.registry.models import Area, Household, Person
from jingzhun.schools.models import Enrolment, School, Stage, Student

YEAR = 2018


def _school(county: County, code: str, name: str, kind: str = "general_high") -> School:
    return School.objects.create(code=code, name=name, kind=kind, township=county.township_a)


def _child(
    county: County, n: int, household: Household | None, school: School, grade: int
) -> Student:
    """A child with (or, without a household, not linked to) a registry record, in senior
    grade ``grade`` of ``school`` in the school year."""
    number = f"4201012002010{n:04d}1"
    person = None
    if household is not None:
        person = Person.objects.create(
            household=household,
            name=f"学生{n}",
            sex="M",
            birth_date=dt.date(2002, 1, 1),
            relation="之子",
            **seal(number, prefix="id", purpose="id"),
        )
    student = Student.objects.create(
        county_code="420101",
        **seal(f"G{number}", prefix="roll", purpose="roll"),
        name=f"学生{n}",
        sex="M",
        birth_date=dt.date(2002, 1, 1),
        id_status="valid",
        **seal(number, prefix="id", purpose="id"),
    )
    if person is not None:
        Link.objects.create(person=person, student=student, method="exact", run=_run())
    Enrolment.objects.create(
        student=student, school=school, school_year=YEAR, stage=Stage.SENIOR, grade=grade
    )
    return student


def _run() -> IdentificationRun:
    run = IdentificationRun.objects.filter(county_code="420101").first()
    return run or IdentificationRun.objects.create(
        county_code="420101",
        as_of=dt.date(2018, 10, 8),
        school_year=YEAR,
        status="done",
        inputs_hash="0" * 64,
        counts={},
    )


@pytest.fixture
def places(county: County, personas: Personas) -> dict[str, Any]:
    """Quality school H (named), school O (not named). In H's first year: a child of a poor
    village of township A, a child on the roll the registry does not know, a child of a
    registered-poor family in a village of township B that is not poor; in H's second year a
    child of township B's poor village; a child of township A's poor village in O."""
    h = _school(county, "3342010001", "测试县第一中学")
    o = _school(county, "3342010002", "测试县第二中学")
    village_c = Area.objects.create(
        code="420101002009", name="丙村", level="village", parent=county.township_b
    )
    household_c = Household.objects.create(
        household_no="4201010020090001", village=village_c, registration_year=2016
    )
    _child(county, 1, county.household_a, h, 1)
    _child(county, 2, None, h, 1)
    _child(county, 3, household_c, h, 1)
    _child(county, 4, county.household_b, h, 2)
    _child(county, 5, county.household_a, o, 1)
    quality_high_schools_set(actor=personas.county_officer, schools=[h], on=dt.date(2018, 9, 1))
    return {"h": h, "o": o, "household_c": household_c}


def test_the_county_counts_each_quality_schools_places_and_the_poor_areas_share(
    personas: Personas, places: dict[str, Any]
) -> None:
    # when
    result = quotas(personas.county_officer, school_year=YEAR)
    # then: only H is counted; of its 3 first-year places 1 is a poor village's child
    assert [line.code for line in result.schools] == ["3342010001"]
    line = result.schools[0]
    assert (line.intake.places, line.intake.poor_area, line.intake.poor_family) == (3, 1, 2)
    assert (line.students.places, line.students.poor_area) == (4, 2)
    assert result.intake.share == pytest.approx(1 / 3)
    assert [(o.code, o.intake, o.students) for o in result.origins] == [
        ("420101001", 1, 1),
        ("420101002", 0, 1),
    ]
    # a year with no rolls has places of none
    empty = quotas(personas.county_officer, school_year=YEAR - 1)
    assert empty.intake.places == 0 and empty.intake.share is None


def test_a_poor_township_makes_its_villages_children_count(
    county: County, personas: Personas, places: dict[str, Any]
) -> None:
    # given: township B is a poor township (its village 丙村 is not a poor village)
    Area.objects.filter(pk=county.township_b.pk).update(is_poor=True)
    # when
    line = quotas(personas.county_officer, school_year=YEAR).schools[0]
    # then: the child of 丙村 now counts
    assert (line.intake.places, line.intake.poor_area) == (3, 2)


def test_a_family_that_left_poverty_still_comes_from_a_poor_village(
    county: County, personas: Personas, places: dict[str, Any]
) -> None:
    Household.objects.filter(pk=county.household_a.pk).update(status="left_poverty")
    line = quotas(personas.county_officer, school_year=YEAR).schools[0]
    assert (line.intake.poor_area, line.intake.poor_family) == (1, 1)


def test_a_township_sees_every_schools_places_and_only_its_own_children(
    personas: Personas, places: dict[str, Any]
) -> None:
    a = quotas(personas.township_a, school_year=YEAR)
    b = quotas(personas.township_b, school_year=YEAR)
    assert a.schools[0].intake.places == b.schools[0].intake.places == 3
    assert (a.schools[0].intake.poor_area, a.schools[0].students.poor_area) == (1, 1)
    assert (b.schools[0].intake.poor_area, b.schools[0].students.poor_area) == (0, 1)
    assert [o.code for o in a.origins] == ["420101001"]
    assert [o.code for o in b.origins] == ["420101002"]
    # a school's users see their school only if it is a quality one; a class teacher nothing
    assert quotas(personas.principal_a, school_year=YEAR).schools == []
    assert quotas(personas.teacher_a, school_year=YEAR).schools == []


def test_naming_quality_schools_previews_then_saves_with_an_audit_event(
    county: County, personas: Personas, places: dict[str, Any]
) -> None:
    officer = personas.county_officer
    before = AuditEvent.objects.count()
    # when: a preview of swapping H for O
    change = quality_high_schools_set(
        actor=officer, schools=[places["o"]], on=dt.date(2018, 10, 1), dry_run=True
    )
    # then: it says what would change and changes nothing
    assert [s.code for s in change.added] == ["3342010002"]
    assert [s.code for s in change.removed] == ["3342010001"]
    assert list(QualityHighSchool.objects.values_list("school__code", flat=True)) == ["3342010001"]
    assert AuditEvent.objects.count() == before
    # when: confirmed
    quality_high_schools_set(actor=officer, schools=[places["o"]], on=dt.date(2018, 10, 1))
    # then
    assert list(QualityHighSchool.objects.values_list("school__code", flat=True)) == ["3342010002"]
    event = AuditEvent.objects.order_by("-id").first()
    assert event is not None and event.action == "quality_high_schools.set"
    assert quotas(officer, school_year=YEAR).intake.poor_area == 1  # O's one child
    # the same list again changes nothing and records nothing
    again = quality_high_schools_set(actor=officer, schools=[places["o"]], on=dt.date(2018, 10, 2))
    assert again.empty and AuditEvent.objects.count() == before + 1


def test_only_the_county_names_quality_schools_and_only_high_schools(
    county: County, personas: Personas, places: dict[str, Any]
) -> None:
    for user in (personas.township_a, personas.principal_a, personas.bureau_leader):
        with pytest.raises(PermissionDenied):
            quality_high_schools_set(actor=user, schools=[places["o"]], on=dt.date(2018, 10, 1))
    with pytest.raises(ValidationError, match="no high-school places"):
        quality_high_schools_set(
            actor=personas.county_officer, schools=[county.school_a], on=dt.date(2018, 10, 1)
        )
    assert list(QualityHighSchool.objects.values_list("school__code", flat=True)) == ["3342010001"]


def _text(response: Any) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_page_and_its_download_show_the_same_figures(
    personas: Personas, places: dict[str, Any]
) -> None:
    client = Client()
    client.force_login(personas.county_officer)
    page = client.get(f"/projects/quotas/?year={YEAR}")
    assert page.status_code == 200
    body = _text(page)
    assert "测试县第一中学" in body and "测试县第二中学" not in body
    assert "33.3%" in body
    export = client.get(f"/projects/quotas.xlsx?year={YEAR}")
    book = openpyxl.load_workbook(io.BytesIO(export.content), read_only=True)
    rows = [r for r in book.worksheets[0].iter_rows(min_row=3, values_only=True)]
    assert rows[0][:8] == ("3342010001", "测试县第一中学", "甲镇", "2018-09-01", 3, 1, 0.3333, 2)
    assert rows[-1][1] == "合计" and rows[-1][4] == 3
    origins = [r for r in book.worksheets[1].iter_rows(min_row=3, values_only=True)]
    assert origins == [("420101001", "甲镇", 1, 1), ("420101002", "乙乡", 0, 1)]


def test_the_list_is_changed_on_the_page_only_after_a_confirmation(
    personas: Personas, places: dict[str, Any]
) -> None:
    client = Client()
    client.force_login(personas.county_officer)
    form = client.get("/projects/quotas/schools/")
    assert "测试县第二中学" in _text(form) and "甲镇中心小学" not in _text(form)
    # when: both ticked
    both = [str(places["h"].pk), str(places["o"].pk)]
    preview = client.post("/projects/quotas/schools/", {"school": both})
    # then: a preview naming O, nothing saved
    assert preview.status_code == 200 and "测试县第二中学" in _text(preview)
    assert QualityHighSchool.objects.count() == 1
    # when: confirmed
    done = client.post("/projects/quotas/schools/", {"school": both, "confirm": "1"})
    assert done.status_code == 302
    assert QualityHighSchool.objects.count() == 2
    # a township officer gets the 403 page and changes nothing
    other = Client()
    other.force_login(personas.township_a)
    refused = other.post("/projects/quotas/schools/", {"school": [], "confirm": "1"})
    assert refused.status_code == 403 and QualityHighSchool.objects.count() == 2

"""Coverage I.2 on the hand-made county, and every read and write scoped to the user's
jurisdiction: a township officer sees their township's schools only; writes outside one's
jurisdiction are refused and change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from tests.projects.helpers import DAY_SCHOOL, ON, close_all, load_standard, project, survey

from conftest import County, Personas
from jingzhun.core.models import AuditEvent
from jingzhun.projects.models import Project, ProjectNode, Survey
from jingzhun.projects.selectors import (
    CoverageLine,
    project_list,
    project_nodes,
    school_standard,
    standard_coverage,
    survey_list,
    task_book,
)
from jingzhun.projects.services import project_node_close
from jingzhun.schools.models import School


def _poor_county(county: County) -> tuple[School, School]:
    """Put school B in township B's poor village and add a poor-village school to township A."""
    county.school_b.village = county.village_b
    county.school_b.in_poor_village = True
    county.school_b.save()
    point = School.objects.create(
        code="2142010003",
        name="甲村教学点",
        kind="teaching_point",
        township=county.township_a,
        village=county.village_a,
        in_poor_village=True,
    )
    # a school outside poor villages is not in the coverage
    School.objects.create(
        code="2142010005", name="甲镇二小", kind="primary", township=county.township_a
    )
    return county.school_b, point


def test_coverage_per_school_township_and_county(county: County, personas: Personas) -> None:
    load_standard()
    officer = personas.county_officer
    school_b, point = _poor_county(county)
    survey(officer, county.school_a, dt.date(2018, 5, 1))  # reaches
    survey(officer, school_b, dt.date(2018, 5, 1), items=DAY_SCHOOL, not_met=["library_books"])
    # the teaching point is never surveyed
    renovation = project(
        officer,
        Project.Kind.RENOVATION,
        school=school_b,
        plan_year=2018,
        items=["library_books"],
        start=dt.date(2018, 6, 1),
    )

    report = standard_coverage(officer, on=ON)

    assert [
        (r.school_name, r.reached, [g.item_code for g in r.gaps][:1]) for r in report.schools
    ] == [
        ("甲镇中心小学", True, []),
        ("甲村教学点", False, ["safe_buildings"]),
        ("乙乡中学", False, ["library_books"]),
    ]
    gap = report.schools[2].gaps[0]
    assert (gap.project_id, gap.project_name, gap.due_on) == (
        renovation.pk,
        "renovation 2018",
        dt.date(2018, 10, 29),
    )
    assert report.townships == [
        CoverageLine("420101001", "甲镇", 2, 1),
        CoverageLine("420101002", "乙乡", 1, 0),
    ]
    assert report.county == CoverageLine("420101", "测试县", 3, 1)
    assert report.county.share == pytest.approx(1 / 3)

    # when the renovation is accepted, school B reaches the standard
    close_all(officer, renovation)
    after = standard_coverage(officer, on=dt.date(2018, 11, 1))
    assert [line.reached for line in after.townships] == [1, 1]
    assert after.schools[2].gaps == []


def test_a_township_officer_sees_their_township_only(county: County, personas: Personas) -> None:
    load_standard()
    officer = personas.county_officer
    school_b, point = _poor_county(county)
    survey(officer, county.school_a, dt.date(2018, 5, 1))
    survey(officer, school_b, dt.date(2018, 5, 1), items=DAY_SCHOOL)
    close_all(officer, project(officer, Project.Kind.CARE_CENTRE, school=county.school_a))
    project(officer, Project.Kind.RENOVATION, school=school_b)

    town = personas.township_a

    assert [r.school_name for r in school_standard(town, on=ON)] == [
        "甲镇中心小学",
        "甲村教学点",
        "甲镇二小",
    ]
    report = standard_coverage(town, on=ON)
    assert report.townships == [CoverageLine("420101001", "甲镇", 2, 1)]
    assert [p.school for p in project_list(user=town)] == [county.school_a]
    assert {line.project_id for line in project_nodes(user=town, on=ON)} == {
        project_list(user=town).get().pk
    }
    assert [s.school for s in survey_list(user=town)] == [county.school_a]
    care = next(r for r in task_book(town, on=ON) if r.id == "care_centres")
    assert (care.target, care.done) == (1, 1)
    # township B's officer sees the other half
    assert [r.school_name for r in school_standard(personas.township_b, on=ON)] == ["乙乡中学"]


@pytest.mark.parametrize("who", ["teacher_a", "nobody"])
def test_no_jurisdiction_over_buildings_sees_nothing(
    county: County, personas: Personas, who: str
) -> None:
    load_standard()
    officer = personas.county_officer
    survey(officer, county.school_a, dt.date(2018, 5, 1))
    project(officer, Project.Kind.RENOVATION, school=county.school_a)
    user = getattr(personas, who)

    assert school_standard(user, on=ON) == []
    assert standard_coverage(user, on=ON).county is None
    assert task_book(user, on=ON) == []
    assert not project_list(user=user).exists()
    assert not survey_list(user=user).exists()


def test_a_principal_writes_for_their_school_only(county: County, personas: Personas) -> None:
    load_standard()
    principal = personas.principal_a
    survey(principal, county.school_a, dt.date(2018, 5, 1))
    events = AuditEvent.objects.count()

    with pytest.raises(PermissionDenied):
        survey(principal, county.school_b, dt.date(2018, 5, 1), items=DAY_SCHOOL)
    with pytest.raises(PermissionDenied):
        project(principal, Project.Kind.RENOVATION, school=county.school_b)
    with pytest.raises(PermissionDenied):
        project(principal, Project.Kind.KINDERGARTEN, village=county.village_a)

    assert [s.school for s in Survey.objects.all()] == [county.school_a]
    assert not Project.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_node_outside_the_jurisdiction_cannot_be_closed(
    county: County, personas: Personas
) -> None:
    load_standard()
    p = project(personas.county_officer, Project.Kind.RENOVATION, school=county.school_b)
    setup = p.nodes.get(kind=ProjectNode.Kind.SETUP)

    for who in ("principal_a", "township_b", "inspector"):
        with pytest.raises(PermissionDenied):
            project_node_close(
                actor=getattr(personas, who), node=setup, closed_on=ON, evidence_ref="x.pdf"
            )

    setup.refresh_from_db()
    assert (setup.closed_on, setup.closed_by, setup.evidence_ref) == (None, None, "")


def test_a_township_officer_may_not_write(county: County, personas: Personas) -> None:
    load_standard()

    with pytest.raises(PermissionDenied):
        survey(personas.township_a, county.school_a, dt.date(2018, 5, 1))

    assert not Survey.objects.exists()

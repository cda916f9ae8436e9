"""Projects: set-up with budget and time nodes, node flags (red in time, black overdue, late),
closing in order, and the acceptance (验收) writing a new survey."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from tests.projects.helpers import ON, close_all, load_standard, nodes, project, survey

from conftest import County, Personas
from jingzhun.core.models import AuditEvent
from jingzhun.projects.models import BudgetLine, Flag, Project, ProjectNode, Survey, SurveyAnswer
from jingzhun.projects.selectors import project_nodes, school_standard
from jingzhun.projects.services import project_node_close


def test_a_project_is_set_up_with_budget_and_nodes(county: County, personas: Personas) -> None:
    load_standard()

    p = project(
        personas.county_officer,
        Project.Kind.RENOVATION,
        school=county.school_a,
        items=["toilets", "canteen"],
        budget=[("central", "300000.00"), ("county", "50000.50")],
    )

    assert (p.township_code, p.in_poor_village, p.items) == (
        "420101001",
        True,
        ["canteen", "toilets"],
    )
    assert list(BudgetLine.objects.filter(project=p).values_list("source", "amount")) == [
        ("central", Decimal("300000.00")),
        ("county", Decimal("50000.50")),
    ]
    assert list(p.nodes.values_list("kind", "due_on")) == [
        ("setup", dt.date(2016, 3, 1)),
        ("approval", dt.date(2016, 3, 31)),
        ("tender", dt.date(2016, 4, 30)),
        ("works_start", dt.date(2016, 5, 30)),
        ("completion", dt.date(2016, 6, 29)),
        ("acceptance", dt.date(2016, 7, 29)),
    ]
    assert AuditEvent.objects.filter(action="project.create", object_id=str(p.pk)).count() == 1


def test_an_unknown_item_or_backward_dates_are_refused(county: County, personas: Personas) -> None:
    load_standard()
    officer = personas.county_officer

    with pytest.raises(ValidationError):
        project(officer, Project.Kind.RENOVATION, school=county.school_a, items=["swimming_pool"])
    backwards = nodes(dt.date(2016, 3, 1)) | {"acceptance": dt.date(2016, 1, 1)}
    with pytest.raises(ValidationError):
        project(officer, Project.Kind.RENOVATION, school=county.school_a, due=backwards)

    assert not Project.objects.exists()


def test_node_flags(county: County, personas: Personas) -> None:
    load_standard()
    officer = personas.county_officer
    p = project(officer, Project.Kind.RENOVATION, school=county.school_a)
    setup, approval, tender = p.nodes.order_by("position")[:3]
    # set-up closed on its due date (red), approval 5 days late, tender still open
    project_node_close(
        actor=officer, node=setup, closed_on=setup.due_on, evidence_ref="立项批复.pdf"
    )
    project_node_close(
        actor=officer,
        node=approval,
        closed_on=approval.due_on + dt.timedelta(days=5),
        evidence_ref="审批.pdf",
    )

    def flags(on: dt.date) -> list[str]:
        return [line.flag for line in project_nodes(user=officer, on=on)][:3]

    assert flags(tender.due_on) == [Flag.RED, Flag.LATE, Flag.OPEN]
    assert flags(tender.due_on + dt.timedelta(days=1)) == [Flag.RED, Flag.LATE, Flag.BLACK]
    # before the approval was closed it was open, then overdue
    assert flags(approval.due_on)[1] == Flag.OPEN
    assert flags(approval.due_on + dt.timedelta(days=1))[1] == Flag.BLACK
    closed = ProjectNode.objects.get(pk=approval.pk)
    assert (closed.closed_by, closed.evidence_ref) == (officer, "审批.pdf")


def test_nodes_close_in_order_and_once(county: County, personas: Personas) -> None:
    load_standard()
    officer = personas.county_officer
    p = project(officer, Project.Kind.RENOVATION, school=county.school_a)
    setup, approval = p.nodes.order_by("position")[:2]

    with pytest.raises(ValidationError):
        project_node_close(actor=officer, node=approval, closed_on=ON, evidence_ref="x.pdf")
    with pytest.raises(ValidationError):
        project_node_close(actor=officer, node=setup, closed_on=ON, evidence_ref=" ")
    project_node_close(actor=officer, node=setup, closed_on=ON, evidence_ref="x.pdf")
    with pytest.raises(ValidationError):
        project_node_close(actor=officer, node=setup, closed_on=ON, evidence_ref="y.pdf")

    assert list(p.nodes.filter(closed_on__isnull=False).values_list("kind", "evidence_ref")) == [
        ("setup", "x.pdf")
    ]


def test_acceptance_writes_a_survey_with_the_items_met(county: County, personas: Personas) -> None:
    load_standard()
    officer = personas.county_officer
    before = survey(
        officer, county.school_a, dt.date(2016, 1, 10), not_met=["toilets", "canteen", "broadband"]
    )
    p = project(
        officer, Project.Kind.RENOVATION, school=county.school_a, items=["toilets", "canteen"]
    )

    close_all(officer, p)

    accepted = Survey.objects.get(project=p)
    assert accepted.surveyed_on == dt.date(2016, 7, 29)
    answers = dict(accepted.answers.values_list("item_code", "status"))
    assert answers == dict(before.answers.values_list("item_code", "status")) | {
        "toilets": SurveyAnswer.Status.MET,
        "canteen": SurveyAnswer.Status.MET,
    }
    evidence = accepted.answers.get(item_code="toilets").evidence_ref
    assert AuditEvent.objects.filter(action="survey.accept", object_id=str(accepted.pk)).exists()
    assert evidence == f"scan/{p.pk}/acceptance.pdf"
    row = next(
        r
        for r in school_standard(officer, on=dt.date(2016, 8, 1))
        if r.school_id == county.school_a.pk
    )
    assert [g.item_code for g in row.gaps] == ["broadband"]
    # the day before acceptance the old survey still counts
    row = next(
        r
        for r in school_standard(officer, on=dt.date(2016, 7, 28))
        if r.school_id == county.school_a.pk
    )
    assert {g.item_code for g in row.gaps} == {"toilets", "canteen", "broadband"}


def test_an_open_project_is_named_against_the_gap_it_closes(
    county: County, personas: Personas
) -> None:
    load_standard()
    officer = personas.county_officer
    survey(officer, county.school_a, dt.date(2016, 1, 10), not_met=["toilets", "broadband"])
    p = project(officer, Project.Kind.RENOVATION, school=county.school_a, items=["toilets"])

    row = next(
        r
        for r in school_standard(officer, on=dt.date(2016, 5, 1))
        if r.school_id == county.school_a.pk
    )

    assert [(g.item_code, g.project_id, g.due_on) for g in row.gaps] == [
        ("toilets", p.pk, dt.date(2016, 7, 29)),
        ("broadband", None, None),
    ]

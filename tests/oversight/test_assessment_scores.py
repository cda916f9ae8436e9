"""The annual assessment's indicators and scores on the hand-made county, checked by hand.

The county (tests/conftest.py) is given, for school year 2018-2019:
- a third child in township B's household, aged 9 and on no roll (a suspected dropout);
- aid computed for autumn 2018, school A's entitlements approved, school B's pending;
- two aid payments to school A's child: one settled in the autumn semester, one after it;
- a dropout case in A closed in time, and the unenrolled child's case in B, open and overdue;
- a project at school A with its six nodes closed on time, one at school B with three;
- two teachers at school A (a poor-village school), one trained in 2018.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from tests.aid.world import approve_school, identify
from tests.conftest import County, Personas, make_user
from tests.oversight import test_inspections_world as inspections_world
from tests.projects.helpers import close_all, project
from tests.teachers.helpers import add_teacher

from jingzhun.accounts.roles import Role
from jingzhun.aid import services as aid_services
from jingzhun.aid.models import Entitlement
from jingzhun.aid.services import SOURCE
from jingzhun.core.sensitive import seal
from jingzhun.duty.models import DropoutCase
from jingzhun.funds.models import Payment, PaymentBatch
from jingzhun.oversight import services as oversight_services
from jingzhun.oversight.assessment import UnitScore, compute_assessment, rank_units
from jingzhun.projects.services import project_node_close
from jingzhun.registry.models import Person
from jingzhun.teachers.models import Training

TODAY = dt.date(2019, 6, 30)
ID_C = "420101200909090011"


def aware(day: dt.date) -> dt.datetime:
    """Return 10 o'clock of a day in the county's time zone."""
    return dt.datetime.combine(day, dt.time(10), tzinfo=timezone.get_default_timezone())


def payment(batch: PaymentBatch, county: County, n: int, settled: dt.date) -> Payment:
    """Record the bank's payment for the n-th of child A's autumn entitlements."""
    entitlement = Entitlement.objects.filter(student=county.student_a, semester="autumn").order_by(
        "pk"
    )[n - 1]
    account = seal("6228480012345678901", prefix="account", purpose="bank")
    return Payment.objects.create(
        batch=batch,
        source=f"{SOURCE}{entitlement.pk}",
        programme="boarding_subsidy",
        amount=Decimal("500.00"),
        payee_name="张大",
        beneficiary="张小明",
        reference=f"{batch.reference}-{n}",
        school=county.school_a,
        village_code=county.village_a.code,
        status=Payment.Status.PAID,
        settled_at=aware(settled),
        **account,
    )


def build(county: County, personas: Personas) -> County:
    Person.objects.create(
        household=county.household_b,
        name="李小军",
        sex="M",
        birth_date=dt.date(2009, 9, 9),
        relation="之子",
        **seal(ID_C, prefix="id", purpose="id"),
    )
    identify()
    aid_services.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )
    approve_school(personas, county)
    batch = PaymentBatch.objects.create(
        county_code="420101",
        purpose="aid",
        school_year=2018,
        semester="autumn",
        idempotency_key="t1",
        reference="B2018A1",
        status="reconciled",
        created_by=personas.aid_officer,
    )
    payment(batch, county, 1, dt.date(2018, 12, 20))
    payment(batch, county, 2, dt.date(2019, 3, 15))
    DropoutCase.objects.create(
        person=county.person_a,
        student=county.student_a,
        source="absence",
        reason="缺课",
        opened_on=dt.date(2018, 11, 5),
        village_code=county.village_a.code,
        school=county.school_a,
        school_class=county.class_a,
        last_step_on=dt.date(2018, 11, 20),
        status=DropoutCase.Status.CLOSED,
        closed_on=dt.date(2018, 11, 20),
        closed_late=False,
    )
    DropoutCase.objects.create(
        person=Person.objects.get(name="李小军"),
        source="identification",
        reason="未入学",
        opened_on=dt.date(2018, 10, 8),
        village_code=county.village_b.code,
        last_step_on=dt.date(2018, 10, 8),
    )
    a = project(
        personas.county_officer,
        "renovation",
        school=county.school_a,
        plan_year=2018,
        start=dt.date(2018, 10, 1),
    )
    close_all(personas.county_officer, a)
    b = project(
        personas.county_officer,
        "renovation",
        school=county.school_b,
        plan_year=2018,
        start=dt.date(2018, 10, 1),
    )
    for node in b.nodes.order_by("position")[:3]:
        project_node_close(
            actor=personas.county_officer, node=node, closed_on=node.due_on, evidence_ref="scan.pdf"
        )
    trained = add_teacher(county.school_a, 1)
    add_teacher(county.school_a, 2)
    Training.objects.create(
        teacher=trained,
        programme="国培计划",
        level=Training.Level.NATIONAL,
        started_on=dt.date(2018, 7, 1),
        ended_on=dt.date(2018, 7, 10),
        hours=40,
    )
    return county


@pytest.fixture
def world(county: County, personas: Personas) -> County:
    return build(county, personas)


def test_each_indicator_counts_what_the_records_say(world: County) -> None:
    # when
    result = compute_assessment(county_code="420101", year=2018, today=TODAY)
    # then
    got = {
        u.name: {k: (f.part, f.whole, f.state) for k, f in u.figures.items()}
        for u in result.townships + result.schools
    }
    na, ok = "not_applicable", "ok"
    assert got["甲镇"] == {
        "identification": (1, 1, ok),
        "aid_coverage": (1, 1, ok),
        "aid_timeliness": (1, 2, ok),
        "dropout_cases": (1, 1, ok),
        "responsibility": (1, 1, ok),
        "project_nodes": (6, 6, ok),
        "rectification": (0, 0, na),  # no finding was due
        "training": (1, 2, ok),
    }
    assert got["乙乡"] == {
        "identification": (1, 2, ok),  # the unenrolled child's place is not known
        "aid_coverage": (0, 1, ok),  # school B's entitlement is still pending
        "aid_timeliness": (0, 0, na),
        "dropout_cases": (0, 1, ok),  # open and overdue
        "responsibility": (0, 1, ok),  # class B has no class teacher's account
        "project_nodes": (3, 6, ok),
        "rectification": (0, 0, na),  # no finding was due
        "training": (0, 0, na),  # no poor-village school
    }
    assert got["甲镇中心小学"]["identification"] == (0, 0, na)
    assert got["乙乡中学"]["dropout_cases"] == (0, 0, na)  # the case has no school
    assert got["乙乡中学"]["aid_coverage"] == (0, 1, ok)


def test_scores_renormalise_over_the_indicators_that_apply(world: County) -> None:
    result = compute_assessment(county_code="420101", year=2018, today=TODAY)
    scores = {
        u.name: (u.score, u.weight_applied, u.rank) for u in result.townships + result.schools
    }
    # School A: 20 + 10x1/2 + 15 + 20 + 10 + 15x1/2 = 77.5 points of 90 applicable weight.
    assert scores["甲镇中心小学"] == (Decimal("86.1"), Decimal(90), 1)
    # School B: aid 0, chain 0, projects 10x3/6 = 5 points of 20 + 20 + 10 = 50.
    assert scores["乙乡中学"] == (Decimal("10.0"), Decimal(50), 2)
    # Township A: 15 + 15 + 5 + 15 + 15 + 10 + 5 = 80 of 90.
    assert scores["甲镇"] == (Decimal("88.9"), Decimal(90), 1)
    # Township B: 7.5 + 0 + 0 + 0 + 5 = 12.5 of 15 + 15 + 15 + 15 + 10 = 70.
    assert scores["乙乡"] == (Decimal("17.9"), Decimal(70), 2)


def test_no_rectification_due_is_not_applicable_never_zero(world: County) -> None:
    result = compute_assessment(county_code="420101", year=2018, today=TODAY)
    for unit in result.townships + result.schools:
        figure = unit.figures["rectification"]
        assert (figure.share, figure.percent, figure.state) == (None, None, "not_applicable")


def test_findings_rectified_count_those_closed_by_their_deadline(
    world: County, personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the inspector's plan, two findings at school A (one closed in time, one left open
    # past its deadline) and one at school B closed after its deadline
    monkeypatch.setattr(oversight_services, "_today", lambda: dt.date(2019, 6, 1))
    w = inspections_world.W(world, personas, *_plan(world, personas))
    principal_b = make_user("principal_b2", Role.PRINCIPAL, school=world.school_b)
    done = inspections_world.finding(w, deadline=dt.date(2018, 11, 30))
    inspections_world.finding(w, deadline=dt.date(2018, 12, 15), text="考勤记录不全")
    late = inspections_world.finding(w, w.visit_b, deadline=dt.date(2018, 11, 30))
    for f, who, closed in (
        (done, personas.principal_a, "2018-11-20"),
        (late, principal_b, "2019-01-10"),
    ):
        r = f.rectification
        oversight_services.rectification_note_add(
            actor=who, rectification=r, text="已补齐", happened_on=dt.date(2018, 11, 15)
        )
        oversight_services.rectification_close(
            actor=personas.inspector,
            rectification=r,
            closed_on=dt.date.fromisoformat(closed),
            note="现场核实",
        )
    # when the assessment is computed
    result = compute_assessment(county_code="420101", year=2018, today=TODAY)
    got = {u.name: u.figures["rectification"] for u in result.townships + result.schools}
    # then school A closed 1 of its 2 in time, school B none of 1; township A holds A's
    assert (got["甲镇中心小学"].part, got["甲镇中心小学"].whole) == (1, 2)
    assert (got["乙乡中学"].part, got["乙乡中学"].whole) == (0, 1)
    assert (got["甲镇"].part, got["甲镇"].whole) == (1, 2)


def _plan(county: County, personas: Personas) -> tuple[Any, Any, Any, Any]:
    plan = oversight_services.plan_create(
        actor=personas.inspector,
        year=2018,
        half="H2",
        title="2018年下半年督导检查",
        starts_on=dt.date(2018, 10, 8),
        ends_on=dt.date(2018, 12, 20),
        schools=[county.school_a, county.school_b],
        townships=[county.township_a],
    )
    visits = plan.visits.all()
    return (
        plan,
        visits.get(school=county.school_a),
        visits.get(school=county.school_b),
        visits.get(school__isnull=True),
    )


def test_ties_share_a_rank_and_no_score_no_rank() -> None:
    def unit(score: str | None) -> UnitScore:
        return UnitScore("school", 1, "", "", "", {}, Decimal(score) if score else None)

    units = [unit("80.0"), unit("90.0"), unit("80.0"), unit(None), unit("70.0")]
    rank_units(units)
    assert [u.rank for u in units] == [2, 1, 2, None, 4]


def test_nothing_computed_is_not_applicable_everywhere(county: County) -> None:
    result = compute_assessment(county_code="420101", year=2018, today=TODAY)
    assert [u.score for u in result.townships + result.schools] == [None] * 4
    assert {f.state for u in result.schools for f in u.figures.values()} == {"not_applicable"}

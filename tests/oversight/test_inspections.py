"""Services and selectors of the semiannual inspections: refusals by role, the reproducible
sample, flags, close-out rules and scoping (township A never sees township B)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from tests.aid.world import approve_school, identify
from tests.conftest import County, Personas
from tests.oversight.test_inspections_world import (
    VISITED,
    answers,
    build,
    finding,
    more_poor_students,
)

from jingzhun.aid import services as aid_services
from jingzhun.demo.oversight import build_oversight
from jingzhun.oversight import selectors, services
from jingzhun.oversight.models import (
    Finding,
    Flag,
    InspectionPlan,
    Rectification,
    RectificationEntry,
    SampleCheck,
    Visit,
)

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- plans


def test_plan_copies_the_checklist_and_makes_one_visit_per_place(
    county: County, personas: Personas
) -> None:
    w = build(county, personas, aid=False)
    assert w.plan.checklist_source == "inspection-checklist-2018.yaml"
    assert w.plan.item_ids()[0] == "aid_paid_noticed"
    assert len(w.plan.checklist) == 6
    assert w.plan.semester == (2018, "autumn")
    assert sorted(v.kind for v in w.plan.visits.all()) == ["school", "school", "township"]
    assert w.visit_b.township == county.township_b


@pytest.mark.parametrize(
    "persona", ["county_officer", "inspector"], ids=["county admin", "inspector"]
)
def test_county_inspectors_may_plan(county: County, personas: Personas, persona: str) -> None:
    plan = services.plan_create(
        actor=getattr(personas, persona),
        year=2026,
        half="H1",
        title="t",
        starts_on=dt.date(2026, 3, 1),
        ends_on=dt.date(2026, 6, 1),
        schools=[county.school_a],
    )
    assert plan.county_code == "420101"


@pytest.mark.parametrize(
    "persona", ["aid_officer", "bureau_leader", "township_a", "principal_a", "teacher_a", "nobody"]
)
def test_others_may_not_plan(county: County, personas: Personas, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        services.plan_create(
            actor=getattr(personas, persona),
            year=2026,
            half="H1",
            title="t",
            starts_on=dt.date(2026, 3, 1),
            ends_on=dt.date(2026, 6, 1),
            schools=[county.school_a],
        )
    assert InspectionPlan.objects.count() == 0


def test_a_second_plan_for_the_half_year_is_refused_and_nothing_is_rewritten(
    county: County, personas: Personas
) -> None:
    w = build(county, personas, aid=False)
    with pytest.raises(ValidationError) as exc:
        services.plan_create(
            actor=personas.inspector,
            year=2018,
            half="H2",
            title="另一个",
            starts_on=dt.date(2018, 9, 1),
            ends_on=dt.date(2018, 12, 1),
            schools=[county.school_b],
        )
    assert "half" in exc.value.error_dict
    assert InspectionPlan.objects.get().title == w.plan.title
    assert Visit.objects.count() == 3


def test_plan_dates_must_lie_in_the_half_year(county: County, personas: Personas) -> None:
    with pytest.raises(ValidationError) as exc:
        services.plan_create(
            actor=personas.inspector,
            year=2026,
            half="H2",
            title="t",
            starts_on=dt.date(2026, 6, 1),
            ends_on=dt.date(2026, 8, 1),
            schools=[county.school_a],
        )
    assert set(exc.value.error_dict) == {"starts_on"}


# --------------------------------------------------------------------------- visits


def test_visit_is_recorded_once_with_every_item(county: County, personas: Personas) -> None:
    w = build(county, personas, aid=False)
    with pytest.raises(ValidationError):
        services.visit_record(
            actor=personas.inspector,
            visit=w.visit_a,
            visited_on=VISITED,
            answers={"aid_paid_noticed": services.Answer("met")},
        )
    services.visit_record(
        actor=personas.inspector,
        visit=w.visit_a,
        visited_on=VISITED,
        answers=answers(attendance="not_met"),
    )
    w.visit_a.refresh_from_db()
    assert w.visit_a.status == "done"
    assert w.visit_a.answers.get(item_id="attendance").status == "not_met"
    with pytest.raises(ValidationError):
        services.visit_record(
            actor=personas.inspector, visit=w.visit_a, visited_on=VISITED, answers=answers()
        )
    assert w.visit_a.answers.count() == 6


def test_township_visit_has_no_attendance_item(county: County, personas: Personas) -> None:
    w = build(county, personas, aid=False)
    services.visit_record(
        actor=personas.inspector,
        visit=w.visit_town_a,
        visited_on=VISITED,
        answers=answers("township"),
    )
    assert w.visit_town_a.answers.count() == 5


def test_principal_may_not_record_a_visit(county: County, personas: Personas) -> None:
    w = build(county, personas, aid=False)
    with pytest.raises(PermissionDenied):
        services.visit_record(
            actor=personas.principal_a, visit=w.visit_a, visited_on=VISITED, answers=answers()
        )
    w.visit_a.refresh_from_db()
    assert w.visit_a.status == "planned"


# --------------------------------------------------------------------------- the sample


def test_sample_order_is_reproducible_and_depends_on_plan_and_school() -> None:
    ids = list(range(1, 40))
    first = services.sample_order(7, 3, ids)
    assert first == services.sample_order(7, 3, list(reversed(ids)))
    assert sorted(first) == ids
    assert first != services.sample_order(8, 3, ids)
    assert first != services.sample_order(7, 4, ids)


def test_sample_draw_takes_the_first_students_of_the_order(
    county: County, personas: Personas
) -> None:
    w = build(county, personas)
    extra = more_poor_students(county, 7)
    candidates = sorted([county.student_a.pk, *extra])
    rows = services.sample_draw(actor=personas.inspector, visit=w.visit_a, size=5)
    expected = services.sample_order(w.plan.pk, county.school_a.pk, candidates)[:5]
    assert [r.student_id for r in rows] == expected
    assert [r.position for r in rows] == [1, 2, 3, 4, 5]
    due = {r.student_id: r.amount_due for r in rows}
    if county.student_a.pk in due:
        assert due[county.student_a.pk] > 0
    # drawing again is refused, and changes nothing
    with pytest.raises(ValidationError):
        services.sample_draw(actor=personas.inspector, visit=w.visit_a, size=3)
    assert SampleCheck.objects.filter(visit=w.visit_a).count() == 5


def test_sample_records_the_aid_approved(county: County, personas: Personas) -> None:
    w = build(county, personas)
    (row,) = services.sample_draw(actor=personas.inspector, visit=w.visit_a, size=5)
    assert row.student_id == county.student_a.pk
    approved = selectors.aid_approved(
        user=personas.inspector,
        student_ids=[county.student_a.pk],
        school_year=2018,
        semester="autumn",
    )
    assert row.amount_due == approved[county.student_a.pk] > Decimal("0")


def test_sample_of_a_school_with_no_poor_student_is_refused(
    county: County, personas: Personas
) -> None:
    w = build(county, personas, aid=False)
    with pytest.raises(ValidationError):
        services.sample_draw(actor=personas.inspector, visit=w.visit_town_a)


def test_sample_check_rules(county: County, personas: Personas) -> None:
    w = build(county, personas)
    (row,) = services.sample_draw(actor=personas.inspector, visit=w.visit_a)
    with pytest.raises(ValidationError) as exc:
        services.sample_check_record(actor=personas.inspector, check=row, outcome="partly")
    assert "amount_said" in exc.value.error_dict
    with pytest.raises(PermissionDenied):
        services.sample_check_record(actor=personas.township_a, check=row, outcome="full")
    services.sample_check_record(
        actor=personas.inspector, check=row, outcome="partly", amount_said=Decimal("100")
    )
    row.refresh_from_db()
    assert (row.outcome, row.amount_said) == ("partly", Decimal("100.00"))
    with pytest.raises(ValidationError):
        services.sample_check_record(actor=personas.inspector, check=row, outcome="full")
    row.refresh_from_db()
    assert row.outcome == "partly"


# --------------------------------------------------------------------------- findings


def test_finding_opens_a_rectification(county: County, personas: Personas) -> None:
    w = build(county, personas, aid=False)
    f = finding(w, owner=personas.principal_a)
    r = f.rectification
    assert (r.status, r.owner, r.deadline) == ("open", personas.principal_a, dt.date(2018, 11, 30))
    assert f.township == county.township_a and f.school == county.school_a
    assert list(r.entries.values_list("kind", flat=True)) == ["opened"]


def test_finding_owner_must_be_of_the_place(county: County, personas: Personas) -> None:
    w = build(county, personas, aid=False)
    with pytest.raises(ValidationError) as exc:
        finding(w, owner=personas.township_b)
    assert "owner" in exc.value.error_dict
    assert Finding.objects.count() == 0 and Rectification.objects.count() == 0


def test_finding_needs_a_recorded_visit(county: County, personas: Personas) -> None:
    w = build(county, personas, aid=False)
    with pytest.raises(ValidationError):
        services.finding_record(
            actor=personas.inspector,
            visit=w.visit_b,
            severity="minor",
            text="x",
            deadline=dt.date(2018, 12, 1),
        )


def test_principal_may_not_record_a_finding(county: County, personas: Personas) -> None:
    w = build(county, personas, aid=False)
    services.visit_record(
        actor=personas.inspector, visit=w.visit_a, visited_on=VISITED, answers=answers()
    )
    with pytest.raises(PermissionDenied):
        services.finding_record(
            actor=personas.principal_a,
            visit=w.visit_a,
            severity="minor",
            text="x",
            deadline=dt.date(2018, 12, 1),
        )
    assert Finding.objects.count() == 0


# --------------------------------------------------------------------------- rectifications


def test_progress_by_the_place_then_close_out_by_an_inspector(
    county: County, personas: Personas
) -> None:
    w = build(county, personas, aid=False)
    r = finding(w).rectification
    # no progress yet: nothing to verify
    with pytest.raises(ValidationError):
        services.rectification_close(
            actor=personas.inspector, rectification=r, closed_on=dt.date(2018, 11, 20), note="ok"
        )
    services.rectification_note_add(
        actor=personas.principal_a,
        rectification=r,
        text="已补齐公示材料",
        happened_on=dt.date(2018, 11, 15),
    )
    # the principal may not close
    with pytest.raises(PermissionDenied):
        services.rectification_close(
            actor=personas.principal_a, rectification=r, closed_on=dt.date(2018, 11, 20), note="x"
        )
    services.rectification_close(
        actor=personas.inspector, rectification=r, closed_on=dt.date(2018, 11, 20), note="核实"
    )
    r.refresh_from_db()
    assert (r.status, r.closed_on, r.closed_by) == (
        "closed",
        dt.date(2018, 11, 20),
        personas.inspector,
    )
    assert r.flag(dt.date(2026, 1, 1)) == Flag.RED
    assert list(r.entries.values_list("kind", flat=True)) == ["opened", "progress", "closed"]
    # closed: no second close-out, no more progress
    with pytest.raises(ValidationError):
        services.rectification_close(
            actor=personas.inspector, rectification=r, closed_on=dt.date(2018, 11, 21), note="x"
        )
    with pytest.raises(ValidationError):
        services.rectification_note_add(actor=personas.principal_a, rectification=r, text="x")
    assert r.entries.count() == 3


@pytest.mark.parametrize("persona", ["township_b", "teacher_a", "inspector", "bureau_leader"])
def test_progress_refused_outside_the_place(
    county: County, personas: Personas, persona: str
) -> None:
    w = build(county, personas, aid=False)
    r = finding(w).rectification
    with pytest.raises(PermissionDenied):
        services.rectification_note_add(actor=getattr(personas, persona), rectification=r, text="x")
    assert r.entries.count() == 1


def test_township_officer_reports_progress_on_its_school(
    county: County, personas: Personas
) -> None:
    w = build(county, personas, aid=False)
    r = finding(w).rectification
    services.rectification_note_add(actor=personas.township_a, rectification=r, text="督促整改")
    assert r.entries.filter(kind=RectificationEntry.Kind.PROGRESS).count() == 1


def test_flags() -> None:
    r = Rectification(deadline=dt.date(2018, 11, 30))
    assert r.flag(dt.date(2018, 11, 30)) == Flag.OPEN
    assert r.flag(dt.date(2018, 12, 1)) == Flag.BLACK
    r.closed_on = dt.date(2018, 11, 30)
    assert r.flag(dt.date(2019, 1, 1)) == Flag.RED
    assert r.flag(dt.date(2018, 11, 29)) == Flag.OPEN  # not yet closed on that day
    r.closed_on = dt.date(2018, 12, 5)
    assert r.flag(dt.date(2019, 1, 1)) == Flag.LATE


def test_flag_q_agrees_with_the_flag(county: County, personas: Personas) -> None:
    w = build(county, personas, aid=False)
    on_time = finding(w).rectification
    late = finding(w, text="迟").rectification
    overdue = finding(w, text="逾期").rectification
    still = finding(w, text="未到期", deadline=dt.date(2030, 1, 1)).rectification
    for r, day in ((on_time, dt.date(2018, 11, 20)), (late, dt.date(2018, 12, 10))):
        services.rectification_note_add(
            actor=personas.principal_a, rectification=r, text="p", happened_on=dt.date(2018, 11, 1)
        )
        services.rectification_close(
            actor=personas.inspector, rectification=r, closed_on=day, note="v"
        )
    on = dt.date(2026, 1, 1)
    got = {
        flag: set(
            Rectification.objects.filter(selectors.flag_q(flag, on)).values_list("pk", flat=True)
        )
        for flag in Flag.values
    }
    assert got == {
        "red": {on_time.pk},
        "late": {late.pk},
        "black": {overdue.pk},
        "open": {still.pk},
    }


# --------------------------------------------------------------------------- scoping


def test_scoping_township_a_never_sees_township_b(county: County, personas: Personas) -> None:
    w = build(county, personas, aid=False)
    fa = finding(w, w.visit_a)
    fb = finding(w, w.visit_b)
    ft = finding(w, w.visit_town_a, text="乡镇台账不全")

    def seen(user: object) -> set[int]:
        return set(selectors.finding_list(user=user).values_list("pk", flat=True))

    assert seen(personas.inspector) == {fa.pk, fb.pk, ft.pk}
    assert seen(personas.county_officer) == {fa.pk, fb.pk, ft.pk}
    assert seen(personas.township_a) == {fa.pk, ft.pk}
    assert seen(personas.township_b) == {fb.pk}
    assert seen(personas.principal_a) == {fa.pk}
    assert seen(personas.teacher_a) == set()
    assert seen(personas.nobody) == set()
    rect_b = set(
        selectors.rectification_list(user=personas.township_a).values_list("pk", flat=True)
    )
    assert fb.rectification.pk not in rect_b
    # plans, visits and samples are the county's
    assert selectors.plan_list(user=personas.township_a).count() == 0
    assert selectors.plan_list(user=personas.inspector).count() == 1
    with pytest.raises(Http404):
        selectors.get_rectification(user=personas.township_a, rectification_id=fb.rectification.pk)
    with pytest.raises(Http404):
        selectors.get_visit(user=personas.principal_a, visit_id=w.visit_a.pk)


def test_demo_builds_one_plan_once(county: County, personas: Personas) -> None:
    identify()
    aid_services.aid_compute(actor=None, county_code="420101", school_year=2018, semester="autumn")
    approve_school(personas, county)
    result = build_oversight(
        actor=personas.inspector, county=county.county, as_of=dt.date(2018, 12, 20), seed=1
    )
    assert (result.plans, result.visits, result.findings) == (1, 3, 2)
    assert result.closed_in_time == 1 and result.closed_late == 1
    again = build_oversight(
        actor=personas.inspector, county=county.county, as_of=dt.date(2018, 12, 20), seed=1
    )
    assert again.plans == 0 and InspectionPlan.objects.count() == 1

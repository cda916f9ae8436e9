"""The command centre's coverages at a date and level, on the hand-made county, checked by hand.

The county (tests/conftest.py): townships A and B, one poor village each; child A (born 2010)
at school A (a poor-village boarding primary school), child B (born 2011) at school B (a
junior high school, not in a poor village). Added here, for school year 2018-2019:
- a third child in B's household, aged 9 and on no roll: the run finds a suspected dropout;
- identification as of 2018-10-08 (the run in force from that day);
- aid computed for autumn 2018; school A's entitlements approved, school B's pending; child
  A's cash (the boarding subsidy) paid by the bank on 2019-02-15;
- dropout cases: child A (absent) opened 2018-11-05, closed 2018-11-20; child C opened
  2018-10-08, still open;
- the basic standard, and school A surveyed on 2018-10-01 meeting every item;
- two teachers at school A in post since 2010, no exchange (so I.3 is not reached).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from tests.aid.world import approve_school, identify
from tests.conftest import County, Personas
from tests.projects.helpers import load_standard, survey
from tests.teachers.helpers import add_teacher

from jingzhun.aid import services as aid_services
from jingzhun.aid.models import Entitlement
from jingzhun.aid.services import SOURCE
from jingzhun.core.sensitive import seal
from jingzhun.dashboard.coverage import Unit, coverage_at, home_coverage, total_unit
from jingzhun.duty.models import DropoutCase
from jingzhun.funds.models import Payment, PaymentBatch
from jingzhun.registry.models import Person

ID_C = "420101200909090011"
D0 = dt.date(2018, 9, 20)  # before the run: nothing identified yet
D1 = dt.date(2018, 12, 31)
D_OPEN = dt.date(2018, 11, 10)  # child A's absence case open
D2 = dt.date(2019, 2, 20)  # child A's payment settled


def aware(day: dt.date) -> dt.datetime:
    from django.utils import timezone

    return dt.datetime.combine(day, dt.time(10), tzinfo=timezone.get_default_timezone())


def pay(batch: PaymentBatch, entitlement: Entitlement, n: int, settled: dt.date) -> Payment:
    return Payment.objects.create(
        batch=batch,
        source=f"{SOURCE}{entitlement.pk}",
        programme=entitlement.programme,
        amount=entitlement.amount,
        payee_name="张大",
        beneficiary="张小明",
        reference=f"{batch.reference}-{n}",
        school=entitlement.school,
        village_code=entitlement.village_code,
        status=Payment.Status.PAID,
        settled_at=aware(settled),
        **seal("6228480012345678901", prefix="account", purpose="bank"),
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
    cash = list(
        Entitlement.objects.filter(student=county.student_a, semester="autumn", kind="cash")
    )
    for n, entitlement in enumerate(cash, start=1):
        pay(batch, entitlement, n, dt.date(2019, 2, 15))
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
        outcome=DropoutCase.Outcome.RETURNED,
        resolved_on=dt.date(2018, 11, 20),
        closed_on=dt.date(2018, 11, 20),
    )
    DropoutCase.objects.create(
        person=Person.objects.get(name="李小军"),
        source="identification",
        reason="未入学",
        opened_on=dt.date(2018, 10, 8),
        village_code=county.village_b.code,
        last_step_on=dt.date(2018, 10, 8),
    )
    load_standard()
    survey(personas.county_officer, county.school_a, dt.date(2018, 10, 1))
    add_teacher(county.school_a, 1)
    add_teacher(county.school_a, 2)
    return county


@pytest.fixture
def world(county: County, personas: Personas) -> County:
    return build(county, personas)


def figures(unit: Unit) -> dict[str, tuple[int, int, str]]:
    return {m: (f.covered, f.total, f.state) for m, f in unit.figures.items()}


def by_name(units: list[Unit]) -> dict[str, dict[str, tuple[int, int, str]]]:
    return {u.name: figures(u) for u in units}


def test_the_county_on_a_date_counts_what_the_records_say(
    world: County, personas: Personas
) -> None:
    # when
    units = coverage_at(user=personas.county_officer, on=D1, level="county")
    # then
    assert len(units) == 1
    assert Entitlement.objects.filter(student=world.student_a, kind="cash").count() == 1
    ok = "ok"
    assert figures(units[0]) == {
        "identification": (2, 3, ok),  # child C's place is not known
        "aid": (0, 2, ok),  # A's payment came after the date, B's is pending
        "schools": (1, 1, ok),  # school A, the only poor-village school, reaches it
        "teachers": (0, 1, ok),  # no teacher exchanged into school A
        "dropout": (2, 3, ok),  # C's case is open; A's absence closed on 20 November
    }
    assert units[0].figures["identification"].share == Decimal("66.7")


def test_townships_villages_and_schools(world: County, personas: Personas) -> None:
    officer = personas.county_officer
    ok, na = "ok", "na"
    townships = by_name(coverage_at(user=officer, on=D1, level="township"))
    assert townships["甲镇"] == {
        "identification": (1, 1, ok),
        "aid": (0, 1, ok),
        "schools": (1, 1, ok),
        "teachers": (0, 1, ok),
        "dropout": (1, 1, ok),
    }
    assert townships["乙乡"] == {
        "identification": (1, 2, ok),
        "aid": (0, 1, ok),
        "schools": (0, 0, ok),  # no poor-village school: nothing to count
        "teachers": (0, 0, ok),
        "dropout": (1, 2, ok),
    }
    villages = by_name(coverage_at(user=officer, on=D1, level="village"))
    assert villages["乙村"]["identification"] == (1, 2, ok)
    assert villages["乙村"]["dropout"] == (1, 2, ok)
    assert villages["乙村"]["aid"][2] == na  # aid is counted where children study
    assert villages["甲村"]["schools"] == (1, 1, ok)
    schools = by_name(coverage_at(user=officer, on=D1, level="school"))
    assert schools["甲镇中心小学"]["identification"][2] == na
    assert schools["甲镇中心小学"]["aid"] == (0, 1, ok)
    assert schools["甲镇中心小学"]["dropout"] == (1, 1, ok)
    assert schools["乙乡中学"]["dropout"] == (1, 1, ok)  # child C's case names no school
    assert schools["乙乡中学"]["schools"] == (0, 0, ok)


def test_each_figure_links_to_the_list_behind_it(world: County, personas: Personas) -> None:
    [township_a] = coverage_at(
        user=personas.county_officer, on=D1, level="township", within="420101001"
    )
    links = {m: f.url for m, f in township_a.figures.items()}
    assert links["aid"] == "/aid/coverage/?year=2018&semester=autumn&township=420101001"
    assert links["schools"] == "/projects/coverage/?township=420101001&on=2018-12-31"
    assert links["teachers"] == "/teachers/coverage/?year=2018&township=420101001"
    assert links["dropout"] == "/duty/?show=all&township=420101001"
    assert links["identification"] == "/identification/coverage/?township=420101001"
    assert "school:" not in str(links)


def test_as_of_dates_follow_the_records(world: County, personas: Personas) -> None:
    officer = personas.county_officer
    [before] = coverage_at(user=officer, on=D0, level="county")
    assert {m: f.state for m, f in before.figures.items()} == {
        "identification": "absent",  # no run describes a day by then
        "aid": "ok",
        "schools": "absent",  # no survey yet
        "teachers": "ok",
        "dropout": "absent",
    }
    assert "No confirmed identification run" in before.figures["identification"].note
    [open_case] = coverage_at(user=officer, on=D_OPEN, level="county")
    assert figures(open_case)["dropout"] == (1, 3, "ok")  # A's absence case open then
    [later] = coverage_at(user=officer, on=D2, level="county")
    assert figures(later)["aid"] == (1, 2, "ok")  # A's payment settled by then


def test_replay_later_records_leave_a_past_date_as_it_was(
    world: County, personas: Personas
) -> None:
    # given the figures on D1
    officer = personas.county_officer
    levels = ("county", "township", "village", "school")
    before = {lv: by_name(coverage_at(user=officer, on=D1, level=lv)) for lv in levels}
    # when later records arrive: the next year's roll and run (child C enrolled), C's case
    # closed, a later survey that fails
    c = Person.objects.get(name="李小军")
    from jingzhun.schools.models import Enrolment, Student

    student_c = Student.objects.create(
        county_code="420101",
        **seal("G" + ID_C, prefix="roll", purpose="roll"),
        name="李小军",
        sex="M",
        birth_date=dt.date(2009, 9, 9),
        id_status="valid",
        poor_flag=True,
        person=c,
        **seal(ID_C, prefix="id", purpose="id"),
    )
    # the next school year's roll: all three children in school
    for student, school in (
        (world.student_a, world.school_a),
        (world.student_b, world.school_b),
        (student_c, world.school_b),
    ):
        Enrolment.objects.create(
            student=student, school=school, school_year=2019, stage="primary", grade=4
        )
    identify(dt.date(2019, 9, 20))
    DropoutCase.objects.filter(person=c).update(
        status=DropoutCase.Status.CLOSED,
        outcome=DropoutCase.Outcome.RETURNED,
        resolved_on=dt.date(2019, 3, 2),
        closed_on=dt.date(2019, 3, 3),
    )
    survey(personas.county_officer, world.school_a, dt.date(2019, 1, 10), not_met=["toilets"])
    # then D1 is as it was
    after = {lv: by_name(coverage_at(user=officer, on=D1, level=lv)) for lv in levels}
    assert after == before
    # and a later date sees the new records
    [later] = coverage_at(user=officer, on=dt.date(2019, 9, 25), level="county")
    assert figures(later)["identification"] == (3, 3, "ok")
    assert figures(later)["dropout"] == (3, 3, "ok")
    assert figures(later)["schools"] == (0, 1, "ok")
    assert later.figures["aid"].state == "absent"  # no aid computed for autumn 2019


def test_a_township_officer_sees_their_township_only(world: County, personas: Personas) -> None:
    officer = personas.township_b
    assert coverage_at(user=officer, on=D1, level="county")[0].name == "乙乡"
    for level in ("township", "village", "school"):
        units = coverage_at(user=officer, on=D1, level=level)
        assert units, level
        assert {u.township_code for u in units} == {"420101002"}, level
    total = total_unit(user=officer, on=D1)
    assert total is not None and total.name == "乙乡"
    assert figures(total)["dropout"] == (1, 2, "ok")


def test_a_principal_sees_their_school_and_a_class_teacher_nothing(
    world: County, personas: Personas
) -> None:
    units = coverage_at(user=personas.principal_a, on=D1, level="township")
    assert [u.name for u in units] == ["甲镇中心小学"]
    assert figures(units[0])["aid"] == (0, 1, "ok")
    assert coverage_at(user=personas.teacher_a, on=D1) == []
    assert coverage_at(user=personas.nobody, on=D1) == []


def test_nothing_there_yet_says_so(county: County, personas: Personas) -> None:
    [unit] = coverage_at(user=personas.county_officer, on=D1, level="county")
    assert {m: f.state for m, f in unit.figures.items()} == dict.fromkeys(unit.figures, "absent")
    assert all(f.note and f.share is None for f in unit.figures.values())


def test_home_cards(world: County, personas: Personas, settings: Any) -> None:
    cards = home_coverage(personas.township_a)
    assert cards["coverage_unit"].name == "甲镇"
    assert [f.measure for f in cards["coverage_cards"]] == [
        "identification",
        "aid",
        "schools",
        "teachers",
        "dropout",
    ]
    assert home_coverage(personas.teacher_a)["coverage_cards"] == []

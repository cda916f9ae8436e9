"""The rural teacher living allowance (II.3.4): the rules line by line, the month computed from
the roster, reviewed by the school, approved by the county, paid once through funds."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from tests.threads import at_once

from jingzhun.funds import services as funds
from jingzhun.funds.models import Payment, PaymentBatch
from jingzhun.teachers import allowance, services
from jingzhun.teachers.models import AllowanceLine, ServicePeriod, Teacher

OCT = dt.date(2018, 10, 1)
BOOK, _DATA = allowance.load_book()


def stay(place: str, first: str, last: str = "9999-12-31") -> allowance.Stay:
    return allowance.Stay(
        place=place, first=dt.date.fromisoformat(first), last=dt.date.fromisoformat(last)
    )


# ----------------------------------------------------------------------------- the rules


def test_a_whole_month_at_a_village_primary_school_is_400_and_at_a_teaching_point_600() -> None:
    village = allowance.explain(BOOK, [stay("village_primary", "2010-09-01")], OCT)
    point = allowance.explain(BOOK, [stay("teaching_point", "2010-09-01")], OCT)
    assert (village["amount"], village["days"]) == ("400.00", 31)
    assert (point["amount"], point["days"]) == ("600.00", 31)
    (line,) = point["lines"]
    assert (line["rule"], line["clause"], line["monthly"]) == ("teaching_point", "II.3.4", "600.00")


def test_a_transfer_mid_month_shares_the_month_by_days() -> None:
    result = allowance.explain(
        BOOK,
        [
            stay("village_primary", "2016-09-01", "2018-10-15"),
            stay("teaching_point", "2018-10-16"),
        ],
        OCT,
    )
    # 400 x 15/31 = 193.548... -> 193.55; 600 x 16/31 = 309.677... -> 309.68
    assert [(x["days"], x["amount"]) for x in result["lines"]] == [(15, "193.55"), (16, "309.68")]
    assert result["amount"] == "503.23"


def test_a_teacher_leaving_mid_month_is_paid_the_days_there() -> None:
    # Left on 11 November (gone that day): 10 of 30 days at a teaching point.
    result = allowance.explain(
        BOOK, [stay("teaching_point", "2015-09-01", "2018-11-10")], dt.date(2018, 11, 1)
    )
    assert (result["days"], result["amount"]) == (10, "200.00")


def test_other_schools_and_months_before_the_rules_pay_nothing() -> None:
    assert allowance.explain(BOOK, [stay("other", "2010-01-01")], OCT)["amount"] == "0.00"
    before = allowance.explain(BOOK, [stay("teaching_point", "2010-01-01")], dt.date(2015, 12, 1))
    assert (before["amount"], before["lines"]) == ("0.00", [])


def test_two_places_on_one_day_count_once() -> None:
    result = allowance.explain(
        BOOK,
        [stay("teaching_point", "2018-10-01", "2018-10-20"), stay("village_primary", "2018-10-11")],
        OCT,
    )
    assert [(x["place"], x["days"]) for x in result["lines"]] == [
        ("teaching_point", 20),
        ("village_primary", 11),
    ]
    assert result["days"] == 31


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount": "-1"}, "rule 'teaching_point': amount must be positive"),
        ({"amount": "400.001"}, "rule 'teaching_point': amount must be positive"),
        ({"place": "city"}, "rule 'teaching_point': place must be one of"),
        ({"valid_from": "2016-13-01"}, "rule 'teaching_point': valid_from: not a date"),
        ({"label": {"zh": "教学点"}}, "rule 'teaching_point': label needs zh and en"),
        ({"id": "village_primary"}, "rule 'village_primary': the id is used twice"),
    ],
)
def test_a_bad_rule_book_names_the_rule_and_field(change: dict[str, Any], message: str) -> None:
    data = json.loads(json.dumps(_DATA))
    data["rules"][0].update(change)
    with pytest.raises(allowance.RuleBookError, match=message):
        allowance.parse_book(data)


def test_two_rules_paying_one_place_on_the_same_days_are_refused() -> None:
    data = json.loads(json.dumps(_DATA))
    data["rules"][1]["place"] = "teaching_point"
    with pytest.raises(allowance.RuleBookError, match="both pay teaching_point"):
        allowance.parse_book(data)


def test_explain_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "p.json"
    profile.write_text(
        json.dumps({"stays": [{"place": "teaching_point", "first": "2018-10-16"}]}),
        encoding="utf-8",
    )
    call_command(
        "teachers", "allowance", "explain", "--profile", str(profile), "--month", "2018-10",
        "--rule-book", str(allowance.BOOK),
    )  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert (out["amount"], out["lines"][0]["days"]) == ("309.68", 16)
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("teachers", "allowance", "explain", "--profile", str(profile), "--month", "x")


# ----------------------------------------------------------------------------- the month


def amounts() -> dict[int, str]:
    return {
        line.teacher_id: str(line.amount)
        for line in AllowanceLine.objects.exclude(review=AllowanceLine.Review.WITHDRAWN)
    }


def test_the_month_follows_the_roster(roster: dict[str, Any], personas: Any) -> None:
    run = services.allowance_compute(actor=personas.aid_officer, month=OCT)
    assert amounts() == {
        roster["village"].pk: "400.00",
        roster["point"].pk: "600.00",
        roster["nocard"].pk: "600.00",
    }  # the town school and a clerk are paid nothing
    assert (run.created, run.amount) == (3, Decimal("1600.00"))
    line = AllowanceLine.objects.get(teacher=roster["point"])
    assert (line.school_id, line.days, line.explanation[0]["rule"]) == (
        roster["point_school"].pk,
        31,
        "teaching_point",
    )
    again = services.allowance_compute(actor=personas.aid_officer, month=OCT)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_a_transfer_and_a_departure_change_lines_still_to_review(
    roster: dict[str, Any], personas: Any, county: Any
) -> None:
    services.allowance_compute(actor=personas.aid_officer, month=OCT)
    # The village teacher moved to the teaching point on 16 October; the other one left on the 11th.
    ServicePeriod.objects.create(
        teacher=roster["village"],
        school=county.school_a,
        kind="village_school",
        started_on=dt.date(2010, 9, 1),
        ended_on=dt.date(2018, 10, 15),
    )
    ServicePeriod.objects.create(
        teacher=roster["village"],
        school=roster["point_school"],
        kind="teaching_point",
        started_on=dt.date(2018, 10, 16),
    )
    Teacher.objects.filter(pk=roster["nocard"].pk).update(left_on=dt.date(2018, 10, 11))
    run = services.allowance_compute(actor=personas.aid_officer, month=OCT)
    assert (run.updated, run.unchanged) == (2, 1)
    assert amounts()[roster["village"].pk] == "503.23"
    assert amounts()[roster["nocard"].pk] == "193.55"  # 600 x 10/31
    # The school paid for is where most days were.
    assert (
        AllowanceLine.objects.get(teacher=roster["village"]).school_id == roster["point_school"].pk
    )


def test_review_approve_pay_once(roster: dict[str, Any], personas: Any, county: Any) -> None:
    services.allowance_compute(actor=personas.aid_officer, month=OCT)
    with pytest.raises(ValidationError, match="not reviewed"):
        services.allowance_approve(actor=personas.aid_officer, month=OCT)
    with pytest.raises(PermissionDenied):
        services.allowance_review(
            actor=personas.principal_a, month=OCT, school_id=roster["point_school"].pk
        )
    assert (
        services.allowance_review(
            actor=personas.principal_a, month=OCT, school_id=county.school_a.pk
        )
        == 1
    )
    # The teaching point has no principal account here: the county's aid officer reviews it.
    with pytest.raises(PermissionDenied):
        services.allowance_review(
            actor=personas.township_b, month=OCT, school_id=roster["point_school"].pk
        )
    AllowanceLine.objects.filter(school=roster["point_school"]).update(review="reviewed")
    with pytest.raises(PermissionDenied):
        services.allowance_approve(actor=personas.principal_a, month=OCT)
    funds.allocation_record(
        actor=personas.aid_officer,
        channel="county",
        school_year=2018,
        programme=services.ALLOWANCE_PROGRAMME,
        amount=Decimal("5000.00"),
    )
    batch = services.allowance_approve(actor=personas.aid_officer, month=OCT)
    payments = {p.source: p for p in Payment.objects.filter(batch=batch)}
    assert sorted(p.amount for p in payments.values()) == [Decimal("400.00"), Decimal("600.00")]
    assert {g["reason"] for g in batch.gaps} == {"no_bank_card"}
    assert all(p.account_masked.endswith("2333") for p in payments.values())
    assert set(AllowanceLine.objects.values_list("review", flat=True)) == {"approved"}
    with pytest.raises(ValidationError, match="Already done"):
        services.allowance_approve(actor=personas.aid_officer, month=OCT)
    # Approved lines are never changed by a later run: a change is counted, not applied.
    Teacher.objects.filter(pk=roster["point"].pk).update(left_on=dt.date(2018, 10, 2))
    run = services.allowance_compute(actor=personas.aid_officer, month=OCT)
    assert (run.frozen, run.updated) == (1, 0)
    assert amounts()[roster["point"].pk] == "600.00"


def test_sixteen_simultaneous_approvals_give_one_batch_and_one_payment_per_teacher(
    roster: dict[str, Any], personas: Any, audit_flushable: Any
) -> None:
    services.allowance_compute(actor=personas.aid_officer, month=OCT)
    AllowanceLine.objects.update(review="reviewed")
    funds.allocation_record(
        actor=personas.aid_officer,
        channel="county",
        school_year=2018,
        programme=services.ALLOWANCE_PROGRAMME,
        amount=Decimal("5000.00"),
    )
    results = at_once(
        16, lambda i, _state: services.allowance_approve(actor=personas.aid_officer, month=OCT)
    )
    made = [r for r in results if isinstance(r, PaymentBatch)]
    already = [r for r in results if isinstance(r, ValidationError) and r.code == "already_done"]
    assert (len(made), len(already)) == (1, 15), results
    assert PaymentBatch.objects.count() == 1
    sources = list(Payment.objects.values_list("source", flat=True))
    assert len(sources) == len(set(sources)) == 2  # the teacher without a card is a gap


def test_coverage_counts_a_school_whose_teachers_were_all_paid(
    roster: dict[str, Any], personas: Any, county: Any
) -> None:
    from jingzhun.teachers.selectors import teacher_coverage

    nov = dt.date(2018, 11, 5)  # coverage on a November day looks at October
    services.allowance_compute(actor=personas.aid_officer, month=OCT)
    AllowanceLine.objects.update(review="reviewed")
    funds.allocation_record(
        actor=personas.aid_officer,
        channel="county",
        school_year=2018,
        programme=services.ALLOWANCE_PROGRAMME,
        amount=Decimal("5000.00"),
    )
    services.allowance_approve(actor=personas.aid_officer, month=OCT)

    def paid() -> dict[str, tuple[int, int]]:
        rows = teacher_coverage(user=personas.county_officer, school_year=2018, year=2018, on=nov)
        return {r.school_name: (r.allowance_due, r.allowance_paid) for r in rows}

    # approved is not paid: the bank has not answered
    assert paid() == {"甲镇中心小学": (1, 0), "甲村教学点": (1, 0)}
    Payment.objects.update(status=Payment.Status.PAID)  # the bank's return, reconciled
    # the teaching point's teacher without a salary card was not paid: the school misses it
    assert paid() == {"甲镇中心小学": (1, 1), "甲村教学点": (1, 0)}

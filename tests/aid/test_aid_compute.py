"""aid_compute: entitlements from identification and the rolls, reruns, adjustments."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from jingzhun.aid import services
from jingzhun.aid.models import Adjustment, AidComputation, Entitlement, RuleBookVersion
from jingzhun.aid.rulebook import shipped_source
from jingzhun.core.models import AuditEvent
from jingzhun.registry.models import Household
from jingzhun.schools.models import Enrolment

from .world import identify, lines


def compute(actor: Any, semester: str = "autumn") -> services.ComputeResult:
    return services.aid_compute(
        actor=actor, county_code="420101", school_year=2018, semester=semester
    )


def test_compute_gives_each_identified_student_their_lines(county: Any, personas: Any) -> None:
    # given
    identify()
    # when
    result = compute(personas.aid_officer)
    # then
    assert lines() == [
        ("张小明", "boarding_subsidy", "500.00", "pending"),
        ("张小明", "compulsory_waiver", "90.00", "pending"),
        ("李小红", "compulsory_waiver", "130.00", "pending"),
    ]
    assert result.counts["inserted"] == 3
    e = Entitlement.objects.get(student=county.student_a, programme="boarding_subsidy")
    assert (e.rule_id, e.clause, e.rule_book.version) == ("boarding_primary", "II.1.2", 1)
    assert e.inputs["stage"] == "primary" and e.inputs["boarding"] is True
    assert e.village_code == county.village_a.code
    assert AuditEvent.objects.filter(action="aid.compute").count() == 1


def test_rerun_with_nothing_changed_writes_nothing(county: Any, personas: Any) -> None:
    identify()
    compute(personas.aid_officer)
    before = list(Entitlement.objects.values_list("id", "amount", "computation_id"))
    # when
    again = compute(personas.aid_officer)
    # then
    assert again.computation is None
    assert again.counts["unchanged"] == 3 and again.counts["inserted"] == 0
    assert list(Entitlement.objects.values_list("id", "amount", "computation_id")) == before
    assert AidComputation.objects.count() == 1
    assert Adjustment.objects.count() == 0


def test_rerun_after_data_change_writes_adjustments_not_duplicates(
    county: Any, personas: Any
) -> None:
    identify()
    compute(personas.aid_officer)
    # given: A stops boarding, B starts boarding
    Enrolment.objects.filter(pk=county.enrolment_a.pk).update(boarding=False)
    Enrolment.objects.filter(pk=county.enrolment_b.pk).update(boarding=True)
    # when
    result = compute(personas.aid_officer)
    # then
    assert result.counts["inserted"] == 1 and result.counts["withdrawn"] == 1
    assert lines() == [
        ("张小明", "boarding_subsidy", "500.00", "withdrawn"),
        ("张小明", "compulsory_waiver", "90.00", "pending"),
        ("李小红", "boarding_subsidy", "625.00", "pending"),
        ("李小红", "compulsory_waiver", "130.00", "pending"),
    ]
    adj = Adjustment.objects.get()
    assert (adj.kind, adj.old_amount, adj.new_amount) == ("withdrawn", 500, 0)
    assert [a.entitlement_id for a in result.adjustments] == [adj.entitlement_id]
    # and when A boards again, the same entitlement is restored, not duplicated
    Enrolment.objects.filter(pk=county.enrolment_a.pk).update(boarding=True)
    compute(personas.aid_officer)
    assert Entitlement.objects.filter(student=county.student_a).count() == 2
    restored = Adjustment.objects.filter(kind="restored").get()
    assert restored.new_amount == 500


def test_rule_book_change_between_semesters(county: Any, personas: Any) -> None:
    identify()
    compute(personas.aid_officer)
    # given: from 1 March 2019 the primary boarding subsidy is 1,200 a year
    source = shipped_source(2018).replace(
        """  - id: boarding_primary
    programme: boarding_subsidy
    clause: II.1.2
    when: {stage: [primary], boarding: true}
    amount: "1000.00"
    unit: year
    valid: {from: 2018-09-01, to: 2019-08-31}""",
        """  - id: boarding_primary
    programme: boarding_subsidy
    clause: II.1.2
    when: {stage: [primary], boarding: true}
    amount: "1000.00"
    unit: year
    valid: {from: 2018-09-01, to: 2019-02-28}
  - id: boarding_primary_2019
    programme: boarding_subsidy
    clause: II.1.2
    when: {stage: [primary], boarding: true}
    amount: "1200.00"
    unit: year
    valid: {from: 2019-03-01, to: 2019-08-31}""",
    )
    v2 = services.rulebook_save(
        actor=personas.aid_officer, school_year=2018, source=source, reason="county notice 2019-3"
    )
    # when
    autumn_again = compute(personas.aid_officer, "autumn")
    compute(personas.aid_officer, "spring")
    # then: autumn keeps v1, spring is computed with v2
    assert autumn_again.computation is None
    autumn = Entitlement.objects.get(
        student=county.student_a, programme="boarding_subsidy", semester="autumn"
    )
    spring = Entitlement.objects.get(
        student=county.student_a, programme="boarding_subsidy", semester="spring"
    )
    assert (autumn.amount, autumn.rule_book.version) == (500, 1)
    assert (spring.amount, spring.rule_id, spring.rule_book_id) == (
        600,
        "boarding_primary_2019",
        v2.pk,
    )


def test_mid_year_dropout_gets_autumn_only(county: Any, personas: Any) -> None:
    identify()
    Enrolment.objects.filter(pk=county.enrolment_b.pk).update(
        status="dropped_out", status_date=dt.date(2018, 11, 10)
    )
    compute(personas.aid_officer, "autumn")
    compute(personas.aid_officer, "spring")
    assert [x for x in lines("spring") if x[0] == "李小红"] == []
    assert [x[1] for x in lines("autumn") if x[0] == "李小红"] == ["compulsory_waiver"]


def test_household_that_left_poverty_keeps_policies_in_transition(
    county: Any, personas: Any
) -> None:
    identify()
    Household.objects.filter(pk=county.household_b.pk).update(status="left_poverty", exit_year=2015)
    compute(personas.aid_officer)
    # 2015 + 3 transition years covers 2015-2017 only
    assert [x for x in lines() if x[0] == "李小红"] == []
    Household.objects.filter(pk=county.household_b.pk).update(exit_year=2017)
    compute(personas.aid_officer)
    assert [x for x in lines() if x[0] == "李小红"] == [
        ("李小红", "compulsory_waiver", "130.00", "pending")
    ]


@pytest.mark.parametrize(
    "who", ["county_officer", "principal_a", "township_a", "teacher_a", "nobody"]
)
def test_only_the_aid_centre_computes(county: Any, personas: Any, who: str) -> None:
    identify()
    with pytest.raises(PermissionDenied):
        compute(getattr(personas, who))
    assert Entitlement.objects.count() == 0
    assert RuleBookVersion.objects.count() == 0


def test_rulebook_versions_keep_who_and_why(county: Any, personas: Any) -> None:
    v1 = services.rulebook_install(
        actor=personas.aid_officer, county_code="420101", school_year=2018
    )
    v2 = services.rulebook_save(
        actor=personas.aid_officer,
        school_year=2018,
        source=v1.source.replace("transition_years: 3", "transition_years: 2"),
        reason="provincial notice",
    )
    assert (v1.version, v2.version, v2.created_by, v2.reason) == (
        1,
        2,
        personas.aid_officer,
        "provincial notice",
    )
    assert services.book_of(v2).transition_years == 2
    # a new year starts as a copy of the last, moved one year on
    v2019 = services.rulebook_install(
        actor=personas.aid_officer, county_code="420101", school_year=2019
    )
    book = services.book_of(v2019)
    assert (book.school_year, book.transition_years) == (2019, 2)
    assert {r.valid_from for r in book.rules} == {dt.date(2019, 9, 1)}
    assert "2018 v2" in v2019.reason


def test_cli_explain_prints_the_lines(tmp_path: Any, capsys: Any) -> None:
    profile = tmp_path / "p.json"
    profile.write_text('{"stage": "junior", "grade": 2, "boarding": true}', encoding="utf-8")
    call_command("aid", "explain", "--profile", str(profile), "--school-year", "2018")
    out = capsys.readouterr().out
    assert '"rule_id": "boarding_junior"' in out and '"amount": "625.00"' in out
    assert '"clause": "II.1.2"' in out

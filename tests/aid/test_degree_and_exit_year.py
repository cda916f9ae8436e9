"""The degree level and freshman flag from the university list; an unknown exit year.

Graduate or undergraduate comes from the enrolment's degree level, never from the grade
(the grade decides only where the level is not known); the freshman grant follows the
list's freshman flag. A household that left poverty in a year the registry does not give
keeps its children's aid under JINGZHUN_UNKNOWN_EXIT_YEAR=keep (the default), with the
assumption in each entitlement's explanation, and gets none under `none`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import override_settings
from django.utils import translation

from jingzhun.aid import compute, services, wording
from jingzhun.aid.bulk import evaluate_bulk
from jingzhun.aid.models import Entitlement, Loan
from jingzhun.aid.rulebook import load_rulebook, shipped_source
from jingzhun.registry.models import Household

from .world import identify, lines, university_student


def aid_compute(personas: Any, semester: str = "autumn") -> services.ComputeResult:
    return services.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester=semester
    )


def record_loan(personas: Any, student: Any, amount: str) -> Loan:
    return services.loan_record(
        actor=personas.aid_officer,
        student_id=student.pk,
        school_year=2018,
        bank="国家开发银行",
        amount=Decimal(amount),
        term_years=15,
    )


def university_lines(student: Any) -> list[tuple[str, str, Decimal, Decimal | None]]:
    """Return the rule book's lines for the student as read from the database (with loans)."""
    book = load_rulebook(shipped_source(2018))
    profiles = compute.load_profiles("420101", 2018, "autumn")
    result = evaluate_bulk(book, profiles, "autumn").to_pylist()
    return sorted(
        (str(r["programme"]), str(r["rule_id"]), r["amount"], r["minimum"])
        for r in result
        if r["student_id"] == student.pk
    )


# --- degree level -------------------------------------------------------------------------------


def test_graduate_level_in_grade_1_gets_the_graduate_loan_range(county: Any, personas: Any) -> None:
    student = university_student(county, grade=1, degree="graduate", location="in_province")
    identify()
    assert university_lines(student) == [
        ("origin_loan", "origin_loan_graduate", Decimal("12000.00"), Decimal("1000.00"))
    ]
    loan = record_loan(personas, student, "12000")
    assert (loan.degree, loan.amount, loan.rule_id) == (
        "graduate",
        Decimal("12000.00"),
        "origin_loan_graduate",
    )


def test_graduate_loan_above_its_range_is_refused(county: Any, personas: Any) -> None:
    student = university_student(county, grade=1, degree="graduate")
    identify()
    with pytest.raises(ValidationError) as err:
        record_loan(personas, student, "12000.01")
    assert "1000.00 to 12000.00" in str(err.value)
    assert Loan.objects.count() == 0


def test_bachelor_level_in_grade_5_gets_the_undergraduate_loan_range(
    county: Any, personas: Any
) -> None:
    student = university_student(county, grade=5, degree="bachelor", location="in_province")
    identify()
    assert university_lines(student) == [
        ("origin_loan", "origin_loan_undergraduate", Decimal("8000.00"), Decimal("1000.00"))
    ]
    with pytest.raises(ValidationError) as err:
        record_loan(personas, student, "12000")
    assert "1000.00 to 8000.00" in str(err.value)
    loan = record_loan(personas, student, "8000")
    assert (loan.degree, loan.rule_id) == ("undergraduate", "origin_loan_undergraduate")


def test_without_a_degree_level_grade_5_still_counts_as_graduate(
    county: Any, personas: Any
) -> None:
    student = university_student(county, grade=5, degree="")
    identify()
    assert university_lines(student) == [
        ("origin_loan", "origin_loan_graduate", Decimal("12000.00"), Decimal("1000.00"))
    ]
    assert record_loan(personas, student, "12000").rule_id == "origin_loan_graduate"


# --- freshman flag ------------------------------------------------------------------------------


def test_listed_freshman_gets_the_grant_whatever_the_grade(county: Any, personas: Any) -> None:
    student = university_student(
        county, grade=2, degree="bachelor", freshman=True, location="out_of_province"
    )
    identify()
    aid_compute(personas)
    assert lines() == [
        ("张大明", "freshman_grant", "1000.00", "pending"),
        ("张小明", "boarding_subsidy", "500.00", "pending"),
        ("张小明", "compulsory_waiver", "90.00", "pending"),
        ("李小红", "compulsory_waiver", "130.00", "pending"),
    ]
    assert Entitlement.objects.get(student=student).rule_id == "freshman_grant_out_of_province"


def test_listed_not_freshman_in_grade_1_gets_no_grant(county: Any, personas: Any) -> None:
    university_student(county, grade=1, degree="bachelor", freshman=False)
    identify()
    aid_compute(personas)
    assert [x for x in lines() if x[0] == "张大明"] == []


def test_without_the_list_grade_1_is_the_freshman(county: Any, personas: Any) -> None:
    university_student(county, grade=1, degree="", freshman=False, location="in_province")
    identify()
    aid_compute(personas)
    assert [x for x in lines() if x[0] == "张大明"] == [
        ("张大明", "freshman_grant", "500.00", "pending")
    ]


# --- unknown exit year --------------------------------------------------------------------------


def _left_poverty_year_unknown(county: Any) -> None:
    Household.objects.filter(pk=county.household_b.pk).update(status="left_poverty", exit_year=None)


def test_unknown_exit_year_keeps_aid_and_says_it_was_assumed(county: Any, personas: Any) -> None:
    identify()
    _left_poverty_year_unknown(county)
    aid_compute(personas)
    assert [x for x in lines() if x[0] == "李小红"] == [
        ("李小红", "compulsory_waiver", "130.00", "pending")
    ]
    e = Entitlement.objects.get(student=county.student_b)
    assert (e.household_status, e.exit_year, e.exit_year_assumed) == ("left_poverty", 2018, True)
    with translation.override("en"):
        words = dict(wording.inputs_in_words(e.inputs))
    assert words["Left poverty in"] == (
        "Exit year unknown: assumed 2018 (setting JINGZHUN_UNKNOWN_EXIT_YEAR)"
    )
    with translation.override("zh-hans"):
        words = dict(wording.inputs_in_words(e.inputs))
    assert words["脱贫年度"] == "脱贫年度不详：按 2018 年计（设置 JINGZHUN_UNKNOWN_EXIT_YEAR）"
    # A household whose year is known is not marked.
    a = Entitlement.objects.get(student=county.student_a, programme="compulsory_waiver")
    assert (a.exit_year, a.exit_year_assumed) == (None, False)


def test_known_exit_year_is_not_marked_assumed(county: Any, personas: Any) -> None:
    identify()
    Household.objects.filter(pk=county.household_b.pk).update(status="left_poverty", exit_year=2017)
    aid_compute(personas)
    e = Entitlement.objects.get(student=county.student_b)
    assert (e.amount, e.exit_year, e.exit_year_assumed) == (Decimal("130.00"), 2017, False)
    with translation.override("en"):
        assert dict(wording.inputs_in_words(e.inputs))["Left poverty in"] == "2017"


@override_settings(UNKNOWN_EXIT_YEAR="none")
def test_unknown_exit_year_with_none_gives_no_aid(county: Any, personas: Any) -> None:
    identify()
    _left_poverty_year_unknown(county)
    aid_compute(personas)
    assert lines() == [
        ("张小明", "boarding_subsidy", "500.00", "pending"),
        ("张小明", "compulsory_waiver", "90.00", "pending"),
    ]


@override_settings(UNKNOWN_EXIT_YEAR="maybe")
def test_an_unknown_setting_value_is_refused(county: Any, personas: Any) -> None:
    identify()
    with pytest.raises(ImproperlyConfigured, match="JINGZHUN_UNKNOWN_EXIT_YEAR"):
        aid_compute(personas)
    assert Entitlement.objects.count() == 0


def test_the_api_explains_a_profile_with_its_degree_level(county: Any, personas: Any) -> None:
    from .test_api_aid import call

    profile = {
        "school_year": 2018,
        "semester": "autumn",
        "stage": "university",
        "grade": 1,
        "location": "out_of_province",
        "degree": "graduate",
        "freshman": False,
    }
    data = call(personas.aid_officer, "post", "/api/aid/explain", profile).json()
    assert [(ln["rule_id"], ln["amount"], ln["minimum"]) for ln in data["lines"]] == [
        ("origin_loan_graduate", "12000.00", "1000.00")
    ]
    freshman = call(
        personas.aid_officer, "post", "/api/aid/explain", {**profile, "freshman": True}
    ).json()
    assert [(ln["rule_id"], ln["amount"]) for ln in freshman["lines"]] == [
        ("freshman_grant_out_of_province", "1000.00"),
        ("origin_loan_graduate", "12000.00"),
    ]
    bad = call(personas.aid_officer, "post", "/api/aid/explain", {**profile, "degree": "phd"})
    assert bad.status_code == 422

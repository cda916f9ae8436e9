"""University students: the freshman grant once, and student-origin loans within the rule book's range."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from tests.imports.helpers import make_id

from jingzhun.aid import services
from jingzhun.aid.models import Entitlement, Loan
from jingzhun.core.sensitive import seal
from jingzhun.registry.models import Person
from jingzhun.schools.models import Enrolment, School, Student

from .world import identify

ID_C = make_id("420101", "20000303", "013")


@pytest.fixture
def freshman(county: Any) -> Student:
    """An elder sibling in household A, newly admitted to a university outside the province."""
    person = Person.objects.create(
        household=county.household_a,
        name="张大明",
        sex="M",
        birth_date=dt.date(2000, 3, 3),
        relation="之子",
        **seal(ID_C, prefix="id", purpose="id"),
    )
    university = School.objects.create(
        code="U10001", name="华中某大学", kind="university", location="out_of_province"
    )
    student = Student.objects.create(
        county_code="420101",
        **seal("G" + ID_C, prefix="roll", purpose="roll"),
        name="张大明",
        sex="M",
        birth_date=dt.date(2000, 3, 3),
        id_status="valid",
        poor_flag=True,
        **seal(ID_C, prefix="id", purpose="id"),
    )
    Enrolment.objects.create(
        student=student, school=university, school_year=2018, stage="university", grade=1
    )
    assert person.pk
    return student


def test_freshman_grant_is_paid_once_in_autumn(freshman: Student, personas: Any) -> None:
    identify()
    for semester in ("autumn", "spring"):
        services.aid_compute(
            actor=personas.aid_officer, county_code="420101", school_year=2018, semester=semester
        )
    rows = list(
        Entitlement.objects.filter(student=freshman).values_list(
            "semester", "programme", "amount", "clause"
        )
    )
    # the loan is recorded when contracted, never an entitlement
    assert rows == [("autumn", "freshman_grant", Decimal("1000.00"), "II.1.5")]


def test_loan_within_range_is_recorded(freshman: Student, personas: Any) -> None:
    identify()
    loan = services.loan_record(
        actor=personas.aid_officer,
        student_id=freshman.pk,
        school_year=2018,
        bank="国家开发银行",
        amount=Decimal("8000"),
        term_years=15,
    )
    assert (loan.degree, loan.amount, loan.rule_id, loan.village_code) == (
        "undergraduate",
        Decimal("8000.00"),
        "origin_loan_undergraduate",
        "420101001001",
    )


@pytest.mark.parametrize("amount", ["999.99", "8000.01"])
def test_loan_outside_range_is_refused(freshman: Student, personas: Any, amount: str) -> None:
    identify()
    with pytest.raises(ValidationError) as err:
        services.loan_record(
            actor=personas.aid_officer,
            student_id=freshman.pk,
            school_year=2018,
            bank="国家开发银行",
            amount=Decimal(amount),
            term_years=15,
        )
    assert "1000.00 to 8000.00" in str(err.value)
    assert Loan.objects.count() == 0


def test_only_the_aid_centre_records_loans(freshman: Student, personas: Any) -> None:
    identify()
    with pytest.raises(PermissionDenied):
        services.loan_record(
            actor=personas.township_a,
            student_id=freshman.pk,
            school_year=2018,
            bank="x",
            amount=Decimal("5000"),
            term_years=10,
        )
    assert Loan.objects.count() == 0

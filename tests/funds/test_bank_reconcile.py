"""Bank file and reconciliation: paid and failed payments, mismatches reported, failed paid again."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from tests.aid.world import approve_school, identify

from jingzhun.aid import services
from jingzhun.aid.selectors import coverage
from jingzhun.core.models import AuditEvent
from jingzhun.funds import services as funds
from jingzhun.funds.models import BankReturn, Payment, PaymentBatch
from jingzhun.schools.models import Enrolment


@pytest.fixture
def sent(county: Any, personas: Any) -> PaymentBatch:
    """School A's autumn boarding subsidy in a batch that was approved and sent to the bank."""
    identify()
    services.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )
    approve_school(personas, county)
    funds.allocation_record(
        actor=personas.aid_officer,
        channel="county",
        school_year=2018,
        programme="boarding_subsidy",
        amount=Decimal("5000.00"),
    )
    batch = services.aid_batch_create(
        actor=personas.aid_officer, school_year=2018, semester="autumn", idempotency_key="k1"
    )
    funds.payment_batch_approve(actor=personas.aid_officer, batch_id=batch.pk)
    funds.bank_file_export(actor=personas.aid_officer, batch_id=batch.pk, fmt="csv")
    batch.refresh_from_db()
    return batch


def bank_return(rows: list[tuple[str, str, str, str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["参考号", "账号", "金额", "状态", "失败原因"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def test_bank_file_carries_whole_account_and_is_logged(
    county: Any, personas: Any, sent: PaymentBatch
) -> None:
    name, content = funds.bank_file_export(actor=personas.aid_officer, batch_id=sent.pk, fmt="csv")
    text = content.decode("utf-8-sig")
    payment = Payment.objects.get()
    assert name == "420101-2018A-001.csv"
    assert f"6228480012345678901,张小明,500.00,{payment.reference}," in text
    assert text.splitlines()[-1] == "合计,1,,500.00,,"
    assert sent.status == "sent"
    assert AuditEvent.objects.filter(action="funds.bank_file").count() == 2


def test_bank_file_is_refused_to_others(county: Any, personas: Any, sent: PaymentBatch) -> None:
    for who in ("county_officer", "township_a", "principal_a", "inspector"):
        with pytest.raises(PermissionDenied):
            funds.bank_file_export(actor=getattr(personas, who), batch_id=sent.pk, fmt="csv")


def test_paid_return_reconciles_the_batch(county: Any, personas: Any, sent: PaymentBatch) -> None:
    p = Payment.objects.get()
    record = funds.bank_return_apply(
        actor=personas.aid_officer,
        batch_id=sent.pk,
        data=bank_return([(p.reference, "6228480012345678901", "500.00", "成功", "")]),
        file_name="return.csv",
    )
    assert record.balanced and record.counts["paid"] == 1
    p.refresh_from_db()
    sent.refresh_from_db()
    assert (p.status, sent.status) == ("paid", "reconciled")


def test_failed_payment_goes_back_to_the_next_batch(
    county: Any, personas: Any, sent: PaymentBatch
) -> None:
    p = Payment.objects.get()
    record = funds.bank_return_apply(
        actor=personas.aid_officer,
        batch_id=sent.pk,
        data=bank_return([(p.reference, "6228480012345678901", "500.00", "失败", "账户已冻结")]),
        file_name="return.csv",
    )
    p.refresh_from_db()
    assert (p.status, p.bank_reason, record.balanced) == ("failed", "账户已冻结", True)
    # when the next batch is made, the failed entitlement is in it again
    second = services.aid_batch_create(
        actor=personas.aid_officer, school_year=2018, semester="autumn", idempotency_key="k2"
    )
    again = second.payments.get()
    assert (again.source, again.amount, again.status) == (p.source, Decimal("500.00"), "pending")
    assert Payment.objects.filter(source=p.source).count() == 2


def test_mismatches_are_reported_and_nothing_is_corrected(
    county: Any, personas: Any, sent: PaymentBatch
) -> None:
    p = Payment.objects.get()
    record = funds.bank_return_apply(
        actor=personas.aid_officer,
        batch_id=sent.pk,
        data=bank_return(
            [
                (p.reference, "6228480012345678901", "499.00", "成功", ""),
                ("420101-2018A-001-999999", "6228480012345678901", "10.00", "成功", ""),
            ]
        ),
        file_name="return.csv",
    )
    assert not record.balanced
    assert [m["problem"] for m in record.mismatches] == [
        "amount 499.00 differs from the batch's 500.00",
        "no payment of this batch has this reference",
    ]
    p.refresh_from_db()
    sent.refresh_from_db()
    assert (p.status, sent.status) == ("pending", "sent")
    # a wrong account is a mismatch too
    record = funds.bank_return_apply(
        actor=personas.aid_officer,
        batch_id=sent.pk,
        data=bank_return([(p.reference, "6228480000000000000", "500.00", "成功", "")]),
        file_name="return2.csv",
    )
    assert [m["problem"] for m in record.mismatches] == ["the account differs from the one sent"]
    assert BankReturn.objects.count() == 2


def test_bad_return_file_names_line_and_column(
    county: Any, personas: Any, sent: PaymentBatch
) -> None:
    p = Payment.objects.get()
    with pytest.raises(ValidationError) as err:
        funds.bank_return_apply(
            actor=personas.aid_officer,
            batch_id=sent.pk,
            data=bank_return([(p.reference, "6228480012345678901", "5OO", "成功", "")]),
            file_name="return.csv",
        )
    assert "line 2" in str(err.value) and "5OO" in str(err.value)
    assert BankReturn.objects.count() == 0
    p.refresh_from_db()
    assert p.status == "pending"


def test_coverage_counts_paid_and_gaps(county: Any, personas: Any, sent: PaymentBatch) -> None:
    # given B's entitlement still pending review, A's payment with the bank
    cov = coverage(user=personas.aid_officer, school_year=2018, semester="autumn")
    assert (cov.county.students, cov.county.covered) == (2, 0)
    assert sorted((g.student_name, g.programme, g.reason) for g in cov.gaps) == [
        ("张小明", "boarding_subsidy", "payment_pending"),
        ("李小红", "compulsory_waiver", "pending_review"),
    ]
    p = Payment.objects.get()
    funds.bank_return_apply(
        actor=personas.aid_officer,
        batch_id=sent.pk,
        data=bank_return([(p.reference, "6228480012345678901", "500.00", "成功", "")]),
        file_name="r.csv",
    )
    cov = coverage(user=personas.aid_officer, school_year=2018, semester="autumn")
    assert (cov.county.students, cov.county.covered) == (2, 1)
    # cost: A's 500 paid and 90 waived; B's 130 waiver still pending review
    assert (cov.cash_paid, cov.waived, cov.outstanding) == (
        Decimal("500.00"),
        Decimal("90.00"),
        Decimal("130.00"),
    )
    assert [(r.label, r.students, r.covered, r.share) for r in cov.by_stage] == [
        ("Primary", 1, 1, Decimal("100.0")),
        ("Junior high", 1, 0, Decimal("0.0")),
    ]
    # a township officer of B sees only B's student
    cov_b = coverage(user=personas.township_b, school_year=2018, semester="autumn")
    assert (cov_b.county.students, [g.student_name for g in cov_b.gaps]) == (1, ["李小红"])
    # a student who dropped out before spring is a gap "not enrolled"
    Enrolment.objects.filter(pk=county.enrolment_b.pk).update(
        status="dropped_out", status_date="2018-12-01"
    )
    spring = coverage(user=personas.aid_officer, school_year=2018, semester="spring")
    assert [(g.student_name, g.reason) for g in spring.gaps if g.student_name == "李小红"] == [
        ("李小红", "not_enrolled")
    ]


def test_a_corrected_file_reconciles_after_a_mismatch(
    county: Any, personas: Any, sent: PaymentBatch
) -> None:
    p = Payment.objects.get()
    good = (p.reference, "6228480012345678901", "500.00", "成功", "")
    # the first file pays the payment but carries a stray row: reported, batch stays sent
    first = funds.bank_return_apply(
        actor=personas.aid_officer,
        batch_id=sent.pk,
        data=bank_return([good, ("X-1", "6228480012345678901", "10.00", "成功", "")]),
        file_name="return.csv",
    )
    sent.refresh_from_db()
    assert (first.balanced, sent.status) == (False, "sent")
    # the bank's corrected file repeats the settled row: no mismatch, the batch reconciles
    second = funds.bank_return_apply(
        actor=personas.aid_officer, batch_id=sent.pk, data=bank_return([good]), file_name="r2.csv"
    )
    sent.refresh_from_db()
    assert (second.balanced, second.counts["repeated"], sent.status) == (True, 1, "reconciled")
    # a file that contradicts a settled payment is still a mismatch
    p.refresh_from_db()
    assert p.status == "paid"

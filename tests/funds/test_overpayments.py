"""Adjustments after payment: an entitlement withdrawn after it was paid is recorded as an
overpayment with the rule the aid centre confirms (previewed first), posts a receivable, and is
settled by the officer (paid back, or deducted from a later payment); nothing settles itself."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from tests.aid.world import approve_school, identify
from tests.funds.test_bank_reconcile import bank_return
from tests.funds.test_ledger import _allocate, _batch, _lines
from tests.threads import english_client

from jingzhun.aid import services as aid
from jingzhun.aid.models import Adjustment
from jingzhun.funds import ledger
from jingzhun.funds import services as funds
from jingzhun.funds.models import Overpayment, Payment
from jingzhun.schools.models import Enrolment

pytestmark = pytest.mark.django_db
Q = "?year=2018&semester=autumn"


def _paid(personas: Any, county: Any) -> Payment:
    """School A's boarding subsidy (500) computed, approved, paid by the bank."""
    identify()
    aid.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )
    approve_school(personas, county)
    _allocate(personas, "1000.00")
    batch = aid.aid_batch_create(
        actor=personas.aid_officer, school_year=2018, semester="autumn", idempotency_key="k"
    )
    funds.payment_batch_approve(actor=personas.aid_officer, batch_id=batch.pk)
    funds.bank_file_export(actor=personas.aid_officer, batch_id=batch.pk, fmt="csv")
    payment = batch.payments.get()
    funds.bank_return_apply(
        actor=personas.aid_officer,
        batch_id=batch.pk,
        data=bank_return([(payment.reference, "6228480012345678901", "500.00", "成功", "")]),
        file_name="r.csv",
    )
    payment.refresh_from_db()
    assert payment.status == "paid"
    return payment


def test_a_withdrawn_paid_entitlement_is_recorded_then_settled_by_the_officer(
    county: Any, personas: Any
) -> None:
    # given a paid boarding subsidy withdrawn by a rerun (the child no longer boards)
    payment = _paid(personas, county)
    Enrolment.objects.filter(pk=county.enrolment_a.pk).update(boarding=False)
    aid.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )
    adjustment = Adjustment.objects.get(kind="withdrawn")
    client = english_client(personas.aid_officer)
    page = client.get(f"/aid/adjustments/{Q}").content.decode()
    assert "500.00 paid too much" in page
    # when the officer previews, nothing is recorded
    form = {"adjustment": adjustment.pk, "rule": "recover", "reason": "学生已走读"}
    preview = client.post(f"/aid/adjustments/{Q}", form)
    assert (
        preview.status_code == 200 and "was paid 500.00 yuan too much" in preview.content.decode()
    )
    assert not Overpayment.objects.exists()
    # and confirms: a receivable is posted, the paid amount no longer counts as spent
    assert client.post(f"/aid/adjustments/{Q}", {**form, "confirm": "1"}).status_code == 302
    over = Overpayment.objects.get()
    assert (over.payment, over.amount, over.rule, over.status) == (
        payment,
        Decimal("500.00"),
        "recover",
        "open",
    )
    [row] = ledger.programme_balances("420101", 2018)
    assert (row.paid, row.receivable, row.available) == (
        Decimal("0.00"),
        Decimal("500.00"),
        Decimal("500.00"),
    )
    # a second confirmation records nothing more
    client.post(f"/aid/adjustments/{Q}", {**form, "confirm": "1"})
    assert Overpayment.objects.count() == 1
    # township users may not record it
    township = english_client(personas.township_a)
    assert township.post(f"/aid/adjustments/{Q}", {**form, "confirm": "1"}).status_code == 403
    # then the officer settles it on the fund pages, previewed first
    settle = {"overpayment": over.pk, "settled_on": "2018-12-01", "note": "家长已退回"}
    assert client.post("/funds/overpayments/", settle).status_code == 200
    assert Overpayment.objects.get().status == "open"
    assert client.post("/funds/overpayments/", {**settle, "confirm": "1"}).status_code == 302
    over.refresh_from_db()
    assert (over.status, over.settled_on) == ("settled", dt.date(2018, 12, 1))
    [row] = ledger.programme_balances("420101", 2018)
    assert (row.receivable, row.available) == (Decimal("0.00"), Decimal("1000.00"))
    assert ledger.check_balances("420101") == []
    inspector = english_client(personas.inspector)
    assert inspector.get("/funds/overpayments/").status_code == 200
    assert inspector.post("/funds/overpayments/", {**settle, "confirm": "1"}).status_code == 403


def test_an_offset_names_a_later_payment_to_the_same_card(personas: Any) -> None:
    _allocate(personas, "2000.00")
    first = _batch(personas, "a", _lines(1, "300.00", tag="a"))
    later = _batch(personas, "b", _lines(1, "300.00", tag="b"))
    other = _batch(personas, "c", _lines(2, "300.00", tag="c"))
    for b in (first, later, other):
        funds.payment_batch_approve(actor=personas.aid_officer, batch_id=b.pk)
    funds.bank_file_export(actor=personas.aid_officer, batch_id=first.pk, fmt="csv")
    paid = first.payments.get()
    funds.bank_return_apply(
        actor=personas.aid_officer,
        batch_id=first.pk,
        data=bank_return([(paid.reference, "6217000000001234", "300.00", "成功", "")]),
        file_name="r.csv",
    )
    over = funds.overpayment_record(
        actor=personas.aid_officer,
        payment_id=paid.pk,
        cause="test:1",
        amount=Decimal("120.00"),
        rule="offset",
        reason="重复计算",
    )
    with pytest.raises(ValidationError, match="Already done"):
        funds.overpayment_record(
            actor=personas.aid_officer,
            payment_id=paid.pk,
            cause="test:1",
            amount=Decimal("120.00"),
            rule="offset",
            reason="重复计算",
        )
    # a payment to someone else (学生1 of batch c) is no offset
    wrong = other.payments.order_by("id")[1]
    with pytest.raises(ValidationError, match="same beneficiary"):
        funds.overpayment_settle(
            actor=personas.aid_officer,
            overpayment_id=over.pk,
            settled_on=dt.date(2018, 12, 1),
            note="下次发放扣减",
            offset_reference=wrong.reference,
        )
    right = later.payments.get()
    done = funds.overpayment_settle(
        actor=personas.aid_officer,
        overpayment_id=over.pk,
        settled_on=dt.date(2018, 12, 1),
        note="下次发放扣减",
        offset_reference=right.reference,
    )
    assert (done.status, done.offset_reference) == ("settled", right.reference)
    with pytest.raises(ValidationError, match="Already done"):
        funds.overpayment_settle(
            actor=personas.aid_officer,
            overpayment_id=over.pk,
            settled_on=dt.date(2018, 12, 1),
            note="again",
            offset_reference=right.reference,
        )
    assert ledger.check_balances("420101") == []


def test_only_a_paid_payment_and_at_most_its_amount(personas: Any) -> None:
    _allocate(personas, "500.00")
    batch = _batch(personas, "a", _lines(1, "300.00"))
    pending = batch.payments.get()
    for amount, status in (("100.00", "pending"), ("300.01", "paid"), ("0", "paid")):
        Payment.objects.filter(pk=pending.pk).update(status=status)
        with pytest.raises(ValidationError):
            funds.overpayment_record(
                actor=personas.aid_officer,
                payment_id=pending.pk,
                cause="x",
                amount=Decimal(amount),
                rule="recover",
                reason="r",
            )
    assert not Overpayment.objects.exists()

"""Payment batches: control totals, allocation checks, idempotency, one approval, no double pay."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from tests.aid.world import approve_school, identify
from tests.conftest import make_user, subprocess_env
from tests.threads import at_once, english_client, messages_of

from jingzhun.accounts.roles import Role
from jingzhun.aid import services
from jingzhun.aid.models import Entitlement
from jingzhun.core.models import AuditEvent
from jingzhun.funds import ledger
from jingzhun.funds import services as funds
from jingzhun.funds.models import Allocation, JournalEntry, Payment, PaymentBatch
from jingzhun.schools.models import Enrolment, Student


def payment_student(payment: Payment) -> int:
    """Return the student id of the entitlement a payment pays."""
    return Entitlement.objects.get(pk=int(payment.source.rsplit(":", 1)[1])).student_id


@pytest.fixture
def approved(county: Any, personas: Any) -> Any:
    """School A's autumn entitlements approved; 1,000 allocated to boarding subsidies."""
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
        amount=Decimal("1000.00"),
    )
    return county


def create(personas: Any, key: str = "2018-autumn-1") -> PaymentBatch:
    return services.aid_batch_create(
        actor=personas.aid_officer, school_year=2018, semester="autumn", idempotency_key=key
    )


def test_batch_pays_approved_cash_with_control_totals(approved: Any, personas: Any) -> None:
    batch = create(personas)
    assert batch.status == "draft" and batch.reference == "420101-2018A-001"
    payment = Payment.objects.get()
    assert (payment.programme, payment.amount, payment.account_masked) == (
        "boarding_subsidy",
        Decimal("500.00"),
        "***************8901",  # a card keeps its last four (core.crypto.mask_account)
    )
    assert payment.beneficiary == Student.objects.get(pk=payment_student(payment)).name
    assert payment.source.startswith("aid.entitlement:")
    assert batch.control["count"] == 1 and batch.control["amount"] == "500.00"
    assert batch.control["by_programme"] == {"boarding_subsidy": {"count": 1, "amount": "500.00"}}
    assert batch.control["by_township"] == {"420101001": {"count": 1, "amount": "500.00"}}
    # waivers are recorded, never paid
    assert not Payment.objects.filter(programme="compulsory_waiver").exists()


def test_same_key_gives_the_same_batch_and_nothing_is_paid_twice(
    approved: Any, personas: Any
) -> None:
    first = create(personas)
    assert create(personas) == first
    with pytest.raises(ValidationError):
        create(personas, key="another-key")
    assert PaymentBatch.objects.count() == 1 and Payment.objects.count() == 1


def test_allocation_must_cover_the_batch(approved: Any, personas: Any) -> None:
    # the 1,000 allocated is reversed (the ledger is never edited) and 499.99 allocated instead
    first = JournalEntry.objects.get(source=f"funds.allocation:{Allocation.objects.get().pk}")
    ledger.reverse(entry=first, actor=personas.aid_officer, memo="wrong amount")
    funds.allocation_record(
        actor=personas.aid_officer,
        channel="county",
        school_year=2018,
        programme="boarding_subsidy",
        amount=Decimal("499.99"),
    )
    with pytest.raises(ValidationError) as err:
        create(personas)
    assert "boarding_subsidy needs 500.00" in str(err.value)
    assert PaymentBatch.objects.count() == 0 and Payment.objects.count() == 0


def test_student_without_bank_card_is_a_gap(approved: Any, personas: Any, county: Any) -> None:
    Enrolment.objects.filter(pk=county.enrolment_b.pk).update(boarding=True)
    services.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )
    principal_b = make_user("principal_b", Role.PRINCIPAL, school=county.school_b)
    teacher_b = make_user("teacher_b", Role.CLASS_TEACHER, school_class=county.class_b)
    services.entitlement_class_check(
        actor=teacher_b, school_class_id=county.class_b.pk, school_year=2018, semester="autumn"
    )
    services.entitlement_school_review(
        actor=principal_b, school_id=county.school_b.pk, school_year=2018, semester="autumn"
    )
    notice = services.notice_post(
        actor=principal_b,
        school_id=county.school_b.pk,
        school_year=2018,
        semester="autumn",
        starts_on=dt.date(2018, 9, 17),
    )
    services.notice_approve(
        actor=personas.aid_officer, notice_id=notice.pk, today=dt.date(2018, 9, 25)
    )
    funds.allocation_record(
        actor=personas.aid_officer,
        channel="county",
        school_year=2018,
        programme="boarding_subsidy",
        amount=Decimal("625.00"),
    )
    batch = create(personas)
    assert batch.control["count"] == 1
    assert [(g["student"], g["programme"], g["amount"], g["reason"]) for g in batch.gaps] == [
        (county.student_b.pk, "boarding_subsidy", "625.00", "no_bank_card")
    ]


@pytest.mark.parametrize(
    "who", ["county_officer", "principal_a", "township_a", "bureau_leader", "inspector"]
)
def test_only_the_aid_centre_pays(approved: Any, personas: Any, who: str) -> None:
    with pytest.raises(PermissionDenied):
        services.aid_batch_create(
            actor=getattr(personas, who), school_year=2018, semester="autumn", idempotency_key="k"
        )
    assert PaymentBatch.objects.count() == 0


def test_approving_twice_is_refused(approved: Any, personas: Any) -> None:
    batch = create(personas)
    funds.payment_batch_approve(actor=personas.aid_officer, batch_id=batch.pk)
    with pytest.raises(ValidationError):
        funds.payment_batch_approve(actor=personas.aid_officer, batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == "approved" and batch.approved_by == personas.aid_officer


def test_a_second_live_payment_for_one_entitlement_is_refused_by_the_database(
    approved: Any, personas: Any
) -> None:
    batch = create(personas)
    p = Payment.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            batch=batch,
            source=p.source,
            programme=p.programme,
            amount=p.amount,
            payee_name="x",
            account_cipher=b"x",
            account_key=1,
            account_index="x",
            account_masked="x",
            reference="other",
        )


def _concurrently(n: int, work: Any) -> list[Any]:
    results: list[Any] = [None] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work()
        except Exception as exc:  # noqa: BLE001 - the test counts outcomes
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_sixteen_simultaneous_approvals_give_one(
    approved: Any, personas: Any, audit_flushable: Any
) -> None:
    batch = create(personas)
    results = _concurrently(
        16, lambda: funds.payment_batch_approve(actor=personas.aid_officer, batch_id=batch.pk)
    )
    ok = [r for r in results if isinstance(r, PaymentBatch)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert (len(ok), len(refused)) == (1, 15), results
    batch.refresh_from_db()
    assert batch.status == "approved"


def test_sixteen_simultaneous_creations_give_one_batch(
    approved: Any, personas: Any, audit_flushable: Any
) -> None:
    results = _concurrently(16, lambda: create(personas))
    # every caller gets the batch made under the key: no error escapes
    assert all(isinstance(r, PaymentBatch) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert PaymentBatch.objects.count() == 1 and Payment.objects.count() == 1
    assert AuditEvent.objects.filter(action="funds.batch_create").count() == 1


def test_sixteen_simultaneous_creations_under_different_keys_give_one_and_already_done(
    approved: Any, personas: Any, audit_flushable: Any
) -> None:
    """Sixteen officers (sixteen forms, sixteen keys) at once: one batch, fifteen told why not."""
    results = at_once(16, lambda i, _state: create(personas, key=f"form-{i}"))
    made = [r for r in results if isinstance(r, PaymentBatch)]
    already = [r for r in results if isinstance(r, ValidationError) and r.code == "already_done"]
    assert (len(made), len(already)) == (1, 15), results
    assert all(made[0].reference in r.messages[0] for r in already), already[0].messages
    assert PaymentBatch.objects.count() == 1 and Payment.objects.count() == 1
    assert AuditEvent.objects.filter(action="funds.batch_create").count() == 1


def test_sixteen_simultaneous_posts_of_the_batch_form_give_one_batch_and_clear_messages(
    approved: Any, personas: Any, audit_flushable: Any
) -> None:
    """Through the page: half submit the same form twice over, half their own; never a 500."""
    keys = ["double-click"] * 8 + [f"form-{i}" for i in range(8)]

    def post(i: int, client: Client) -> tuple[int, list[str]]:
        response = client.post(
            reverse("aid:batches"), {"year": 2018, "semester": "autumn", "key": keys[i]}
        )
        return response.status_code, messages_of(response)

    results = at_once(16, post, prepare=lambda i: english_client(personas.aid_officer))
    assert all(isinstance(r, tuple) and r[0] == 302 for r in results), results
    batch = PaymentBatch.objects.get()
    texts = [text for _status, found in results for text in found]
    assert texts.count(f"Batch {batch.reference} is ready.") == 1, texts
    others = [t for t in texts if "is ready" not in t]
    assert len(others) == 15 and all(t.startswith("Already done") for t in others), texts
    assert Payment.objects.count() == 1
    assert AuditEvent.objects.filter(action="funds.batch_create").count() == 1


CRASH = """
import os, django
django.setup()
from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.aid import services
user = User.objects.get(username="aid")
services.aid_batch_create(actor=user, school_year=2018, semester="autumn", idempotency_key="crash-1")
os._exit(9)  # the process dies before anyone approves
"""


def test_a_crash_between_creation_and_approval_loses_nothing(
    approved: Any, personas: Any, audit_flushable: Any
) -> None:
    env = subprocess_env()
    proc = subprocess.run([sys.executable, "-c", CRASH], env=env, capture_output=True, timeout=120)
    assert proc.returncode == 9, proc.stderr.decode()[-800:]
    connection.close()
    # the draft batch is there, whole
    batch = PaymentBatch.objects.get(idempotency_key="crash-1")
    assert batch.status == "draft" and batch.payments.count() == 1
    # creating again under the key gives it back, and it can be approved
    assert create(personas, key="crash-1") == batch
    funds.payment_batch_approve(actor=personas.aid_officer, batch_id=batch.pk)
    assert PaymentBatch.objects.get().status == "approved" and Payment.objects.count() == 1

"""Reads of the fund ledger, for the acting user: the county's books are the county's, so a user
whose jurisdiction is below the county (a township, a school, a class) or who has none sees
nothing here (PermissionDenied), and a county user sees their own county's only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone

from jingzhun.core import permissions as P
from jingzhun.core.scoping import get_object_for_user, scope_queryset
from jingzhun.funds import ledger
from jingzhun.funds.models import Account, JournalEntry, Overpayment, Payment, PaymentBatch

ZERO = Decimal("0.00")


def county_of(user: Any) -> str:
    """Return the county whose books the user may read, or refuse."""
    scope = getattr(user, "scope", None)
    if (
        not getattr(user, "is_authenticated", False)
        or not user.can(P.VIEW)
        or scope is None
        or scope.level != "county"
        or not scope.county_code
    ):
        raise PermissionDenied
    return str(scope.county_code)


def may_read(user: Any) -> bool:
    try:
        county_of(user)
    except PermissionDenied:
        return False
    return True


def may_post(user: Any) -> bool:
    return may_read(user) and user.can(P.PAY)


def pool_balance(user: Any) -> Decimal:
    county = county_of(user)
    found = Account.objects.filter(county_code=county, kind=Account.Kind.POOL).values_list(
        "balance", flat=True
    )
    return next(iter(found), ZERO)


def trial_balance(user: Any, on: dt.date) -> ledger.TrialBalance:
    return ledger.trial_balance(county_of(user), on)


def programme_balances(user: Any, school_year: int | None) -> list[ledger.ProgrammeBalance]:
    return ledger.programme_balances(county_of(user), school_year)


def bank_reconciliation(user: Any, school_year: int) -> list[ledger.Reconciliation]:
    return ledger.bank_reconciliation(county_of(user), school_year)


def channel_totals(user: Any, on: dt.date) -> list[tuple[str, Decimal, Decimal]]:
    return ledger.pool_channel_shares(county_of(user), on)


def overpayments(user: Any) -> QuerySet[Overpayment]:
    county_of(user)
    return scope_queryset(Overpayment.objects.all(), user).select_related("payment__batch")


def journal(user: Any) -> QuerySet[JournalEntry]:
    county_of(user)
    return scope_queryset(JournalEntry.objects.all(), user).order_by("-posted_on", "-id")


def entry_get(user: Any, entry_id: int) -> JournalEntry:
    county_of(user)
    return get_object_for_user(JournalEntry.objects.all(), user, pk=entry_id)


@dataclass
class Trace:
    """Where one payment's money came from and went: channel → pool → programme → card."""

    payment: Payment
    batch: PaymentBatch
    entries: list[JournalEntry]  # the batch's approval, sending and settlement
    allocations: list[JournalEntry]  # what was allocated to the programme and year
    channels: list[tuple[str, Decimal, Decimal]]  # the pool's channels up to the approval
    notes: list[str] = field(default_factory=list)


def trace(user: Any, reference: str) -> Trace:
    """Return the trace of the payment with this reference (a 404 when the user may not see it)."""
    county = county_of(user)
    payment = get_object_for_user(
        Payment.objects.select_related("batch"), user, reference=reference.strip()
    )
    batch = payment.batch
    entries = ledger.entries_of(county, [f"funds.batch:{batch.pk}"])
    code = ledger.account_code(
        Account.Kind.PROGRAMME, programme=payment.programme, school_year=batch.school_year
    )
    allocations = list(
        JournalEntry.objects.filter(
            county_code=county,
            lines__account__code=code,
            lines__debit__gt=0,
            kind__in=(
                JournalEntry.Kind.ALLOCATION,
                JournalEntry.Kind.OPENING,
                JournalEntry.Kind.DONATION,
            ),
        )
        .distinct()
        .prefetch_related("lines__account")
        .order_by("posted_on", "id")
    )
    approved_on = next(
        (e.posted_on for e in entries if e.kind == JournalEntry.Kind.APPROVAL), timezone.localdate()
    )
    return Trace(
        payment=payment,
        batch=batch,
        entries=entries,
        allocations=allocations,
        channels=ledger.pool_channel_shares(county, approved_on),
    )

"""Read API for the fund ledger: the trial balance at a date, the programme balances of a school
year, the bank reconciliation and the trace of one payment. The books are the county's: a
caller below the county level gets a 403, a payment outside the county a 404. Accounts are
shown masked only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from jingzhun.core.api import QueryText, acting_user, answers, invalid
from jingzhun.funds import selectors

router = Router(tags=["funds"])
SchoolYear = Annotated[int, Field(ge=2000, le=2100, description="A school year such as 2018")]


class TrialRowOut(Schema):
    account: str
    kind: str
    channel: str
    programme: str
    school_year: int | None
    debit: Decimal
    credit: Decimal
    balance: Decimal


class TrialBalanceOut(Schema):
    on: dt.date
    balanced: bool
    total_debit: Decimal
    total_credit: Decimal
    rows: list[TrialRowOut]


class ProgrammeBalanceOut(Schema):
    programme: str
    school_year: int
    allocated: Decimal
    reserved: Decimal
    paid: Decimal
    returned: Decimal
    available: Decimal


class ReconciliationOut(Schema):
    reference: str
    status: str
    sent: int
    sent_amount: Decimal
    paid: int
    paid_amount: Decimal
    failed: int
    failed_amount: Decimal
    pending: int
    pending_amount: Decimal
    returns: int
    mismatches: int
    settled: bool


class TraceLineOut(Schema):
    account: str
    debit: Decimal
    credit: Decimal


class TraceEntryOut(Schema):
    id: int
    kind: str
    posted_on: dt.date
    memo: str
    lines: list[TraceLineOut]


class TraceChannelOut(Schema):
    channel: str
    received: Decimal
    share: Decimal


class TraceOut(Schema):
    reference: str
    programme: str
    amount: Decimal
    status: str
    account_masked: str
    batch: str
    channels: list[TraceChannelOut]
    allocations: list[TraceEntryOut]
    entries: list[TraceEntryOut]


def _county_user(request: HttpRequest) -> Any:
    user = acting_user(request)
    if not selectors.may_read(user):
        raise HttpError(403, "The fund ledger is read at the county level.")
    return user


def _entry(e: Any) -> dict[str, Any]:
    return {
        "id": e.pk,
        "kind": e.kind,
        "posted_on": e.posted_on,
        "memo": e.memo,
        "lines": [
            {"account": line.account.code, "debit": line.debit, "credit": line.credit}
            for line in e.lines.all()
        ],
    }


@router.get(
    "/funds/trial-balance", response=answers(TrialBalanceOut, 403, 422), summary="Trial balance"
)
def trial_balance(request: HttpRequest, on: QueryText | None = None) -> dict[str, Any]:
    """Every account's debits, credits and balance up to and including a date (``on``,
    YYYY-MM-DD; default today)."""
    user = _county_user(request)
    try:
        day = dt.date.fromisoformat(on) if on else timezone.localdate()
    except ValueError:
        raise invalid(["query", "on"], "a date as YYYY-MM-DD", "date_parsing") from None
    tb = selectors.trial_balance(user, day)
    return {
        "on": tb.on,
        "balanced": tb.balanced,
        "total_debit": tb.total_debit,
        "total_credit": tb.total_credit,
        "rows": [
            {
                "account": r.account.code,
                "kind": r.account.kind,
                "channel": r.account.channel,
                "programme": r.account.programme,
                "school_year": r.account.school_year,
                "debit": r.debit,
                "credit": r.credit,
                "balance": r.balance,
            }
            for r in tb.rows
        ],
    }


@router.get(
    "/funds/programme-balances",
    response=answers(list[ProgrammeBalanceOut], 403, 422),
    summary="Programme balances",
)
def programme_balances(request: HttpRequest, year: SchoolYear | None = None) -> list[Any]:
    """Allocated, reserved, paid, returned and available per programme (one school year, or all)."""
    return selectors.programme_balances(_county_user(request), year)


@router.get(
    "/funds/reconciliation",
    response=answers(list[ReconciliationOut], 403, 422),
    summary="Bank reconciliation of a school year",
)
def reconciliation(request: HttpRequest, year: SchoolYear) -> list[dict[str, Any]]:
    rows = selectors.bank_reconciliation(_county_user(request), year)
    return [{**r.__dict__, "settled": r.settled} for r in rows]


@router.get("/funds/trace", response=answers(TraceOut, 403, 404, 422), summary="Trace one payment")
def trace(request: HttpRequest, payment: QueryText) -> dict[str, Any]:
    """Where one payment's money came from: the pool's channels, the programme's allocations,
    the batch's approval, sending and settlement."""
    try:
        t = selectors.trace(_county_user(request), str(payment)[:40])
    except PermissionDenied:
        raise HttpError(403, "The fund ledger is read at the county level.") from None
    return {
        "reference": t.payment.reference,
        "programme": t.payment.programme,
        "amount": t.payment.amount,
        "status": t.payment.status,
        "account_masked": t.payment.account_masked,
        "batch": t.batch.reference,
        "channels": [{"channel": c, "received": a, "share": s} for c, a, s in t.channels],
        "allocations": [_entry(e) for e in t.allocations],
        "entries": [_entry(e) for e in t.entries],
    }

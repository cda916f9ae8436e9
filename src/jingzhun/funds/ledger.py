"""The fund ledger (III.2): accounts, balanced postings, reversals, and what they add up to.

"Many channels in, one tap out": each channel's transfer lands in the county's pooled account
and is allocated from there to a programme for a school year; approving a payment batch moves
the money to "payable", sending the bank file to "at the bank", and the bank's return to "paid"
or back to the programme. An account's ``balance`` is debit minus credit; stage accounts hold
a debit balance (the money at that stage), channel and opening accounts a credit one.

Posting is the only write. It runs inside the caller's transaction, so the entry and the event
it records commit together or not at all, and it changes each account's balance with one
guarded statement (``UPDATE ... SET balance = balance + d WHERE id = a AND balance + d >= 0``):
two officers drawing on one balance at once cannot both pass, on SQLite (one writer) and on
PostgreSQL (the second UPDATE waits for the first and re-reads the row). Entries and lines are
append-only in the database (migration 0005); a correction is a reversing entry.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core.money import CENT, to_yuan
from jingzhun.funds.models import (
    Account,
    AccountDay,
    BankReturn,
    FundProject,
    JournalEntry,
    JournalLine,
    Payment,
    PaymentBatch,
    Pledge,
)

ZERO = Decimal("0.00")
HALF_CENT = Decimal("0.005")
K = Account.Kind

# The channels money comes in by (III.2); a donation's channel is "donation".
CHANNELS = (
    "central",
    "provincial",
    "municipal",
    "county",
    "lottery",
    "rain_dew",
    "donation",
)

# Stage accounts kept per programme and school year.
STAGES = (K.PROGRAMME, K.PAYABLE, K.BANK, K.PAID, K.RECEIVABLE)


# Paying apps name their programmes here (funds imports none of them): each registered
# function gives, for a county and a school year, programme code -> label in the language
# active now. Registered in the apps' AppConfig.ready().
LabelSource = Callable[[str, int], dict[str, str]]
_LABEL_SOURCES: list[LabelSource] = []


def register_programme_labels(source: LabelSource) -> None:
    """Let an app name the programmes it pays through funds."""
    if source not in _LABEL_SOURCES:
        _LABEL_SOURCES.append(source)


def programme_labels(county_code: str, school_year: int) -> dict[str, str]:
    """Return programme code -> label from every registered app (a code with no label is
    shown as it is)."""
    out: dict[str, str] = _own_labels(county_code, school_year)
    for source in _LABEL_SOURCES:
        out.update(source(county_code, school_year))
    return out


def _own_labels(county_code: str, school_year: int) -> dict[str, str]:
    """Name the programmes funds opens itself: a fund project's and a pledge's."""
    out = {
        fp.programme: fp.name
        for fp in FundProject.objects.filter(county_code=county_code, school_year=school_year)
    }
    for pledge in Pledge.objects.filter(county_code=county_code).select_related("donor"):
        out[f"donation:{pledge.pk}"] = _("Donation of %(donor)s") % {"donor": pledge.donor.name}
    return out


def channel_labels() -> dict[str, str]:
    """Return each channel's name in the reader's language."""
    return {
        "central": _("Central budget"),
        "provincial": _("Provincial budget"),
        "municipal": _("Municipal budget"),
        "county": _("County budget"),
        "lottery": _("Lottery public-welfare funds"),
        "rain_dew": _("Poverty office Rain and Dew funds"),
        "donation": _("Social donations"),
        "opening": _("Opening balances"),
    }


def account_code(
    kind: str, *, channel: str = "", programme: str = "", school_year: int | None = None
) -> str:
    """Return the code of an account: "pool", "channel:central", "programme:2026:nutrition"."""
    if kind in (K.POOL, K.OPENING):
        return str(kind)
    if kind == K.CHANNEL:
        if not channel:
            raise ValueError("a channel account names its channel")
        return f"channel:{channel}"
    if not programme or school_year is None:
        raise ValueError("a stage account names its programme and school year")
    return f"{kind}:{school_year}:{programme}"


def account(
    county_code: str,
    kind: str,
    *,
    channel: str = "",
    programme: str = "",
    school_year: int | None = None,
) -> Account:
    """Return the county's account, opening it on first use."""
    code = account_code(kind, channel=channel, programme=programme, school_year=school_year)
    found = Account.objects.filter(county_code=county_code, code=code).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Account.objects.create(
                county_code=county_code,
                code=code,
                kind=kind,
                channel=channel if kind == K.CHANNEL else "",
                programme=programme,
                school_year=school_year if kind in STAGES else None,
            )
    except IntegrityError:  # opened at the same moment by another posting
        return Account.objects.get(county_code=county_code, code=code)


@dataclass(frozen=True)
class Leg:
    """One line of an entry to post."""

    account: Account
    debit: Decimal = ZERO
    credit: Decimal = ZERO


def debit(acc: Account, amount: Decimal) -> Leg:
    return Leg(acc, debit=to_yuan(amount))


def credit(acc: Account, amount: Decimal) -> Leg:
    return Leg(acc, credit=to_yuan(amount))


def _label(acc: Account) -> str:
    return acc.get_kind_display() + (
        f" {acc.school_year}-{acc.school_year + 1} {acc.programme}"
        if acc.school_year is not None
        else (f" {channel_labels().get(acc.channel, acc.channel)}" if acc.channel else "")
    )


def post(
    *,
    county_code: str,
    kind: str,
    key: str,
    legs: Sequence[Leg],
    posted_on: dt.date | None = None,
    source: str = "",
    memo: str = "",
    actor: Any = None,
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Post one balanced entry in the caller's transaction; return it.

    Refused (ValidationError, nothing written) when the entry does not balance, a line is not
    a positive amount in cents, an account is another county's, an account would be overdrawn
    (code "overdraft"), or an entry with this key was posted before (code "already_done").
    """
    legs = [leg for leg in legs if leg.debit or leg.credit]
    if not legs:
        raise ValidationError(_("An entry needs at least one line."))
    for leg in legs:
        amounts = (leg.debit, leg.credit)
        if (
            min(amounts) < 0
            or (leg.debit and leg.credit)
            or any(a != a.quantize(CENT) for a in amounts)
        ):
            raise ValidationError(_("Each line is a debit or a credit of a positive amount."))
        if leg.account.county_code != county_code:
            raise ValidationError(_("An entry posts to its own county's accounts only."))
    total_debit = sum((leg.debit for leg in legs), ZERO)
    total_credit = sum((leg.credit for leg in legs), ZERO)
    if total_debit != total_credit:
        raise ValidationError(
            _("The entry does not balance: debits %(debit)s, credits %(credit)s.")
            % {"debit": total_debit, "credit": total_credit}
        )
    on = posted_on or timezone.localdate()
    with transaction.atomic():
        if JournalEntry.objects.filter(county_code=county_code, key=key).exists():
            raise ValidationError(_("Already done: this entry was posted before."), "already_done")
        _move_balances(legs)
        try:
            with transaction.atomic():
                entry = JournalEntry.objects.create(
                    county_code=county_code,
                    kind=kind,
                    posted_on=on,
                    source=source[:80],
                    memo=memo[:200],
                    key=key[:100],
                    reverses=reverses,
                    posted_by=actor if getattr(actor, "pk", None) else None,
                )
        except IntegrityError:
            raise ValidationError(
                _("Already done: this entry was posted before."), "already_done"
            ) from None
        JournalLine.objects.bulk_create(
            [
                JournalLine(
                    entry=entry,
                    account=leg.account,
                    debit=leg.debit,
                    credit=leg.credit,
                    posted_on=on,
                )
                for leg in legs
            ]
        )
        _add_days(legs, on)
    return entry


def _move_balances(legs: Sequence[Leg]) -> None:
    """Change each account's balance by its net, refusing any that would cross zero."""
    net: dict[int, Decimal] = defaultdict(lambda: ZERO)
    accounts: dict[int, Account] = {}
    for leg in legs:
        net[leg.account.pk] += leg.debit - leg.credit
        accounts[leg.account.pk] = leg.account
    for pk in sorted(net):  # one order for every posting: no deadlock between two
        delta = net[pk]
        if not delta:
            continue
        acc = accounts[pk]
        rows = Account.objects.filter(pk=pk)
        # Only a move away from the account's normal side can overdraw it. Amounts are whole
        # cents, so "within half a cent" is "not below zero" exactly, and stays so where the
        # database adds decimals as floating point (SQLite).
        if acc.credit_normal and delta > 0:
            rows = rows.filter(balance__lte=-delta + HALF_CENT)
        elif not acc.credit_normal and delta < 0:
            rows = rows.filter(balance__gte=-delta - HALF_CENT)
        if rows.update(balance=F("balance") + delta) != 1:
            held = Account.objects.get(pk=pk).balance
            raise ValidationError(
                _("%(account)s holds %(held)s; %(need)s is needed. Nothing was posted.")
                % {
                    "account": _label(acc),
                    "held": abs(held),
                    "need": abs(delta),
                },
                code="overdraft",
            )


def _add_days(legs: Sequence[Leg], on: dt.date) -> None:
    """Add the lines to their accounts' totals of the day (one row per account and day)."""
    per: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for leg in legs:
        per[leg.account.pk][0] += leg.debit
        per[leg.account.pk][1] += leg.credit
    table = connection.ops.quote_name(AccountDay._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (account_id, day, debit, credit) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (account_id, day) DO UPDATE SET "
            f"debit = {table}.debit + excluded.debit, credit = {table}.credit + excluded.credit",
            [(pk, on, d, c) for pk, (d, c) in sorted(per.items())],
        )


def reverse(
    *, entry: JournalEntry, actor: Any, memo: str, posted_on: dt.date | None = None
) -> JournalEntry:
    """Post the entry's reversal (each line on the other side); an entry is reversed once."""
    if entry.kind == JournalEntry.Kind.REVERSAL:
        raise ValidationError(_("A reversal is not reversed; post the entry again instead."))
    if not memo.strip():
        raise ValidationError(_("Say why the entry is reversed."))
    legs = [
        Leg(line.account, debit=line.credit, credit=line.debit)
        for line in entry.lines.select_related("account")
    ]
    return post(
        county_code=entry.county_code,
        kind=JournalEntry.Kind.REVERSAL,
        key=f"reverse:{entry.pk}",
        legs=legs,
        posted_on=posted_on,
        source=entry.source,
        memo=memo,
        actor=actor,
        reverses=entry,
    )


# --- What the ledger adds up to ------------------------------------------------------------


@dataclass(frozen=True)
class BalanceRow:
    account: Account
    debit: Decimal  # the period's total debits up to the date
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        return self.debit - self.credit


@dataclass(frozen=True)
class TrialBalance:
    on: dt.date
    rows: list[BalanceRow]

    @property
    def total_debit(self) -> Decimal:
        return sum((r.debit for r in self.rows), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((r.credit for r in self.rows), ZERO)

    @property
    def debit_balances(self) -> Decimal:
        return sum((r.balance for r in self.rows if r.balance > 0), ZERO)

    @property
    def credit_balances(self) -> Decimal:
        return sum((-r.balance for r in self.rows if r.balance < 0), ZERO)

    @property
    def balanced(self) -> bool:
        return self.total_debit == self.total_credit


def trial_balance(county_code: str, on: dt.date) -> TrialBalance:
    """Return every account's debits and credits up to and including a date (from the days)."""
    # SQLite sums decimal columns as floating point: every sum is brought back to the cent.
    sums = {
        row["account_id"]: (to_yuan(row["d"] or ZERO), to_yuan(row["c"] or ZERO))
        for row in AccountDay.objects.filter(account__county_code=county_code, day__lte=on)
        .values("account_id")
        .annotate(d=Sum("debit"), c=Sum("credit"))
    }
    rows = [
        BalanceRow(acc, *sums[acc.pk])
        for acc in Account.objects.filter(county_code=county_code, pk__in=list(sums))
    ]
    order = {k: n for n, k in enumerate(K.values)}
    rows.sort(
        key=lambda r: (
            order[r.account.kind],
            -(r.account.school_year or 0),
            r.account.programme,
            r.account.channel,
        )
    )
    return TrialBalance(on, rows)


@dataclass
class ProgrammeBalance:
    programme: str
    school_year: int
    allocated: Decimal = ZERO  # net allocations in (allocations less their reversals)
    reserved: Decimal = ZERO  # approved, not yet settled by the bank (payable + at the bank)
    paid: Decimal = ZERO
    returned: Decimal = ZERO  # failed by the bank, back to available
    disbursed: Decimal = ZERO  # projects' disbursements (part of paid)
    receivable: Decimal = ZERO
    available: Decimal = ZERO


def programme_balances(county_code: str, school_year: int | None = None) -> list[ProgrammeBalance]:
    """Return per programme and school year what was allocated, reserved, paid, returned and is
    still available, from the balances and the entries (set-wise)."""
    accounts = Account.objects.filter(county_code=county_code, kind__in=STAGES)
    if school_year is not None:
        accounts = accounts.filter(school_year=school_year)
    out: dict[tuple[str, int], ProgrammeBalance] = {}

    def row(prog: str, year: Any) -> ProgrammeBalance:
        key = (prog, int(year))
        if key not in out:
            out[key] = ProgrammeBalance(prog, int(year))
        return out[key]

    for acc in accounts:
        r = row(acc.programme, acc.school_year)
        if acc.kind == K.PROGRAMME:
            r.available += acc.balance
        elif acc.kind in (K.PAYABLE, K.BANK):
            r.reserved += acc.balance
        elif acc.kind == K.PAID:
            r.paid += acc.balance
        elif acc.kind == K.RECEIVABLE:
            r.receivable += acc.balance
    lines = JournalLine.objects.filter(account__county_code=county_code, account__kind=K.PROGRAMME)
    if school_year is not None:
        lines = lines.filter(account__school_year=school_year)
    flows = lines.values("account__programme", "account__school_year", "entry__kind").annotate(
        d=Sum("debit"), c=Sum("credit")
    )
    E = JournalEntry.Kind
    for f in flows:
        r = row(f["account__programme"], f["account__school_year"])
        d, c = to_yuan(f["d"] or ZERO), to_yuan(f["c"] or ZERO)
        if f["entry__kind"] in (E.ALLOCATION, E.OPENING, E.DONATION):
            r.allocated += d - c
        elif f["entry__kind"] == E.RETURNED:
            r.returned += d
        elif f["entry__kind"] == E.DISBURSEMENT:
            r.disbursed += c
    # A reversed allocation takes its money back out of "allocated".
    reversed_allocations = (
        JournalLine.objects.filter(
            account__county_code=county_code,
            account__kind=K.PROGRAMME,
            entry__kind=E.REVERSAL,
            entry__reverses__kind__in=(E.ALLOCATION, E.OPENING, E.DONATION),
        )
        .values("account__programme", "account__school_year")
        .annotate(d=Sum("debit"), c=Sum("credit"))
    )
    for g in reversed_allocations:
        if school_year is not None and g["account__school_year"] != school_year:
            continue
        row(g["account__programme"], g["account__school_year"]).allocated += (g["d"] or ZERO) - (
            g["c"] or ZERO
        )
    return sorted(out.values(), key=lambda r: (-r.school_year, r.programme))


def available(county_code: str, programme: str, school_year: int) -> Decimal:
    """Return what a programme holds for a school year, not yet reserved."""
    code = account_code(K.PROGRAMME, programme=programme, school_year=school_year)
    found = Account.objects.filter(county_code=county_code, code=code).values_list(
        "balance", flat=True
    )
    return next(iter(found), ZERO)


def entries_of(county_code: str, sources: Iterable[str]) -> list[JournalEntry]:
    """Return the entries that record the given sources, oldest first, with their lines."""
    return list(
        JournalEntry.objects.filter(county_code=county_code, source__in=list(sources))
        .prefetch_related("lines__account")
        .order_by("posted_on", "id")
    )


def pool_channel_shares(county_code: str, on: dt.date) -> list[tuple[str, Decimal, Decimal]]:
    """Return (channel, amount received up to the date, share) of the pooled money: the pool is
    one account by design, so a yuan allocated from it came from every channel in proportion."""
    rows = (
        JournalLine.objects.filter(
            account__county_code=county_code,
            account__kind__in=(K.CHANNEL, K.OPENING),
            posted_on__lte=on,
        )
        .values("account__channel", "account__kind")
        .annotate(c=Sum("credit"), d=Sum("debit"))
    )
    amounts = [
        (
            r["account__channel"] or "opening",
            to_yuan(r["c"] or ZERO) - to_yuan(r["d"] or ZERO),
        )
        for r in rows
    ]
    total = sum((a for _c, a in amounts), ZERO)
    return [
        (c, a, (a / total).quantize(Decimal("0.0001")) if total else ZERO)
        for c, a in sorted(amounts, key=lambda x: -x[1])
        if a
    ]


def check_balances(county_code: str | None = None) -> list[str]:
    """Return the accounts whose kept balance or day totals differ from their lines (empty when
    the ledger holds), and the entries that do not balance."""
    problems: list[str] = []
    accounts = Account.objects.all()
    lines = JournalLine.objects.all()
    if county_code:
        accounts = accounts.filter(county_code=county_code)
        lines = lines.filter(account__county_code=county_code)
    # Sums brought back to the cent (SQLite sums decimal columns as floating point).
    sums = {
        r["account_id"]: to_yuan(r["d"] or ZERO) - to_yuan(r["c"] or ZERO)
        for r in lines.values("account_id").annotate(d=Sum("debit"), c=Sum("credit"))
    }
    days = {
        r["account_id"]: to_yuan(r["d"] or ZERO) - to_yuan(r["c"] or ZERO)
        for r in AccountDay.objects.filter(account__in=accounts)
        .values("account_id")
        .annotate(d=Sum("debit"), c=Sum("credit"))
    }
    for acc in accounts:
        if acc.balance != sums.get(acc.pk, ZERO) or days.get(acc.pk, ZERO) != sums.get(
            acc.pk, ZERO
        ):
            problems.append(f"account {acc.county_code} {acc.code}: balance differs from its lines")
    # An entry's debits less its credits, off by half a cent or more (SQLite's float sums).
    unbalanced = (
        lines.values("entry_id")
        .annotate(diff=Sum(F("debit") - F("credit")))
        .filter(Q(diff__gte=HALF_CENT) | Q(diff__lte=-HALF_CENT))
        .values_list("entry_id", flat=True)
    )
    problems += [f"entry {pk} does not balance" for pk in unbalanced]
    return problems


__all__ = [
    "CHANNELS",
    "Leg",
    "account",
    "available",
    "check_balances",
    "credit",
    "debit",
    "post",
    "programme_balances",
    "reverse",
    "trial_balance",
]


@dataclass(frozen=True)
class Reconciliation:
    """One batch against the bank: what was sent, what the bank paid, failed, has not settled,
    and whether the ledger's "at the bank" account for it is clear."""

    batch_id: int
    reference: str
    status: str
    purpose: str
    semester: str
    sent: int
    sent_amount: Decimal
    paid: int
    paid_amount: Decimal
    failed: int
    failed_amount: Decimal
    pending: int
    pending_amount: Decimal
    returns: int  # return files applied
    mismatches: int  # rows of those files that matched nothing or differed

    @property
    def balanced(self) -> bool:
        return self.sent_amount == self.paid_amount + self.failed_amount + self.pending_amount

    @property
    def settled(self) -> bool:
        return self.pending == 0 and self.balanced


def bank_reconciliation(county_code: str, school_year: int) -> list[Reconciliation]:
    """Return the reconciliation of every batch of the school year sent to the bank (set-wise:
    one aggregate over the payments, one over the return files)."""
    batches = {
        b.pk: b
        for b in PaymentBatch.objects.filter(
            county_code=county_code,
            school_year=school_year,
            status__in=(PaymentBatch.Status.SENT, PaymentBatch.Status.RECONCILED),
        )
    }
    if not batches:
        return []
    sums: dict[tuple[int, str], tuple[int, Decimal]] = {
        (r["batch_id"], r["status"]): (r["n"], to_yuan(r["total"] or ZERO))
        for r in Payment.objects.filter(county_code=county_code, batch_id__in=list(batches))
        .values("batch_id", "status")
        .annotate(n=Count("id"), total=Sum("amount"))
    }
    files: dict[int, tuple[int, int]] = {}
    for r in BankReturn.objects.filter(batch_id__in=list(batches)).values("batch_id", "counts"):
        n, bad = files.get(r["batch_id"], (0, 0))
        files[r["batch_id"]] = (n + 1, bad + int((r["counts"] or {}).get("mismatches", 0)))
    out = []
    for pk, b in sorted(batches.items()):
        paid = sums.get((pk, "paid"), (0, ZERO))
        failed = sums.get((pk, "failed"), (0, ZERO))
        pending = sums.get((pk, "pending"), (0, ZERO))
        out.append(
            Reconciliation(
                batch_id=pk,
                reference=b.reference,
                status=b.status,
                purpose=b.purpose,
                semester=b.semester,
                sent=paid[0] + failed[0] + pending[0],
                sent_amount=paid[1] + failed[1] + pending[1],
                paid=paid[0],
                paid_amount=paid[1],
                failed=failed[0],
                failed_amount=failed[1],
                pending=pending[0],
                pending_amount=pending[1],
                returns=files.get(pk, (0, 0))[0],
                mismatches=files.get(pk, (0, 0))[1],
            )
        )
    return out

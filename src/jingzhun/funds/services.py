"""Writes of funds: allocations, payment batches, bank files, reconciliation.

State changes are guarded updates (`UPDATE ... WHERE status = ...` with a row-count
check), so two officers acting at once cannot both succeed; SQLite has no
SELECT ... FOR UPDATE. A second live payment for the same source is refused by a
partial unique constraint. Making a batch and applying a bank return are serialised
(per county, per batch): the second of two at once waits, sees the first's work and says
it is already done.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core import crypto
from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.bulk import insert_rows
from jingzhun.core.db import serialise
from jingzhun.core.money import to_yuan
from jingzhun.core.scoping import get_object_for_user
from jingzhun.core.sensitive import unseal
from jingzhun.funds import documents, ledger
from jingzhun.funds.models import (
    Account,
    Allocation,
    BankReturn,
    JournalEntry,
    Overpayment,
    Payment,
    PaymentBatch,
)

K = Account.Kind
E = JournalEntry.Kind


def _require_pay(actor: Any) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.can(P.PAY):
        raise PermissionDenied
    if actor.scope.level != "county":
        raise PermissionDenied


@dataclass(frozen=True)
class PaymentLine:
    """One transfer a paying app asks for; the account is passed sealed, never in plaintext."""

    source: str
    programme: str
    amount: Decimal
    payee_name: str
    bank_name: str
    account_cipher: bytes
    account_key: int
    account_index: str
    account_masked: str
    school_id: int | None
    village_code: str
    label: str = ""
    beneficiary: str = ""


def _check_channel(channel: str) -> None:
    if channel not in ledger.CHANNELS:
        raise ValidationError(
            _("Unknown channel %(channel)s; one of: %(known)s.")
            % {"channel": channel, "known": ", ".join(ledger.CHANNELS)}
        )


@transaction.atomic
def transfer_in_record(
    *,
    actor: Any,
    channel: str,
    amount: Decimal,
    received_on: dt.date | None = None,
    document: str = "",
) -> JournalEntry:
    """Record money received from a channel into the pooled account."""
    _require_pay(actor)
    _check_channel(channel)
    amount = to_yuan(amount)
    if amount <= 0:
        raise ValidationError(_("The amount must be more than zero."))
    county = actor.scope.county_code
    entry = ledger.post(
        county_code=county,
        kind=E.TRANSFER_IN,
        key=f"transfer:{uuid.uuid4().hex}",
        legs=[
            ledger.debit(ledger.account(county, K.POOL), amount),
            ledger.credit(ledger.account(county, K.CHANNEL, channel=channel), amount),
        ],
        posted_on=received_on,
        source=f"funds.channel:{channel}",
        memo=document,
        actor=actor,
    )
    audit_record(
        actor=actor,
        action="funds.transfer_in",
        target=entry,
        data={"channel": channel, "amount": str(amount)},
    )
    return entry


@transaction.atomic
def allocation_record(
    *,
    actor: Any,
    school_year: int,
    programme: str,
    amount: Decimal,
    note: str = "",
    channel: str = "",
    received_on: dt.date | None = None,
) -> Allocation:
    """Record funds allocated to a programme for a school year, and post them.

    With a channel, the money is received from it into the pooled account and allocated in one
    entry (a budget document that earmarks its money); without one, it is allocated from what
    the pooled account holds, and refused when it holds less.
    """
    _require_pay(actor)
    if channel:
        _check_channel(channel)
    county = actor.scope.county_code
    allocation = Allocation(
        county_code=county,
        school_year=school_year,
        programme=programme,
        amount=to_yuan(amount),
        note=note,
        channel=channel,
        recorded_by=actor,
    )
    allocation.full_clean()
    allocation.save()
    pool = ledger.account(county, K.POOL)
    target = ledger.account(county, K.PROGRAMME, programme=programme, school_year=school_year)
    legs = [ledger.debit(target, allocation.amount), ledger.credit(pool, allocation.amount)]
    if channel:
        legs = [
            ledger.debit(pool, allocation.amount),
            ledger.credit(ledger.account(county, K.CHANNEL, channel=channel), allocation.amount),
            *legs,
        ]
    ledger.post(
        county_code=county,
        kind=E.ALLOCATION,
        key=f"allocation:{allocation.pk}",
        legs=legs,
        posted_on=received_on,
        source=f"funds.allocation:{allocation.pk}",
        memo=note,
        actor=actor,
    )
    audit_record(
        actor=actor,
        action="funds.allocation",
        target=allocation,
        data={"programme": programme, "amount": str(allocation.amount), "channel": channel},
    )
    return allocation


def allocation_room(county_code: str, school_year: int) -> dict[str, Decimal]:
    """Return, per programme, what it holds for the school year less what draft batches ask."""
    room: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for acc in Account.objects.filter(
        county_code=county_code, kind=K.PROGRAMME, school_year=school_year
    ):
        room[acc.programme] += acc.balance
    for row in (
        Payment.objects.filter(
            batch__county_code=county_code,
            batch__school_year=school_year,
            batch__status=PaymentBatch.Status.DRAFT,
        )
        .values("programme")
        .annotate(total=Sum("amount"))
    ):
        room[row["programme"]] -= row["total"]
    return dict(room)


def _batch_totals(batch: PaymentBatch, **filters: Any) -> dict[str, Decimal]:
    return {
        row["programme"]: row["total"]
        for row in batch.payments.filter(**filters)
        .values("programme")
        .annotate(total=Sum("amount"))
        .order_by("programme")
    }


def _post_stage(
    batch: PaymentBatch,
    *,
    kind: str,
    key: str,
    frm: str,
    to: str,
    totals: dict[str, Decimal],
    actor: Any,
    memo: str = "",
) -> JournalEntry | None:
    """Post a batch's move of money from one stage to another, one line pair per programme."""
    if not totals:
        return None
    county, year = batch.county_code, batch.school_year
    legs: list[ledger.Leg] = []
    for programme, total in sorted(totals.items()):
        legs.append(
            ledger.debit(ledger.account(county, to, programme=programme, school_year=year), total)
        )
        legs.append(
            ledger.credit(ledger.account(county, frm, programme=programme, school_year=year), total)
        )
    return ledger.post(
        county_code=county,
        kind=kind,
        key=key,
        legs=legs,
        source=f"funds.batch:{batch.pk}",
        memo=memo or batch.reference,
        actor=actor,
    )


def _control(lines: Sequence[PaymentLine]) -> dict[str, Any]:
    by: dict[str, dict[str, list[Any]]] = {"programme": {}, "school": {}, "township": {}}
    for line in lines:
        for dim, key in (
            ("programme", line.programme),
            ("school", str(line.school_id or "")),
            ("township", line.village_code[:9]),
        ):
            entry = by[dim].setdefault(key, [0, Decimal("0.00")])
            entry[0] += 1
            entry[1] += line.amount
    total = sum((line.amount for line in lines), Decimal("0.00"))
    return {
        "count": len(lines),
        "amount": str(total),
        **{
            f"by_{dim}": {k: {"count": v[0], "amount": str(v[1])} for k, v in sorted(rows.items())}
            for dim, rows in by.items()
        },
    }


def _next_reference(county_code: str, school_year: int, semester: str) -> str:
    prefix = f"{county_code}-{school_year}{'A' if semester == 'autumn' else 'S'}-"
    taken = PaymentBatch.objects.filter(reference__startswith=prefix).count()
    return f"{prefix}{taken + 1:03d}"


@dataclass(frozen=True)
class BatchMade:
    """What a request to make a batch gave: the batch, and whether this request made it."""

    batch: PaymentBatch
    created: bool  # False: the batch made earlier under the same key


def serialise_batches(county_code: str) -> None:
    """Make the county's batch creations run one at a time (call first in the transaction)."""
    serialise("funds.batch", county_code)


def payment_batch_create(
    *,
    actor: Any,
    purpose: str,
    school_year: int,
    semester: str,
    idempotency_key: str,
    lines: Sequence[PaymentLine],
    gaps: Sequence[dict[str, Any]] = (),
) -> PaymentBatch:
    """Create a draft batch of payments, or return the batch already made under this key."""
    return payment_batch_make(
        actor=actor,
        purpose=purpose,
        school_year=school_year,
        semester=semester,
        idempotency_key=idempotency_key,
        lines=lines,
        gaps=gaps,
    ).batch


@transaction.atomic
def payment_batch_make(
    *,
    actor: Any,
    purpose: str,
    school_year: int,
    semester: str,
    idempotency_key: str,
    lines: Sequence[PaymentLine],
    gaps: Sequence[dict[str, Any]] = (),
) -> BatchMade:
    """Create a draft batch of payments, or return the batch already made under this key.

    Refused when a programme's payments exceed what is allocated to it and not yet
    committed, or when a source already has a live payment (the database enforces it).
    Creations of one county run one at a time: a second one at the same moment gets the
    first's batch (same key) or a ValidationError with code "already_done" naming it.
    A paying app that reads what to pay first serialises before reading (serialise_batches).
    """
    _require_pay(actor)
    county = actor.scope.county_code
    serialise_batches(county)
    existing = PaymentBatch.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.county_code != county:
            raise PermissionDenied
        return BatchMade(existing, created=False)
    if not lines:
        made = (
            PaymentBatch.objects.filter(
                county_code=county, purpose=purpose, school_year=school_year, semester=semester
            )
            .order_by("-id")
            .first()
        )
        if made is not None:
            raise ValidationError(
                _(
                    "Already done: batch %(ref)s holds every approved payment of this "
                    "semester; nothing is left to pay."
                )
                % {"ref": made.reference},
                code="already_done",
            )
        raise ValidationError(
            _("Nothing is ready to pay: no approved entitlement lacks a payment.")
        )
    try:
        with transaction.atomic():
            room = allocation_room(county, school_year)
            need: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
            for line in lines:
                need[line.programme] += line.amount
            short = [
                _("%(programme)s needs %(need)s but only %(room)s is allocated and uncommitted")
                % {"programme": p, "need": need[p], "room": room.get(p, Decimal("0.00"))}
                for p in sorted(need)
                if need[p] > room.get(p, Decimal("0.00"))
            ]
            if short:
                raise ValidationError(short)
            batch = PaymentBatch.objects.create(
                county_code=county,
                purpose=purpose,
                school_year=school_year,
                semester=semester,
                idempotency_key=idempotency_key,
                reference=_next_reference(county, school_year, semester),
                control=_control(lines),
                gaps=list(gaps),
                created_by=actor,
            )
            insert_rows(
                "funds_payment",
                [
                    "batch_id",
                    "source",
                    "programme",
                    "amount",
                    "payee_name",
                    "beneficiary",
                    "bank_name",
                    "account_cipher",
                    "account_key",
                    "account_index",
                    "account_masked",
                    "reference",
                    "school_id",
                    "village_code",
                    "status",
                    "bank_reason",
                    "county_code",
                ],
                [
                    (
                        batch.pk,
                        line.source,
                        line.programme,
                        line.amount,
                        line.payee_name,
                        line.beneficiary[:50],
                        line.bank_name,
                        line.account_cipher,
                        line.account_key,
                        line.account_index,
                        line.account_masked,
                        f"{batch.reference}-{n:06d}",
                        line.school_id,
                        line.village_code,
                        Payment.Status.PENDING,
                        "",
                        batch.county_code,
                    )
                    for n, line in enumerate(lines, start=1)
                ],
            )
            audit_record(
                actor=actor,
                action="funds.batch_create",
                target=batch,
                data={
                    "key": idempotency_key,
                    "count": len(lines),
                    "amount": batch.control["amount"],
                },
            )
    except IntegrityError:
        # Defence in depth, should a write bypass the county's turn: the constraint holds and
        # the caller is told, never shown a database error.
        existing = PaymentBatch.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return BatchMade(existing, created=False)
        raise ValidationError(
            _("Some of these entitlements already have a payment in another batch."),
            code="already_done",
        ) from None
    return BatchMade(batch, created=True)


def _transition(batch: PaymentBatch, *, frm: Sequence[str], to: str, **fields: Any) -> None:
    updated = PaymentBatch.objects.filter(pk=batch.pk, status__in=list(frm)).update(
        status=to, **fields
    )
    if updated != 1:
        batch.refresh_from_db()
        raise ValidationError(
            _("The batch is %(status)s; this step is not possible now.")
            % {"status": batch.get_status_display()}
        )
    batch.refresh_from_db()


@transaction.atomic
def payment_batch_approve(*, actor: Any, batch_id: int) -> PaymentBatch:
    """Approve a draft batch; a second approval (or a concurrent one) is refused."""
    _require_pay(actor)
    batch = get_object_for_user(PaymentBatch.objects.all(), actor, pk=batch_id)
    _transition(
        batch,
        frm=[PaymentBatch.Status.DRAFT],
        to=PaymentBatch.Status.APPROVED,
        approved_by=actor,
        approved_at=timezone.now(),
    )
    # The programme's money is reserved in the same transaction, by a guarded update: a
    # programme that holds less than the batch asks refuses it, and the approval with it.
    _post_stage(
        batch,
        kind=E.APPROVAL,
        key=f"batch-approve:{batch.pk}",
        frm=K.PROGRAMME,
        to=K.PAYABLE,
        totals=_batch_totals(batch),
        actor=actor,
    )
    audit_record(actor=actor, action="funds.batch_approve", target=batch, data=batch.control)
    return batch


def bank_rows(batch: PaymentBatch) -> list[documents.BankRow]:
    """Return the batch's transfers with whole account numbers (callers check permission)."""
    return [
        documents.BankRow(
            account=unseal(p, prefix="account", purpose="bank"),
            holder=p.payee_name,
            amount=p.amount,
            reference=p.reference,
            programme=p.programme,
            beneficiary=p.beneficiary,
        )
        for p in batch.payments.filter(status=Payment.Status.PENDING).order_by("id")
    ]


@transaction.atomic
def bank_file_export(
    *, actor: Any, batch_id: int, fmt: str, labels: dict[str, str] | None = None
) -> tuple[str, bytes]:
    """Return (file name, content) of the bank file for an approved batch, and mark it sent.

    Exporting again while the batch awaits the bank gives the same file, and is logged.
    """
    _require_pay(actor)
    if fmt not in ("xlsx", "csv"):
        raise ValidationError(_("The bank file is .xlsx or .csv."))
    batch = get_object_for_user(PaymentBatch.objects.all(), actor, pk=batch_id)
    if batch.status == PaymentBatch.Status.APPROVED:
        _transition(
            batch,
            frm=[PaymentBatch.Status.APPROVED],
            to=PaymentBatch.Status.SENT,
            sent_at=timezone.now(),
        )
        _post_stage(
            batch,
            kind=E.SENT,
            key=f"batch-sent:{batch.pk}",
            frm=K.PAYABLE,
            to=K.BANK,
            totals=_batch_totals(batch),
            actor=actor,
        )
    elif batch.status != PaymentBatch.Status.SENT:
        raise ValidationError(_("Only an approved batch can be sent to the bank."))
    rows = bank_rows(batch)
    if labels:
        rows = [
            documents.BankRow(
                r.account,
                r.holder,
                r.amount,
                r.reference,
                labels.get(r.programme, r.programme),
                r.beneficiary,
            )
            for r in rows
        ]
    data = documents.BankFile(batch_reference=batch.reference, rows=rows)
    content = documents.bank_file_xlsx(data) if fmt == "xlsx" else documents.bank_file_csv(data)
    audit_record(
        actor=actor,
        action="funds.bank_file",
        target=batch,
        data={"format": fmt, "count": len(rows), "whole_accounts": True},
    )
    return f"{batch.reference}.{fmt}", content


@transaction.atomic
def bank_return_apply(*, actor: Any, batch_id: int, data: bytes, file_name: str) -> BankReturn:
    """Apply the bank's return file: each matching payment becomes paid or failed.

    A row that matches no pending payment of the batch, or whose amount or account differs,
    is reported and changes nothing. The batch is reconciled once every payment is settled
    and the file's totals balance; nothing is ever corrected automatically.
    """
    _require_pay(actor)
    # Two applications of a return at once: the second reads what the first settled.
    serialise("funds.bank_return", str(batch_id))
    batch = get_object_for_user(PaymentBatch.objects.all(), actor, pk=batch_id)
    if batch.status != PaymentBatch.Status.SENT:
        raise ValidationError(_("Only a batch sent to the bank can be reconciled."))
    try:
        rows = documents.parse_bank_return(data, file_name)
    except documents.BankReturnError as exc:
        raise ValidationError(
            [
                _("line %(line)s, %(column)s = %(value)s: %(reason)s")
                % {"line": e.line, "column": e.column, "value": e.value, "reason": e.reason}
                for e in exc.problems
            ]
        ) from exc
    payments = {
        p.reference: p for p in Payment.objects.filter(county_code=batch.county_code, batch=batch)
    }
    mismatches: list[dict[str, Any]] = []
    seen: set[str] = set()
    paid: list[tuple[int, str]] = []
    failed: list[tuple[int, str]] = []
    repeated = 0
    file_total = Decimal("0.00")
    for row in rows:
        file_total += row.amount
        payment = payments.get(row.reference)
        problem = ""
        if row.reference in seen:
            problem = _("reference appears twice in the file")
        elif payment is None:
            problem = _("no payment of this batch has this reference")
        elif payment.status != Payment.Status.PENDING and (
            payment.status != row.status or row.amount != payment.amount
        ):
            problem = _("this payment was already settled as %(status)s") % {
                "status": payment.get_status_display()
            }
        elif payment.status != Payment.Status.PENDING:
            # The same outcome again (a corrected file sent whole): nothing to do, no mismatch.
            seen.add(row.reference)
            repeated += 1
            continue
        elif row.amount != payment.amount:
            problem = _("amount %(file)s differs from the batch's %(ours)s") % {
                "file": row.amount,
                "ours": payment.amount,
            }
        elif (
            row.account and crypto.blind_index(row.account, purpose="bank") != payment.account_index
        ):
            problem = _("the account differs from the one sent")
        seen.add(row.reference)
        if problem:
            mismatches.append(
                {
                    "line": row.line,
                    "reference": row.reference,
                    "amount": str(row.amount),
                    "problem": problem,
                }
            )
            continue
        assert payment is not None
        (paid if row.status == "paid" else failed).append((payment.pk, row.reason))
    now = timezone.now()
    paid_totals: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    failed_totals: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    by_pk = {p.pk: p for p in payments.values()}
    for pk, _reason in paid:
        paid_totals[by_pk[pk].programme] += by_pk[pk].amount
    for pk, _reason in failed:
        failed_totals[by_pk[pk].programme] += by_pk[pk].amount
    # Set-wise: one UPDATE for the paid, one per distinct reason for the failed, each naming
    # the county (the payments' partition key) and checked by its row count.
    live = Payment.objects.filter(county_code=batch.county_code, status=Payment.Status.PENDING)

    def settle(pks: list[int], **fields: Any) -> int:
        done = 0
        for n in range(0, len(pks), 900):  # SQLite's bound on a statement's parameters
            done += live.filter(pk__in=pks[n : n + 900]).update(settled_at=now, **fields)
        return done

    moved = settle([pk for pk, _reason in paid], status=Payment.Status.PAID)
    by_reason: dict[str, list[int]] = defaultdict(list)
    for pk, reason in failed:
        by_reason[reason[:200] or _("no reason given")].append(pk)
    for reason, pks in by_reason.items():
        moved += settle(pks, status=Payment.Status.FAILED, bank_reason=reason)
    if moved != len(paid) + len(failed):
        raise ValidationError(
            _("The batch changed while the return was applied; apply the file again."),
            code="already_done",
        )
    pending = Payment.objects.filter(
        county_code=batch.county_code, batch=batch, status=Payment.Status.PENDING
    ).count()
    expected = sum((p.amount for p in payments.values()), Decimal("0.00"))
    balanced = not mismatches and pending == 0
    if not mismatches and pending and file_total != expected:
        mismatches.append(
            {
                "line": "",
                "reference": "",
                "amount": str(file_total),
                "problem": _("the file's total %(file)s differs from the batch's %(ours)s")
                % {"file": file_total, "ours": expected},
            }
        )
    record = BankReturn.objects.create(
        batch=batch,
        file_name=file_name[:200],
        imported_by=actor,
        counts={
            "rows": len(rows),
            "paid": len(paid),
            "failed": len(failed),
            "pending": pending,
            "repeated": repeated,
            "mismatches": len(mismatches),
            "file_total": str(file_total),
        },
        mismatches=mismatches,
        balanced=balanced,
    )
    # What the bank settled moves on in the ledger: paid out, or back to the programme.
    _post_stage(
        batch,
        kind=E.PAID,
        key=f"bank-return-paid:{record.pk}",
        frm=K.BANK,
        to=K.PAID,
        totals=dict(paid_totals),
        actor=actor,
        memo=f"{batch.reference} {file_name}"[:200],
    )
    _post_stage(
        batch,
        kind=E.RETURNED,
        key=f"bank-return-failed:{record.pk}",
        frm=K.BANK,
        to=K.PROGRAMME,
        totals=dict(failed_totals),
        actor=actor,
        memo=f"{batch.reference} {file_name}"[:200],
    )
    if balanced:
        _transition(
            batch,
            frm=[PaymentBatch.Status.SENT],
            to=PaymentBatch.Status.RECONCILED,
            reconciled_at=now,
        )
    audit_record(actor=actor, action="funds.bank_return", target=batch, data=record.counts)
    return record


@transaction.atomic
def entry_reverse(*, actor: Any, entry_id: int, memo: str) -> JournalEntry:
    """Reverse a journal entry (the ledger is never edited): refused when the reversal would
    overdraw an account, for instance an allocation whose money was since reserved."""
    _require_pay(actor)
    entry = get_object_for_user(JournalEntry.objects.all(), actor, pk=entry_id)
    done = ledger.reverse(entry=entry, actor=actor, memo=memo)
    audit_record(
        actor=actor, action="funds.entry_reverse", target=entry, data={"reversal": done.pk}
    )
    return done


def _stage(county: str, kind: str, payment: Payment) -> Account:
    return ledger.account(
        county, kind, programme=payment.programme, school_year=payment.batch.school_year
    )


@transaction.atomic
def overpayment_record(
    *, actor: Any, payment_id: int, cause: str, amount: Decimal, rule: str, reason: str
) -> Overpayment:
    """Record that a paid payment was (partly) not owed, with the rule the officer confirms,
    and post the receivable. A cause is recorded once ("already done" the second time)."""
    _require_pay(actor)
    payment = get_object_for_user(Payment.objects.select_related("batch"), actor, pk=payment_id)
    county = actor.scope.county_code
    amount = to_yuan(amount)
    problems = []
    if payment.status != Payment.Status.PAID:
        problems.append(_("Only a payment the bank paid can be overpaid."))
    if not Decimal("0") < amount <= payment.amount:
        problems.append(
            _("The amount must be more than zero and at most the %(paid)s paid.")
            % {"paid": payment.amount}
        )
    if rule not in Overpayment.Rule.values:
        problems.append(_("Choose how it is settled: paid back, or deducted from a later payment."))
    if not reason.strip():
        problems.append(_("Say why it was not owed."))
    if problems:
        raise ValidationError(problems)
    if Overpayment.objects.filter(county_code=county, cause=cause).exists():
        raise ValidationError(_("Already done: this overpayment is recorded."), "already_done")
    try:
        with transaction.atomic():
            over = Overpayment.objects.create(
                county_code=county,
                payment=payment,
                cause=cause[:60],
                amount=amount,
                rule=rule,
                reason=reason[:200],
                recorded_by=actor,
            )
    except IntegrityError:
        raise ValidationError(
            _("Already done: this overpayment is recorded."), "already_done"
        ) from None
    ledger.post(
        county_code=county,
        kind=E.ADJUSTMENT,
        key=f"overpayment:{over.pk}",
        legs=[
            ledger.debit(_stage(county, K.RECEIVABLE, payment), amount),
            ledger.credit(_stage(county, K.PAID, payment), amount),
        ],
        source=f"funds.overpayment:{over.pk}",
        memo=f"{payment.reference} {reason}"[:200],
        actor=actor,
    )
    audit_record(
        actor=actor,
        action="funds.overpayment",
        target=over,
        data={"payment": payment.reference, "amount": str(amount), "rule": rule, "cause": cause},
    )
    return over


@transaction.atomic
def overpayment_settle(
    *,
    actor: Any,
    overpayment_id: int,
    settled_on: dt.date,
    note: str,
    offset_reference: str = "",
) -> Overpayment:
    """Settle an open overpayment: paid back, or deducted from a later payment of the same
    beneficiary to the same card (named by its reference); the money goes back to the
    programme. A second settlement (or one at the same moment) is refused."""
    _require_pay(actor)
    over = get_object_for_user(
        Overpayment.objects.select_related("payment__batch"), actor, pk=overpayment_id
    )
    payment = over.payment
    if not note.strip():
        raise ValidationError(_("Say how it was settled."))
    if settled_on > timezone.localdate():
        raise ValidationError(_("A settlement cannot be dated in the future."))
    if over.rule == Overpayment.Rule.OFFSET:
        later = Payment.objects.filter(
            county_code=over.county_code, reference=offset_reference.strip()
        ).first()
        if (
            later is None
            or later.pk == payment.pk
            or later.account_index != payment.account_index
            or later.beneficiary != payment.beneficiary
            or later.amount < over.amount
        ):
            raise ValidationError(
                _(
                    "Name a later payment to the same beneficiary and card, of at least "
                    "%(amount)s, that the amount was deducted from."
                )
                % {"amount": over.amount}
            )
    updated = Overpayment.objects.filter(pk=over.pk, status=Overpayment.Status.OPEN).update(
        status=Overpayment.Status.SETTLED,
        settled_on=settled_on,
        settled_by=actor,
        offset_reference=offset_reference.strip()[:40],
        settlement_note=note[:200],
    )
    if updated != 1:
        raise ValidationError(_("Already done: this overpayment is settled."), "already_done")
    county = over.county_code
    ledger.post(
        county_code=county,
        kind=E.ADJUSTMENT,
        key=f"overpayment-settled:{over.pk}",
        legs=[
            ledger.debit(_stage(county, K.PROGRAMME, payment), over.amount),
            ledger.credit(_stage(county, K.RECEIVABLE, payment), over.amount),
        ],
        posted_on=settled_on,
        source=f"funds.overpayment:{over.pk}",
        memo=note[:200],
        actor=actor,
    )
    over.refresh_from_db()
    audit_record(
        actor=actor,
        action="funds.overpayment_settle",
        target=over,
        data={"rule": over.rule, "offset": over.offset_reference},
    )
    return over

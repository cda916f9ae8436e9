"""The fund ledger (III.2): balanced entries, no overdraft, append-only, reversals, what the
ledger adds up to, and the money of a payment batch moving stage by stage."""

from __future__ import annotations

import datetime as dt
import importlib
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from jingzhun.core.sensitive import seal
from jingzhun.funds import ledger
from jingzhun.funds import services as funds
from jingzhun.funds.models import Account, AccountDay, JournalEntry, JournalLine, PaymentBatch

pytestmark = pytest.mark.django_db

C = "420101"
K = Account.Kind
Y = Decimal


def _lines(n: int, amount: str, programme: str = "boarding_subsidy", tag: str = "x") -> list[Any]:
    card = seal("6217000000001234", prefix="account", purpose="bank")
    return [
        funds.PaymentLine(
            source=f"test.{tag}:{i}",
            programme=programme,
            amount=Y(amount),
            payee_name=f"家长{i}",
            bank_name="农村信用社",
            account_cipher=card["account_cipher"],
            account_key=card["account_key"],
            account_index=card["account_index"],
            account_masked=card["account_masked"],
            school_id=None,
            village_code="420101001001",
            beneficiary=f"学生{i}",
        )
        for i in range(n)
    ]


def _batch(personas: Any, key: str, lines: list[Any]) -> PaymentBatch:
    return funds.payment_batch_make(
        actor=personas.aid_officer,
        purpose="aid",
        school_year=2018,
        semester="autumn",
        idempotency_key=key,
        lines=lines,
    ).batch


def _allocate(personas: Any, amount: str, channel: str = "central") -> Any:
    return funds.allocation_record(
        actor=personas.aid_officer,
        channel=channel,
        school_year=2018,
        programme="boarding_subsidy",
        amount=Y(amount),
        note="省财教〔2018〕1号",
    )


def test_money_moves_stage_by_stage_and_every_figure_adds_up(personas: Any) -> None:
    # given 1,000 received from the central budget and allocated, and a batch of 3 x 200
    _allocate(personas, "1000.00")
    batch = _batch(personas, "k1", _lines(3, "200.00"))
    assert ledger.available(C, "boarding_subsidy", 2018) == Y("1000.00")  # a draft reserves nothing
    # when the batch is approved, sent and two are paid, one returned by the bank
    funds.payment_batch_approve(actor=personas.aid_officer, batch_id=batch.pk)
    assert ledger.available(C, "boarding_subsidy", 2018) == Y("400.00")
    funds.bank_file_export(actor=personas.aid_officer, batch_id=batch.pk, fmt="csv")
    refs = list(batch.payments.order_by("id").values_list("reference", flat=True))
    rows = "\n".join(
        [
            "参考号,账号,金额,状态,失败原因",
            f"{refs[0]},6217000000001234,200.00,成功,",
            f"{refs[1]},6217000000001234,200.00,成功,",
            f"{refs[2]},6217000000001234,200.00,失败,账户已销户",
        ]
    )
    record = funds.bank_return_apply(
        actor=personas.aid_officer, batch_id=batch.pk, data=rows.encode(), file_name="r.csv"
    )
    assert record.balanced
    # then the programme holds what was not paid; every stage says where the money is
    [row] = ledger.programme_balances(C, 2018)
    assert (row.allocated, row.reserved, row.paid, row.returned, row.available) == (
        Y("1000.00"),
        Y("0.00"),
        Y("400.00"),
        Y("200.00"),
        Y("600.00"),
    )
    tb = ledger.trial_balance(C, timezone.localdate())
    assert tb.balanced and tb.total_debit == tb.total_credit
    by_code = {r.account.code: r.balance for r in tb.rows}
    assert by_code["channel:central"] == Y("-1000.00")  # credited with what came in
    assert by_code["pool"] == Y("0.00")
    assert by_code["paid:2018:boarding_subsidy"] == Y("400.00")
    assert by_code["programme:2018:boarding_subsidy"] == Y("600.00")
    assert ledger.check_balances(C) == []
    kinds = list(
        JournalEntry.objects.filter(source=f"funds.batch:{batch.pk}").values_list("kind", flat=True)
    )
    assert sorted(kinds) == ["approval", "paid", "returned", "sent"]


def test_an_allocation_from_the_pool_cannot_exceed_what_it_holds(personas: Any) -> None:
    funds.transfer_in_record(actor=personas.aid_officer, channel="lottery", amount=Y("300.00"))
    with pytest.raises(ValidationError) as err:
        _allocate(personas, "300.01", channel="")
    assert err.value.code == "overdraft"
    assert "300.00" in str(err.value) and "300.01" in str(err.value)
    # nothing of the refused allocation was kept: not the document, not a line
    assert not funds.Allocation.objects.exists()
    assert JournalEntry.objects.count() == 1
    _allocate(personas, "300.00", channel="")
    assert Account.objects.get(county_code=C, code="pool").balance == Y("0.00")


def test_approval_is_refused_when_the_programme_holds_less_than_the_batch(personas: Any) -> None:
    _allocate(personas, "500.00")
    batch = _batch(personas, "k1", _lines(2, "250.00"))
    first = JournalEntry.objects.get(kind="allocation")
    # the allocation is reversed after the draft was made: the approval finds nothing to reserve
    funds.entry_reverse(actor=personas.aid_officer, entry_id=first.pk, memo="文号有误")
    with pytest.raises(ValidationError) as err:
        funds.payment_batch_approve(actor=personas.aid_officer, batch_id=batch.pk)
    assert err.value.code == "overdraft"
    batch.refresh_from_db()
    assert batch.status == "draft"  # the approval and the reservation stand or fall together


def test_an_entry_must_balance_and_each_line_is_one_positive_side(personas: Any) -> None:
    pool = ledger.account(C, K.POOL)
    central = ledger.account(C, K.CHANNEL, channel="central")
    with pytest.raises(ValidationError, match="does not balance"):
        ledger.post(
            county_code=C,
            kind="transfer_in",
            key="a",
            legs=[ledger.debit(pool, Y("10")), ledger.credit(central, Y("9.99"))],
        )
    with pytest.raises(ValidationError):
        ledger.post(
            county_code=C,
            kind="transfer_in",
            key="b",
            legs=[ledger.Leg(pool, debit=Y("-1")), ledger.Leg(central, credit=Y("-1"))],
        )
    with pytest.raises(ValidationError):
        ledger.post(
            county_code=C,
            kind="transfer_in",
            key="c",
            legs=[ledger.Leg(pool, debit=Y("1.005")), ledger.Leg(central, credit=Y("1.005"))],
        )
    other = ledger.account("420102", K.CHANNEL, channel="central")
    with pytest.raises(ValidationError, match="own county"):
        ledger.post(
            county_code=C,
            kind="transfer_in",
            key="d",
            legs=[ledger.debit(pool, Y("1")), ledger.credit(other, Y("1"))],
        )
    assert not JournalEntry.objects.exists() and pool.balance == 0


def test_a_key_posts_once(personas: Any) -> None:
    pool = ledger.account(C, K.POOL)
    central = ledger.account(C, K.CHANNEL, channel="central")
    legs = [ledger.debit(pool, Y("10")), ledger.credit(central, Y("10"))]
    ledger.post(county_code=C, kind="transfer_in", key="doc-1", legs=legs)
    with pytest.raises(ValidationError) as err:
        ledger.post(county_code=C, kind="transfer_in", key="doc-1", legs=legs)
    assert err.value.code == "already_done"
    pool.refresh_from_db()
    assert pool.balance == Y("10.00")


def test_the_journal_is_append_only_in_the_database(personas: Any) -> None:
    entry = funds.transfer_in_record(actor=personas.aid_officer, channel="county", amount=Y("5"))
    with pytest.raises(DatabaseError), transaction.atomic():
        JournalLine.objects.filter(entry=entry).update(debit=Y("6"))
    with pytest.raises(DatabaseError), transaction.atomic():
        JournalEntry.objects.filter(pk=entry.pk).delete()
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE funds_journalline CASCADE")
    assert JournalLine.objects.filter(entry=entry).count() == 2


def test_a_reversal_undoes_once_and_never_overdraws(personas: Any) -> None:
    entry = funds.transfer_in_record(actor=personas.aid_officer, channel="county", amount=Y("80"))
    _allocate(personas, "50.00", channel="")
    # the pool holds 30 now: reversing the 80 received would overdraw it
    with pytest.raises(ValidationError) as err:
        funds.entry_reverse(actor=personas.aid_officer, entry_id=entry.pk, memo="重复登记")
    assert err.value.code == "overdraft"
    allocation = JournalEntry.objects.get(kind="allocation")
    back = funds.entry_reverse(actor=personas.aid_officer, entry_id=allocation.pk, memo="改拨")
    assert back.reverses == allocation
    with pytest.raises(ValidationError):
        funds.entry_reverse(actor=personas.aid_officer, entry_id=allocation.pk, memo="again")
    with pytest.raises(ValidationError):
        funds.entry_reverse(actor=personas.aid_officer, entry_id=back.pk, memo="undo the undo")
    with pytest.raises(ValidationError):
        funds.entry_reverse(actor=personas.aid_officer, entry_id=entry.pk, memo="  ")
    funds.entry_reverse(actor=personas.aid_officer, entry_id=entry.pk, memo="重复登记")
    assert all(a.balance == 0 for a in Account.objects.all())
    [row] = ledger.programme_balances(C, 2018)
    assert row.allocated == 0 and row.available == 0
    assert ledger.check_balances() == []


def test_the_trial_balance_at_a_date_counts_what_was_posted_by_then(personas: Any) -> None:
    for day, amount in ((dt.date(2018, 9, 1), "100"), (dt.date(2018, 10, 1), "40")):
        funds.transfer_in_record(
            actor=personas.aid_officer, channel="provincial", amount=Y(amount), received_on=day
        )
    september = ledger.trial_balance(C, dt.date(2018, 9, 30))
    assert {r.account.code: r.balance for r in september.rows} == {
        "pool": Y("100.00"),
        "channel:provincial": Y("-100.00"),
    }
    assert ledger.trial_balance(C, dt.date(2018, 8, 31)).rows == []
    october = ledger.trial_balance(C, dt.date(2018, 10, 1))
    assert october.total_debit == Y("140.00") == october.total_credit
    # the day totals the trial balance reads hold what the lines hold
    assert AccountDay.objects.count() == 4


def test_only_the_aid_centre_posts(personas: Any) -> None:
    for who in (personas.county_officer, personas.inspector, personas.township_a):
        with pytest.raises(PermissionDenied):
            funds.transfer_in_record(actor=who, channel="county", amount=Y("1"))
    with pytest.raises(ValidationError, match="Unknown channel"):
        funds.transfer_in_record(actor=personas.aid_officer, channel="bank_loan", amount=Y("1"))
    assert not JournalEntry.objects.exists()


def test_existing_allocations_and_batches_open_the_ledger(personas: Any) -> None:
    """The data migration's rule, replayed: opening entries equal what the services post."""
    module = importlib.import_module(
        "jingzhun.funds.migrations.0005_ledger_opening_and_append_only"
    )
    # given an allocation and an approved batch recorded before the ledger (no entries)
    funds.Allocation.objects.create(
        county_code=C,
        school_year=2018,
        programme="boarding_subsidy",
        amount=Y("900.00"),
        recorded_by=personas.aid_officer,
    )
    batch = PaymentBatch.objects.create(
        county_code=C,
        purpose="aid",
        school_year=2018,
        semester="autumn",
        idempotency_key="old",
        reference="420101-2018A-001",
        status="sent",
        created_by=personas.aid_officer,
    )
    for n, status in enumerate(("paid", "failed", "paid"), start=1):
        funds.Payment.objects.create(
            batch=batch,
            source=f"old:{n}",
            programme="boarding_subsidy",
            amount=Y("100.00"),
            payee_name="x",
            account_cipher=b"x",
            account_key=1,
            account_index=str(n),
            account_masked="x",
            reference=f"{batch.reference}-{n:06d}",
            status=status,
        )
    # when the migration's opening runs
    module.open_ledger(django_apps, None)
    # then the balances say what happened
    [row] = ledger.programme_balances(C, 2018)
    assert (row.allocated, row.paid, row.returned, row.available) == (
        Y("900.00"),
        Y("200.00"),
        Y("100.00"),
        Y("700.00"),
    )
    assert ledger.check_balances(C) == []
    assert ledger.trial_balance(C, timezone.localdate()).balanced


def _together(n: int, work: Any) -> list[Any]:
    results: list[Any] = [None] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
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


def test_two_officers_approving_against_one_balance_cannot_both_pass(
    personas: Any, audit_flushable: Any
) -> None:
    # given two drafts of 600 made while 1,200 was allocated, then 200 of it taken back
    _allocate(personas, "1000.00")
    _allocate(personas, "200.00")
    a = _batch(personas, "a", _lines(1, "600.00", tag="a"))
    b = _batch(personas, "b", _lines(1, "600.00", tag="b"))
    last = JournalEntry.objects.filter(kind="allocation").order_by("-id").first()
    assert last is not None
    funds.entry_reverse(actor=personas.aid_officer, entry_id=last.pk, memo="退回")
    # when both are approved at the same moment
    results = _together(
        2,
        lambda i: funds.payment_batch_approve(actor=personas.aid_officer, batch_id=(a, b)[i].pk),
    )
    # then one passes and the other is refused in words; the programme is never overdrawn
    ok = [r for r in results if isinstance(r, PaymentBatch)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert (len(ok), len(refused)) == (1, 1), results
    assert refused[0].code == "overdraft"
    assert ledger.available(C, "boarding_subsidy", 2018) == Y("400.00")
    assert PaymentBatch.objects.filter(status="approved").count() == 1
    assert ledger.check_balances(C) == []


def test_cents_add_up_exactly_whatever_the_database_sums_with(personas: Any) -> None:
    """SQLite adds decimal columns as floating point: 0.10 + 0.20 is not 0.30 there. The
    ledger brings every sum back to the cent, and its guard still lets the last cent go."""
    pool = ledger.account(C, K.POOL)
    lottery = ledger.account(C, K.CHANNEL, channel="lottery")
    prog = ledger.account(C, K.PROGRAMME, programme="nutrition", school_year=2018)
    for n in range(150):
        amount = Y("0.10") if n % 2 else Y("0.20")
        ledger.post(
            county_code=C,
            kind="transfer_in",
            key=f"t{n}",
            legs=[ledger.debit(pool, amount), ledger.credit(lottery, amount)],
        )
    # the whole pool, to the last cent, is allocated: no false "overdraft"
    ledger.post(
        county_code=C,
        kind="allocation",
        key="all",
        legs=[ledger.debit(prog, Y("22.50")), ledger.credit(pool, Y("22.50"))],
    )
    with pytest.raises(ValidationError):
        ledger.post(
            county_code=C,
            kind="allocation",
            key="one-more-cent",
            legs=[ledger.debit(prog, Y("0.01")), ledger.credit(pool, Y("0.01"))],
        )
    tb = ledger.trial_balance(C, timezone.localdate())
    assert tb.balanced and tb.total_debit == Y("45.00")
    assert {r.account.code: r.balance for r in tb.rows}["pool"] == Y("0.00")
    assert ledger.check_balances(C) == []


def test_ledger_check_command_reports_a_kept_balance_that_drifted(personas: Any) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    _allocate(personas, "100.00")
    out = StringIO()
    call_command("ledger_check", "--county", C, stdout=out)
    assert "The fund ledger holds" in out.getvalue()
    Account.objects.filter(county_code=C, code="pool").update(balance=Y("1.00"))  # tampered
    with pytest.raises(CommandError, match="1 problem"):
        call_command("ledger_check", stdout=StringIO())

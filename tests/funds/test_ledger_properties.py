"""Properties of the fund ledger (hypothesis): whatever sequence of transfers, allocations,
approvals, sending, bank returns and reversals is tried, every posted entry balances, every
account's balance equals the sum of its lines, and no programme (no stage) is ever overdrawn."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jingzhun.funds import ledger
from jingzhun.funds.models import Account, JournalEntry

pytestmark = pytest.mark.django_db

C = "420101"
K = Account.Kind
PROGRAMMES = ("boarding_subsidy", "nutrition")
CHANNELS = ("central", "county", "donation")

amounts = st.integers(min_value=1, max_value=50_000).map(lambda n: Decimal(n) / 100)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("in"), st.sampled_from(CHANNELS), amounts),
        st.tuples(st.just("allocate"), st.sampled_from(PROGRAMMES), amounts),
        st.tuples(st.just("approve"), st.sampled_from(PROGRAMMES), amounts),
        st.tuples(st.just("send"), st.sampled_from(PROGRAMMES), amounts),
        st.tuples(st.just("paid"), st.sampled_from(PROGRAMMES), amounts),
        st.tuples(st.just("returned"), st.sampled_from(PROGRAMMES), amounts),
        st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=30), st.just(None)),
    ),
    min_size=1,
    max_size=25,
)

MOVES = {
    # operation: (entry kind, from stage, to stage)
    "allocate": ("allocation", K.POOL, K.PROGRAMME),
    "approve": ("approval", K.PROGRAMME, K.PAYABLE),
    "send": ("sent", K.PAYABLE, K.BANK),
    "paid": ("paid", K.BANK, K.PAID),
    "returned": ("returned", K.BANK, K.PROGRAMME),
}


def _acc(kind: str, programme: str) -> Account:
    if kind == K.POOL:
        return ledger.account(C, K.POOL)
    return ledger.account(C, kind, programme=programme, school_year=2018)


def _apply(n: int, op: tuple[Any, Any, Any]) -> None:
    name, what, amount = op
    if name == "in":
        legs = [
            ledger.debit(ledger.account(C, K.POOL), amount),
            ledger.credit(ledger.account(C, K.CHANNEL, channel=what), amount),
        ]
        ledger.post(county_code=C, kind="transfer_in", key=f"op{n}", legs=legs)
    elif name == "reverse":
        entries = list(JournalEntry.objects.exclude(kind="reversal").order_by("id"))
        if entries:
            ledger.reverse(entry=entries[what % len(entries)], actor=None, memo="test")
    else:
        kind, frm, to = MOVES[name]
        legs = [ledger.debit(_acc(to, what), amount), ledger.credit(_acc(frm, what), amount)]
        ledger.post(county_code=C, kind=kind, key=f"op{n}", legs=legs)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_no_sequence_unbalances_or_overdraws_the_ledger(ops: list[Any]) -> None:
    with transaction.atomic():
        for n, op in enumerate(ops):
            try:
                with transaction.atomic():
                    _apply(n, op)
            except ValidationError as exc:
                # the only refusals: an overdraft, or a second reversal of one entry
                assert exc.code in ("overdraft", "already_done") or "reversal" in str(exc), exc
            for acc in Account.objects.filter(county_code=C):
                if acc.credit_normal:
                    assert acc.balance <= 0, (acc.code, acc.balance, ops[: n + 1])
                else:
                    assert acc.balance >= 0, (acc.code, acc.balance, ops[: n + 1])
        # every entry balances, every balance and day total is the sum of its lines
        assert ledger.check_balances(C) == []
        tb = ledger.trial_balance(C, ledger.timezone.localdate())
        assert tb.balanced and tb.debit_balances == tb.credit_balances
        for row in ledger.programme_balances(C, 2018):
            assert row.available >= 0 and row.reserved >= 0
        transaction.set_rollback(True)

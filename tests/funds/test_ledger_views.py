"""The fund ledger pages: who reads, who posts (preview, then confirm), the trial balance, the
journal and its exports, a reversal, and the trace of a payment from channel to card."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from tests.funds.test_ledger import _allocate, _batch, _lines
from tests.threads import english_client

from jingzhun.core.models import AuditEvent
from jingzhun.funds import services as funds
from jingzhun.funds.models import JournalEntry

pytestmark = pytest.mark.django_db

PAGES = ("/funds/", "/funds/journal/", "/funds/trial-balance/", "/funds/trace/")


def text(response: Any) -> str:
    return response.content.decode()


def test_the_county_reads_the_books_and_nobody_below_it(personas: Any) -> None:
    _allocate(personas, "100.00")
    for who in ("aid_officer", "county_officer", "bureau_leader", "inspector"):
        client = english_client(getattr(personas, who))
        for url in PAGES:
            assert client.get(url).status_code == 200, (who, url)
    for who in ("township_a", "principal_a", "teacher_a", "nobody"):
        client = english_client(getattr(personas, who))
        for url in (*PAGES, "/funds/journal.xlsx", "/funds/trial-balance.xlsx"):
            assert client.get(url).status_code == 403, (who, url)


def test_money_received_is_previewed_then_posted_by_the_aid_centre_only(personas: Any) -> None:
    form = {
        "channel": "central",
        "amount": "250000.00",
        "received_on": "2018-09-03",
        "document": "财教〔2018〕88号",
    }
    inspector = english_client(personas.inspector)
    assert inspector.post("/funds/", {**form, "confirm": "1"}).status_code == 403
    client = english_client(personas.aid_officer)
    preview = client.post("/funds/", form)
    assert preview.status_code == 200
    assert "250,000.00 yuan received from Central budget" in text(preview)
    assert not JournalEntry.objects.exists()  # nothing until confirmed
    done = client.post("/funds/", {**form, "confirm": "1"})
    assert done.status_code == 302
    entry = JournalEntry.objects.get()
    assert (entry.kind, entry.memo, entry.posted_on.isoformat()) == (
        "transfer_in",
        "财教〔2018〕88号",
        "2018-09-03",
    )
    page = text(client.get("/funds/"))
    assert "250,000.00" in page and "Central budget" in page
    bad = client.post("/funds/", {**form, "amount": "-5", "confirm": "1"})
    assert bad.status_code == 400 and JournalEntry.objects.count() == 1


def test_the_trial_balance_page_and_workbook_agree(personas: Any) -> None:
    _allocate(personas, "1000.00")
    client = english_client(personas.inspector)
    page = text(client.get("/funds/trial-balance/"))
    assert "Debits equal credits." in page
    assert page.count("2,000.00") >= 2  # the totals: the allocation entry moves 1,000 twice
    response = client.get("/funds/trial-balance.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert rows[-1][:3] == ("合计", 2000, 2000)
    # the programme is named as the rule book names it, in Chinese (an official sheet)
    assert any("寄宿生生活补助" in str(r[0]) for r in rows), rows
    assert AuditEvent.objects.filter(action="funds.export_trial_balance").count() == 1


def test_the_journal_lists_filters_exports_and_reverses_after_a_preview(personas: Any) -> None:
    _allocate(personas, "300.00")
    funds.transfer_in_record(actor=personas.aid_officer, channel="lottery", amount=Decimal("50"))
    client = english_client(personas.aid_officer)
    assert "2 entries" in text(client.get("/funds/journal/"))
    assert "1 entry" in text(client.get("/funds/journal/?kind=allocation"))
    book = openpyxl.load_workbook(io.BytesIO(client.get("/funds/journal.xlsx").content)).active
    assert len(list(book.iter_rows(min_row=3))) == 4 + 2  # 4 allocation lines, 2 transfer lines
    allocation = JournalEntry.objects.get(kind="allocation")
    url = f"/funds/journal/{allocation.pk}/"
    preview = client.post(url, {"memo": "文号有误"})
    assert preview.status_code == 200 and "Confirm the reversal" in text(preview)
    assert not JournalEntry.objects.filter(kind="reversal").exists()
    done = client.post(url, {"memo": "文号有误", "confirm": "1"})
    assert done.status_code == 302
    reversal = JournalEntry.objects.get(kind="reversal")
    assert reversal.reverses == allocation
    assert "Reversed by entry" in text(client.get(url))
    assert (
        english_client(personas.inspector).post(url, {"memo": "x", "confirm": "1"}).status_code
        == 403
    )


def test_a_payment_is_traced_from_channel_to_card_without_the_whole_account(
    personas: Any,
) -> None:
    _allocate(personas, "1000.00", channel="central")
    funds.transfer_in_record(actor=personas.aid_officer, channel="lottery", amount=Decimal("500"))
    batch = _batch(personas, "t", _lines(1, "200.00"))
    funds.payment_batch_approve(actor=personas.aid_officer, batch_id=batch.pk)
    payment = batch.payments.get()
    client = english_client(personas.inspector)
    page = text(client.get(f"/funds/trace/?payment={payment.reference}"))
    assert payment.reference in page and payment.account_masked in page
    assert "6217000000001234" not in page
    assert "Central budget" in page and "Lottery public-welfare funds" in page
    assert "Batch approved" in page and "Allocation to a programme" in page
    assert "66.7%" in page  # 1,000 of the 1,500 received came from the central budget
    assert AuditEvent.objects.filter(action="funds.trace").count() == 1
    assert client.get("/funds/trace/?payment=420101-2099A-001-000001").status_code == 404


def test_the_api_gives_the_books_to_the_county_only(personas: Any) -> None:
    _allocate(personas, "1000.00")
    batch = _batch(personas, "api", _lines(1, "200.00"))
    funds.payment_batch_approve(actor=personas.aid_officer, batch_id=batch.pk)
    payment = batch.payments.get()
    client = english_client(personas.inspector)
    tb = client.get("/api/funds/trial-balance").json()
    assert tb["balanced"] is True and Decimal(tb["total_debit"]) == Decimal("2200.00")
    [row] = client.get("/api/funds/programme-balances?year=2018").json()
    assert (Decimal(row["allocated"]), Decimal(row["reserved"]), Decimal(row["available"])) == (
        Decimal("1000.00"),
        Decimal("200.00"),
        Decimal("800.00"),
    )
    assert client.get("/api/funds/reconciliation?year=2018").json() == []  # not sent yet
    trace = client.get(f"/api/funds/trace?payment={payment.reference}").json()
    assert trace["account_masked"] == payment.account_masked
    assert [e["kind"] for e in trace["entries"]] == ["approval"]
    assert "6217000000001234" not in str(trace)
    for who in ("township_a", "principal_a", "nobody"):
        other = english_client(getattr(personas, who))
        assert other.get("/api/funds/trial-balance").status_code == 403, who
        assert other.get(f"/api/funds/trace?payment={payment.reference}").status_code == 403

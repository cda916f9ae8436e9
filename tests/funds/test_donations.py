"""Donations (II.1.5, III.2): donors, pledges and receipts posted to the ledger; designated
money paid through the same batches; the donor report names no one whole; the pages."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from tests.conftest import ID_A, ID_B
from tests.funds.test_ledger import _lines
from tests.threads import at_once, english_client

from jingzhun.core.models import AuditEvent
from jingzhun.funds import ledger
from jingzhun.funds import selectors_donations as ds
from jingzhun.funds import services as funds
from jingzhun.funds import services_donations as donations
from jingzhun.funds.models import Account, JournalEntry
from jingzhun.funds.models_donations import Donor, Pledge, Receipt

pytestmark = pytest.mark.django_db

C = "420101"
Y = Decimal
CARD = "6217000000001234"
HOUSEHOLD_CARD = "6228480012345678901"
# A whole resident ID or bank card: 15 to 19 digits in a row (with an ID's final X).
WHOLE_NUMBER = re.compile(r"(?<!\d)\d{14,18}[\dXx](?!\d)")
PDFTOTEXT = shutil.which("pdftotext")


def _donor(personas: Any, name: str = "爱心企业有限公司", **kw: Any) -> Donor:
    return donations.donor_create(
        actor=personas.aid_officer,
        name=name,
        kind=kw.pop("kind", "company"),
        contact_name=kw.pop("contact_name", "王经理"),
        phone=kw.pop("phone", "13812345678"),
        **kw,
    )


def _pledge(personas: Any, donor: Donor, amount: str, **kw: Any) -> Pledge:
    return donations.pledge_record(
        actor=personas.aid_officer,
        donor_id=donor.pk,
        amount=Y(amount),
        pledged_on=dt.date(2018, 9, 1),
        **kw,
    )


def _receive(personas: Any, donor: Donor, amount: str, pledge: Pledge | None = None) -> Receipt:
    return donations.receipt_record(
        actor=personas.aid_officer,
        donor_id=donor.pk,
        pledge_id=pledge.pk if pledge else None,
        amount=Y(amount),
        received_on=dt.date(2018, 9, 10),
        document="捐赠协议2018-01",
    )


def _balances(code: str) -> Decimal:
    return Account.objects.get(county_code=C, code=code).balance


def test_a_general_gift_lands_in_the_pool_from_the_donation_channel(personas: Any) -> None:
    # given a donor without a pledge
    donor = _donor(personas)
    # when 5,000 is received
    receipt = _receive(personas, donor, "5000.00")
    # then one balanced entry: Dr pool, Cr channel:donation, keyed by the receipt
    entry = JournalEntry.objects.get()
    assert (entry.kind, entry.key, entry.source) == (
        "donation",
        f"donation-receipt:{receipt.pk}",
        f"funds.donation_receipt:{receipt.pk}",
    )
    assert receipt.entry == entry
    lines = {(line.account.code, line.debit, line.credit) for line in entry.lines.all()}
    assert lines == {("pool", Y("5000.00"), Y("0.00")), ("channel:donation", Y("0"), Y("5000.00"))}
    assert _balances("pool") == Y("5000.00")
    assert _balances("channel:donation") == Y("-5000.00")
    assert ledger.check_balances(C) == []
    assert AuditEvent.objects.filter(action="funds.donation_receipt").count() == 1
    # the pooled gift is allocated like any channel's money
    funds.allocation_record(
        actor=personas.aid_officer, school_year=2018, programme="nutrition", amount=Y("5000.00")
    )
    assert _balances("pool") == Y("0.00")


def test_a_programme_gift_goes_to_that_programme_and_counts_as_allocated(personas: Any) -> None:
    donor = _donor(personas)
    pledge = _pledge(
        personas, donor, "3000.00", designation="programme", programme="nutrition", school_year=2018
    )
    assert donations.donation_programme(pledge) == "nutrition"
    _receive(personas, donor, "1000.00", pledge)
    _receive(personas, donor, "2000.00", pledge)
    pledge.refresh_from_db()
    assert (pledge.received, pledge.open_amount) == (Y("3000.00"), Y("0.00"))
    assert _balances("programme:2018:nutrition") == Y("3000.00")
    [row] = ledger.programme_balances(C, 2018)
    assert (row.programme, row.allocated, row.available) == (
        "nutrition",
        Y("3000.00"),
        Y("3000.00"),
    )
    assert ledger.check_balances(C) == []


def test_a_receipt_above_what_the_pledge_has_open_is_refused_in_words(personas: Any) -> None:
    donor = _donor(personas)
    pledge = _pledge(
        personas,
        donor,
        "1000.00",
        designation="school",
        school_id=personas.principal_a.school_id,
        school_year=2018,
    )
    _receive(personas, donor, "600.00", pledge)
    with pytest.raises(ValidationError) as err:
        _receive(personas, donor, "400.01", pledge)
    assert "400.01 yuan is more than the pledge has still open: 400.00 yuan of 1000.00 yuan" in str(
        err.value
    )
    # nothing of the refused receipt was kept
    pledge.refresh_from_db()
    assert pledge.received == Y("600.00")
    assert Receipt.objects.count() == 1 and JournalEntry.objects.count() == 1
    _receive(personas, donor, "400.00", pledge)  # the open amount exactly is taken
    assert _balances(f"programme:2018:donation:{pledge.pk}") == Y("1000.00")


def test_only_the_aid_centre_records_donations(personas: Any) -> None:
    donor = _donor(personas)
    pledge = _pledge(personas, donor, "100.00")
    for who in (
        "county_officer",
        "bureau_leader",
        "inspector",
        "township_a",
        "principal_a",
        "nobody",
    ):
        actor = getattr(personas, who)
        with pytest.raises(PermissionDenied):
            donations.donor_create(actor=actor, name="某人", kind="person")
        with pytest.raises(PermissionDenied):
            donations.pledge_record(
                actor=actor, donor_id=donor.pk, amount=Y("1"), pledged_on=dt.date(2018, 9, 1)
            )
        with pytest.raises(PermissionDenied):
            donations.receipt_record(
                actor=actor, donor_id=donor.pk, pledge_id=pledge.pk, amount=Y("1")
            )
    assert (Donor.objects.count(), Pledge.objects.count(), Receipt.objects.count()) == (1, 1, 0)
    assert not JournalEntry.objects.exists()


def test_a_pledge_names_what_it_is_for_within_the_county(personas: Any, county: Any) -> None:
    donor = _donor(personas)
    with pytest.raises(ValidationError, match="No student of this county has the number 999999"):
        _pledge(
            personas,
            donor,
            "100.00",
            designation="students",
            student_ids=[county.student_a.pk, 999999],
        )
    with pytest.raises(ValidationError, match="Name the programme by its code"):
        _pledge(personas, donor, "100.00", designation="programme", programme="donation:1")
    with pytest.raises(ValidationError, match="Choose the school"):
        _pledge(personas, donor, "100.00", designation="school")
    with pytest.raises(ValidationError, match="more than zero"):
        _pledge(personas, donor, "0")
    assert not Pledge.objects.exists()
    pledge = _pledge(
        personas,
        donor,
        "100.00",
        designation="students",
        student_ids=[county.student_b.pk, county.student_a.pk, county.student_a.pk],
    )
    assert pledge.students == sorted([county.student_a.pk, county.student_b.pk])
    assert pledge.school_year is not None  # the county's working year when none is given
    # another county's donor is not found
    other = Donor.objects.create(
        county_code="420102", name="外县企业", kind="company", created_by=personas.aid_officer
    )
    with pytest.raises(Http404):
        _receive(personas, other, "10.00")


def _paid_through_a_batch(personas: Any, county: Any, pledge: Pledge) -> Any:
    """Pay 2 x 300 from the pledge's programme (one paid, one failed by the bank)."""
    lines = [
        funds.PaymentLine(
            **{
                **line.__dict__,
                "programme": donations.donation_programme(pledge),
                "school_id": county.school_a.pk,
                "beneficiary": name,
            }
        )
        for line, name in zip(
            _lines(2, "300.00", tag="donation"), ["张小明", "欧阳娜娜"], strict=True
        )
    ]
    batch = funds.payment_batch_make(
        actor=personas.aid_officer,
        purpose="donation",
        school_year=2018,
        semester="autumn",
        idempotency_key=f"donation-{pledge.pk}",
        lines=lines,
    ).batch
    return batch


def test_designated_money_is_paid_through_the_same_batches_and_reported(
    personas: Any, county: Any, tmp_path: Path
) -> None:
    # given 1,000 received for named students (a programme account of its own)
    donor = _donor(personas)
    pledge = _pledge(
        personas,
        donor,
        "1500.00",
        designation="students",
        school_year=2018,
        student_ids=[county.student_a.pk, county.student_b.pk],
    )
    _receive(personas, donor, "1000.00", pledge)
    _receive(personas, donor, "200.00")  # and a general gift
    code = f"donation:{pledge.pk}"
    assert donations.donation_programme(pledge) == code
    # a batch asking more than the donation holds is refused
    with pytest.raises(ValidationError, match=f"{code} needs 1200.00"):
        funds.payment_batch_make(
            actor=personas.aid_officer,
            purpose="donation",
            school_year=2018,
            semester="autumn",
            idempotency_key="too-much",
            lines=_lines(4, "300.00", programme=code, tag="big"),
        )
    # when a batch of 2 x 300 is made, approved, sent and returned (one paid, one failed)
    batch = _paid_through_a_batch(personas, county, pledge)
    funds.payment_batch_approve(actor=personas.aid_officer, batch_id=batch.pk)
    assert ledger.available(C, code, 2018) == Y("400.00")  # reserved from the donation
    assert _balances(f"payable:2018:{code}") == Y("600.00")
    funds.bank_file_export(actor=personas.aid_officer, batch_id=batch.pk, fmt="csv")
    refs = list(batch.payments.order_by("id").values_list("reference", flat=True))
    rows = "\n".join(
        [
            "参考号,账号,金额,状态,失败原因",
            f"{refs[0]},{CARD},300.00,成功,",
            f"{refs[1]},{CARD},300.00,失败,账户已销户",
        ]
    )
    funds.bank_return_apply(
        actor=personas.aid_officer, batch_id=batch.pk, data=rows.encode(), file_name="r.csv"
    )
    # then the donation's account says where each yuan is
    assert ledger.check_balances(C) == []
    report = ds.donor_report(personas.inspector, donor.pk)
    assert (report.pledged, report.received, report.to_pool) == (
        Y("1500.00"),
        Y("1200.00"),
        Y("200.00"),
    )
    [flow] = report.flows
    assert (
        flow.received,
        flow.open,
        flow.allocated,
        flow.reserved,
        flow.paid,
        flow.returned,
        flow.available,
    ) == (Y("1000.00"), Y("500.00"), Y("1000.00"), Y("0.00"), Y("300.00"), Y("300.00"), Y("700.00"))
    assert sorted(flow.students) == ["张*", "李*"]
    po = flow.paid_out
    assert po is not None
    assert (po.count, po.amount, po.paid_count, po.paid_amount, po.failed_count) == (
        2,
        Y("600.00"),
        1,
        Y("300.00"),
        1,
    )
    assert [(s.school, s.count, s.amount) for s in po.schools] == [("甲镇中心小学", 1, Y("300.00"))]
    assert sorted(n[0] for n in po.names) == ["张*", "欧*"]
    # and neither the page, the workbook nor the PDF holds a whole ID, card or a full name
    client = english_client(personas.inspector)
    page = client.get(f"/funds/donations/{donor.pk}/").content.decode()
    book = client.get(f"/funds/donations/{donor.pk}/report.xlsx")
    assert book.status_code == 200
    cells = [
        str(v)
        for ws in openpyxl.load_workbook(io.BytesIO(book.content)).worksheets
        for row in ws.iter_rows(values_only=True)
        for v in row
        if v is not None
    ]
    assert "张*" in cells and "甲镇中心小学" in cells
    pdf = client.get(f"/funds/donations/{donor.pk}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    texts = [page, "\n".join(cells)]
    if PDFTOTEXT:
        (tmp_path / "r.pdf").write_bytes(pdf.content)
        subprocess.run([PDFTOTEXT, "-layout", str(tmp_path / "r.pdf")], check=True)  # noqa: S603
        pdf_text = (tmp_path / "r.txt").read_text()
        assert "社会捐赠资金使用情况报告" in pdf_text and "张*" in pdf_text
        texts.append(pdf_text)
    for text in texts:
        for secret in (
            ID_A,
            ID_B,
            CARD,
            HOUSEHOLD_CARD,
            "张小明",
            "李小红",
            "欧阳娜娜",
            "13812345678",
        ):
            assert secret not in text
        assert not WHOLE_NUMBER.search(text)
    assert AuditEvent.objects.filter(action="funds.export_donor_report").count() == 2


PAGES = ("/funds/donations/", "/funds/donations.xlsx")


def test_the_county_reads_donations_and_nobody_below_it(personas: Any) -> None:
    donor = _donor(personas)
    urls = (
        *PAGES,
        f"/funds/donations/{donor.pk}/",
        f"/funds/donations/{donor.pk}/report.xlsx",
        f"/funds/donations/{donor.pk}/report.pdf",
    )
    writes = (
        "/funds/donations/new/",
        f"/funds/donations/{donor.pk}/pledge/",
        f"/funds/donations/{donor.pk}/receipt/",
    )
    for who in ("aid_officer", "county_officer", "bureau_leader", "inspector"):
        client = english_client(getattr(personas, who))
        for url in urls:
            assert client.get(url).status_code == 200, (who, url)
        for url in writes:
            expected = 200 if who == "aid_officer" else 403
            assert client.get(url).status_code == expected, (who, url)
    for who in ("township_a", "principal_a", "teacher_a", "nobody"):
        client = english_client(getattr(personas, who))
        for url in (*urls, *writes):
            assert client.get(url).status_code == 403, (who, url)
    other = Donor.objects.create(
        county_code="420102", name="外县企业", kind="company", created_by=personas.aid_officer
    )
    assert (
        english_client(personas.inspector).get(f"/funds/donations/{other.pk}/").status_code == 404
    )


def test_the_donor_list_filters_exports_and_masks_the_phone(personas: Any) -> None:
    _donor(personas)
    _donor(personas, name="张善人", kind="person", contact_name="", phone="13900001111")
    aid = english_client(personas.aid_officer)
    inspector = english_client(personas.inspector)
    assert "2 donors" in inspector.get("/funds/donations/").content.decode()
    page = inspector.get("/funds/donations/?kind=person").content.decode()
    assert "1 donor" in page and "张善人" in page and "爱心企业" not in page
    assert "139****1111" in page and "13900001111" not in page
    assert "13900001111" in aid.get("/funds/donations/?q=张善").content.decode()
    book = openpyxl.load_workbook(io.BytesIO(inspector.get("/funds/donations.xlsx?q=爱心").content))
    rows = list(book.active.iter_rows(min_row=3, values_only=True))
    assert [r[:4] for r in rows] == [("爱心企业有限公司", "企业", "王经理", "138****5678")]
    assert AuditEvent.objects.filter(action="funds.export_donors").count() == 1


def test_a_donor_and_a_pledge_are_added_on_their_pages(personas: Any, county: Any) -> None:
    client = english_client(personas.aid_officer)
    done = client.post(
        "/funds/donations/new/",
        {"name": "某基金会", "kind": "organisation", "phone": "0710-1234567"},
    )
    assert done.status_code == 302
    donor = Donor.objects.get()
    assert (donor.county_code, donor.name, donor.phone) == (C, "某基金会", "0710-1234567")
    url = f"/funds/donations/{donor.pk}/pledge/"
    form = {
        "amount": "800",
        "pledged_on": "2018-09-01",
        "designation": "school",
        "school_year": "2018",
        "school": str(county.school_b.pk),
    }
    assert client.post(url, {**form, "school": ""}).status_code == 400
    assert (
        client.post(url, {**form, "designation": "students", "students": ID_A}).status_code == 400
    )
    assert client.post(url, form).status_code == 302
    pledge = Pledge.objects.get()
    assert (pledge.designation, pledge.school, pledge.school_year) == (
        "school",
        county.school_b,
        2018,
    )
    page = client.get(f"/funds/donations/{donor.pk}/").content.decode()
    assert "乙乡中学" in page and "800.00" in page


def test_a_receipt_is_previewed_then_posted(personas: Any) -> None:
    donor = _donor(personas)
    pledge = _pledge(
        personas, donor, "1000.00", designation="programme", programme="nutrition", school_year=2018
    )
    url = f"/funds/donations/{donor.pk}/receipt/"
    form = {
        "pledge": str(pledge.pk),
        "amount": "700.00",
        "received_on": "2018-09-10",
        "document": "转账凭证001",
    }
    inspector = english_client(personas.inspector)
    assert inspector.post(url, {**form, "confirm": "1"}).status_code == 403
    client = english_client(personas.aid_officer)
    preview = client.post(url, form)
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "700.00 yuan received through Social donations will be posted to" in text
    assert "nutrition" in text and "Nothing is posted until you confirm" in text
    assert not JournalEntry.objects.exists() and not Receipt.objects.exists()
    assert not Account.objects.exists()  # a preview opens no account
    done = client.post(url, {**form, "confirm": "1"})
    assert done.status_code == 302
    receipt = Receipt.objects.get()
    assert (receipt.amount, receipt.document, receipt.entry.kind) == (  # type: ignore[union-attr]
        Y("700.00"),
        "转账凭证001",
        "donation",
    )
    # more than is still open: refused in words, at the preview and at the confirmation
    over = client.post(url, {**form, "amount": "300.01"})
    assert over.status_code == 400
    assert (
        "300.01 yuan is more than the pledge has still open: 300.00 yuan" in over.content.decode()
    )
    assert client.post(url, {**form, "amount": "300.01", "confirm": "1"}).status_code == 400
    assert Receipt.objects.count() == 1
    assert ledger.check_balances(C) == []


@pytest.fixture
def receipts_flushable(audit_flushable: Any) -> Any:
    """Delete the receipts before audit_flushable empties the journal they refer to (SQLite
    deletes table by table with its foreign keys on)."""
    yield
    Receipt.objects.all().delete()


def test_eight_receipts_at_once_never_exceed_the_pledge(
    personas: Any, receipts_flushable: Any
) -> None:
    # given a pledge of 1,000 with 300 received
    donor = _donor(personas)
    pledge = _pledge(
        personas, donor, "1000.00", designation="programme", programme="nutrition", school_year=2018
    )
    _receive(personas, donor, "300.00", pledge)
    # when eight officers record 200 each at the same moment
    results = at_once(8, lambda i, _state: _receive(personas, donor, "200.00", pledge))
    # then three pass (700 was open) and five are refused in words; the ledger agrees
    ok = [r for r in results if isinstance(r, Receipt)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert (len(ok), len(refused)) == (3, 5), results
    assert all("more than the pledge has still open" in str(r) for r in refused)
    pledge.refresh_from_db()
    assert pledge.received == Y("900.00")
    assert _balances("programme:2018:nutrition") == Y("900.00")
    assert Receipt.objects.count() == 4
    assert ledger.check_balances(C) == []

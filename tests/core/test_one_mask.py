"""One mask format everywhere, by kind: an ID or roll keeps its area code, a bank card its
last four digits; the mask has the value's length."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pyarrow as pa
import pytest
from django.test import Client
from django.urls import reverse
from tests.conftest import ID_A, County, Personas

from jingzhun.accounts.services import api_token_create
from jingzhun.core import crypto
from jingzhun.core.resident_id import ResidentId
from jingzhun.core.sensitive import mask_array, remask, seal
from jingzhun.identification.models import ChildStatus, IdentificationRun
from jingzhun.registry.models import Household

MASKED_A = "420101************"
BANK_MASKED = "***************8901"


@pytest.mark.parametrize(
    ("value", "purpose", "masked"),
    [
        (ID_A, "id", MASKED_A),
        ("42010120100101001X", "id", "420101************"),
        ("G" + ID_A, "roll", "G420101************"),
        ("420101100101001", "id", "420101*********"),  # an old 15-digit ID
        ("4201012010", "id", "**********"),  # too short to be whole: nothing kept
        ("6228480012345678901", "bank", BANK_MASKED),
        ("6228 4800 1234 5678 901", "bank", BANK_MASKED),
        ("12345678", "bank", "********"),
        ("123456789", "bank", "*****6789"),
        ("", "id", ""),
    ],
)
def test_the_one_format(value: str, purpose: str, masked: str) -> None:
    assert crypto.mask(value, purpose) == masked
    mask_of_kind = crypto.mask_account if purpose == "bank" else crypto.mask_id
    assert mask_of_kind(value) == masked
    assert len(masked) == len("".join(value.split()))
    # The bulk mask of the imports writes the same text.
    assert mask_array(pa.array([value or None]), purpose=purpose).to_pylist() == [masked]


def test_seal_stores_the_one_format() -> None:
    assert seal(ID_A, prefix="id", purpose="id")["id_masked"] == MASKED_A
    assert seal("6228480012345678901", prefix="bank", purpose="bank")["bank_masked"] == (
        BANK_MASKED
    )
    assert ResidentId.parse(ID_A).masked() == MASKED_A


@pytest.mark.django_db
def test_remask_brings_old_masks_to_the_format(county: County) -> None:
    # a mask of the earlier format (first and last four kept)
    Household.objects.filter(pk=county.household_a.pk).update(bank_masked="6228***********8901")
    counts = remask()
    assert counts["registry.Household.bank"] == 1
    assert Household.objects.get(pk=county.household_a.pk).bank_masked == BANK_MASKED
    assert remask()["registry.Household.bank"] == 0  # a second run changes nothing


@pytest.mark.django_db
def test_screen_excel_and_api_show_the_same_mask(
    client: Client, personas: Personas, county: County
) -> None:
    run = IdentificationRun.objects.create(
        county_code="420101",
        as_of=dt.date(2018, 10, 8),
        school_year=2018,
        status="done",
        inputs_hash="0" * 64,
        counts={},
    )
    ChildStatus.objects.create(
        run=run,
        person=county.person_a,
        category="in_county",
        age=8,
        household_status="registered",
        village_code=county.village_a.code,
        student=county.student_a,
        enrolment=county.enrolment_a,
        school=county.school_a,
        stage="primary",
        grade=3,
    )
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(personas.county_officer)
    # screen
    page = client.get(reverse("dashboard:child", args=[county.person_a.pk])).content.decode()
    assert MASKED_A in page and ID_A not in page
    assert BANK_MASKED in page  # the household's benefits card
    # Excel
    response = client.get(reverse("identification:run-export", args=[run.pk]))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert MASKED_A in cells and ID_A not in cells
    assert "G420101************" in cells  # the roll number, masked the same way
    # API
    token = api_token_create(actor=None, user=personas.county_officer, name="t")[1]
    api = Client().get(
        f"/api/persons/{county.person_a.pk}", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 200, api.content
    assert api.json()["id_masked"] == MASKED_A

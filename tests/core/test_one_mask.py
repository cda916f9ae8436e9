"""One mask format everywhere: first four and last four kept, same length as the value."""

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

MASKED_A = "4201**********0018"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (ID_A, MASKED_A),
        ("G" + ID_A, "G420***********0018"),
        ("6228480012345678901", "6228***********8901"),
        ("6228 4800 1234 5678 901", "6228***********8901"),
        ("12345678", "********"),
        ("123456789", "1234*6789"),
        ("", ""),
    ],
)
def test_the_one_format(value: str, masked: str) -> None:
    assert crypto.mask(value) == masked
    assert crypto.mask_id(value) == masked and crypto.mask_account(value) == masked
    assert len(masked) == len("".join(value.split()))
    # The bulk mask of the imports writes the same text.
    assert mask_array(pa.array([value or None])).to_pylist() == [masked]


def test_seal_stores_the_one_format() -> None:
    assert seal(ID_A, prefix="id", purpose="id")["id_masked"] == MASKED_A
    assert seal("6228480012345678901", prefix="bank", purpose="bank")["bank_masked"] == (
        "6228***********8901"
    )
    assert ResidentId.parse(ID_A).masked() == MASKED_A


@pytest.mark.django_db
def test_remask_brings_old_masks_to_the_format(county: County) -> None:
    Household.objects.filter(pk=county.household_a.pk).update(bank_masked="***************8901")
    counts = remask()
    assert counts["registry.Household.bank"] == 1
    assert Household.objects.get(pk=county.household_a.pk).bank_masked == "6228***********8901"
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
    assert "6228***********8901" in page  # the household's benefits card
    # Excel
    response = client.get(reverse("identification:run-export", args=[run.pk]))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert MASKED_A in cells and ID_A not in cells
    assert "G420***********0018" in cells  # the roll number, masked the same way
    # API
    token = api_token_create(actor=None, user=personas.county_officer, name="t")[1]
    api = Client().get(
        f"/api/persons/{county.person_a.pk}", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 200, api.content
    assert api.json()["id_masked"] == MASKED_A

"""Rows to fix: the list is the county importers', the detail masks IDs, a fix on the page
imports the row again and closes it, dismissal needs a reason, the export holds no whole ID."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from tests.conftest import Personas
from tests.imports.helpers import (
    REGISTRY_HEADER,
    base_county,
    make_id,
    registry_rows,
    run_import,
    write_csv,
)

from jingzhun.accounts.roles import CAPABILITIES, Role
from jingzhun.core import crypto
from jingzhun.core import permissions as P
from jingzhun.core.models import AuditEvent, ImportBatch, SetAsideRow
from jingzhun.registry.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_pages(client: Client) -> None:
    """Ask for the pages in English, so their texts can be asserted."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


# A sixth member of the first household, whose ID number has a wrong check character: with
# no 人口编号 to key the person, the row cannot land and is set aside.
GOOD_ID = make_id("420101", "20130601", "045")
BAD_ID = GOOD_ID[:-1] + ("1" if GOOD_ID[-1] != "1" else "2")
ID_COLUMN = REGISTRY_HEADER.index("身份证号")
BIRTH_COLUMN = REGISTRY_HEADER.index("出生日期")


def sixth_row(id_number: str = BAD_ID, birth: str = "2013-06-01") -> list[str]:
    row = list(registry_rows()[1])
    row[REGISTRY_HEADER.index("姓名")] = "张小刚"
    row[ID_COLUMN] = id_number
    row[BIRTH_COLUMN] = birth
    return row


@pytest.fixture
def set_aside(personas: Personas, tmp_path: Path) -> SetAsideRow:
    """Import a registry file of 6 rows with one bad row: 5 land, 1 is set aside."""
    base_county(tmp_path)
    rows = registry_rows() + [sixth_row()]
    batch = run_import(
        "registry",
        write_csv(tmp_path / "registry.csv", REGISTRY_HEADER, rows),
        actor=personas.aid_officer,
        county="420101",
    )
    assert batch.status == ImportBatch.Status.DONE, batch.message
    assert batch.rows_set_aside == 1
    assert not Person.objects.filter(name="张小刚").exists()
    return SetAsideRow.objects.get(batch=batch)


def fix_post(row: SetAsideRow, header: str, value: str, client: Client) -> object:
    """Post the fix form with one cell changed (the others as the page shows them)."""
    page = client.get(reverse("imports:set-aside-detail", args=[row.pk]))
    form = page.context["cells"]
    data = {"action": "fix"}
    for cell in form:
        data[cell["name"]] = value if cell["header"] == header else cell["value"]
    return client.post(reverse("imports:set-aside-detail", args=[row.pk]), data)


def without_full_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        CAPABILITIES, Role.AID_OFFICER, CAPABILITIES[Role.AID_OFFICER] - {P.VIEW_FULL_ID}
    )


@pytest.mark.parametrize("who", ["aid_officer", "county_officer"])
def test_the_list_shows_the_row_to_county_importers(
    client: Client, personas: Personas, set_aside: SetAsideRow, who: str
) -> None:
    client.force_login(getattr(personas, who))
    page = client.get(reverse("imports:set-aside"))
    assert page.status_code == 200
    text = page.content.decode()
    assert f"#{set_aside.batch_id}" in text and "身份证号" in text and "check character" in text
    assert [r.pk for r in page.context["rows"]] == [set_aside.pk]
    assert BAD_ID not in text
    assert len(page.content) < 300_000


def test_the_pages_speak_chinese(
    client: Client, personas: Personas, set_aside: SetAsideRow
) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(personas.aid_officer)
    listing = client.get(reverse("imports:set-aside")).content.decode()
    assert "待修正的行" in listing and "待修正" in listing and "Rows to fix" not in listing
    detail = client.get(reverse("imports:set-aside-detail", args=[set_aside.pk])).content.decode()
    assert "导入修正后的行" in detail and "撤销此行" in detail
    quality = client.get(reverse("imports:quality")).content.decode()
    assert "数据质量任务" in quality


@pytest.mark.parametrize("who", ["township_a", "principal_a", "teacher_a", "inspector", "nobody"])
def test_the_list_and_the_row_are_not_found_for_others(
    client: Client, personas: Personas, set_aside: SetAsideRow, who: str
) -> None:
    client.force_login(getattr(personas, who))
    assert client.get(reverse("imports:set-aside")).status_code == 404
    assert client.get(reverse("imports:set-aside-export")).status_code == 404
    detail = reverse("imports:set-aside-detail", args=[set_aside.pk])
    assert client.get(detail).status_code == 404
    assert (
        client.post(detail, {"action": "dismiss", "dismiss-reason": "dup row"}).status_code == 404
    )
    set_aside.refresh_from_db()
    assert set_aside.status == SetAsideRow.Status.OPEN


def test_another_countys_row_is_not_found(
    client: Client, personas: Personas, set_aside: SetAsideRow
) -> None:
    SetAsideRow.objects.filter(pk=set_aside.pk).update(county_code="999999")
    client.force_login(personas.aid_officer)
    assert client.get(reverse("imports:set-aside")).context["rows"].paginator.count == 0
    assert client.get(reverse("imports:set-aside-detail", args=[set_aside.pk])).status_code == 404


def test_the_list_filters_by_status_and_kind(
    client: Client, personas: Personas, set_aside: SetAsideRow
) -> None:
    client.force_login(personas.aid_officer)
    url = reverse("imports:set-aside")
    assert client.get(url, {"kind": "rolls"}).context["rows"].paginator.count == 0
    assert client.get(url, {"kind": "registry"}).context["rows"].paginator.count == 1
    assert client.get(url, {"batch": set_aside.batch_id}).context["rows"].paginator.count == 1
    SetAsideRow.objects.filter(pk=set_aside.pk).update(status="dismissed")
    assert client.get(url).context["rows"].paginator.count == 0
    assert client.get(url, {"status": "all"}).context["rows"].paginator.count == 1


def test_the_import_page_links_to_the_rows_to_fix(
    client: Client, personas: Personas, set_aside: SetAsideRow
) -> None:
    client.force_login(personas.aid_officer)
    page = client.get(reverse("imports:detail", args=[set_aside.batch_id])).content.decode()
    assert "1 rows set aside" in page
    assert f"{reverse('imports:set-aside')}?batch={set_aside.batch_id}" in page
    listing = client.get(reverse("imports:list")).content.decode()
    assert reverse("imports:set-aside") in listing and reverse("imports:quality") in listing


def test_the_detail_masks_ids_for_a_user_without_full_id(
    client: Client, personas: Personas, set_aside: SetAsideRow, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_full_ids(monkeypatch)
    client.force_login(personas.aid_officer)
    page = client.get(reverse("imports:set-aside-detail", args=[set_aside.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "张小刚" in text  # the other values are shown as they were
    assert BAD_ID not in text and crypto.mask_id(BAD_ID) in text
    assert "6228480012345678901" not in text  # the bank account, masked too
    assert 'id="jz-reveal"' not in text
    # asking anyway is refused and logged
    response = client.post(
        reverse("imports:set-aside-detail", args=[set_aside.pk]),
        {"action": "reveal", "reveal-reason": "check the ID"},
    )
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="access.denied", object_id=str(set_aside.pk)).exists()


def test_whole_values_are_shown_for_a_reason_and_logged(
    client: Client, personas: Personas, set_aside: SetAsideRow
) -> None:
    client.force_login(personas.aid_officer)
    url = reverse("imports:set-aside-detail", args=[set_aside.pk])
    assert BAD_ID not in client.get(url).content.decode()
    short = client.post(url, {"action": "reveal", "reveal-reason": "x"}).content.decode()
    assert BAD_ID not in short
    page = client.post(url, {"action": "reveal", "reveal-reason": "compare with the paper form"})
    assert BAD_ID in page.content.decode()
    event = AuditEvent.objects.get(action="sensitive.reveal", object_id=str(set_aside.pk))
    assert event.data["reason"] == "compare with the paper form"
    assert BAD_ID not in str(event.data)


def test_fixing_the_id_on_the_page_lands_the_person_and_closes_the_row(
    client: Client, personas: Personas, set_aside: SetAsideRow, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_full_ids(monkeypatch)  # the masked cells left blank keep their values
    client.force_login(personas.aid_officer)
    response = fix_post(set_aside, "身份证号", GOOD_ID, client)
    assert response.status_code == 302 and response["Location"] == reverse("imports:set-aside")
    person = Person.objects.get(name="张小刚")
    assert person.household.household_no == registry_rows()[0][0]
    assert person.id_masked == GOOD_ID[:6] + "*" * 12
    set_aside.refresh_from_db()
    assert set_aside.status == SetAsideRow.Status.FIXED
    assert set_aside.fixed_by is not None and set_aside.fixed_by.status == "done"
    assert set_aside.fixed_by.kind == "registry" and set_aside.fixed_by.county_code == "420101"
    assert set_aside.fixed_by.created_by == personas.aid_officer
    assert set_aside.closed_at is not None
    # the bank account was masked on the page and kept from the original row
    assert person.household.bank_masked.endswith("8901")
    assert client.get(reverse("imports:set-aside")).context["rows"].paginator.count == 0


def test_a_fix_with_the_same_key_is_closed_by_the_import(
    client: Client, personas: Personas, tmp_path: Path
) -> None:
    # the ID is right, the birth date is not a date: the row's key (its ID) stays the same
    base_county(tmp_path)
    rows = registry_rows() + [sixth_row(GOOD_ID, "2013-13-45")]
    batch = run_import(
        "registry", write_csv(tmp_path / "r.csv", REGISTRY_HEADER, rows), county="420101"
    )
    row = SetAsideRow.objects.get(batch=batch)
    client.force_login(personas.aid_officer)
    fix_post(row, "出生日期", "2013-06-01", client)
    row.refresh_from_db()
    assert row.status == SetAsideRow.Status.FIXED
    assert row.fixed_by is not None and row.fixed_by.pk != batch.pk
    assert Person.objects.filter(name="张小刚").count() == 1


def test_a_fix_that_is_still_bad_keeps_the_row_open_and_shows_why(
    client: Client, personas: Personas, set_aside: SetAsideRow
) -> None:
    client.force_login(personas.aid_officer)
    still_bad = GOOD_ID[:-1] + ("3" if GOOD_ID[-1] not in "3" else "4")
    response = fix_post(set_aside, "身份证号", still_bad, client)
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="jz-new-reasons"' in text and "check character" in text
    assert "身份证号" in text
    set_aside.refresh_from_db()
    assert set_aside.status == SetAsideRow.Status.OPEN
    assert not Person.objects.filter(name="张小刚").exists()
    assert ImportBatch.objects.filter(status="rejected").count() == 1


def test_dismiss_needs_a_reason(client: Client, personas: Personas, set_aside: SetAsideRow) -> None:
    client.force_login(personas.aid_officer)
    url = reverse("imports:set-aside-detail", args=[set_aside.pk])
    page = client.post(url, {"action": "dismiss", "dismiss-reason": ""})
    assert page.status_code == 200 and page.context["dismiss_form"].errors
    set_aside.refresh_from_db()
    assert set_aside.status == SetAsideRow.Status.OPEN
    response = client.post(url, {"action": "dismiss", "dismiss-reason": "moved away in 2019"})
    assert response.status_code == 302
    set_aside.refresh_from_db()
    assert set_aside.status == SetAsideRow.Status.DISMISSED and set_aside.closed_at is not None
    event = AuditEvent.objects.get(action="import.set_aside_dismissed")
    assert event.object_id == str(set_aside.pk) and event.data["reason"] == "moved away in 2019"
    # a closed row cannot be fixed or dismissed again
    again = client.get(url).content.decode()
    assert 'id="jz-fix"' not in again and 'id="jz-dismiss"' not in again


def test_the_export_holds_the_rows_and_no_whole_id(
    client: Client, personas: Personas, set_aside: SetAsideRow
) -> None:
    client.force_login(personas.aid_officer)
    response = client.get(reverse("imports:set-aside-export"), {"kind": "registry"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:4] == ("Import", "File", "Kind", "Line")
    assert len(rows) == 2
    assert rows[1][0] == set_aside.batch_id and rows[1][3] == set_aside.line
    assert "身份证号" in rows[1][6] and "check character" in rows[1][6]
    flat = " ".join(str(v) for r in rows for v in r)
    assert BAD_ID not in flat and "张小刚" not in flat
    assert AuditEvent.objects.filter(action="export.set_aside", actor=personas.aid_officer).exists()
    empty = client.get(reverse("imports:set-aside-export"), {"kind": "rolls"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(empty.streaming_content))).active
    assert sheet.max_row == 1

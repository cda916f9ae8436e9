"""The aid review queue (/aid/review/) on the list component: filters narrow the schools (or a
principal's classes), the page totals them, and ``?export=xlsx`` holds exactly the rows kept,
never a row of another township, never a whole ID, never a formula."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook
from tests.aid.test_views import PERIOD, WHOLE, login
from tests.aid.world import identify
from tests.conftest import County, Personas

from jingzhun.aid import services
from jingzhun.core.models import AuditEvent
from jingzhun.schools.models import School

URL = "/aid/review/"
HEADER_ROW = 2  # the aid workbooks: a title row, then the header row (documents.coverage_xlsx)


@pytest.fixture
def computed(county: County, personas: Personas) -> County:
    """The county identified, its autumn 2018 entitlements computed (school A: 2, school B: 1)."""
    identify()
    services.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )
    return county


def queue(client: Client, **filters: Any) -> list[str]:
    """Return the school names of the queue page (every row of the page) for the filters."""
    response = client.get(URL, {**PERIOD, **filters})
    assert response.status_code == 200
    assert len(response.content) < 300_000
    return [s["school"].school_name for s in response.context["schools"]]


def export(client: Client, **filters: Any) -> list[list[Any]]:
    """Download the queue with the filters; return its data rows (under the header row)."""
    response = client.get(URL, {**PERIOD, **filters, "export": "xlsx"})
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    content = response.content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/"))
    for whole in WHOLE:
        assert whole not in xml
    assert "<f>" not in xml  # no cell is a formula
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True)]


def test_filters_narrow_the_schools_and_the_page_totals_them(
    computed: County, personas: Personas
) -> None:
    client = login(personas.aid_officer)
    assert queue(client) == ["乙乡中学", "甲镇中心小学"]
    # the township, the school and the search each keep one school
    assert queue(client, township=computed.township_a.code) == ["甲镇中心小学"]
    assert queue(client, school=computed.school_b.pk) == ["乙乡中学"]
    assert queue(client, q="乙乡") == ["乙乡中学"]
    # a review state keeps the schools with an entitlement in that state
    services.entitlement_class_check(
        actor=personas.teacher_a,
        school_class_id=computed.class_a.pk,
        school_year=2018,
        semester="autumn",
    )
    assert queue(client, status="class_checked") == ["甲镇中心小学"]
    assert queue(client, status="pending") == ["乙乡中学"]
    assert queue(client, status="confirmed") == []
    # the totals add up every row kept (A: 2 checked, B: 1 pending)
    response = client.get(URL, PERIOD)
    assert response.context["totals"]["by_state"]["pending"] == 1
    assert response.context["totals"]["by_state"]["class_checked"] == 2
    assert response.context["totals"]["total"] == 3
    text = response.content.decode()
    assert 'id="jz-schools-total"' in text and 'id="jz-total"' in text
    assert 'id="jz-export"' in text and "export=xlsx" in text
    filtered = client.get(URL, {**PERIOD, "township": computed.township_b.code})
    assert filtered.context["totals"]["total"] == 1
    assert filtered.context["page"].paginator.count == 1


def test_the_export_holds_exactly_the_filtered_rows(computed: County, personas: Personas) -> None:
    client = login(personas.aid_officer)
    rows = export(client)
    assert [r[0] for r in rows] == ["乙乡中学", "甲镇中心小学"]
    # school, township, one count per review state, total
    assert rows[1][:3] == ["甲镇中心小学", "甲镇", 2] and rows[1][-1] == 2
    assert [r[0] for r in export(client, township=computed.township_a.code)] == ["甲镇中心小学"]
    assert [r[0] for r in export(client, q="乙乡")] == ["乙乡中学"]
    assert export(client, status="confirmed") == []
    # the page's export link carries the page's filters
    text = client.get(URL, {**PERIOD, "township": computed.township_a.code}).content.decode()
    assert f"township={computed.township_a.code}" in text.split('id="jz-export"')[1][:200]
    event = AuditEvent.objects.filter(action="aid.review_export").order_by("id").last()
    assert event is not None and event.data["count"] == 0


def test_a_townships_export_holds_only_its_own_rows(computed: County, personas: Personas) -> None:
    client = login(personas.township_a)
    assert queue(client) == ["甲镇中心小学"]
    assert [r[0] for r in export(client)] == ["甲镇中心小学"]
    # asking for the other township or its school gives nothing, never its rows
    assert export(client, township=computed.township_b.code) == []
    assert export(client, school=computed.school_b.pk) == []
    assert queue(client, township=computed.township_b.code) == []
    other = login(personas.township_b)
    assert [r[0] for r in export(other)] == ["乙乡中学"]


def test_a_school_name_starting_like_a_formula_stays_text(
    computed: County, personas: Personas
) -> None:
    School.objects.filter(pk=computed.school_a.pk).update(name='=HYPERLINK("http://x","y")')
    rows = export(login(personas.aid_officer), township=computed.township_a.code)
    assert rows[0][0] == '=HYPERLINK("http://x","y")'


def test_a_principal_filters_and_downloads_the_classes(
    computed: County, personas: Personas
) -> None:
    client = login(personas.principal_a)
    response = client.get(URL, PERIOD)
    assert [c["id"] for c in response.context["classes"]] == [computed.class_a.pk]
    assert response.context["class_totals"]["by_state"]["pending"] == 2
    assert 'id="jz-classes-total"' in response.content.decode()
    # a review state the class has none in leaves no class; the form still lists the school
    filtered = client.get(URL, {**PERIOD, "status": "confirmed"})
    assert filtered.context["classes"] == []
    assert export(client, status="confirmed") == []
    rows = export(client, status="pending")
    assert len(rows) == 1 and rows[0][1] == 2 and rows[0][-1] == 2
    # a class teacher's download is their own class only
    assert len(export(login(personas.teacher_a))) == 1

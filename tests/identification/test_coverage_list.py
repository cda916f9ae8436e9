"""Identification coverage (/identification/coverage/) on the list component: the township
filter and the search narrow the villages, the page pages and totals them, and
``?export=xlsx`` holds exactly the villages kept, never another township's."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook
from tests.identification.helpers import CHILDREN
from tests.identification.test_screens import login
from tests.identification.world import World, make_world

from jingzhun.core.models import AuditEvent
from jingzhun.registry.models import Area

pytestmark = pytest.mark.django_db

URL = "/identification/coverage/"
TOWNSHIP_A, TOWNSHIP_B = "420101001", "420101002"


@pytest.fixture
def w(tmp_path: Path) -> World:
    return make_world(tmp_path)


def villages(client: Client, **filters: Any) -> list[str]:
    """Return the village names the page lists for the filters."""
    response = client.get(URL, filters)
    assert response.status_code == 200
    assert len(response.content) < 300_000
    return [r.name for r in response.context["villages"]]


def export(client: Client, **filters: Any) -> list[list[Any]]:
    """Download the coverage with the filters; return its data rows (under the header row)."""
    response = client.get(URL, {**filters, "export": "xlsx"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/"))
    for child in CHILDREN:
        assert child[1] not in xml  # no whole ID number
    assert "<f>" not in xml  # no cell is a formula
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_the_township_filter_and_the_search_narrow_the_villages(w: World) -> None:
    client = login(w.county_officer)
    assert villages(client) == ["甲村", "乙村"]
    assert villages(client, township=TOWNSHIP_A) == ["甲村"]
    assert villages(client, q="乙") == ["乙村"]
    assert villages(client, q="420101001001") == ["甲村"]
    response = client.get(URL, {"township": TOWNSHIP_B})
    # the township table follows the filter; the cards stay the jurisdiction's
    assert [r.name for r in response.context["townships"]] == ["乙乡"]
    assert response.context["coverage"].total.school_age == 6
    # the total adds up every village kept (乙乡: 4 of 4 aged 6-15 known, 5 aged 3-22)
    total = response.context["village_total"]
    assert (total.school_age, total.school_age_known, total.all_ages) == (4, 4, 5)
    assert response.context["total"] == 1
    text = response.content.decode()
    assert 'id="jz-villages-total"' in text and 'id="jz-f-township"' in text
    assert 'id="jz-export"' in text and f"township={TOWNSHIP_B}" in text


def test_the_export_holds_exactly_the_filtered_villages(w: World) -> None:
    client = login(w.county_officer)
    rows = export(client)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("甲镇", "420101001001", "甲村"),
        ("乙乡", "420101002001", "乙村"),
    ]
    assert rows[1][3:5] == [4, 4] and rows[1][5] == 100.0
    assert [r[2] for r in export(client, township=TOWNSHIP_A)] == ["甲村"]
    assert [r[2] for r in export(client, q="乙")] == ["乙村"]
    assert export(client, q="无此村") == []
    event = AuditEvent.objects.filter(action="export.identification_coverage").order_by("id")
    assert [e.data["rows"] for e in event] == [2, 1, 1, 0]


def test_a_townships_export_holds_only_its_own_villages(w: World) -> None:
    client = login(w.township_a)
    assert villages(client) == ["甲村"]
    assert [r[2] for r in export(client)] == ["甲村"]
    # asking for the other township gives nothing, never its villages
    assert export(client, township=TOWNSHIP_B) == []
    assert villages(client, township=TOWNSHIP_B) == []
    assert [r[2] for r in export(login(w.township_b))] == ["乙村"]
    # a township is offered no township to choose: its list is its own
    assert 'id="jz-f-township"' not in client.get(URL).content.decode()


def test_a_village_name_starting_like_a_formula_stays_text(w: World) -> None:
    Area.objects.filter(code="420101001001").update(name="=1+2")
    rows = export(login(w.county_officer), township=TOWNSHIP_A)
    assert rows == [["甲镇", "420101001001", "=1+2", 2, 0, 0.0, 2, 0, 0.0]]


def test_the_export_without_a_run_goes_back_to_the_page(w: World) -> None:
    w.run.delete()
    response = login(w.county_officer).get(URL, {"export": "xlsx"})
    assert response.status_code == 302 and response["Location"] == URL

"""The schools taken from the rolls (/imports/schools/): ``?export=xlsx`` downloads exactly the
schools the page's filter keeps, every page of them, as text (never a formula); a township or
another county's clerk gets none of the county's schools."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook
from tests.conftest import make_user
from tests.imports.test_national_rolls import (
    JUNIOR,
    NINE_YEAR,
    PRIMARY,
    SECONDARY,
    TOWN,
    VOCATIONAL,
    areas,  # noqa: F401  (the fixture)
    land,
    the_rolls,
    write_rolls,
)
from tests.schools.test_derived_schools_page import _client

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.core.models import AuditEvent, ImportBatch
from jingzhun.registry.models import Area
from jingzhun.schools.models import School

pytestmark = pytest.mark.django_db

URL = "/imports/schools/"
UNPLACED = {SECONDARY[0], VOCATIONAL[0], NINE_YEAR[0]}


@pytest.fixture
def batch(areas: Path) -> ImportBatch:  # noqa: F811
    """Rolls naming six unknown schools, three of them without a township found."""
    return land(write_rolls(areas / "rolls.csv", the_rolls()), school_year=2018)


@pytest.fixture
def clerk(batch: ImportBatch) -> User:
    return make_user("clerk", Role.COUNTY_ADMIN, area=Area.objects.get(code="420101"))


def export(client: Client, **filters: Any) -> list[list[Any]]:
    """Download the schools with the filters; return the data rows (under the header row)."""
    response = client.get(URL, {**filters, "export": "xlsx"})
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        xml = "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/"))
    assert "<f>" not in xml  # no cell is a formula
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_the_filter_narrows_the_page_and_the_export_alike(batch: ImportBatch, clerk: User) -> None:
    client = _client(clerk)
    assert client.get(URL).context["schools"].paginator.count == 6
    assert client.get(URL, {"show": "unplaced"}).context["schools"].paginator.count == 3
    rows = export(client)
    assert len(rows) == 6
    assert {r[0] for r in export(client, show="unplaced")} == UNPLACED
    # code, name, kind, township, proposed township, import, status
    primary = next(r for r in rows if r[0] == PRIMARY[0])
    assert primary[3] == primary[4] == "甲镇"
    assert primary[5].startswith(f"#{batch.pk} ") and primary[6] == "Placed"
    assert {r[6] for r in rows if r[0] in UNPLACED} == {"Needs its township"}
    assert sorted(r[0] for r in rows) == [s.code for s in client.get(URL).context["schools"]]
    assert {PRIMARY[0], JUNIOR[0], *UNPLACED} < {r[0] for r in rows}
    # the page's link carries its filter
    html = client.get(URL, {"show": "unplaced"}).content.decode()
    assert 'href="?show=unplaced&amp;export=xlsx"' in html
    events = AuditEvent.objects.filter(action="export.schools_derived").order_by("id")
    assert [e.data["rows"] for e in events] == [6, 3]


def test_a_school_name_starting_like_a_formula_stays_text(batch: ImportBatch, clerk: User) -> None:
    School.objects.filter(code=PRIMARY[0]).update(name="=1+2")
    rows = export(_client(clerk))
    assert next(r for r in rows if r[0] == PRIMARY[0])[1] == "=1+2"


def test_no_one_else_gets_the_countys_schools(batch: ImportBatch) -> None:
    # a township officer: the page and its download are a 404 (the clerk's page only)
    town = make_user("town", Role.TOWNSHIP_OFFICER, area=Area.objects.get(code=TOWN["甲镇"]))
    response = _client(town).get(URL, {"export": "xlsx"})
    assert response.status_code == 404
    assert AuditEvent.objects.filter(actor=town, action="access.denied").count() == 1
    assert not AuditEvent.objects.filter(action="export.schools_derived").exists()
    # the clerk of another county downloads none of this county's schools
    other = Area.objects.create(code="420102", name="邻县", level="county")
    clerk = make_user("clerk2", Role.COUNTY_ADMIN, area=other)
    assert export(_client(clerk)) == []
    assert export(_client(clerk), show="unplaced") == []

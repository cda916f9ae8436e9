"""No whole ID or bank number travels in an address, nor lands in a log line (issue 11, item 9).

An address is kept by browser history, by access logs and by the development server's request
lines: the API refuses one holding a number (its ID search is a POST), the admin's lists refuse
it as a search term and show the list again at a clean address, and every log handler blanks
long runs of digits.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse
from tests.conftest import ID_A, ID_B, County, Personas

from jingzhun.accounts.services import api_token_create
from jingzhun.api import api
from jingzhun.core.redact import REDACTED, holds_whole_number, redact
from jingzhun.registry.models import Person
from jingzhun.schools.models import Enrolment, Stage, Student

BANK = "6228480012345678901"
SPACED_ID = f"{ID_A[:6]} {ID_A[6:14]} {ID_A[14:]}"
FULL_WIDTH_ID = ID_A.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
NUMBERS = (ID_A, ID_B, SPACED_ID, FULL_WIDTH_ID, BANK, "G" + ID_A, ID_A[:15])


def _leaks(text: str) -> list[str]:
    return [n for n in (ID_A, ID_B, BANK, ID_A[:15]) if n in text]


# --------------------------------------------------------------------------- what is a number


@pytest.mark.parametrize("text", NUMBERS)
def test_whole_numbers_are_recognised(text: str) -> None:
    assert holds_whole_number(text)
    assert holds_whole_number(f"张三 {text}")


@pytest.mark.parametrize(
    "text", ["张小明", "4201010010010001", "L2018000001", "420101001001", "2018", ID_A[:10]]
)
def test_names_codes_and_household_numbers_are_not_whole_numbers(text: str) -> None:
    # a household's filed-card number (16 digits), a village code, a roll number without an ID
    assert not holds_whole_number(text)


# --------------------------------------------------------------------------- the API


def _get_routes() -> list[str]:
    """Every GET route of the API, path parameters filled with 1."""
    schema = api.get_openapi_schema(path_prefix="/api")
    routes = []
    for path, methods in schema["paths"].items():
        if "get" in methods:
            for param in methods["get"].get("parameters", []):
                if param["in"] == "path":
                    path = path.replace("{" + param["name"] + "}", "1")
            routes.append(path)
    return routes


@pytest.fixture
def token(personas: Personas) -> str:
    return api_token_create(actor=None, user=personas.county_officer, name="t")[1]


def test_every_api_route_refuses_a_number_in_the_query_string(county: County, token: str) -> None:
    routes = _get_routes()
    assert "/api/persons" in routes and len(routes) >= 15
    headers = {"Authorization": f"Bearer {token}"}
    for route in routes:
        for params in (
            {"id_number": ID_A},
            {"name": SPACED_ID},
            {"q": FULL_WIDTH_ID},
            {"household_no": BANK},
            {ID_B: "1"},
        ):
            response = Client().get(route, params, headers=headers)
            body = response.content.decode()
            assert response.status_code == 400, (route, params, response.status_code)
            assert "POST /api/persons/search" in response.json()["detail"]
            assert not _leaks(body), (route, params)


def test_an_api_path_holding_a_number_is_refused(county: County, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    response = Client().get(f"/api/persons/{ID_A[:-1]}1", headers=headers)
    assert response.status_code == 400
    assert not _leaks(response.content.decode())


def test_the_refusal_comes_before_authentication(county: County) -> None:
    # nothing is looked up for an address holding a number, not even the caller
    response = Client().get("/api/persons", {"id_number": ID_A})
    assert response.status_code == 400


def test_codes_and_household_numbers_still_filter(county: County, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    household_no = county.household_a.household_no
    found = Client().get("/api/households", {"household_no": household_no}, headers=headers)
    assert found.status_code == 200
    assert [h["id"] for h in found.json()["items"]] == [county.household_a.pk]
    village = Client().get("/api/persons", {"village": county.village_a.code}, headers=headers)
    assert [p["id"] for p in village.json()["items"]] == [county.person_a.pk]


# --------------------------------------------------------------------------- the admin


def _searchable_changelists() -> list[str]:
    return [
        reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist")
        for m, model_admin in admin.site._registry.items()
        if model_admin.search_fields
    ]


def test_every_admin_list_refuses_a_number_as_search_and_drops_it_from_the_address(
    client: Client, personas: Personas, county: County
) -> None:
    client.force_login(personas.county_officer)
    urls = _searchable_changelists()
    assert "/admin/registry/person/" in urls and "/admin/schools/student/" in urls
    for url in urls:
        for number in NUMBERS:
            response = client.get(url, {"q": number})
            assert response.status_code == 302, (url, number)
            assert response["Location"] == url
            assert not holds_whole_number(response["Location"])
            page = client.get(url)
            assert not _leaks(page.content.decode()), url
            if page.status_code == 200:  # a list the officer may read shows where to go
                assert f'href="{reverse("dashboard:children")}"' in page.content.decode(), url


def test_no_admin_search_finds_a_record_by_a_whole_number(
    personas: Personas, county: County
) -> None:
    # whatever reaches the search (list box, autocomplete, the sidebar search) finds nothing
    request = RequestFactory().get("/")
    request.user = personas.county_officer
    for model, model_admin in admin.site._registry.items():
        if not model_admin.search_fields:
            continue
        queryset = model_admin.get_queryset(request)
        for number in NUMBERS:
            found, _duplicates = model_admin.get_search_results(request, queryset, number)
            assert not found.exists(), (model.__name__, number)


def test_admin_autocomplete_finds_nothing_by_a_whole_number(
    client: Client, personas: Personas, county: County
) -> None:
    client.force_login(personas.county_officer)
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "schools", "model_name": "enrolment", "field_name": "student", "term": ID_A},
    )
    if response.status_code == 200:  # the student field offers autocomplete
        assert response.json()["results"] == []
    else:
        assert response.status_code in (403, 404)


def test_names_and_roll_numbers_without_an_id_are_still_searched_in_the_admin(
    client: Client, personas: Personas, county: County
) -> None:
    pupil = Student.objects.create(county_code="420101", name="赵小华", sex="M")
    from jingzhun.core.sensitive import seal

    for field, value in seal("L2018000001", prefix="roll", purpose="roll").items():
        setattr(pupil, field, value)
    pupil.save()
    Enrolment.objects.create(
        student=pupil,
        school=county.school_a,
        school_class=county.class_a,
        school_year=2018,
        stage=Stage.PRIMARY,
        grade=3,
    )
    client.force_login(personas.county_officer)
    by_roll = client.get("/admin/schools/student/", {"q": "L2018000001"})
    assert [s.pk for s in by_roll.context["cl"].result_list] == [pupil.pk]
    by_name = client.get("/admin/registry/person/", {"q": "张小明"})
    assert [p.pk for p in by_name.context["cl"].result_list] == [county.person_a.pk]
    by_no = client.get("/admin/registry/household/", {"q": county.household_a.household_no})
    assert [h.pk for h in by_no.context["cl"].result_list] == [county.household_a.pk]
    assert Person.objects.count() == 2


# --------------------------------------------------------------------------- log lines


def _handlers() -> list[logging.Handler]:
    """The handlers the settings configure (pytest's own capturing handlers left out)."""
    loggers = [logging.getLogger(), logging.getLogger("django.server")]
    return [
        h for lg in loggers for h in lg.handlers if not type(h).__module__.startswith("_pytest")
    ]


def test_every_log_handler_blanks_whole_numbers() -> None:
    handlers = _handlers()
    assert handlers
    line = '"GET /admin/registry/person/?q=%s HTTP/1.1" %s %s'
    for handler in handlers:
        for number in (ID_A, SPACED_ID.replace(" ", "+"), BANK, "%EF%BC%94" + ID_A[1:]):
            record = logging.LogRecord(
                "django.server", logging.INFO, __file__, 1, line, (number, 302, 0), None
            )
            assert handler.filter(record)
            text = handler.format(record)
            assert REDACTED in text, (handler, number)
            assert not _leaks(text), (handler, number)


def test_a_traceback_in_a_log_line_is_blanked_too() -> None:
    try:
        raise ValueError(f"bad row {ID_A}")
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    for handler in _handlers():
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), exc_info)
        handler.filter(record)
        assert ID_A not in handler.format(record)


def test_redact_keeps_short_numbers() -> None:
    assert redact("run 12 of 2018-09-01, household 42") == "run 12 of 2018-09-01, household 42"
    assert redact(f"id {ID_A} ok") == f"id {REDACTED} ok"


def test_the_app_log_file_holds_no_number(settings: Any, client: Client) -> None:
    # a request line that Django logs (a 404 names its path) ends up blanked in the file
    logging.getLogger("django.request").warning("Not Found: /api/persons/%s", ID_A)
    for handler in logging.getLogger().handlers:
        handler.flush()
    log = (settings.LOG_DIR / "jingzhun.log").read_text(encoding="utf-8")
    assert ID_A not in log

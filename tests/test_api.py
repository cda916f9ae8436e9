"""The read API under /api/: token auth, pagination, blind-index lookup, masking, scoping."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from tests.conftest import ID_A, ID_B, County, Personas

from jingzhun.accounts.models import ApiToken
from jingzhun.accounts.services import api_token_create, api_token_revoke
from jingzhun.core import crypto
from jingzhun.core.models import AuditEvent
from jingzhun.core.sensitive import seal
from jingzhun.registry.models import Person

BANK_A = "6228480012345678901"
SECRETS = (ID_A, ID_B, BANK_A)

LISTS = ("persons", "households", "enrolments", "schools", "areas")


@pytest.fixture
def tokens(personas: Personas) -> dict[str, str]:
    """Give every persona one API token."""
    return {
        name: api_token_create(actor=None, user=user, name="test")[1]
        for name, user in personas.all().items()
    }


def call(url: str, token: str | None = None, client: Client | None = None, **params: Any) -> Any:
    """GET an API URL and return the response, after checking it leaks no whole number."""
    client = client or Client()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get(url, params, headers=headers)
    body = response.content.decode()
    decoded = (
        json.dumps(json.loads(body), ensure_ascii=False) if body.startswith(("{", "[")) else body
    )
    for secret in SECRETS:
        assert secret not in body and secret not in decoded, f"{url} leaked {secret}"
    return response


# --------------------------------------------------------------------------- authentication


def test_bearer_token_authenticates(tokens: dict[str, str]) -> None:
    # when
    response = call("/api/persons", tokens["county_officer"])
    # then
    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_token_is_stored_only_as_its_sha256(personas: Personas) -> None:
    # when
    row, token = api_token_create(actor=None, user=personas.township_a, name="script")
    # then
    row.refresh_from_db()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not ApiToken.objects.filter(token_hash=token).exists()
    assert token not in repr(list(ApiToken.objects.values_list()))
    assert AuditEvent.objects.filter(action="api_token.create", object_id=str(row.pk)).count() == 1


@pytest.mark.parametrize(
    "header",
    ["Bearer jz_not-a-real-token", "Bearer ", "Bearer nonsense", "Token abc", None],
    ids=["unknown", "empty", "no-prefix", "wrong-scheme", "none"],
)
def test_bad_or_missing_token_is_401_and_audited(
    tokens: dict[str, str], header: str | None
) -> None:
    # given
    before = AuditEvent.objects.filter(action="access.denied").count()
    headers = {"Authorization": header} if header is not None else {}
    # when
    response = Client().get("/api/persons", headers=headers)
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}
    assert response["WWW-Authenticate"].startswith("Bearer")
    denied = AuditEvent.objects.filter(action="access.denied")
    assert denied.count() == before + 1
    event = denied.order_by("-id").first()
    assert event is not None
    assert event.actor_id is None
    assert event.data == {
        "method": "GET",
        "path": "/api/persons",
        "status": 401,
        "reason": "Unauthorized",
    }
    assert "jz_" not in json.dumps(event.data)


def test_revoked_token_is_401(personas: Personas, tokens: dict[str, str]) -> None:
    # given
    assert api_token_revoke(actor=None, user=personas.township_a, name="test") == 1
    # when
    response = call("/api/persons", tokens["township_a"])
    # then
    assert response.status_code == 401


def test_token_of_inactive_user_is_401(personas: Personas, tokens: dict[str, str]) -> None:
    # given
    personas.township_a.is_active = False
    personas.township_a.save(update_fields=["is_active"])
    # when
    response = call("/api/persons", tokens["township_a"])
    # then
    assert response.status_code == 401


def test_bad_token_does_not_fall_back_to_the_session(personas: Personas) -> None:
    # given
    client = Client()
    client.force_login(personas.county_officer)
    # when
    response = call("/api/persons", "jz_wrong", client=client)
    # then
    assert response.status_code == 401


def test_session_of_a_logged_in_user_authenticates(personas: Personas) -> None:
    # given
    client = Client()
    client.force_login(personas.township_a)
    # when
    response = call("/api/persons", client=client)
    # then
    assert response.status_code == 200
    assert [p["name"] for p in response.json()["items"]] == ["张小明"]


def test_token_use_is_noted(personas: Personas, tokens: dict[str, str]) -> None:
    # when
    call("/api/areas", tokens["township_a"])
    # then
    row = ApiToken.objects.get(user=personas.township_a)
    assert row.last_used_at is not None


# --------------------------------------------------------------------------- management command


def test_api_token_command_creates_and_revokes(personas: Personas) -> None:
    # when
    out = StringIO()
    call_command(
        "api_token", "create", "town_a", "--name", "nightly", stdout=out, stderr=StringIO()
    )
    token = out.getvalue().strip()
    # then
    assert token.startswith("jz_")
    assert call("/api/persons", token).status_code == 200
    listing = StringIO()
    call_command("api_token", "list", "town_a", stdout=listing)
    assert "nightly\tactive" in listing.getvalue()
    assert token not in listing.getvalue()
    # when
    call_command("api_token", "revoke", "town_a", "--name", "nightly", stdout=StringIO())
    # then
    assert call("/api/persons", token).status_code == 401
    with pytest.raises(CommandError):
        call_command("api_token", "revoke", "town_a", "--name", "nightly", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("api_token", "create", "no-such-user", "--name", "x", stdout=StringIO())


def test_api_token_command_refuses_a_duplicate_active_name(personas: Personas) -> None:
    # given
    call_command(
        "api_token", "create", "town_a", "--name", "dup", stdout=StringIO(), stderr=StringIO()
    )
    # when / then
    with pytest.raises(CommandError):
        call_command(
            "api_token", "create", "town_a", "--name", "dup", stdout=StringIO(), stderr=StringIO()
        )
    assert ApiToken.objects.filter(user=personas.township_a, name="dup").count() == 1


# --------------------------------------------------------------------------- pagination


def test_pagination(county: County, tokens: dict[str, str]) -> None:
    # given: 5 more persons in household A, 7 in the county
    for i in range(5):
        Person.objects.create(
            household=county.household_a,
            name=f"成员{i}",
            sex="F",
            birth_date=dt.date(2012, 1, 1 + i),
            **seal(f"42010120120101{i:03d}X", prefix="id", purpose="id"),
        )
    token = tokens["county_officer"]
    # when
    pages = [call("/api/persons", token, limit=3, offset=offset).json() for offset in (0, 3, 6)]
    # then
    assert [page["count"] for page in pages] == [7, 7, 7]
    assert [len(page["items"]) for page in pages] == [3, 3, 1]
    ids = [item["id"] for page in pages for item in page["items"]]
    assert sorted(ids) == sorted(Person.objects.values_list("id", flat=True))
    assert call("/api/persons", token, limit=0).status_code == 422
    assert call("/api/persons", token, offset=-1).status_code == 422
    assert len(call("/api/persons", token, limit=100_000).json()["items"]) == 7


def test_default_page_size_comes_from_settings(personas: Personas, settings: Any) -> None:
    client = Client()
    client.force_login(personas.county_officer)
    schema = call("/api/openapi.json", client=client).json()
    limit = next(
        p for p in schema["paths"]["/api/persons"]["get"]["parameters"] if p["name"] == "limit"
    )
    assert limit["schema"]["default"] == settings.NINJA_PAGINATION_PER_PAGE


# --------------------------------------------------------------------------- ID lookup


def search(token: str, id_number: Any, client: Client | None = None) -> Any:
    """POST an ID search and return the response, after checking it leaks no whole number."""
    client = client or Client()
    response = client.post(
        "/api/persons/search",
        {"id_number": id_number},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    for secret in SECRETS:
        assert secret not in response.content.decode(), f"the search echoed {secret}"
    return response


@pytest.mark.parametrize(
    "typed",
    [
        ID_A,
        f" {ID_A[:6]} {ID_A[6:14]} {ID_A[14:]} ",
        ID_A.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    ],
    ids=["plain", "spaced", "full-width"],
)
def test_lookup_by_id_number_uses_the_blind_index(
    county: County, tokens: dict[str, str], typed: str
) -> None:
    # when
    response = search(tokens["county_officer"], typed)
    # then
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["id"] for item in items] == [county.person_a.pk]
    assert response.json()["count"] == 1
    assert county.person_a.id_index == crypto.blind_index(ID_A, purpose="id")


@pytest.mark.parametrize("typed", ["42010120100101001", "4201012010010100x1", "abc", "9" * 41])
def test_lookup_of_something_not_an_id_number_is_422(tokens: dict[str, str], typed: str) -> None:
    response = search(tokens["county_officer"], typed)
    assert response.status_code == 422
    assert typed.strip() not in response.content.decode()
    assert response.json()["detail"][0]["type"] in ("id_format", "string_too_long")


def test_lookup_by_id_number_with_wrong_check_digit_finds_nothing(tokens: dict[str, str]) -> None:
    response = search(tokens["county_officer"], ID_A[:-1] + "X")
    assert response.json() == {"items": [], "count": 0}


def test_lookup_by_id_number_outside_the_jurisdiction_finds_nothing(
    county: County, tokens: dict[str, str]
) -> None:
    # township A's officer: their own person is found, the other township's is not
    assert [p["id"] for p in search(tokens["township_a"], ID_A).json()["items"]] == [
        county.person_a.pk
    ]
    assert search(tokens["township_a"], ID_B).json() == {"items": [], "count": 0}
    # a principal sees no registry person at all through the list, nor through the search
    assert call("/api/persons", tokens["principal_a"]).json()["count"] == 0
    assert search(tokens["principal_a"], ID_A).json() == {"items": [], "count": 0}
    assert search(tokens["nobody"], ID_A).json() == {"items": [], "count": 0}


def test_lookup_by_id_number_is_audited_without_the_number(
    personas: Personas, tokens: dict[str, str]
) -> None:
    search(tokens["township_a"], ID_A)
    event = AuditEvent.objects.filter(action="person.search_by_number").get()
    assert event.actor_id == personas.township_a.pk
    assert event.data == {"found": 1}
    assert ID_A not in json.dumps(event.data) and ID_A not in event.object_id


def test_lookup_by_id_number_with_a_session_needs_the_csrf_token(personas: Personas) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.county_officer)
    response = client.post(
        "/api/persons/search", {"id_number": ID_A}, content_type="application/json"
    )
    assert response.status_code == 403
    assert ID_A not in response.content.decode()


def test_the_get_lookup_by_id_number_is_gone(personas: Personas, tokens: dict[str, str]) -> None:
    # an ID in the address is refused, pointing to the POST search, and not echoed
    response = call("/api/persons", tokens["county_officer"], id_number=ID_A)
    assert response.status_code == 400
    assert "POST /api/persons/search" in response.json()["detail"]
    # the parameter is no longer documented
    client = Client()
    client.force_login(personas.county_officer)
    schema = client.get("/api/openapi.json").json()
    names = [p["name"] for p in schema["paths"]["/api/persons"]["get"]["parameters"]]
    assert "id_number" not in names


# --------------------------------------------------------------------------- masking


def test_output_is_masked_and_has_no_cipher_or_index(
    county: County, tokens: dict[str, str]
) -> None:
    # given: the aid officer may see whole numbers elsewhere, never through this API
    token = tokens["aid_officer"]
    # when
    person = call(f"/api/persons/{county.person_a.pk}", token).json()
    household = call(f"/api/households/{county.household_a.pk}", token).json()
    enrolment = call(f"/api/enrolments/{county.enrolment_a.pk}", token).json()
    lists = {name: call(f"/api/{name}", token).json() for name in LISTS}
    # then
    masked_a = crypto.mask_id(ID_A)
    assert masked_a == ID_A[:6] + "*" * 12
    assert person["id_masked"] == masked_a
    assert household["bank_masked"] == "*" * 15 + "8901"
    assert household["members"][0]["id_masked"] == masked_a
    assert enrolment["student"]["id_masked"] == masked_a
    assert enrolment["student"]["roll_masked"] == "G" + ID_A[:6] + "*" * 12
    everything = json.dumps([person, household, enrolment, lists])
    assert "cipher" not in everything
    assert "_index" not in everything
    assert "_key" not in everything
    assert "roll_number" not in everything


def test_filters(county: County, tokens: dict[str, str]) -> None:
    token = tokens["county_officer"]

    def count(url: str, **params: Any) -> int:
        return int(call(url, token, **params).json()["count"])

    assert count("/api/persons", name="小明") == 1
    assert count("/api/persons", village=county.village_b.code) == 1
    assert count("/api/households", village=county.village_a.code) == 1
    assert count("/api/households", status="left_poverty") == 0
    assert count("/api/enrolments", school_year=2018) == 2
    assert count("/api/enrolments", school_year=2019) == 0
    assert count("/api/enrolments", school=county.school_b.code) == 1
    assert count("/api/enrolments", status="enrolled") == 2
    assert count("/api/enrolments", status="dropped_out") == 0
    assert count("/api/schools", township=county.township_a.code) == 1
    assert count("/api/areas", level="village") == 2
    assert count("/api/areas", parent=county.county.code) == 2


# --------------------------------------------------------------------------- scoping

# persons, households, enrolments, schools, areas
EXPECTED_COUNTS = {
    "county_officer": (2, 2, 2, 2, 5),
    "aid_officer": (2, 2, 2, 2, 5),
    "bureau_leader": (2, 2, 2, 2, 5),
    "inspector": (2, 2, 2, 2, 5),
    # a township sees its own township and village, and the county as a label
    "township_a": (1, 1, 1, 1, 3),
    "township_b": (1, 1, 1, 1, 3),
    # schools and classes see their students, not the registry
    "principal_a": (0, 0, 1, 1, 0),
    "teacher_a": (0, 0, 1, 1, 0),
    "nobody": (0, 0, 0, 0, 0),
}


def test_every_persona_has_expected_counts(personas: Personas) -> None:
    assert set(EXPECTED_COUNTS) == set(personas.all())


@pytest.mark.parametrize("persona", sorted(EXPECTED_COUNTS))
def test_scoping_per_persona(tokens: dict[str, str], persona: str) -> None:
    # when
    counts = tuple(call(f"/api/{name}", tokens[persona]).json()["count"] for name in LISTS)
    # then
    assert counts == EXPECTED_COUNTS[persona]


def test_township_a_sees_only_its_own_records(county: County, tokens: dict[str, str]) -> None:
    token = tokens["township_a"]
    assert [p["name"] for p in call("/api/persons", token).json()["items"]] == ["张小明"]
    assert [h["household_no"] for h in call("/api/households", token).json()["items"]] == [
        county.household_a.household_no
    ]
    assert [s["name"] for s in call("/api/schools", token).json()["items"]] == ["甲镇中心小学"]
    assert [a["code"] for a in call("/api/areas", token).json()["items"]] == [
        "420101",
        "420101001",
        "420101001001",
    ]


def _detail_urls(county: County, side: str) -> list[str]:
    return [
        f"/api/persons/{getattr(county, f'person_{side}').pk}",
        f"/api/households/{getattr(county, f'household_{side}').pk}",
        f"/api/enrolments/{getattr(county, f'enrolment_{side}').pk}",
    ]


def test_404_across_townships(county: County, tokens: dict[str, str]) -> None:
    # given
    missing = call("/api/persons/999999", tokens["township_a"])
    assert missing.status_code == 404
    for url in _detail_urls(county, "b"):
        # when
        response = call(url, tokens["township_a"])
        # then: forbidden looks exactly like missing
        assert response.status_code == 404, url
        assert response.content == missing.content
    for url in _detail_urls(county, "a"):
        assert call(url, tokens["township_b"]).status_code == 404, url
        assert call(url, tokens["township_a"]).status_code == 200, url


def test_nobody_gets_empty_lists_and_404s(county: County, tokens: dict[str, str]) -> None:
    for name in LISTS:
        assert call(f"/api/{name}", tokens["nobody"]).json() == {"items": [], "count": 0}
    for url in _detail_urls(county, "a") + _detail_urls(county, "b"):
        assert call(url, tokens["nobody"]).status_code == 404, url


def test_household_detail_lists_its_members(county: County, tokens: dict[str, str]) -> None:
    household = call(f"/api/households/{county.household_a.pk}", tokens["township_a"]).json()
    assert household["household_no"] == county.household_a.household_no
    assert household["village_name"] == "甲村"
    assert [m["name"] for m in household["members"]] == ["张小明"]


def test_principal_sees_enrolments_of_the_school_only(
    county: County, tokens: dict[str, str]
) -> None:
    token = tokens["principal_a"]
    assert call(f"/api/enrolments/{county.enrolment_a.pk}", token).status_code == 200
    assert call(f"/api/enrolments/{county.enrolment_b.pk}", token).status_code == 404
    assert call(f"/api/persons/{county.person_a.pk}", token).status_code == 404


# --------------------------------------------------------------------------- docs


def test_docs_need_a_staff_login(personas: Personas) -> None:
    # anonymous: redirected to the login page
    assert Client().get("/api/docs").status_code == 302
    # logged in: the Swagger UI comes from our static files, not a CDN
    client = Client()
    client.force_login(personas.township_a)
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn." not in html
    schema = client.get("/api/openapi.json").json()
    assert "/api/persons" in schema["paths"]
    assert {"BearerToken", "SessionAuth"} <= set(schema["components"]["securitySchemes"])

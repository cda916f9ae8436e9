"""Figures cached per run (jingzhun.core.cache): a change gives new figures on the next request,
and a jurisdiction never gets another's.

The home counts and the coverage pages of aid, duty and identification are cached under the
user's scope, the language, the day and the data version (the latest audit event that
records a change). These tests ask for a page, change the data through a service, and ask
again; and ask as the county, then as a township.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from tests.aid.world import approve_school
from tests.conftest import ID_A, ID_B, County, Personas
from tests.identification.world import World, identify, make_world

from jingzhun.accounts.models import StaffMember
from jingzhun.aid import services as aid_services
from jingzhun.core import pagecache
from jingzhun.core.audit import audit_record
from jingzhun.core.cache import _MISSING, cached, data_version, key_for, open_value, page_of
from jingzhun.core.pagecache import CSRF_MARK, HIT_HEADER, NONCE_MARK, freeze, thaw
from jingzhun.duty import services as duty_services
from jingzhun.duty.models import DropoutCase
from jingzhun.identification.models import ReviewCandidate
from jingzhun.identification.services import identification_run, review_decide
from jingzhun.schools.models import Enrolment
from jingzhun.schools.services import school_update

pytestmark = pytest.mark.django_db

AID = "/aid/coverage/?year=2018&semester=autumn"
AS_OF = dt.date(2018, 10, 8)


def login(user: Any) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def get(client: Client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, url
    return response


def county_identified() -> None:
    identification_run(actor=None, county_code="420101", as_of=AS_OF, fuzzy=None)


# --------------------------------------------------------------------------- the key


def test_the_data_version_moves_with_a_change_and_not_with_a_read(
    county: County, personas: Personas
) -> None:
    before = data_version()
    for action in ("auth.login", "export.ledger", "sensitive.reveal", "child.search_by_number"):
        audit_record(actor=personas.county_officer, action=action)
    assert data_version() == before
    school_update(actor=personas.county_officer, instance=county.school_a, data={"name": "新名"})
    assert data_version() > before


def test_figures_are_shared_within_a_scope_and_never_across(personas: Personas) -> None:
    def figures(user: Any, value: str) -> str:
        return cached("test.figures", user=user, compute=lambda: value)

    assert figures(personas.county_officer, "county") == "county"
    # the bureau leader works at the same county level: the same figures
    assert figures(personas.bureau_leader, "recomputed") == "county"
    assert figures(personas.township_a, "A") == "A"
    assert figures(personas.township_b, "B") == "B"
    assert figures(personas.principal_a, "school A") == "school A"
    assert figures(personas.teacher_a, "class A") == "class A"
    assert figures(personas.nobody, "nothing") == "nothing"
    assert figures(personas.township_a, "recomputed") == "A"


def test_stored_figures_are_sealed_and_open_only_under_their_own_key(personas: Personas) -> None:
    from django.core.cache import cache

    rows = [{"name": "张小明", "village": "东村"}]
    assert cached("test.names", user=personas.county_officer, compute=lambda: rows) == rows
    key = key_for("test.names", user=personas.county_officer)
    stored = cache.get(key)
    assert stored[0] == "sealed" and "张小明".encode() not in stored[2]
    assert open_value(key, stored) == rows
    assert open_value(key_for("test.other", user=personas.county_officer), stored) is _MISSING
    cache.set(key, rows)  # a plain value (an older release, or planted): computed again
    assert cached("test.names", user=personas.county_officer, compute=lambda: ["again"]) == [
        "again"
    ]


def test_the_key_holds_no_data_and_follows_the_parts(personas: Personas) -> None:
    key = key_for("aid.coverage", user=personas.township_a, parts=(2018, "autumn", ID_A))
    assert ID_A not in key and "420101001" not in key
    assert key != key_for("aid.coverage", user=personas.township_a, parts=(2018, "spring", ID_A))


def test_a_cached_page_pages_like_the_whole_list() -> None:
    rows = list(range(120))
    page = page_of(120, 3, rows[100:], 50)
    assert list(page.object_list) == rows[100:]
    assert (page.number, page.paginator.count, page.paginator.num_pages) == (3, 120, 3)
    assert (page.has_previous(), page.has_next(), page.start_index()) == (True, False, 101)
    empty = page_of(0, 1, [], 50)
    assert (list(empty.object_list), empty.paginator.count) == ([], 0)


# --------------------------------------------------------------------------- home


def test_home_township_never_gets_the_county_counts(county: County, personas: Personas) -> None:
    assert get(login(personas.county_officer), "/").context["home"].students == 2
    township = get(login(personas.township_a), "/").context["home"]
    assert (township.students, [r.code for r in township.rows]) == (1, ["420101001"])
    assert get(login(personas.bureau_leader), "/").context["home"].students == 2


# --------------------------------------------------------------------------- aid coverage


@pytest.fixture
def computed(county: County, personas: Personas) -> County:
    county_identified()
    aid_services.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )
    return county


def gaps(response: Any) -> list[tuple[str, str]]:
    return [(g["g"].student_name, g["g"].reason) for g in response.context["gaps"]]


def test_aid_coverage_follows_a_review_on_the_next_request(
    computed: County, personas: Personas
) -> None:
    client = login(personas.county_officer)
    before = gaps(get(client, AID))
    assert ("张小明", "pending_review") in before
    approve_school(personas, computed)
    after = get(client, AID)
    assert ("张小明", "pending_review") not in gaps(after)
    assert ("张小明", "awaiting_payment") in gaps(after)
    assert after.context["gap_total"] == len(gaps(after))


def test_aid_coverage_of_a_township_is_its_own(computed: County, personas: Personas) -> None:
    county_page = get(login(personas.county_officer), AID)
    assert {name for name, _ in gaps(county_page)} == {"张小明", "李小红"}
    for user, name in ((personas.township_a, "张小明"), (personas.township_b, "李小红")):
        response = get(login(user), AID)
        assert {n for n, _ in gaps(response)} == {name}
        assert response.context["coverage"].county.students == 1
        assert response.context["gap_total"] == len(gaps(response))
    # the filters and the pages of one scope are cached apart
    filtered = get(login(personas.county_officer), AID + "&township=420101002")
    assert {n for n, _ in gaps(filtered)} == {"李小红"}
    assert ID_A not in county_page.content.decode() and ID_B not in county_page.content.decode()


# --------------------------------------------------------------------------- duty coverage


def test_duty_coverage_follows_an_assignment_and_keeps_to_the_scope(
    county: County, personas: Personas
) -> None:
    county_identified()
    helper = StaffMember.objects.create(
        name="钱老师", post="other", school=county.school_b, area_code=county.township_b.code
    )
    client = login(personas.county_officer)
    county_cov = get(client, "/duty/coverage/").context["coverage"]
    before = county_cov.students
    assert [s.name for s in county_cov.student_gaps] == ["李小红"]
    # township A's own figures: its one student, covered by the class's teacher
    township_a = get(login(personas.township_a), "/duty/coverage/").context["coverage"]
    assert (township_a.students.total, township_a.students.covered) == (1, 1)
    assert township_a.student_gaps == []
    duty_services.assignment_create(
        actor=personas.county_officer,
        kind="student",
        target_id=county.student_b.pk,
        holder_id=helper.pk,
    )
    after = get(client, "/duty/coverage/")
    cov = after.context["coverage"]
    assert (cov.students.total, cov.students.covered) == (before.total, before.covered + 1)
    assert "李小红" not in [line["s"].name for line in after.context["gap_lines"]]


def test_a_closed_case_gives_new_figures(county: County, personas: Personas) -> None:
    def open_cases() -> int:
        return cached(
            "test.open_cases",
            user=personas.county_officer,
            compute=lambda: DropoutCase.objects.filter(status=DropoutCase.Status.OPEN).count(),
        )

    Enrolment.objects.filter(pk=county.enrolment_a.pk).update(
        status="dropped_out", status_date=dt.date(2018, 9, 20)
    )
    county_identified()
    duty_services.cases_open_from_identification(actor=None, county_code="420101")
    case = DropoutCase.objects.get()
    assert open_cases() == 1
    Enrolment.objects.filter(pk=county.enrolment_a.pk).update(status="enrolled", status_date=None)
    for kind, day in (("returned", 10), ("followup_week", 17)):
        duty_services.case_step_record(
            actor=personas.teacher_a,
            case_id=case.pk,
            kind=kind,
            text=kind,
            happened_on=dt.date(2018, 10, day),
        )
    duty_services.case_resolve(
        actor=personas.teacher_a,
        case_id=case.pk,
        outcome="returned",
        enrolment_id=county.enrolment_a.pk,
        on=dt.date(2018, 10, 17),
    )
    assert open_cases() == 0


# --------------------------------------------------------------------------- identification


@pytest.fixture
def w(tmp_path: Path) -> World:
    return make_world(tmp_path)


def test_identification_coverage_follows_a_new_confirmed_run(w: World) -> None:
    client = login(w.county_officer)
    before = get(client, "/identification/coverage/").context["coverage"].total
    township_b = get(login(w.township_b), "/identification/coverage/").context["coverage"]
    assert township_b.total.code == "420101002"
    assert [r.code for r in township_b.villages] == ["420101002001"]
    candidate = ReviewCandidate.objects.get(pk=w.candidate_a.pk)
    review_decide(actor=w.township_a, candidate_id=candidate.pk, accept=True)
    identify()
    after = get(client, "/identification/coverage/").context["coverage"].total
    assert after.school_age == before.school_age
    assert after.school_age_known == before.school_age_known + 1


# --------------------------------------------------------------------------- whole pages


def _csrf_field(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"', html)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


def _nonces(html: str) -> set[str]:
    return set(re.findall(r'nonce="([^"]+)"', html))


def test_a_page_is_read_again_with_its_own_token_and_nonce(
    county: County, personas: Personas
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(personas.township_a)
    first = get(client, "/duty/coverage/")
    assert first.get(HIT_HEADER) is None
    second = get(client, "/duty/coverage/")
    assert second.get(HIT_HEADER) == "cached"
    html = second.content.decode()
    assert CSRF_MARK not in html and NONCE_MARK not in html
    # the form's token is a fresh one that the CSRF check accepts (the language switch)
    token = _csrf_field(html)
    assert token != _csrf_field(first.content.decode())
    switch = {"csrfmiddlewaretoken": token, "language": "en", "next": "/duty/coverage/"}
    assert client.post("/i18n/setlang/", switch).status_code == 302
    assert (
        client.post("/i18n/setlang/", {**switch, "csrfmiddlewaretoken": "x" * 64}).status_code
        == 403
    )
    client.logout()
    assert (
        client.get("/duty/coverage/").status_code == 302
    )  # signed out: the cached page is not served


def test_a_stored_page_keeps_no_token_or_nonce_and_gets_new_ones() -> None:
    factory = RequestFactory()
    rendered = factory.get("/")
    token = get_token(rendered)
    rendered._csp_nonce = "n0nceOfTheFirstRender"  # type: ignore[attr-defined]
    html = (
        '<script nonce="n0nceOfTheFirstRender">x()</script>'
        f'<input name="csrfmiddlewaretoken" value="{token}">'
        f"<p>{'a' * 64}</p>"  # 64 letters that are no token of this user: kept
    )
    frozen = freeze(rendered, HttpResponse(html))
    assert frozen is not None
    assert token not in frozen["content"] and "n0nceOfTheFirstRender" not in frozen["content"]
    assert "a" * 64 in frozen["content"]
    reader = factory.get("/")
    reader.COOKIES[settings.CSRF_COOKIE_NAME] = rendered.META["CSRF_COOKIE"]
    reader.csp_nonce = "n0nceOfThisRequest"  # type: ignore[attr-defined]
    served = thaw(reader, frozen).content.decode()
    assert '<script nonce="n0nceOfThisRequest">' in served
    fresh = re.search(r'value="([A-Za-z0-9]{64})"', served)
    assert fresh and fresh.group(1) != token


def test_a_page_is_never_served_to_another_user_or_after_a_change(
    county: County, personas: Personas
) -> None:
    officer, leader = login(personas.county_officer), login(personas.bureau_leader)
    get(officer, "/")
    other = get(leader, "/")  # the same scope, another person: rendered for them
    assert other.get(HIT_HEADER) is None
    assert personas.bureau_leader.username in other.content.decode()
    assert get(officer, "/").get(HIT_HEADER) == "cached"
    school_update(actor=personas.county_officer, instance=county.school_a, data={"name": "新名"})
    assert get(officer, "/").get(HIT_HEADER) is None
    assert get(officer, "/?q=1").get(HIT_HEADER) is None  # another query, another page


def test_exports_messages_and_unlisted_pages_are_never_cached(
    county: County, personas: Personas
) -> None:
    client = login(personas.county_officer)
    for _ in range(2):
        assert get(client, "/identification/").get(HIT_HEADER) is None
        exported = client.get("/identification/coverage/?export=xlsx")
        assert exported.get(HIT_HEADER) is None
    session = client.session
    session["_messages"] = '[["__json_message",0,20,"waiting"]]'
    session.save()
    get(client, "/duty/coverage/")
    assert get(client, "/duty/coverage/").get(HIT_HEADER) is None


def test_a_stored_page_is_sealed_and_opens_only_under_its_own_key(
    county: County, personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored: dict[str, Any] = {}
    real_set = pagecache.cache.set

    def spy(key: str, value: Any, *args: Any, **kwargs: Any) -> None:
        if key.startswith("jz:page:"):
            stored[key] = value
        real_set(key, value, *args, **kwargs)

    monkeypatch.setattr(pagecache.cache, "set", spy)
    client = login(personas.county_officer)
    page = get(client, "/duty/coverage/").content.decode()
    name = personas.county_officer.get_full_name() or personas.county_officer.username
    assert name in page
    assert len(stored) == 1
    key, value = next(iter(stored.items()))
    assert value[0] == "sealed"  # no readable page in the cache
    assert name.encode() not in value[2] and b"<html" not in value[2]
    opened = open_value(key, value)
    assert isinstance(opened, dict) and name in opened["content"]
    assert open_value("jz:page:" + "0" * 64, value) is _MISSING  # moved under another key: no page
    assert get(client, "/duty/coverage/").get(HIT_HEADER) == "cached"

"""The sidebar reaches every app, and offers each user only the pages they may use."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from tests.conftest import Personas

from jingzhun.core.navigation import sidebar, sidebar_links

pytestmark = pytest.mark.django_db


def _links(user: object) -> set[str]:
    request = RequestFactory().get("/")
    request.user = user  # type: ignore[attr-defined]
    return sidebar_links(request)


def test_county_officer_reaches_every_app(personas: Personas) -> None:
    links = _links(personas.county_officer)
    for name in (
        "home",
        "dashboard:children",
        "imports:list",
        "imports:set-aside",
        "imports:quality",
        "identification:runs",
        "identification:ledger-school-age",
        "identification:candidates",
        "identification:coverage",
        "aid:overview",
        "aid:review",
        "aid:notices",
        "aid:coverage",
        "duty:ledger",
        "duty:assignments",
        "duty:coverage",
        "duty:report-monthly",
        "mobile:home",
        "admin:accounts_user_changelist",
        "admin:core_countyprofile_changelist",
    ):
        assert reverse(name) in links, name


def test_items_follow_the_role(personas: Personas) -> None:
    teacher = _links(personas.teacher_a)
    assert reverse("aid:overview") in teacher and reverse("duty:ledger") in teacher
    assert reverse("imports:list") not in teacher
    assert reverse("aid:batches") not in teacher
    assert reverse("admin:accounts_user_changelist") not in teacher
    assert reverse("aid:batches") in _links(personas.aid_officer)
    assert _links(personas.nobody) == set()


def test_labels_are_translated(personas: Personas, client: Client) -> None:
    request = RequestFactory().get("/")
    request.user = personas.county_officer  # type: ignore[attr-defined]
    titles = [g["title"] for g in sidebar(request)]
    assert "Student aid" in titles and "Dropout control" in titles


def test_the_sidebar_is_on_app_pages(personas: Personas, client: Client) -> None:
    client.force_login(personas.county_officer)
    text = client.get(reverse("aid:overview"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'href="{reverse("duty:ledger")}"' in text
    assert f'href="{reverse("dashboard:children")}"' in text


def test_one_entry_is_marked_the_one_the_address_is_under(personas: Personas) -> None:
    def marked(path: str) -> list[str]:
        request = RequestFactory().get(path)
        request.user = personas.county_officer  # type: ignore[attr-defined]
        return [i["link"] for g in sidebar(request) for i in g["items"] if i["active"]]

    # the roster's address (/teachers/) starts every teacher page's: only the deepest is marked
    assert marked(reverse("teachers:coverage")) == [reverse("teachers:coverage")]
    assert marked(reverse("teachers:roster") + "?q=x") == [reverse("teachers:roster")]
    assert marked(reverse("home")) == [reverse("home")]

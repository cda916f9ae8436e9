"""Error pages: the site's own, in both languages, with no URL list, server path or trace."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.test import Client, override_settings
from django.urls import path, reverse
from django.utils import translation
from tests.conftest import Personas

from jingzhun import urls as site_urls
from jingzhun.core.models import AuditEvent

pytestmark = pytest.mark.django_db

LEAKS = ("urlpatterns", "URLconf", "Traceback", "admin/login/?next", str(settings.BASE_DIR))


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret detail /work/main/var/media/x.xlsx")


def _bad(request: HttpRequest) -> HttpResponse:
    from django.core.exceptions import SuspiciousOperation

    raise SuspiciousOperation("bad")


urlpatterns = [
    *site_urls.urlpatterns,
    path("test-boom/", _boom),
    path("test-bad/", _bad),
]


def _clean(text: str) -> None:
    for leak in LEAKS:
        assert leak not in text, leak


@pytest.mark.parametrize(
    ("language", "title"), [("zh-hans", "页面没有找到"), ("en", "Page not found")]
)
def test_404_page(client: Client, personas: Personas, language: str, title: str) -> None:
    client.force_login(personas.county_officer)
    response = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE=language)
    text = response.content.decode()
    assert response.status_code == 404
    assert 'id="jz-error"' in text and title in text and f'lang="{language}"' in text
    assert "/children/" in text
    _clean(text)


def test_404_for_an_object_outside_the_jurisdiction_looks_the_same(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.township_b)
    missing = client.get(reverse("dashboard:child", args=[999999]), HTTP_ACCEPT_LANGUAGE="en")
    assert missing.status_code == 404 and 'id="jz-error"' in missing.content.decode()


@pytest.mark.parametrize(("language", "title"), [("zh-hans", "无权操作"), ("en", "Not allowed")])
def test_403_page_of_an_app_is_the_sites_and_is_audited(
    client: Client, personas: Personas, language: str, title: str
) -> None:
    client.force_login(personas.nobody)
    for url in (reverse("aid:overview"), reverse("duty:ledger"), reverse("identification:runs")):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        text = response.content.decode()
        assert response.status_code == 403, url
        assert 'id="jz-error"' in text and 'id="jz-forbidden"' in text and title in text
        _clean(text)
    assert AuditEvent.objects.filter(action="access.denied").count() == 3


def test_csrf_failure_is_the_sites_page(personas: Personas) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.county_officer)
    response = client.post(
        reverse("dashboard:children"), {"number": "x"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    text = response.content.decode()
    assert response.status_code == 403
    assert 'id="jz-csrf"' in text and "CSRF" not in text
    _clean(text)


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize(("language", "title"), [("zh-hans", "服务器错误"), ("en", "Server error")])
def test_500_page(personas: Personas, language: str, title: str) -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/test-boom/", HTTP_ACCEPT_LANGUAGE=language)
    text = response.content.decode()
    assert response.status_code == 500
    assert title in text and 'id="jz-error"' in text
    assert "secret detail" not in text and "/work/main" not in text
    _clean(text)


@override_settings(ROOT_URLCONF=__name__)
def test_400_page(client: Client) -> None:
    response = client.get("/test-bad/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()


def test_500_template_needs_no_request_nor_database(django_assert_num_queries: Any) -> None:
    with translation.override("en"), django_assert_num_queries(0):
        text = loader.get_template("500.html").render()
    assert "Server error" in text


def test_the_demo_runs_without_debug_pages_on_local_hosts() -> None:
    makefile = (settings.PROJECT_DIR / "Makefile").read_text(encoding="utf-8")
    assert "JINGZHUN_DEBUG=0" in makefile and "JINGZHUN_DEBUG=1" not in makefile
    assert "runserver 127.0.0.1:8000 --insecure" in makefile  # static files without DEBUG
    assert {"127.0.0.1", "localhost"} <= set(settings.ALLOWED_HOSTS)

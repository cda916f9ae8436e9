"""In a real browser: the main pages run under the Content-Security-Policy without a violation
(Alpine.js, htmx, the pages' own scripts), the two-factor enrolment page included."""

from __future__ import annotations

import os
from typing import Any

import pytest
from tests.browser.test_home_in_browser import ARGS, CHROMIUM
from tests.conftest import PASSWORD, County, Personas

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Debian's chromium is not installed; browser tests skipped"
    ),
]


@pytest.fixture
def browser(live_server: Any) -> Any:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _walk(browser: Any, base: str, username: str, paths: list[str]) -> list[str]:
    """Log in, open each page, and return every CSP violation the browser reported."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda m: (
            violations.append(f"{page.url}: {m.text}")
            if "Content Security Policy" in m.text
            else None
        ),
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    page.goto(f"{base}/admin/login/?next=/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("networkidle")
    for path in paths:
        response = page.goto(base + path)
        assert response is not None and response.status == 200, (path, response.status)
        assert "script-src" in response.headers.get("content-security-policy", ""), path
        page.wait_for_load_state("networkidle")
    context.close()
    return violations


def test_the_back_office_pages_pass_the_policy(
    audit_flushable: Any, personas: Personas, county: County, live_server: Any, browser: Any
) -> None:
    paths = [
        "/",
        "/admin/registry/person/",
        f"/admin/registry/person/{county.person_a.pk}/change/",
        "/admin/accounts/user/",
        "/imports/",
        "/identification/",
        "/aid/",
        "/duty/",
        "/children/",
        "/api/docs",
    ]
    assert _walk(browser, live_server.url, personas.county_officer.username, paths) == []
    township = ["/", "/duty/assignments/", f"/reveal/person/{county.person_a.pk}/id/"]
    assert _walk(browser, live_server.url, personas.township_a.username, township) == []


def test_the_teachers_mobile_pages_and_enrolment_pass_the_policy(
    audit_flushable: Any, personas: Personas, live_server: Any, browser: Any
) -> None:
    paths = ["/m/", "/account/two-factor/"]
    assert _walk(browser, live_server.url, personas.teacher_a.username, paths) == []

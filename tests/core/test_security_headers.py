"""Content-Security-Policy on every page, which the pages pass (no inline script without the
page's nonce, no inline event handler), and HSTS when served over HTTPS."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from conftest import County, Personas, subprocess_env

pytestmark = pytest.mark.django_db

SRC = Path(settings.BASE_DIR)
SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)
DATA_TYPES = ("application/json", "application/ld+json", "text/template")


def policy(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def inline_scripts_without_nonce(html: str, nonce: str) -> list[str]:
    """Return the opening tags of inline scripts that the page's nonce does not cover."""
    bad = []
    for match in SCRIPT.finditer(html):
        attrs = match.group(1)
        if re.search(r"\ssrc\s*=", attrs):
            continue
        kind = re.search(r"\stype\s*=\s*[\"']([^\"']+)", attrs)
        if kind and kind.group(1).lower() in DATA_TYPES:
            continue  # a data block is never executed
        if f'nonce="{nonce}"' not in attrs:
            bad.append(match.group(0))
    return bad


def simple_routes() -> list[str]:
    """Every route of the project that takes no parameter, as a path."""
    found: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if not isinstance(p.pattern, RoutePattern) or p.pattern.converters:
                if isinstance(p, URLResolver) and not p.pattern.regex.groups:
                    walk(p.url_patterns, prefix + str(p.pattern).lstrip("^").rstrip("$"))
                continue
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                found.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def test_the_policy_allows_scripts_only_from_the_site_or_with_the_nonce(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.county_officer)
    directives = policy(client.get("/"))
    # a page with an inline script names its nonce in the policy
    client.force_login(personas.township_a)
    page = client.get("/duty/assignments/")
    assert page.status_code == 200 and 'nonce="' in page.content.decode()
    assert any(s.startswith("'nonce-") for s in policy(page)["script-src"])
    assert directives["default-src"] == ["'self'"]
    script = directives["script-src"]
    assert "'self'" in script
    assert "'unsafe-inline'" not in script and "*" not in script and "data:" not in script
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]


def test_the_login_page_carries_the_policy(client: Client) -> None:
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert "script-src" in response["Content-Security-Policy"]


@pytest.mark.parametrize("who", ["county_officer", "aid_officer", "township_a", "teacher_a"])
def test_no_page_has_an_inline_script_the_policy_would_block(
    client: Client, personas: Personas, county: County, who: str
) -> None:
    user = getattr(personas, who)
    client.force_login(user)
    paths = [
        r
        for r in simple_routes()
        if not r.startswith(("/api/", "/admin/logout/", "/i18n/", "/setup/"))
    ]
    paths += [
        f"/admin/registry/person/{county.person_a.pk}/change/",
        f"/reveal/person/{county.person_a.pk}/id/",
        f"/children/{county.person_a.pk}/",
        "/m/",
    ]
    checked = 0
    problems = []
    for path in paths:
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        nonce_words = [s for s in policy(response)["script-src"] if s.startswith("'nonce-")]
        nonce = nonce_words[0][len("'nonce-") : -1] if nonce_words else ""
        problems += [f"{path}: {tag}" for tag in inline_scripts_without_nonce(html, nonce)]
        problems += [f"{path}: {m.group(0)}" for m in HANDLER.finditer(html)]
        checked += 1
    assert checked >= 15, checked  # the walk did reach the pages
    assert problems == []


def test_no_template_has_an_inline_script_without_the_nonce() -> None:
    problems = []
    for path in SRC.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for match in SCRIPT.finditer(text):
            attrs = match.group(1)
            if re.search(r"\ssrc\s*=", attrs) or 'type="application/json"' in attrs:
                continue
            if 'nonce="{{ request.csp_nonce }}"' not in attrs:
                problems.append(f"{path.relative_to(SRC)}: {match.group(0)}")
        problems += [f"{path.relative_to(SRC)}: {m.group(0)}" for m in HANDLER.finditer(text)]
    assert problems == []


# --------------------------------------------------------------------------- HSTS


def _settings_value(name: str, **env: str) -> str:
    code = f"from django.conf import settings; print(repr(getattr(settings, {name!r}, None)))"
    base = {k: v for k, v in subprocess_env().items() if k != "JINGZHUN_SECURE_COOKIES"}
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_hsts_is_on_for_a_year_when_served_over_https() -> None:
    assert _settings_value("SECURE_HSTS_SECONDS", JINGZHUN_SECURE_COOKIES="1") == str(
        365 * 24 * 3600
    )
    # and off on plain HTTP (the demo, the tests), where it would lock browsers out
    assert _settings_value("SECURE_HSTS_SECONDS") in ("0", "None")
    # behind the trusted proxy, its X-Forwarded-Proto tells an HTTPS request
    assert (
        _settings_value(
            "SECURE_PROXY_SSL_HEADER",
            JINGZHUN_SECURE_COOKIES="1",
            JINGZHUN_TRUSTED_PROXY_HEADER="X-Real-IP",
        )
        == "('HTTP_X_FORWARDED_PROTO', 'https')"
    )


def test_hsts_is_sent_for_https_through_the_trusted_proxy_only(
    client: Client, settings: Any
) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXY_HEADER = "X-Real-IP"
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    via_proxy = client.get(
        "/admin/login/",
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_REAL_IP="203.0.113.8",
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert via_proxy["Strict-Transport-Security"] == "max-age=31536000"
    # a client elsewhere cannot claim HTTPS by sending the header itself
    forged = client.get("/admin/login/", REMOTE_ADDR="10.8.0.1", HTTP_X_FORWARDED_PROTO="https")
    assert "Strict-Transport-Security" not in forged

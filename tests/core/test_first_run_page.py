"""The first-run page (/setup/): the web twin of `jingzhun county-setup`, behind a setup token."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.accounts.services import user_create
from jingzhun.core.models import AuditEvent, CountyProfile
from jingzhun.core.periods import SchoolYear
from jingzhun.core.working_year import working_year
from jingzhun.registry.models import Area

pytestmark = pytest.mark.django_db

PASSWORD = "county-ledger-pass-42"  # policy: it must not contain the user name (clerk)
IP = "10.0.0.7"
LINK = "First run: set up the county"


@pytest.fixture(autouse=True)
def var_dir(settings: Any, tmp_path: Path) -> Path:
    """Keep the setup token of each test in its own directory."""
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


def _token_file(var_dir: Path) -> Path:
    return var_dir / "setup-token"


def _client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR=IP)


def _token(client: Client, var_dir: Path) -> str:
    assert client.get("/setup/").status_code == 200
    return _token_file(var_dir).read_text(encoding="utf-8").strip()


def _form(token: str, **changes: str) -> dict[str, str]:
    return {
        "token": token,
        "county_code": "420101",
        "county_name": "测试县",
        "school_year": "2018-2019",
        "username": "clerk",
        "full_name": "王会计",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **changes,
    }


def _nothing_created() -> bool:
    return not (Area.objects.exists() or CountyProfile.objects.exists() or User.objects.exists())


def test_once_a_county_admin_exists_the_page_is_a_404_for_everybody(
    county: Any, var_dir: Path
) -> None:
    admin = user_create(
        actor=None, username="county", password=PASSWORD, role=Role.COUNTY_ADMIN, area=county.county
    )
    client = _client()
    assert client.get("/setup/").status_code == 404
    assert client.post("/setup/", _form("anything")).status_code == 404
    client.force_login(admin)
    assert client.get("/setup/").status_code == 404
    assert not _token_file(var_dir).exists()


def test_the_first_visit_writes_the_token_readable_by_the_server_only(var_dir: Path) -> None:
    client = _client()
    response = client.get("/setup/")
    assert response.status_code == 200
    path = _token_file(var_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = path.read_text(encoding="utf-8").strip()
    assert len(token) >= 20
    page = response.content.decode()
    assert str(path.resolve()) in page  # where the token is, never the token itself
    assert token not in page
    assert (
        f'value="{SchoolYear.of(timezone.localdate()).start}-' in page
    )  # default: this school year
    assert 'name="csrfmiddlewaretoken"' in page
    # a second visit reuses the token
    assert client.get("/setup/").status_code == 200
    assert path.read_text(encoding="utf-8").strip() == token
    assert AuditEvent.objects.filter(action="setup.token_created").count() == 1


def test_a_wrong_token_is_refused_and_nothing_is_created(var_dir: Path) -> None:
    client = _client()
    token = _token(client, var_dir)
    wrong = token[:-1] + ("y" if token.endswith("x") else "x")  # one character off, never equal
    response = client.post("/setup/", _form(wrong))
    assert response.status_code == 403
    assert "This is not the setup token." in response.content.decode()
    assert _nothing_created()
    assert _token_file(var_dir).exists()
    refused = AuditEvent.objects.get(action="setup.token_refused")
    assert refused.ip == IP and token not in str(refused.data)


def test_after_five_wrong_tokens_the_address_is_refused_even_the_right_token(
    var_dir: Path,
) -> None:
    client = _client()
    token = _token(client, var_dir)
    statuses = [client.post("/setup/", _form(f"wrong-{n}")).status_code for n in range(5)]
    assert statuses == [403, 403, 403, 403, 429]  # like a login: the fifth failure locks
    response = client.post("/setup/", _form(token))
    assert response.status_code == 429
    assert "Too many wrong setup tokens" in response.content.decode()
    assert _nothing_created()
    assert "Too many wrong setup tokens" in client.get("/setup/").content.decode()
    # another address is not locked out
    other = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="10.0.0.8")
    assert other.post("/setup/", _form(token)).status_code == 302


def test_the_right_token_sets_up_the_county_logs_in_and_says_what_to_import(
    var_dir: Path,
) -> None:
    client = _client()
    token = _token(client, var_dir)
    response = client.post("/setup/", _form(f"  {token} "), follow=True)
    assert response.redirect_chain == [("/imports/", 302)]
    county = Area.objects.get(code="420101")
    assert (county.name, county.level, county.parent_id) == ("测试县", "county", None)
    profile = CountyProfile.objects.get()
    assert (profile.county_code, profile.working_year) == ("420101", 2018)
    assert working_year("420101") == 2018
    admin = User.objects.get(username="clerk")
    assert (admin.role, admin.area_id, admin.county_code, admin.first_name) == (
        "county_admin",
        county.pk,
        "420101",
        "王会计",
    )
    assert admin.check_password(PASSWORD) and admin.is_staff
    assert response.context["user"] == admin  # logged in
    assert not _token_file(var_dir).exists()
    page = response.content.decode()
    for what in (
        "Poverty registry",
        "Student rolls",
        "2018-2019",
        "University students list",
        "Out-of-county study confirmations",
        "Poor villages list",
    ):
        assert what in page
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"county.setup", "county.working_year", "user.create", "setup.done"} <= actions
    setup = AuditEvent.objects.get(action="county.setup")
    assert (setup.actor_name, setup.ip) == ("setup", IP)
    assert PASSWORD not in str(list(AuditEvent.objects.values_list("data", flat=True)))
    # and the page is gone
    assert client.get("/setup/").status_code == 404
    assert Client().get("/setup/").status_code == 404


def test_two_different_passwords_show_the_error_and_create_nothing(var_dir: Path) -> None:
    client = _client()
    token = _token(client, var_dir)
    response = client.post("/setup/", _form(token, password2=PASSWORD + "x"))
    assert response.status_code == 200
    assert "The two passwords differ." in response.content.decode()
    assert _nothing_created()
    assert _token_file(var_dir).exists()  # still needed for the next try


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"county_code": "4201"}, "A county code has 6 digits"),
        ({"school_year": "2018-2020"}, "Not a school year: 2018-2020"),
        ({"password1": "123", "password2": "123"}, "This password is too short."),
    ],
)
def test_bad_values_are_named_and_nothing_is_created(
    var_dir: Path, changes: dict[str, str], message: str
) -> None:
    client = _client()
    token = _token(client, var_dir)
    response = client.post("/setup/", _form(token, **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert _nothing_created()


def test_a_username_taken_by_someone_else_is_refused(var_dir: Path) -> None:
    user_create(actor=None, username="clerk", password=PASSWORD, role="")
    client = _client()
    token = _token(client, var_dir)
    response = client.post("/setup/", _form(token))
    assert "The user clerk already exists with another role" in response.content.decode()
    assert not Area.objects.exists() and not CountyProfile.objects.exists()
    assert User.objects.get().role == ""


def test_a_post_without_the_csrf_token_is_refused(var_dir: Path) -> None:
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=IP)
    token = _token(client, var_dir)
    assert client.post("/setup/", _form(token)).status_code == 403
    assert _nothing_created()


def test_the_login_page_links_to_the_setup_only_before_it(county: Any) -> None:
    client = _client()
    login = client.get("/admin/login/")
    assert LINK in login.content.decode() and 'href="/setup/"' in login.content.decode()
    home = client.get("/", follow=True)
    assert LINK in home.content.decode()
    user_create(
        actor=None, username="county", password=PASSWORD, role=Role.COUNTY_ADMIN, area=county.county
    )
    assert LINK not in client.get("/admin/login/").content.decode()
    assert LINK not in client.get("/", follow=True).content.decode()


def test_the_page_speaks_chinese(var_dir: Path) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans", REMOTE_ADDR=IP)
    with translation.override("zh-hans"):
        page = client.get("/setup/").content.decode()
        login = client.get("/admin/login/").content.decode()
    assert "首次运行：设置本县" in page and "设置令牌" in page
    assert "首次运行：设置本县" in login
    assert settings.LANGUAGE_CODE == "zh-hans"

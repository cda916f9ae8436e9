"""`jingzhun county-setup`: the county, its working school year and its first administrator."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from jingzhun.accounts import provisioning
from jingzhun.accounts.models import User
from jingzhun.accounts.services import user_create
from jingzhun.core.models import AuditEvent, CountyProfile
from jingzhun.core.working_year import parse_school_year, working_year
from jingzhun.registry.models import Area

pytestmark = pytest.mark.django_db

PASSWORD = "county-ledger-pass-42"  # policy: it must not contain the user name (clerk)


def _password_file(tmp_path: Path, password: str = PASSWORD, name: str = "pw.txt") -> Path:
    path = tmp_path / name
    path.write_text(password + "\n", encoding="utf-8")
    return path


def _setup(*args: str, **options: Any) -> str:
    out = StringIO()
    call_command("county_setup", *args, stdout=out, **options)
    return out.getvalue()


def _base(tmp_path: Path, *, name: str = "测试县", year: str = "2018") -> list[str]:
    return [
        "--code",
        "420101",
        "--name",
        name,
        "--school-year",
        year,
        "--admin",
        "clerk",
        "--admin-name",
        "王会计",
        "--password-file",
        str(_password_file(tmp_path)),
    ]


def _state() -> tuple[Any, ...]:
    """Everything county-setup may write, to compare before and after a rerun."""
    return (
        list(Area.objects.values_list("code", "name", "level", "parent_id")),
        list(CountyProfile.objects.values_list("county_code", "name", "working_year")),
        list(
            User.objects.values_list(
                "username", "role", "area__code", "county_code", "first_name", "password"
            )
        ),
        AuditEvent.objects.count(),
    )


def test_setup_creates_the_county_its_year_and_its_administrator(tmp_path: Path) -> None:
    out = _setup(*_base(tmp_path))
    county = Area.objects.get(code="420101")
    assert (county.name, county.level, county.parent_id) == ("测试县", "county", None)
    profile = CountyProfile.objects.get()
    assert (profile.county_code, profile.name, profile.working_year) == ("420101", "测试县", 2018)
    admin = User.objects.get(username="clerk")
    assert (admin.role, admin.area_id, admin.county_code, admin.first_name) == (
        "county_admin",
        county.pk,
        "420101",
        "王会计",
    )
    assert admin.is_staff and admin.is_active
    assert admin.check_password(PASSWORD)
    assert (admin.scope.level, admin.scope.area_code) == ("county", "420101")
    assert working_year("420101") == 2018
    assert out.splitlines()[:3] == [
        "County 420101 测试县: created.",
        "Working school year: 2018-2019 (set).",
        "County administrator clerk: created.",
    ]
    assert PASSWORD not in out
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"county.setup", "county.working_year", "user.create"} <= actions


def test_a_second_run_changes_nothing_and_says_so(tmp_path: Path) -> None:
    _setup(*_base(tmp_path))
    before = _state()
    # a different password file on the rerun does not reset the administrator's password
    args = _base(tmp_path)
    args[-1] = str(_password_file(tmp_path, "another-pass-77", "pw2.txt"))
    out = _setup(*args)
    assert _state() == before
    assert out.splitlines() == [
        "County 420101 测试县: unchanged.",
        "Working school year 2018-2019: unchanged.",
        "County administrator clerk: already exists, unchanged (password not changed).",
        "Nothing changed: the county was already set up this way.",
    ]
    assert User.objects.get(username="clerk").check_password(PASSWORD)


def test_a_rerun_updates_the_name_and_the_working_year(tmp_path: Path) -> None:
    _setup(*_base(tmp_path))
    out = _setup(*_base(tmp_path, name="新测试县", year="2019-2020"))
    assert Area.objects.get(code="420101").name == "新测试县"
    profile = CountyProfile.objects.get()
    assert (profile.name, profile.working_year) == ("新测试县", 2019)
    assert working_year("420101") == 2019
    assert "County 420101: name changed from 测试县 to 新测试县." in out
    assert "Working school year changed from 2018-2019 to 2019-2020." in out
    assert "Nothing changed" not in out
    assert User.objects.count() == 1


def test_an_imported_county_area_is_reused(county: Any, tmp_path: Path) -> None:
    out = _setup(*_base(tmp_path))
    assert Area.objects.filter(level="county").count() == 1
    assert User.objects.get(username="clerk").area_id == county.county.pk
    assert out.splitlines()[0] == "County 420101 测试县: unchanged."
    assert CountyProfile.objects.get().working_year == 2018


def test_a_generated_password_is_printed_once_and_works(tmp_path: Path) -> None:
    args = _base(tmp_path)[:-2] + ["--generate-password"]
    out = _setup(*args)
    (line,) = [x for x in out.splitlines() if x.startswith("Password of clerk")]
    password = line.rsplit(": ", 1)[1]
    assert len(password) == 16
    assert User.objects.get(username="clerk").check_password(password)
    assert out.count(password) == 1


def test_the_password_is_asked_for_twice_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["typed-pass-2018", "typed-pass-2018"])
    monkeypatch.setattr(provisioning, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(provisioning.getpass, "getpass", lambda prompt: next(answers))
    _setup(*_base(tmp_path)[:-2])
    assert User.objects.get(username="clerk").check_password("typed-pass-2018")


def test_two_different_typed_passwords_create_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["typed-pass-2018", "typed-pass-2019"])
    monkeypatch.setattr(provisioning, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(provisioning.getpass, "getpass", lambda prompt: next(answers))
    with pytest.raises(CommandError, match="The two passwords differ"):
        _setup(*_base(tmp_path)[:-2])
    assert not Area.objects.exists() and not User.objects.exists()
    assert not CountyProfile.objects.exists()


def test_no_password_and_no_terminal_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(provisioning, "stdin_is_terminal", lambda: False)
    with pytest.raises(CommandError, match="--password-file FILE or --generate-password"):
        _setup(*_base(tmp_path)[:-2])
    assert not Area.objects.exists() and not User.objects.exists()


def test_a_weak_password_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    args = _base(tmp_path)
    args[-1] = str(_password_file(tmp_path, "123", "weak.txt"))
    with pytest.raises(CommandError, match="The password for clerk is not accepted"):
        _setup(*args)
    assert not Area.objects.exists() and not User.objects.exists()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--code", "4201", "A county code has 6 digits, like 420101 (got 4201)."),
        ("--school-year", "2018-2020", "Not a school year: 2018-2020"),
        ("--school-year", "1899", "out of range"),
    ],
)
def test_bad_values_are_named_and_nothing_is_created(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    args = _base(tmp_path)
    args[args.index(option) + 1] = value
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _setup(*args)
    assert not Area.objects.exists() and not User.objects.exists()
    assert not CountyProfile.objects.exists()


def test_a_username_taken_by_someone_else_is_refused(tmp_path: Path) -> None:
    user_create(actor=None, username="clerk", password=PASSWORD, role="")
    with pytest.raises(CommandError, match="The user clerk already exists with another role"):
        _setup(*_base(tmp_path))
    assert not Area.objects.exists() and not CountyProfile.objects.exists()
    assert User.objects.get(username="clerk").role == ""


def test_the_output_speaks_chinese(tmp_path: Path) -> None:
    with translation.override("zh-hans"):
        out = _setup(*_base(tmp_path))
        again = _setup(*_base(tmp_path))
    assert out.splitlines()[:3] == [
        "县 420101 测试县：已创建。",
        "工作学年：2018-2019（已设定）。",
        "县级管理员 clerk：已创建。",
    ]
    assert again.splitlines()[-1] == "没有任何改动：该县已按此设置。"


# --------------------------------------------------------------------------- working year


def test_without_a_profile_the_working_year_is_the_school_year_of_today() -> None:
    assert working_year(today=dt.date(2019, 8, 31)) == 2018
    assert working_year(today=dt.date(2019, 9, 1)) == 2019
    assert working_year("420101", today=dt.date(2020, 1, 15)) == 2019


def test_the_profile_gives_the_working_year() -> None:
    CountyProfile.objects.create(county_code="420101", name="测试县", working_year=2016)
    today = dt.date(2020, 1, 15)
    assert working_year("420101", today=today) == 2016
    assert working_year("420101001001", today=today) == 2016  # any code inside the county
    assert working_year(today=today) == 2016  # the only county
    assert working_year("420102", today=today) == 2019  # another county: no profile
    CountyProfile.objects.create(county_code="420102", name="另一县", working_year=2017)
    assert working_year(today=today) == 2019  # two counties: no code, no profile to choose
    assert working_year("420102", today=today) == 2017


@pytest.mark.parametrize(("text", "year"), [("2018", 2018), (" 2018-2019 ", 2018), ("2030", 2030)])
def test_school_years_are_read(text: str, year: int) -> None:
    assert parse_school_year(text) == year


@pytest.mark.parametrize("text", ["18", "2018-2018", "2018/2019", "二〇一八", "", "2018-"])
def test_bad_school_years_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="Not a school year"):
        parse_school_year(text)

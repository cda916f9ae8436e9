"""`jingzhun create-user`: any role, its jurisdiction by code, clear errors, --update."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from conftest import PASSWORD, County
from jingzhun.accounts.models import User
from jingzhun.core import permissions
from jingzhun.core.models import AuditEvent
from jingzhun.schools.models import School

pytestmark = pytest.mark.django_db


@pytest.fixture
def pw(tmp_path: Path) -> str:
    path = tmp_path / "pw.txt"
    path.write_text(PASSWORD + "\n", encoding="utf-8")
    return str(path)


def _create(*args: str) -> str:
    out = StringIO()
    call_command("create_user", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("role", "option", "value", "where"),
    [
        ("county_admin", "--area", "420101", ("area", "420101")),
        ("aid_officer", "--area", "420101", ("area", "420101")),
        ("bureau_leader", "--area", "420101001", ("area", "420101001")),
        ("inspector", "--area", "420101", ("area", "420101")),
        ("township_officer", "--area", "420101002", ("area", "420101002")),
        ("principal", "--school", "2142010001", ("school", "2142010001")),
        ("class_teacher", "--class", "2142010001:2018:primary:3:1班", ("class", "1班")),
        ("class_teacher", "--class", "2142010002:2018-2019:初中:1:2班", ("class", "2班")),
    ],
)
def test_each_role_is_created_with_its_jurisdiction(
    county: County, pw: str, role: str, option: str, value: str, where: tuple[str, str]
) -> None:
    out = _create(
        "someone", "--role", role, option, value, "--full-name", "赵六", "--password-file", pw
    )
    user = User.objects.select_related("area", "school", "school_class").get(username="someone")
    assert (user.role, user.county_code, user.first_name) == (role, "420101", "赵六")
    assert user.check_password(PASSWORD)
    kind, code = where
    if kind == "area":
        assert user.area is not None and user.area.code == code
        assert (user.school_id, user.school_class_id) == (None, None)
        assert user.scope.area_code == code
    elif kind == "school":
        assert user.school is not None and user.school.code == code
        assert (user.area_id, user.school_class_id) == (None, None)
        assert user.scope.level == "school"
    else:
        assert user.school_class is not None and user.school_class.name == code
        assert (user.area_id, user.school_id) == (None, None)
        assert user.scope.level == "class"
    assert out.startswith("Created user someone: ")
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "principal"], "The role Principal needs a jurisdiction; give --school"),
        (
            ["--role", "county_admin", "--school", "2142010001"],
            "The role County administrator does not take --school; give --area CODE.",
        ),
        (
            ["--role", "class_teacher", "--area", "420101"],
            "The role Class teacher does not take --area; give --class",
        ),
        (["--role", "township_officer", "--area", "420101"], "cannot work at that level"),
        (["--role", "county_admin", "--area", "420101001"], "cannot work at that level"),
        (["--role", "county_admin", "--area", "999999"], "No area with code 999999."),
        (["--role", "principal", "--school", "999"], "No school with code 999."),
        (
            ["--role", "class_teacher", "--class", "2142010001:2018:primary:4:1班"],
            "the classes of 甲镇中心小学 in 2018 are: primary:3:1班",
        ),
        (["--role", "class_teacher", "--class", "2142010001:2018:primary"], "SCHOOLCODE:YEAR"),
        (["--role", "class_teacher", "--class", "2142010001:2018:大学堂:3:1班"], "Unknown stage"),
        (["--role", "mayor", "--area", "420101"], "invalid choice: 'mayor'"),
    ],
)
def test_a_bad_role_or_jurisdiction_is_named_and_creates_nothing(
    county: County, pw: str, args: list[str], message: str
) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError) as info:
        _create("someone", *args, "--password-file", pw)
    assert message in str(info.value)
    assert not User.objects.filter(username="someone").exists()
    assert AuditEvent.objects.count() == before


def test_a_school_outside_the_county_cannot_be_a_principals(county: County, pw: str) -> None:
    School.objects.create(code="1110000001", name="省城大学", kind="university", township=None)
    with pytest.raises(CommandError, match="has no township in the county"):
        _create("someone", "--role", "principal", "--school", "1110000001", "--password-file", pw)
    assert not User.objects.filter(username="someone").exists()


def test_an_existing_username_is_refused_without_update(county: County, pw: str) -> None:
    _create("someone", "--role", "inspector", "--area", "420101", "--password-file", pw)
    before = list(User.objects.values_list("username", "role", "area_id", "password"))
    with pytest.raises(CommandError, match="The user someone already exists; nothing was changed"):
        _create("someone", "--role", "principal", "--school", "2142010001", "--generate-password")
    assert list(User.objects.values_list("username", "role", "area_id", "password")) == before


def test_update_changes_role_and_jurisdiction_then_a_rerun_changes_nothing(
    county: County, pw: str
) -> None:
    _create("someone", "--role", "township_officer", "--area", "420101001", "--password-file", pw)
    user = User.objects.get(username="someone")
    out = _create(
        "someone",
        "--role",
        "principal",
        "--school",
        "2142010002",
        "--full-name",
        "钱七",
        "--update",
    )
    user.refresh_from_db()
    assert (user.role, user.area_id, user.school_id, user.first_name, user.county_code) == (
        "principal",
        None,
        county.school_b.pk,
        "钱七",
        "420101",
    )
    assert user.check_password(PASSWORD)  # no password option: the password is kept
    assert "Updated user someone" in out and "changed: role, area_id, school_id, first_name" in out
    event = AuditEvent.objects.filter(action="user.update").get()
    assert event.data["changes"]["role"] == ["township_officer", "principal"]
    assert event.data["changes"]["school_id"] == [None, county.school_b.pk]
    before = (AuditEvent.objects.count(), User.objects.get(username="someone").password)
    again = _create("someone", "--role", "principal", "--school", "2142010002", "--update")
    assert again.strip() == "User someone is already Principal, 乙乡中学; nothing changed."
    assert (AuditEvent.objects.count(), User.objects.get(username="someone").password) == before


def test_update_with_a_generated_password_sets_it(county: County, pw: str) -> None:
    _create("someone", "--role", "inspector", "--area", "420101", "--password-file", pw)
    out = _create(
        "someone", "--role", "inspector", "--area", "420101", "--update", "--generate-password"
    )
    password = out.strip().splitlines()[-1].rsplit(": ", 1)[1]
    user = User.objects.get(username="someone")
    assert user.check_password(password) and not user.check_password(PASSWORD)
    assert "changed: password" in out
    assert AuditEvent.objects.filter(action="user.password_set").count() == 1
    assert not AuditEvent.objects.filter(action="user.update").exists()


def test_a_weak_password_is_refused(county: County, tmp_path: Path) -> None:
    weak = tmp_path / "weak.txt"
    weak.write_text("password\n", encoding="utf-8")
    with pytest.raises(CommandError, match="The password for someone is not accepted"):
        _create("someone", "--role", "inspector", "--area", "420101", "--password-file", str(weak))
    assert not User.objects.filter(username="someone").exists()


def test_an_empty_password_file_is_refused(county: County, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(CommandError, match="is empty"):
        _create("someone", "--role", "inspector", "--area", "420101", "--password-file", str(empty))
    assert not User.objects.filter(username="someone").exists()


def test_the_created_user_can_log_in_and_holds_their_roles_capabilities(
    county: County, pw: str
) -> None:
    _create("someone", "--role", "aid_officer", "--area", "420101", "--password-file", pw)
    page = Client().post(
        "/admin/login/", {"username": "someone", "password": PASSWORD, "next": "/admin/"}
    )
    assert page.status_code == 302 and page["Location"] == "/admin/"
    user = User.objects.get(username="someone")
    assert user.can(permissions.IMPORT_DATA) and user.can(permissions.PAY)
    assert not user.can(permissions.MANAGE_USERS)

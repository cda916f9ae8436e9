"""The password policy (等保 level 3): length, three kinds of characters, not the user name,
not common, not all digits; applied by create-user, the admin and password changes."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from tests.conftest import PASSWORD, County, Personas

from jingzhun.accounts.models import User
from jingzhun.accounts.passwords import character_classes
from jingzhun.accounts.provisioning import generate_password
from jingzhun.accounts.roles import Role

WEAK = [
    ("zhangsan", "the user name itself"),
    ("Zhangsan@2024", "contains the user name"),
    ("2024-nasgnahz", "contains the user name backwards"),
    ("ZHANGSAN-2024", "contains the user name in capitals"),
    ("12345678901234", "all digits"),
    ("98127364501827", "all digits, not a common one"),
    ("abcdefghijklmn", "one kind of character"),
    ("correcthorsebattery", "one kind of character, long"),
    ("Tr0ub4dor", "nine characters: shorter than ten"),
    ("Password1234", "common"),
    ("1QAZ2wsx3edc", "common (a keyboard walk)"),
]


@pytest.mark.parametrize(("password", "why"), WEAK)
def test_weak_passwords_are_refused(password: str, why: str) -> None:
    with pytest.raises(ValidationError):
        validate_password(password, User(username="zhangsan", first_name="张三"))


@pytest.mark.parametrize("password", ["Kx7-mq2-Lp9z", "county-ledger-pass-42", "核对学籍-Ab2019"])
def test_strong_passwords_are_accepted(password: str) -> None:
    validate_password(password, User(username="zhangsan", first_name="张三"))


def test_the_minimum_length_is_ten_by_default() -> None:
    assert settings.PASSWORD_MIN_LENGTH == 10


def test_generated_passwords_pass_the_policy() -> None:
    for _ in range(300):
        password = generate_password()
        assert len(character_classes(password)) >= 3
        validate_password(password, User(username="someone"))


def test_create_user_refuses_a_password_equal_to_the_user_name(
    county: County, tmp_path: Path
) -> None:
    for n, weak in enumerate(["zhangsan1", "zhangsan", "12345678901234"]):
        path = tmp_path / f"pw{n}.txt"
        path.write_text(weak + "\n", encoding="utf-8")
        with pytest.raises(CommandError, match="The password for zhangsan is not accepted"):
            call_command(
                "create_user",
                "zhangsan",
                "--role",
                "inspector",
                "--area",
                "420101",
                "--password-file",
                str(path),
                stdout=StringIO(),
            )
    assert not User.objects.filter(username="zhangsan").exists()


@pytest.mark.parametrize("weak", ["zhangsan", "12345678901234", "zhangsan2019"])
def test_the_user_admin_refuses_a_weak_password(
    client: Client, personas: Personas, county: County, weak: str
) -> None:
    client.force_login(personas.county_officer)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "zhangsan",
            "password1": weak,
            "password2": weak,
            "role": Role.TOWNSHIP_OFFICER,
            "area": county.township_a.pk,
        },
    )
    assert response.status_code == 200
    assert "password2" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="zhangsan").exists()


def test_the_admins_set_password_form_refuses_a_weak_password(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.county_officer)
    target = personas.township_a
    url = f"/admin/accounts/user/{target.pk}/password/"
    weak = "98127364501827"  # all digits (not a common password)
    response = client.post(url, {"password1": weak, "password2": weak})
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.check_password(PASSWORD)


def test_a_users_own_password_change_refuses_the_user_name(
    client: Client, personas: Personas
) -> None:
    user = personas.township_a
    client.force_login(user)
    response = client.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": "town_a-2019", "new_password2": "town_a-2019"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    # a strong one is accepted
    response = client.post(
        "/admin/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "Kx7-mq2-Lp9z",
            "new_password2": "Kx7-mq2-Lp9z",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Kx7-mq2-Lp9z")

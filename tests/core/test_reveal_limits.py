"""Showing a whole number needs a real reason, and a user sees at most a set number per hour;
past it, every request is refused and the audit log gets an alert."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from tests.imports.helpers import REGISTRY_HEADER, base_county, registry_rows, run_import, write_csv
from tests.imports.test_set_aside_views import BAD_ID, sixth_row

from conftest import ID_A, County, Personas
from jingzhun.core import reveal as reveal_module
from jingzhun.core.models import AuditEvent, SetAsideRow
from jingzhun.core.reveal import RevealLimitReached, clean_reason, sensitive_reveal
from jingzhun.core.setaside import set_aside_dismiss, set_aside_reveal

pytestmark = pytest.mark.django_db

REASON = "核实资助对象身份"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"

NOT_REASONS = [
    "....",
    "。。。。。。",
    "        ",
    "!!!!????",
    ZERO_WIDTH * 3,
    "." + ZERO_WIDTH * 4 + ".",
    "\u00a0\u3000\u2003\u2009",  # no-break, ideographic, em and thin spaces
    "1111",
    "a.a.a.a.",
    "看看",
    "ok",
    "aaaa",
]


@pytest.mark.parametrize("reason", NOT_REASONS)
def test_a_reason_that_says_nothing_is_refused(reason: str) -> None:
    with pytest.raises(ValidationError):
        clean_reason(reason)


@pytest.mark.parametrize(
    ("reason", "kept"),
    [
        (REASON, REASON),
        ("核实" + ZERO_WIDTH + "身份", "核实身份"),
        ("  check   the\tpaper form ", "check the paper form"),
        ("ＡＢＣ核对", "ABC核对"),  # full-width letters are letters
        ("case 2019-114", "case 2019-114"),
    ],
)
def test_a_real_reason_is_kept_tidied(reason: str, kept: str) -> None:
    assert clean_reason(reason) == kept


@pytest.mark.parametrize("reason", NOT_REASONS[:6])
def test_the_reveal_page_refuses_a_reason_that_says_nothing(
    client: Client, personas: Personas, county: County, reason: str
) -> None:
    client.force_login(personas.township_a)
    before = AuditEvent.objects.count()
    response = client.post(f"/reveal/person/{county.person_a.pk}/id/", {"reason": reason})
    assert response.status_code == 200
    assert ID_A not in response.content.decode()
    assert AuditEvent.objects.count() == before


def test_the_limit_is_twenty_an_hour_by_default() -> None:
    assert settings.REVEAL_LIMIT_PER_HOUR == 20


def test_past_the_hourly_limit_the_reveal_is_refused_with_an_alert(
    client: Client, personas: Personas, county: County, settings: Any
) -> None:
    settings.REVEAL_LIMIT_PER_HOUR = 3
    client.force_login(personas.township_a)
    url = f"/reveal/person/{county.person_a.pk}/id/"
    for _ in range(3):
        response = client.post(url, {"reason": REASON})
        assert response.status_code == 200 and ID_A in response.content.decode()
    # when the officer asks once more within the hour
    response = client.post(url, {"reason": REASON}, HTTP_ACCEPT_LANGUAGE="en")
    # then the number is not shown, the page says why, and the log has an alert
    assert response.status_code == 429
    assert ID_A not in response.content.decode()
    assert "within the last hour" in response.content.decode()
    assert AuditEvent.objects.filter(action="sensitive.reveal").count() == 3
    [alert] = AuditEvent.objects.filter(action="alert.reveal_limit")
    assert alert.actor == personas.township_a
    assert alert.object_id == str(county.person_a.pk)
    assert alert.data == {"field": "id", "limit": 3, "window_minutes": 60}
    # every further request is refused and alerted too
    assert client.post(url, {"reason": REASON}).status_code == 429
    assert AuditEvent.objects.filter(action="alert.reveal_limit").count() == 2


def test_the_limit_is_per_user(personas: Personas, county: County, settings: Any) -> None:
    settings.REVEAL_LIMIT_PER_HOUR = 1
    sensitive_reveal(user=personas.county_officer, obj=county.person_a, field="id", reason=REASON)
    with pytest.raises(RevealLimitReached):
        sensitive_reveal(
            user=personas.county_officer, obj=county.person_b, field="id", reason=REASON
        )
    # another user is not held by it
    assert (
        sensitive_reveal(user=personas.aid_officer, obj=county.person_a, field="id", reason=REASON)
        == ID_A
    )


def test_reveals_older_than_an_hour_do_not_count(
    personas: Personas, county: County, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.REVEAL_LIMIT_PER_HOUR = 2
    for _ in range(2):
        sensitive_reveal(user=personas.aid_officer, obj=county.person_a, field="id", reason=REASON)
    with pytest.raises(RevealLimitReached):
        sensitive_reveal(user=personas.aid_officer, obj=county.person_a, field="id", reason=REASON)
    # an hour and a minute later
    later = timezone.now() + dt.timedelta(minutes=61)
    monkeypatch.setattr(reveal_module.timezone, "now", lambda: later)
    assert (
        sensitive_reveal(user=personas.aid_officer, obj=county.person_a, field="id", reason=REASON)
        == ID_A
    )


# --------------------------------------------------------------------------- rows set aside


@pytest.fixture
def set_aside(personas: Personas, tmp_path: Path) -> SetAsideRow:
    """A registry row set aside by an import (its ID has a wrong check character)."""
    base_county(tmp_path)
    batch = run_import(
        "registry",
        write_csv(tmp_path / "registry.csv", REGISTRY_HEADER, registry_rows() + [sixth_row()]),
        actor=personas.aid_officer,
        county="420101",
    )
    return SetAsideRow.objects.get(batch=batch)


def test_the_rows_to_fix_page_needs_a_real_reason_and_counts_against_the_limit(
    client: Client, personas: Personas, set_aside: SetAsideRow, settings: Any
) -> None:
    settings.REVEAL_LIMIT_PER_HOUR = 1
    client.force_login(personas.aid_officer)
    url = reverse("imports:set-aside-detail", args=[set_aside.pk])
    dots = client.post(url, {"action": "reveal", "reveal-reason": "........"})
    assert BAD_ID not in dots.content.decode()
    assert not AuditEvent.objects.filter(action="sensitive.reveal").exists()
    shown = client.post(url, {"action": "reveal", "reveal-reason": "compare with the form"})
    assert BAD_ID in shown.content.decode()
    again = client.post(url, {"action": "reveal", "reveal-reason": "compare with the form"})
    assert again.status_code == 429 and BAD_ID not in again.content.decode()
    assert AuditEvent.objects.filter(action="alert.reveal_limit").count() == 1
    with pytest.raises(RevealLimitReached):
        set_aside_reveal(user=personas.aid_officer, row=set_aside, reason="compare again")


def test_dismissing_a_row_needs_a_real_reason(personas: Personas, set_aside: SetAsideRow) -> None:
    with pytest.raises(ValidationError):
        set_aside_dismiss(actor=personas.aid_officer, row=set_aside, reason=ZERO_WIDTH * 5)
    row = set_aside_dismiss(actor=personas.aid_officer, row=set_aside, reason="moved away")
    assert row.status == SetAsideRow.Status.DISMISSED

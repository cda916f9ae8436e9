"""The working period: today's school year and semester unless the county holds another."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from tests.conftest import County, Personas

from jingzhun.core.models import AuditEvent, CountyProfile
from jingzhun.core.periods import Semester
from jingzhun.core.working_year import (
    county_working_period_set,
    working_period,
    working_semester,
    working_year,
)

pytestmark = pytest.mark.django_db

DEC = dt.date(2026, 12, 4)
APRIL = dt.date(2027, 4, 10)


@pytest.mark.parametrize(
    ("day", "year", "kind"),
    [
        (dt.date(2026, 9, 1), 2026, "autumn"),
        (DEC, 2026, "autumn"),
        (dt.date(2027, 1, 15), 2026, "autumn"),
        (APRIL, 2026, "spring"),
        (dt.date(2027, 8, 31), 2026, "spring"),
    ],
)
def test_without_a_profile_the_period_follows_today(day: dt.date, year: int, kind: str) -> None:
    assert working_year(today=day) == year
    assert working_semester(today=day) == Semester.named(year, kind)
    assert not working_period(today=day).overridden


def test_a_profile_that_follows_today(db: None) -> None:
    CountyProfile.objects.create(county_code="420101", name="测试县", working_year=None)
    assert working_year("420101", today=DEC) == 2026
    assert working_semester("420101", today=APRIL) == Semester.named(2026, "spring")


def test_a_held_back_year_works_in_its_spring_and_says_so(db: None) -> None:
    CountyProfile.objects.create(county_code="420101", name="测试县", working_year=2025)
    period = working_period("420101", today=DEC)
    assert working_year("420101", today=DEC) == 2025
    assert period.semester == Semester.named(2025, "spring")
    assert period.overridden and period.behind
    assert period.label == "2025-2026 Spring semester"
    assert period.note == "(set by the county: last year still closing)"


def test_the_current_year_set_by_hand_is_not_an_override(db: None) -> None:
    CountyProfile.objects.create(county_code="420101", name="测试县", working_year=2026)
    period = working_period("420101", today=DEC)
    assert period.semester == Semester.named(2026, "autumn") and not period.overridden
    assert period.label == "2026-2027 Autumn semester" and period.note == ""


def test_a_semester_override(db: None) -> None:
    profile = CountyProfile.objects.create(
        county_code="420101", name="测试县", working_year=None, working_semester="spring"
    )
    assert working_semester("420101", today=DEC) == Semester.named(2026, "spring")
    assert working_period(profile=profile, today=DEC).note == "(set by the county)"


def test_setting_the_period_is_audited_and_idempotent(db: None) -> None:
    profile = CountyProfile.objects.create(county_code="420101", name="测试县", working_year=2026)
    assert county_working_period_set(
        actor=None, profile=profile, school_year=2025, semester="spring"
    )
    assert not county_working_period_set(
        actor=None, profile=profile, school_year=2025, semester="spring"
    )
    event = AuditEvent.objects.get(action="county.working_period")
    assert event.data == {
        "changes": {"working_year": [2026, 2025], "working_semester": ["", "spring"]}
    }
    with pytest.raises(ValidationError):
        county_working_period_set(actor=None, profile=profile, school_year=2025, semester="winter")
    profile.refresh_from_db()
    assert (profile.working_year, profile.working_semester) == (2025, "spring")


def test_county_setup_sets_and_clears_the_override(tmp_path: Path, db: None) -> None:
    pw = tmp_path / "pw"
    pw.write_text("county-ledger-pass-42\n", encoding="utf-8")  # not containing "clerk"
    base = ["--code", "420101", "--name", "测试县", "--admin", "clerk", "--password-file", str(pw)]
    out = StringIO()
    call_command("county_setup", *base, "--school-year", "2025", "--semester", "spring", stdout=out)
    profile = CountyProfile.objects.get()
    assert (profile.working_year, profile.working_semester) == (2025, "spring")
    assert "Working period: 2025-2026 Spring semester" in out.getvalue()
    call_command("county_setup", *base, "--school-year", "auto", "--semester", "auto", stdout=out)
    profile.refresh_from_db()
    assert (profile.working_year, profile.working_semester) == (None, "")


def test_the_badge_shows_the_override(client: Client, personas: Personas, county: County) -> None:
    CountyProfile.objects.create(county_code="420101", name="测试县", working_year=2017)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(personas.township_a)
    text = client.get(reverse("aid:overview")).content.decode()
    assert "2017-2018 Spring semester" in text
    assert "(set by the county: last year still closing)" in text


def test_the_county_admin_edits_the_period_in_the_back_office(
    client: Client, personas: Personas, county: County
) -> None:
    profile = CountyProfile.objects.create(county_code="420101", name="测试县", working_year=2017)
    url = reverse("admin:core_countyprofile_change", args=[profile.pk])
    client.force_login(personas.township_a)
    assert client.post(url, {"working_year": "", "working_semester": ""}).status_code == 403
    profile.refresh_from_db()
    assert profile.working_year == 2017
    client.force_login(personas.county_officer)
    response = client.post(url, {"working_year": "", "working_semester": "autumn"})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.working_year, profile.working_semester) == (None, "autumn")
    event = AuditEvent.objects.get(action="county.working_period")
    assert event.actor_id == personas.county_officer.pk

"""A new year's rule book starts as a copy marked "to confirm"; pages say so; nothing is paid."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from tests.conftest import County, Personas

from jingzhun.aid import services
from jingzhun.aid.models import RuleBookVersion
from jingzhun.aid.rulebook import load_rulebook, shipped_source
from jingzhun.core.models import AuditEvent, CountyProfile
from jingzhun.core.periods import Semester
from jingzhun.funds import services as funds
from jingzhun.funds.models import PaymentBatch

from .test_views import login, page
from .world import approve_school, identify


def test_shift_moves_dates_spans_and_years_but_not_amounts() -> None:
    source = (
        "# Rule book, school year 2018-2019; fee standards of 2018.\n"
        "school_year: 2018\n"
        "rules:\n"
        '  - amount: "2000.00"\n'
        "    valid: {from: 2018-09-01, to: 2019-08-31}\n"
        "    note: leap 2016-02-29\n"
    )
    shifted = services._shift_year(source, 2018, 2026)
    assert shifted == (
        "# Rule book, school year 2026-2027; fee standards of 2026.\n"
        "school_year: 2026\n"
        "rules:\n"
        '  - amount: "2000.00"\n'
        "    valid: {from: 2026-09-01, to: 2027-08-31}\n"
        "    note: leap 2024-02-29\n"
    )
    # a leap day moved to a common year becomes 28 February
    assert "2025-02-28" in services._shift_year("d: 2016-02-29\n", 2016, 2025)


def test_carry_forward_copies_the_packaged_book_to_a_later_year(
    county: County, personas: Personas
) -> None:
    # when
    version = services.rulebook_carry_forward(actor=personas.aid_officer, school_year=2026)
    # then
    book = services.book_of(version)
    assert (version.school_year, version.version, version.confirmed) == (2026, 1, False)
    assert book.school_year == 2026
    assert {(r.valid_from, r.valid_to) for r in book.rules} == {
        (dt.date(2026, 9, 1), dt.date(2027, 8, 31))
    }
    shipped = load_rulebook(shipped_source(2018))
    assert [r.amount for r in book.rules] == [r.amount for r in shipped.rules]
    assert "2018" in version.reason and "to confirm" in version.reason
    event = AuditEvent.objects.filter(action="aid.rulebook_carry_forward").get()
    assert event.data == {"school_year": 2026, "from": "2018"}
    # a second call returns the same version and writes nothing
    again = services.rulebook_carry_forward(actor=personas.aid_officer, school_year=2026)
    assert again.pk == version.pk
    assert RuleBookVersion.objects.filter(school_year=2026).count() == 1
    assert AuditEvent.objects.filter(action="aid.rulebook_carry_forward").count() == 1


def test_carry_forward_prefers_the_latest_installed_book(
    county: County, personas: Personas
) -> None:
    v1 = services.rulebook_install(
        actor=personas.aid_officer, county_code="420101", school_year=2018
    )
    services.rulebook_save(
        actor=personas.aid_officer,
        school_year=2018,
        source=v1.source.replace("transition_years: 3", "transition_years: 2"),
        reason="provincial notice",
    )
    version = services.rulebook_carry_forward(actor=personas.aid_officer, school_year=2020)
    assert services.book_of(version).transition_years == 2
    assert "2018 v2" in version.reason
    assert v1.confirmed  # books installed as shipped are confirmed


def test_only_the_aid_centre_carries_forward_and_confirms(
    county: County, personas: Personas
) -> None:
    for who in ("township_a", "principal_a", "inspector", "bureau_leader"):
        with pytest.raises(PermissionDenied):
            services.rulebook_carry_forward(actor=getattr(personas, who), school_year=2026)
    assert RuleBookVersion.objects.count() == 0
    services.rulebook_carry_forward(actor=personas.aid_officer, school_year=2026)
    with pytest.raises(PermissionDenied):
        services.rulebook_confirm(actor=personas.township_a, school_year=2026)
    assert not RuleBookVersion.objects.get().confirmed


def test_confirm_once_then_already_confirmed(county: County, personas: Personas) -> None:
    with pytest.raises(ValidationError):
        services.rulebook_confirm(actor=personas.aid_officer, school_year=2026)
    services.rulebook_carry_forward(actor=personas.aid_officer, school_year=2026)
    first = services.rulebook_confirm(actor=personas.aid_officer, school_year=2026)
    assert (first.already, first.version.confirmed, first.version.confirmed_by) == (
        False,
        True,
        personas.aid_officer,
    )
    second = services.rulebook_confirm(actor=personas.aid_officer, school_year=2026)
    assert second.already and second.version.pk == first.version.pk
    assert AuditEvent.objects.filter(action="aid.rulebook_confirm").count() == 1


def test_an_edit_of_a_book_to_confirm_stays_to_confirm(county: County, personas: Personas) -> None:
    v1 = services.rulebook_carry_forward(actor=personas.aid_officer, school_year=2026)
    v2 = services.rulebook_save(
        actor=personas.aid_officer,
        school_year=2026,
        source=v1.source.replace('amount: "1250.00"', 'amount: "1300.00"', 1),
        reason="2026 standard",
    )
    assert (v2.version, v2.confirmed) == (2, False)
    services.rulebook_confirm(actor=personas.aid_officer, school_year=2026)
    v3 = services.rulebook_save(
        actor=personas.aid_officer,
        school_year=2026,
        source=v2.source.replace('amount: "1300.00"', 'amount: "1350.00"', 1),
        reason="correction",
    )
    assert v3.confirmed


@pytest.fixture
def carried(county: County, personas: Personas) -> County:
    """2018 computed and approved under a book carried forward (and not confirmed)."""
    # The 2018 book is made a copy of 2017's (as if 2018 had shipped no book).
    RuleBookVersion.objects.create(
        county_code="420101",
        school_year=2018,
        version=1,
        source=services._shift_year(shipped_source(2018), 2018, 2018),
        reason="copied from 2017 v1, to confirm",
        confirmed=False,
    )
    identify()
    services.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )
    approve_school(personas, county)
    funds.allocation_record(
        actor=personas.aid_officer,
        channel="county",
        school_year=2018,
        programme="boarding_subsidy",
        amount=Decimal("5000.00"),
    )
    return county


def test_no_batch_until_the_book_is_confirmed(carried: County, personas: Personas) -> None:
    # when
    with pytest.raises(ValidationError, match="still to confirm"):
        services.aid_batch_create(
            actor=personas.aid_officer, school_year=2018, semester="autumn", idempotency_key="k"
        )
    # then
    assert PaymentBatch.objects.count() == 0
    response = login(personas.aid_officer).post(
        "/aid/batches/", {"year": "2018", "semester": "autumn", "key": "k"}, follow=True
    )
    assert "still to confirm" in response.content.decode()
    assert PaymentBatch.objects.count() == 0
    # once confirmed, the batch is made
    services.rulebook_confirm(actor=personas.aid_officer, school_year=2018)
    batch = services.aid_batch_create(
        actor=personas.aid_officer, school_year=2018, semester="autumn", idempotency_key="k"
    )
    assert batch.control["count"] == 1


def test_every_page_of_the_year_shows_the_banner(carried: County, personas: Personas) -> None:
    client = login(personas.township_a)
    query = "?year=2018&semester=autumn"
    for url in ("", "entitlements/", "review/", "coverage/", "adjustments/", "notices/"):
        text = page(client, f"/aid/{url}{query}")
        assert 'id="jz-book-to-confirm"' in text, url
        assert "/aid/rulebook/?year=2018" in text, url
    # entitlements are marked with the book's state
    assert "(to confirm)" in page(client, f"/aid/entitlements/{query}")
    assert "(rule book to confirm)" in page(client, f"/aid/students/{carried.student_a.pk}/")
    # another year's pages carry no banner
    assert 'id="jz-book-to-confirm"' not in page(client, "/aid/?year=2019&semester=autumn")
    # the rule book page has the confirm button for the aid centre only
    assert 'id="jz-confirm"' not in page(client, "/aid/rulebook/?year=2018")
    officer = login(personas.aid_officer)
    assert 'id="jz-confirm"' in page(officer, "/aid/rulebook/?year=2018")
    assert (
        login(personas.township_a)
        .post("/aid/rulebook/?year=2018", {"action": "confirm"})
        .status_code
        == 403
    )
    response = officer.post("/aid/rulebook/?year=2018", {"action": "confirm"}, follow=True)
    assert "is confirmed" in response.content.decode()
    assert 'id="jz-book-to-confirm"' not in page(client, f"/aid/{query}")
    again = officer.post("/aid/rulebook/?year=2018", {"action": "confirm"}, follow=True)
    assert again.status_code == 200 and "already confirmed" in again.content.decode()


def test_overview_offers_to_start_the_year_from_last_years_book(
    county: County, personas: Personas
) -> None:
    officer = login(personas.aid_officer)
    text = page(officer, "/aid/?year=2026&semester=autumn")
    assert 'id="jz-carry-offer"' in text and "/aid/rulebook/?year=2026" in text
    # the rule book page previews what will be copied, with the new dates
    preview = page(officer, "/aid/rulebook/?year=2026&semester=autumn")
    assert 'id="jz-carry-rules"' in preview and "2026-09-01 – 2027-08-31" in preview
    assert RuleBookVersion.objects.count() == 0  # a preview writes nothing
    # confirming the preview makes the copy, to confirm
    response = officer.post("/aid/rulebook/?year=2026&semester=autumn", {"action": "carry_forward"})
    assert response.status_code == 302
    version = RuleBookVersion.objects.get(school_year=2026)
    assert not version.confirmed
    assert 'id="jz-carry-offer"' not in page(officer, "/aid/?year=2026&semester=autumn")
    assert 'id="jz-book-to-confirm"' in page(officer, "/aid/?year=2026&semester=autumn")
    # a year with a book of its own offers nothing
    assert 'id="jz-carry-offer"' not in page(officer, "/aid/?year=2018&semester=autumn")


def test_pages_default_to_the_working_year(county: County, personas: Personas) -> None:
    # given no county profile: the semester of today
    today = Semester.of(timezone.localdate())
    period = login(personas.township_a).get("/aid/").context["period"]
    assert (period.school_year, period.semester) == (today.school_year.start, today.kind)
    # a county that works in 2018 sees 2018 by default, on every aid page
    CountyProfile.objects.create(
        county_code="420101", name="测试县", working_year=2018, working_semester="autumn"
    )
    for url in ("/aid/", "/aid/entitlements/", "/aid/coverage/", "/aid/batches/"):
        period = login(personas.aid_officer).get(url).context["period"]
        assert (period.school_year, period.semester) == (2018, "autumn"), url

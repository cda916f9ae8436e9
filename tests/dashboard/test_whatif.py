"""Policy what-if: a draft rule book against the current one over the hand-made county.

The county (tests/conftest.py), school year 2018, the shipped 2018 book; household B left
poverty in 2017 (in the 3-year transition). By hand, per school year (two semesters):
  张小明 (township A, primary grade 3, boarding): waiver 180 + boarding 1,000 = 1,180.00
  李小红 (township B, junior grade 1, transition): waiver 260 = 260.00
  total 1,440.00; autumn 720.00, spring 720.00; transition rule 260.00 (1 student).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from tests.aid.world import identify

from jingzhun.aid import services
from jingzhun.aid.models import Adjustment, AidComputation, Entitlement, RuleBookVersion
from jingzhun.aid.rulebook import shipped_source
from jingzhun.core.models import AuditEvent
from jingzhun.dashboard import whatif
from jingzhun.dashboard.models import RuleDraft
from jingzhun.funds.models import Payment
from jingzhun.registry.models import Household

D = Decimal


def login(user: Any) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


@pytest.fixture
def world(county: Any, personas: Any) -> Any:
    identify()
    Household.objects.filter(pk=county.household_b.pk).update(status="left_poverty", exit_year=2017)
    return personas


def draft_of(text: str, user: Any, name: str = "d") -> RuleDraft:
    return RuleDraft.objects.create(
        county_code="420101", school_year=2018, name=name, text=text, created_by=user
    )


def rows(items: list[whatif.Row]) -> dict[str, tuple[Decimal, Decimal, int, int]]:
    return {r.key: (r.current, r.draft, r.students_current, r.students_draft) for r in items}


def without_boarding(text: str) -> str:
    data = yaml.safe_load(text)
    del data["programmes"]["boarding_subsidy"]
    data["rules"] = [r for r in data["rules"] if r["programme"] != "boarding_subsidy"]
    data["stacking"] = [s for s in data["stacking"] if "boarding_subsidy" not in s["programmes"]]
    return str(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def test_raising_one_amount_is_costed_by_programme_township_semester(world: Any) -> None:
    # given: the boarding subsidy for primary boarders raised from 1,000 to 1,200 a year
    text = whatif.set_amounts(shipped_source(2018), {"boarding_primary": D("1200")})
    assert 'amount: "1200.00"' in text and "# Student aid rule book" in text  # comments kept
    draft = draft_of(text, world.aid_officer)
    # when
    c = whatif.evaluate_draft(user=world.aid_officer, draft=draft)
    # then
    assert c.ok and c.students == 2
    assert rows(c.programmes) == {
        "compulsory_waiver": (D("440.00"), D("440.00"), 2, 2),
        "boarding_subsidy": (D("1000.00"), D("1200.00"), 1, 1),
    }
    assert rows(c.townships) == {
        "420101001": (D("1180.00"), D("1380.00"), 1, 1),
        "420101002": (D("260.00"), D("260.00"), 1, 1),
    }
    assert [r.label for r in c.townships] == ["甲镇", "乙乡"]
    assert rows(c.semesters) == {
        "autumn": (D("720.00"), D("820.00"), 2, 2),
        "spring": (D("720.00"), D("820.00"), 2, 2),
    }
    assert rows(c.stages) == {
        "primary": (D("1180.00"), D("1380.00"), 1, 1),
        "junior": (D("260.00"), D("260.00"), 1, 1),
    }
    assert (c.total.current, c.total.draft, c.total.difference) == (
        D("1440.00"),
        D("1640.00"),
        D("200.00"),
    )
    assert (c.gainers, c.losers, c.unchanged) == (1, 0, 1)
    assert [b.students_current for b in c.bands] == [0, 0, 0, 1, 0, 0]
    assert [(g.name, g.school, g.township, g.difference) for g in c.gains] == [
        ("张小明", "甲镇中心小学", "甲镇", D("200.00"))
    ]
    assert c.losses == []
    assert (c.transition.current, c.transition.draft, c.transition.students_current) == (
        D("260.00"),
        D("260.00"),
        1,
    )


def test_removing_a_programme_loses_it_for_its_students(world: Any) -> None:
    draft = draft_of(without_boarding(shipped_source(2018)), world.aid_officer)
    c = whatif.evaluate_draft(user=world.aid_officer, draft=draft)
    assert c.ok, c.errors
    assert rows(c.programmes)["boarding_subsidy"] == (D("1000.00"), D("0.00"), 1, 0)
    assert (c.total.draft, c.gainers, c.losers, c.unchanged) == (D("440.00"), 0, 1, 1)
    # exactly 1,000 yuan less falls in "lose 1,000 yuan or more"
    assert [b.students_current for b in c.bands] == [1, 0, 0, 0, 0, 0]
    assert [(x.name, x.current, x.draft) for x in c.losses] == [
        ("张小明", D("1180.00"), D("180.00"))
    ]


def test_transition_rule_cost_current_and_draft(world: Any) -> None:
    # a higher junior waiver: the transition household's child costs more
    raised = whatif.set_amounts(shipped_source(2018), {"compulsory_waiver_junior": D("300.00")})
    c = whatif.evaluate_draft(user=world.aid_officer, draft=draft_of(raised, world.aid_officer))
    assert (c.transition.current, c.transition.draft) == (D("260.00"), D("300.00"))
    # no transition years: households that left poverty lose their policies
    none = shipped_source(2018).replace("transition_years: 3", "transition_years: 0")
    c = whatif.evaluate_draft(user=world.aid_officer, draft=draft_of(none, world.aid_officer))
    assert c.transition_years == (3, 0)
    assert (c.transition.current, c.transition.draft) == (D("260.00"), D("0.00"))
    assert (c.transition.students_current, c.transition.students_draft) == (1, 0)
    assert [(x.name, x.difference) for x in c.losses] == [("李小红", D("-260.00"))]
    assert [b.students_current for b in c.bands] == [0, 0, 1, 0, 0, 0]


def test_current_book_is_the_countys_latest_version(world: Any) -> None:
    # the county's own version 1 already pays boarders 1,100: the draft (shipped) loses 100
    services.rulebook_save(
        actor=world.aid_officer,
        school_year=2018,
        source=whatif.set_amounts(shipped_source(2018), {"boarding_primary": D("1100")}),
        reason="test",
    )
    c = whatif.evaluate_draft(
        user=world.aid_officer, draft=draft_of(shipped_source(2018), world.aid_officer)
    )
    assert c.current_label == "2018 v1"
    assert rows(c.programmes)["boarding_subsidy"][:2] == (D("1100.00"), D("1000.00"))


def test_invalid_draft_names_the_line_and_evaluates_nothing(world: Any) -> None:
    text = shipped_source(2018).replace('amount: "1250.00"', "amount: 1250.5")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "1250.5" in t)
    c = whatif.evaluate_draft(user=world.aid_officer, draft=draft_of(text, world.aid_officer))
    assert not c.ok and c.students == 0 and c.programmes == []
    assert [(ln, "quoted string" in m) for _s, ln, m in c.errors] == [(line, True)]
    # another year's book is refused too
    other = shipped_source(2018).replace("school_year: 2018", "school_year: 2019", 1)
    c = whatif.evaluate_draft(user=world.aid_officer, draft=draft_of(other, world.aid_officer))
    assert "2019" in c.errors[0][2]


def test_evaluation_writes_nothing_to_aid(world: Any) -> None:
    services.aid_compute(
        actor=world.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )

    def state() -> Any:
        return (
            sorted(Entitlement.objects.values_list("id", "amount", "review", "rule_id")),
            Adjustment.objects.count(),
            AidComputation.objects.count(),
            Payment.objects.count(),
            RuleBookVersion.objects.count(),
        )

    before = state()
    draft = draft_of(without_boarding(shipped_source(2018)), world.aid_officer)
    client = login(world.aid_officer)
    assert (
        client.get(reverse("centre:what-if-result", kwargs={"draft_id": draft.pk})).status_code
        == 200
    )
    assert (
        client.get(reverse("centre:what-if-xlsx", kwargs={"draft_id": draft.pk})).status_code == 200
    )
    assert state() == before


def test_pages_make_edit_and_delete_a_draft_with_preview(world: Any) -> None:
    client = login(world.aid_officer)
    url = reverse("centre:what-if")
    # new draft: preview, then confirm
    r = client.post(url, {"year": "2018", "name": "Boarding +200"})
    assert r.status_code == 200 and "Confirm: make the draft" in r.text
    assert not RuleDraft.objects.exists()
    r = client.post(url, {"year": "2018", "name": "Boarding +200", "confirm": "1"})
    draft = RuleDraft.objects.get()
    assert r.status_code == 302 and draft.text == shipped_source(2018)
    assert draft.based_on == "2018 as shipped" and draft.county_code == "420101"
    durl = reverse("centre:what-if-draft", kwargs={"draft_id": draft.pk})
    # the amount form: a bad amount names the rule
    r = client.post(durl, {"action": "amounts", "amount:boarding_primary": "12,00"})
    assert r.status_code == 400 and "Rule boarding_primary, amount" in r.text
    # a good one is previewed (nothing saved) ...
    r = client.post(durl, {"action": "amounts", "amount:boarding_primary": "1200"})
    assert r.status_code == 200 and "Confirm: save the draft" in r.text and "1200.00" in r.text
    draft.refresh_from_db()
    assert draft.text == shipped_source(2018)
    # ... then saved on confirmation, audited
    text = r.context["text"]
    r = client.post(
        durl, {"action": "save", "text": text, "digest": whatif.digest(text), "name": "B"}
    )
    assert r.status_code == 302
    draft.refresh_from_db()
    assert 'amount: "1200.00"' in draft.text and draft.name == "B"
    assert AuditEvent.objects.filter(action="dashboard.rule_draft_save").count() == 1
    # the YAML form refuses a broken text with its line
    r = client.post(durl, {"action": "preview", "text": "school_year: 2018\nrules: [\n"})
    assert r.status_code == 400 and "line " in r.text and "not valid YAML" in r.text
    # the result page
    r = client.get(reverse("centre:what-if-result", kwargs={"draft_id": draft.pk}))
    assert r.status_code == 200 and "+200.00" in r.text and len(r.content) < 300_000
    # delete: confirmation first
    r = client.post(durl, {"action": "delete"})
    assert r.status_code == 200 and RuleDraft.objects.exists()
    r = client.post(durl, {"action": "delete-confirm"})
    assert r.status_code == 302 and not RuleDraft.objects.exists()
    assert AuditEvent.objects.filter(action="dashboard.rule_draft_delete").count() == 1


@pytest.mark.parametrize("who", ["township_a", "principal_a", "teacher_a", "nobody"])
def test_only_county_users_see_drafts(world: Any, who: str) -> None:
    draft = draft_of(shipped_source(2018), world.aid_officer)
    client = login(getattr(world, who))
    for name, kwargs in [
        ("centre:what-if", {}),
        ("centre:what-if-draft", {"draft_id": draft.pk}),
        ("centre:what-if-result", {"draft_id": draft.pk}),
        ("centre:what-if-xlsx", {"draft_id": draft.pk}),
    ]:
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 403, name
    with pytest.raises(PermissionDenied):
        whatif.evaluate_draft(user=getattr(world, who), draft=draft)
    assert list(whatif.draft_list(user=getattr(world, who))) == []


def test_a_county_user_reads_but_only_the_aid_centre_edits(world: Any) -> None:
    draft = draft_of(shipped_source(2018), world.aid_officer)
    client = login(world.bureau_leader)
    assert (
        client.get(reverse("centre:what-if-result", kwargs={"draft_id": draft.pk})).status_code
        == 200
    )
    durl = reverse("centre:what-if-draft", kwargs={"draft_id": draft.pk})
    assert client.post(durl, {"action": "delete-confirm"}).status_code == 403
    assert (
        client.post(reverse("centre:what-if"), {"year": "2018", "confirm": "1"}).status_code == 403
    )
    assert RuleDraft.objects.count() == 1


def test_another_countys_draft_is_not_found(world: Any) -> None:
    other = RuleDraft.objects.create(
        county_code="420102", school_year=2018, name="other", text=shipped_source(2018)
    )
    client = login(world.aid_officer)
    for name in ("centre:what-if-draft", "centre:what-if-result", "centre:what-if-xlsx"):
        assert client.get(reverse(name, kwargs={"draft_id": other.pk})).status_code == 404
    assert "other" not in client.get(reverse("centre:what-if")).text


def test_xlsx_has_the_tables(world: Any) -> None:
    import io

    import openpyxl

    text = whatif.set_amounts(shipped_source(2018), {"boarding_primary": D("1200")})
    draft = draft_of(text, world.aid_officer)
    r = login(world.aid_officer).get(reverse("centre:what-if-xlsx", kwargs={"draft_id": draft.pk}))
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    township = book["By township"]
    values = [[c.value for c in row] for row in township.iter_rows(min_row=3)]
    assert values == [
        ["甲镇", 1, "1180.00", 1, "1380.00", "200.00"],
        ["乙乡", 1, "260.00", 1, "260.00", "0.00"],
    ]

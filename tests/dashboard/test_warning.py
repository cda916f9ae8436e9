"""Dropout early warning: hand-made students with known signals, scores and words checked by hand.

The world (tests/conftest.py) is school year 2018; the list is asked for 1 November 2018 (D).
Students (all of registered-poor households, enrolled in 2018):
  王一  primary 5, school A, class A; born 2005-06-01 (13 on 31 Aug 2018, grade 5 is 10: +3);
        also on the 2017 roll in primary 5 (a repeat); left-behind      -> 2 + 2 + 1 = 5
  赵二  junior 3 (grade 9), school B; disability 肢体 grade 2; household left poverty on
        2018-03-01                                                       -> 2 + 1 + 2 = 5
  钱三  primary 2, school A; absence reported 2018-10-15 (5 days); a dropout episode of
        2017-03-01 (closed 2017-05-01)                                   -> 3 + 4 = 7
  孙四  primary 6, school A, boarding; lives in 乙村, 0.2 degree of latitude (22.2 km) from
        the school's village                                             -> 2 + 1 = 3
  张小明, 李小红 (the world's own): no signal                              -> 0
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from tests.conftest import County, Personas

from jingzhun.core.audit import audit_record
from jingzhun.core.sensitive import seal
from jingzhun.dashboard import warning
from jingzhun.dashboard.warning import Filters, backtest, risk_list
from jingzhun.dashboard.warning_rules import RULES_DIR, WeightsError, load_weights, parse_weights
from jingzhun.duty.models import DropoutCase
from jingzhun.identification.models import ChildStatus, IdentificationRun
from jingzhun.registry.models import Household, HouseholdStatusChange, Person
from jingzhun.schools.models import Enrolment, School, Stage, Student

pytestmark = pytest.mark.django_db

D = dt.date(2018, 11, 1)
WEIGHTS = RULES_DIR / "early-warning-1.yaml"


def _child(
    c: County,
    household: Household,
    name: str,
    birth: dt.date,
    school: School,
    stage: str,
    grade: int,
    n: int,
    **person: Any,
) -> tuple[Person, Student]:
    number = f"42010120{n:02d}0101{n:03d}X"
    p = Person.objects.create(
        household=household,
        name=name,
        sex="M",
        birth_date=birth,
        relation="之子",
        **person,
        **seal(number, prefix="id", purpose="id"),
    )
    s = Student.objects.create(
        county_code="420101",
        **seal("G" + number, prefix="roll", purpose="roll"),
        name=name,
        sex="M",
        birth_date=birth,
        id_status="valid",
        poor_flag=True,
        person=p,
    )
    return p, s


def _enrol(s: Student, school: School, stage: str, grade: int, **kw: Any) -> Enrolment:
    return Enrolment.objects.create(
        student=s,
        school=school,
        school_year=kw.pop("school_year", 2018),
        stage=stage,
        grade=grade,
        **kw,
    )


@pytest.fixture
def kids(county: County) -> dict[str, Any]:
    c = county
    c.village_a.longitude, c.village_a.latitude = Decimal("114.000000"), Decimal("30.000000")
    c.village_a.save()
    c.village_b.longitude, c.village_b.latitude = Decimal("114.000000"), Decimal("30.200000")
    c.village_b.save()
    hc = Household.objects.create(household_no="4201010020010002", village=c.village_b)
    HouseholdStatusChange.objects.create(
        household=hc, status="left_poverty", year=2018, recorded_on=dt.date(2018, 3, 1)
    )
    hd = Household.objects.create(household_no="4201010020010003", village=c.village_b)
    p1, s1 = _child(
        c, c.household_a, "王一", dt.date(2005, 6, 1), c.school_a, "primary", 5, 1, left_behind=True
    )
    _enrol(s1, c.school_a, Stage.PRIMARY, 5, school_class=c.class_a)
    _enrol(s1, c.school_a, Stage.PRIMARY, 5, school_year=2017)
    p2, s2 = _child(
        c,
        hc,
        "赵二",
        dt.date(2004, 5, 5),
        c.school_b,
        "junior",
        3,
        2,
        disability_kind="肢体",
        disability_grade=2,
    )
    _enrol(s2, c.school_b, Stage.JUNIOR, 3)
    p3, s3 = _child(c, c.household_a, "钱三", dt.date(2011, 3, 3), c.school_a, "primary", 2, 3)
    _enrol(s3, c.school_a, Stage.PRIMARY, 2)
    place = {"village_code": c.village_a.code, "school": c.school_a}
    DropoutCase.objects.create(
        person=p3,
        student=s3,
        source="absence",
        reason="缺课",
        absence_days=5,
        opened_on=dt.date(2018, 10, 15),
        last_step_on=dt.date(2018, 10, 15),
        **place,
    )
    DropoutCase.objects.create(
        person=p3,
        student=s3,
        source="identification",
        reason="辍学",
        episode=2,
        opened_on=dt.date(2017, 3, 1),
        last_step_on=dt.date(2017, 5, 1),
        status="closed",
        closed_on=dt.date(2017, 5, 1),
        **place,
    )
    p4, s4 = _child(c, hd, "孙四", dt.date(2006, 10, 10), c.school_a, "primary", 6, 4)
    _enrol(s4, c.school_a, Stage.PRIMARY, 6, boarding=True)
    return {"p1": p1, "p2": p2, "p3": p3, "p4": p4, "s4": s4, "hc": hc, "hd": hd}


def _scores(rows: list[warning.RiskRow]) -> list[tuple[str, int, str]]:
    return [(r.name, r.score, r.words) for r in rows]


def test_scores_and_words_by_hand(personas: Personas, kids: dict[str, Any]) -> None:
    result = risk_list(user=personas.county_officer, on=D, filters=Filters(min_score=0))
    assert _scores(result.rows) == [
        (
            "钱三",
            7,
            "absence reported on 2018-10-15 (5 days); "
            "out of school before: dropout episode of 2017-03-01",
        ),
        ("王一", 5, "over-age by 3 years for grade 5; repeated grade 5 in 2018; left-behind child"),
        (
            "赵二",
            5,
            "disability: 肢体, grade 2; household left poverty on 2018-03-01; "
            "last year of junior high (grade 9 to 10)",
        ),
        ("孙四", 3, "last year of primary school (grade 6 to 7); boards 22.2 km from home"),
        ("张小明", 0, ""),
        ("李小红", 0, ""),
    ]
    assert result.population == 6
    # no filter: the file's list_from (2) hides the students with no signal
    shown = risk_list(user=personas.county_officer, on=D)
    assert [r.name for r in shown.rows] == ["钱三", "王一", "赵二", "孙四"]
    assert shown.unrecorded == []


def test_words_in_chinese(personas: Personas, kids: dict[str, Any]) -> None:
    from django.utils import translation

    with translation.override("zh-hans"):
        rows = risk_list(user=personas.county_officer, on=D).rows
        assert rows[1].grade_name == "五年级"


def test_filters(personas: Personas, kids: dict[str, Any], county: County) -> None:
    officer = personas.county_officer
    names = lambda f: [r.name for r in risk_list(user=officer, on=D, filters=f).rows]  # noqa: E731
    assert names(Filters(township=county.township_b.code)) == ["赵二"]
    assert names(Filters(school_id=county.school_a.pk)) == ["钱三", "王一", "孙四"]
    assert names(Filters(grade="primary-6")) == ["孙四"]
    assert names(Filters(signal="left_behind")) == ["王一"]
    assert names(Filters(min_score=5)) == ["钱三", "王一", "赵二"]
    assert names(Filters(class_id=county.class_a.pk)) == ["王一"]


def test_a_weights_change_changes_the_scores(
    personas: Personas, kids: dict[str, Any], tmp_path: Path
) -> None:
    text = WEIGHTS.read_text(encoding="utf-8").replace(
        "  transition:\n    weight: 2", "  transition:\n    weight: 5"
    )
    changed = tmp_path / "early-warning-2.yaml"
    changed.write_text(text, encoding="utf-8")
    weights = load_weights(changed)
    rows = risk_list(user=personas.county_officer, on=D, weights=weights).rows
    assert [(r.name, r.score) for r in rows] == [("赵二", 8), ("钱三", 7), ("孙四", 6), ("王一", 5)]
    assert weights.digest != load_weights(WEIGHTS).digest


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "    weight: 4",
            "    weight: four",
            "early-warning-1.yaml: signals.earlier_dropout.weight",
        ),
        ("valid_from: 2026-09-01", "valid_from: soon", "valid_from: must be a date"),
        ("    km: 10", "    kms: 10", "signals.boarding_distance.km: missing"),
        ("  left_behind:\n", "  left_behinds:\n", "signals.left_behinds: not a signal"),
    ],
)
def test_a_bad_weights_file_names_key_and_reason(old: str, new: str, message: str) -> None:
    text = WEIGHTS.read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(WeightsError, match=message.replace(".", r"\.")):
        parse_weights(text.replace(old, new, 1).encode(), where="early-warning-1.yaml")


def test_records_after_the_day_change_nothing(
    personas: Personas, kids: dict[str, Any], county: County
) -> None:
    before = _scores(
        risk_list(user=personas.county_officer, on=D, filters=Filters(min_score=0)).rows
    )
    later = D + dt.timedelta(days=1)
    HouseholdStatusChange.objects.create(
        household=county.household_a, status="removed", recorded_on=later
    )
    DropoutCase.objects.create(
        person=kids["p4"],
        student=kids["s4"],
        source="absence",
        reason="缺课",
        absence_days=9,
        opened_on=later,
        last_step_on=later,
        village_code=county.village_b.code,
        school=county.school_a,
    )
    p, s = _child(
        county, county.household_b, "周五", dt.date(2009, 1, 1), county.school_b, "junior", 3, 5
    )
    _enrol(s, county.school_b, Stage.JUNIOR, 3, enrolled_on=later)
    county.enrolment_b.status = "dropped_out"
    county.enrolment_b.status_date = later
    county.enrolment_b.save()
    cache.clear()  # the records above were made by hand, without the audited services
    after = _scores(
        risk_list(user=personas.county_officer, on=D, filters=Filters(min_score=0)).rows
    )
    assert after == before
    # and on the later day they count
    now = {
        r.name: r.score
        for r in risk_list(
            user=personas.county_officer, on=later, filters=Filters(min_score=0)
        ).rows
    }
    assert "周五" in now and "李小红" not in now and "张小明" not in now and now["孙四"] == 6


def _absence(p: Person, s: Student, county: County, on: dt.date) -> None:
    DropoutCase.objects.create(
        person=p,
        student=s,
        source="absence",
        reason="缺课",
        absence_days=12,
        opened_on=on,
        last_step_on=on,
        village_code=county.village_b.code,
        school=county.school_b,
    )


def test_ties_are_broken_by_signals_then_strongest_then_latest_absence(
    personas: Personas, kids: dict[str, Any], county: County
) -> None:
    # Five students score 5 (by name alone: 丁六, 吴七, 王一, 赵二, 陈八 in code-point order):
    #   陈八 absence 2018-10-20 (3) + left-behind (1) + household change (1): 3 signals, top 3
    #   吴七 the same with the absence on 2018-10-01: 3 signals, top 3, an older absence
    #   王一 over-age 2 + repeat 2 + left-behind 1: 3 signals, top 2
    #   赵二 disability 2 + household change 1 + transition 2: 3 signals, top 2 (王 < 赵)
    #   丁六 earlier episode (4) + left-behind (1): 2 signals
    c, hc, hd = county, kids["hc"], kids["hd"]
    born = dt.date(2010, 5, 1)  # 8 on 31 Aug 2018: the age of grade 3
    for name, n, on in (("陈八", 8, dt.date(2018, 10, 20)), ("吴七", 7, dt.date(2018, 10, 1))):
        p, s = _child(c, hc, name, born, c.school_b, "primary", 3, n, left_behind=True)
        _enrol(s, c.school_b, Stage.PRIMARY, 3)
        _absence(p, s, c, on)
    p, s = _child(c, hd, "丁六", born, c.school_b, "primary", 3, 6, left_behind=True)
    _enrol(s, c.school_b, Stage.PRIMARY, 3)
    DropoutCase.objects.create(
        person=p,
        student=s,
        source="identification",
        reason="辍学",
        opened_on=dt.date(2017, 3, 1),
        last_step_on=dt.date(2017, 5, 1),
        status="closed",
        closed_on=dt.date(2017, 5, 1),
        village_code=c.village_b.code,
        school=c.school_b,
    )
    rows = risk_list(user=personas.county_officer, on=D, filters=Filters(min_score=5)).rows
    assert [(r.name, r.score, len(r.signals), r.strongest) for r in rows] == [
        ("钱三", 7, 2, 4),
        ("陈八", 5, 3, 3),
        ("吴七", 5, 3, 3),
        ("王一", 5, 3, 2),
        ("赵二", 5, 3, 2),
        ("丁六", 5, 2, 4),
    ]
    assert rows[1].last_absence == dt.date(2018, 10, 20)
    assert rows[2].last_absence == dt.date(2018, 10, 1)


def test_the_list_is_cached_until_the_data_changes(
    personas: Personas, kids: dict[str, Any], county: County
) -> None:
    officer = personas.county_officer
    with CaptureQueriesContext(connection) as first:
        rows = risk_list(user=officer, on=D, filters=Filters(min_score=0)).rows
    with CaptureQueriesContext(connection) as again:
        shown = risk_list(user=officer, on=D, filters=Filters(school_id=county.school_a.pk)).rows
    # served from the cache: the data version and the scope, none of the list's own reads
    assert len(again) <= 3 < len(first)
    assert [r.name for r in shown] == ["钱三", "王一", "孙四"]
    assert [r.name for r in rows][:4] == ["钱三", "王一", "赵二", "孙四"]
    # another jurisdiction has its own entry
    assert [r.name for r in risk_list(user=personas.township_b, on=D).rows] == ["赵二"]
    # a change recorded through an audited service makes a new entry
    _absence(kids["p4"], kids["s4"], county, dt.date(2018, 10, 30))
    audit_record(actor=None, action="duty.case_open", object_type="case", object_id="1")
    after = {r.name: r.score for r in risk_list(user=officer, on=D).rows}
    assert after["孙四"] == 6


def test_scoped_per_role(personas: Personas, kids: dict[str, Any]) -> None:
    def names(user: Any) -> list[str]:
        return [r.name for r in risk_list(user=user, on=D, filters=Filters(min_score=0)).rows]

    assert names(personas.teacher_a) == ["王一", "张小明"]
    assert names(personas.principal_a) == ["钱三", "王一", "孙四", "张小明"]
    assert names(personas.township_b) == ["赵二", "李小红"]
    assert names(personas.nobody) == []


def _runs(county: County, kids: dict[str, Any]) -> None:
    for day in (D, dt.date(2018, 12, 1)):
        IdentificationRun.objects.create(
            county_code="420101",
            as_of=day,
            school_year=2018,
            status="done",
            inputs_hash=str(day),
            counts={},
        )
    later = IdentificationRun.objects.get(as_of=dt.date(2018, 12, 1))
    for person, category in ((kids["p4"], "suspected_dropout"), (county.person_a, "dropped_out")):
        ChildStatus.objects.create(
            run=later,
            person=person,
            category=category,
            age=12,
            household_status="registered",
            village_code=county.village_a.code,
        )
    # found by the run of the day itself: not a later dropout
    ChildStatus.objects.create(
        run=IdentificationRun.objects.get(as_of=D),
        person=kids["p1"],
        category="dropped_out",
        age=13,
        household_status="registered",
        village_code=county.village_a.code,
    )


def test_backtest_by_hand(personas: Personas, kids: dict[str, Any], county: County) -> None:
    # ranking as of D: 钱三 7, 王一 5, 赵二 5, 孙四 3, 张小明 0, 李小红 0; later out: 孙四, 张小明
    _runs(county, kids)
    assert warning.default_backtest_day(user=personas.county_officer) == D
    bt = backtest(user=personas.county_officer, as_of=D, k_values=(1, 4, 5, 10))
    assert (bt.population, bt.dropouts, bt.warned, bt.warned_hits) == (6, 2, 4, 1)
    assert [(a.k, a.hits, a.precision, a.recall) for a in bt.at_k] == [
        (1, 0, 0.0, 0.0),
        (4, 1, 0.25, 0.5),
        (5, 2, 0.4, 1.0),
        (10, 2, 2 / 6, 1.0),
    ]
    assert bt.base_rate == 2 / 6 and bt.recall == 0.5 and bt.precision == 0.25
    assert bt.runs_after == [dt.date(2018, 12, 1)]


def test_backtest_ignores_what_was_recorded_after_the_day(
    personas: Personas, kids: dict[str, Any], county: County
) -> None:
    _runs(county, kids)
    first = backtest(user=personas.county_officer, as_of=D, k_values=(4,))
    later = D + dt.timedelta(days=3)
    DropoutCase.objects.create(
        person=kids["p4"],
        student=kids["s4"],
        source="identification",
        reason="辍学",
        opened_on=later,
        last_step_on=later,
        village_code=county.village_b.code,
        school=county.school_a,
    )
    cache.clear()  # made by hand, without the audited service the cache keys on
    again = backtest(user=personas.county_officer, as_of=D, k_values=(4,))
    assert (again.population, again.dropouts, again.at_k) == (
        first.population,
        first.dropouts,
        first.at_k,
    )


def _en(client: Client) -> Client:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_pages_render(
    client: Client, personas: Personas, kids: dict[str, Any], county: County
) -> None:
    _runs(county, kids)
    _en(client).force_login(personas.county_officer)
    response = client.get(reverse("centre:warning"), {"on": "2018-11-01"})
    text = response.content.decode()
    assert response.status_code == 200
    assert "钱三" in text and "boards 22.2 km from home" in text and "张小明" not in text
    assert "Weights version 1" in text and load_weights(WEIGHTS).short_digest in text
    assert "among equal scores, more signals first" in text
    assert len(response.content) < 300_000
    text = client.get(
        reverse("centre:warning"), {"on": "2018-11-01", "reason": "left_behind"}
    ).content.decode()
    assert "王一" in text and "钱三" not in text
    response = client.get(reverse("centre:warning-backtest"))
    text = response.content.decode()
    assert response.status_code == 200
    assert 'id="jz-population">6<' in text and 'id="jz-dropouts">2<' in text
    assert 'data-k="10"' in text and "0.333" in text


def test_xlsx_holds_the_filtered_rows(
    client: Client, personas: Personas, kids: dict[str, Any], county: County
) -> None:
    _en(client).force_login(personas.county_officer)
    response = client.get(
        reverse("centre:warning-xlsx"), {"on": "2018-11-01", "school": str(county.school_a.pk)}
    )
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = [tuple(r) for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert [(r[0], r[1]) for r in rows] == [(7, "钱三"), (5, "王一"), (3, "孙四")]


def test_refused_without_jurisdiction(client: Client, personas: Personas) -> None:
    client.force_login(personas.nobody)
    assert client.get(reverse("centre:warning")).status_code == 403
    assert client.get(reverse("centre:warning-xlsx")).status_code == 403
    assert client.get(reverse("centre:warning-backtest")).status_code == 403


def test_check_on_phone_page(
    client: Client, personas: Personas, kids: dict[str, Any], county: County, settings: Any
) -> None:
    # the phone page reads today: move the class's pupils to today's school year
    today = timezone.localdate()
    year = today.year if today.month >= 9 else today.year - 1
    Enrolment.objects.filter(school_year=2018).update(school_year=year)
    Enrolment.objects.filter(school_year=2017).update(school_year=year - 1)
    _en(client).force_login(personas.teacher_a)
    text = client.get(reverse("centre:check-on")).content.decode()
    assert "王一" in text and "left-behind child" in text and "钱三" not in text
    home = client.get(reverse("mobile:home")).content.decode()
    assert reverse("centre:check-on") in home
    client.force_login(personas.county_officer)
    assert "钱三" not in client.get(reverse("centre:check-on")).content.decode()

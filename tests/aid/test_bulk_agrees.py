"""The bulk evaluator agrees with the single-case evaluator on random profiles and books.

For a random list of profiles and a random semester, evaluate_bulk on the whole list gives
exactly the union of evaluate_case's lines for each profile, under the shipped 2018 book,
the v2 book (a rule change between semesters), books with another transition_years, and a
book whose once-unit rules pay in spring.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from jingzhun.aid.bulk import FULL_PROFILE_SCHEMA, PROFILE_SCHEMA, eligible_rows, evaluate_bulk
from jingzhun.aid.evaluate import DEGREE_LEVELS, Profile, evaluate_case
from jingzhun.aid.rulebook import LOCATIONS, STAGES, RuleBook, load_rulebook, shipped_source

V2 = Path(__file__).parent / "cases" / "books" / "2018-v2.yaml"
FIRST_DAY = dt.date(2018, 6, 1)
LAST_DAY = dt.date(2019, 9, 30)
BOOKS = ["shipped", "v2", "pay-in-spring"] + [f"transition-{n}" for n in range(6)]


def _edit(text: str, old: str, new: str, count: int) -> str:
    assert text.count(old) == count, (old, text.count(old))
    return text.replace(old, new)


@functools.cache
def book(name: str) -> RuleBook:
    text = shipped_source(2018)
    if name == "v2":
        text = V2.read_text(encoding="utf-8")
    elif name == "pay-in-spring":
        text = _edit(text, "    unit: once\n", "    unit: once\n    pay_in: spring\n", 2)
    elif name.startswith("transition-"):
        years = int(name.removeprefix("transition-"))
        text = _edit(text, "\ntransition_years: 3\n", f"\ntransition_years: {years}\n", 1)
    else:
        assert name == "shipped"
    loaded = load_rulebook(text, source=name)
    if name.startswith("transition-"):
        assert loaded.transition_years == int(name.removeprefix("transition-"))
    return loaded


def test_book_variants_load() -> None:
    assert {name: len(book(name).rules) for name in BOOKS} == {
        name: 16 if name == "v2" else 15 for name in BOOKS
    }
    assert {r.pay_in for r in book("pay-in-spring").rules if r.unit == "once"} == {"spring"}


dates = st.none() | st.dates(min_value=FIRST_DAY, max_value=LAST_DAY)


@st.composite
def profiles(draw: st.DrawFn) -> Profile:
    enrolled_on = draw(dates)
    left_on = draw(dates)
    if enrolled_on is not None and left_on is not None:
        if left_on < enrolled_on:
            enrolled_on, left_on = left_on, enrolled_on
        if left_on == enrolled_on:
            left_on = enrolled_on + dt.timedelta(days=1)
    return Profile(
        stage=draw(st.sampled_from(STAGES)),
        grade=draw(st.integers(min_value=0, max_value=6)),
        boarding=draw(st.booleans()),
        location=draw(st.sampled_from(LOCATIONS)),
        household_status=draw(st.sampled_from(("registered", "left_poverty", "removed"))),
        exit_year=draw(st.none() | st.integers(min_value=2012, max_value=2019)),
        enrolled_on=enrolled_on,
        left_on=left_on,
        # '' (no university list) half the time, so the grade fallback is drawn as often.
        degree=draw(st.sampled_from(("", *DEGREE_LEVELS))),
        freshman=draw(st.booleans()),
    )


def _line(student_id: int, line: dict[str, Any]) -> tuple[Any, ...]:
    amount = line["amount"]
    minimum = line["minimum"]
    return (
        student_id,
        line["programme"],
        line["kind"],
        Decimal(amount) if isinstance(amount, str) else amount,
        line["rule_id"],
        line["clause"],
        line["unit"],
        Decimal(minimum) if isinstance(minimum, str) else minimum,
    )


def single(rule_book: RuleBook, people: list[Profile], semester: str) -> Counter[tuple[Any, ...]]:
    return Counter(
        _line(i, line.as_dict())
        for i, person in enumerate(people)
        for line in evaluate_case(rule_book, person, semester)
    )


def bulk(
    rule_book: RuleBook, people: list[Profile], semester: str
) -> tuple[Counter[tuple[Any, ...]], list[dict[str, Any]]]:
    rows = [{"student_id": i, **vars(person)} for i, person in enumerate(people)]
    result = evaluate_bulk(
        rule_book, pa.Table.from_pylist(rows, schema=FULL_PROFILE_SCHEMA), semester
    )
    out = result.to_pylist()
    for row in out:
        assert isinstance(row["amount"], Decimal)
    return Counter(_line(row["student_id"], row) for row in out), out


@settings(max_examples=200, deadline=None, database=None)
@given(
    people=st.lists(profiles(), max_size=25),
    semester=st.sampled_from(("autumn", "spring")),
    book_name=st.sampled_from(BOOKS),
)
def test_bulk_is_the_union_of_single_cases(
    people: list[Profile], semester: str, book_name: str
) -> None:
    rule_book = book(book_name)
    lines, rows = bulk(rule_book, people, semester)
    assert lines == single(rule_book, people, semester)
    # The profile's columns come through unchanged on each of its lines.
    for row in rows:
        person = people[row["student_id"]]
        assert {k: row[k] for k in vars(person)} == vars(person)


@settings(max_examples=200, deadline=None, database=None)
@given(
    person=profiles(),
    semester=st.sampled_from(("autumn", "spring")),
    years=st.integers(min_value=0, max_value=5),
)
def test_transition_years_agree(person: Profile, semester: str, years: int) -> None:
    """One profile against every transition length: eligibility is the same in both."""
    rule_book = book(f"transition-{years}")
    lines, _rows = bulk(rule_book, [person], semester)
    assert lines == single(rule_book, [person], semester)
    eligible = rule_book.household_eligible(person.household_status, person.exit_year)
    if not eligible:
        assert lines == Counter()
    if person.household_status == "left_poverty" and person.exit_year is not None:
        assert eligible == (2018 < person.exit_year + years)


def test_bulk_text_columns_group_by_value() -> None:
    """Two rules of one programme give one dictionary entry, so grouping by code is by value."""
    book = load_rulebook(shipped_source(2018))
    profiles = pa.table(
        {
            "student_id": [1, 2],
            "stage": ["primary", "junior"],
            "grade": [3, 2],
            "boarding": [True, True],
            "location": ["in_county", "in_county"],
            "household_status": ["registered", "registered"],
            "exit_year": [None, None],
            "enrolled_on": [dt.date(2018, 9, 1), None],
            "left_on": [None, None],
        },
        schema=PROFILE_SCHEMA,
    )
    lines = evaluate_bulk(book, profiles, "autumn")
    programme = lines.column("programme").combine_chunks()
    values = programme.dictionary.to_pylist()
    assert len(values) == len(set(values))
    counts = {d["values"]: d["counts"] for d in programme.value_counts().to_pylist()}
    assert counts == {"boarding_subsidy": 2, "compulsory_waiver": 2}


def test_eligible_rows_follow_the_transition_rule() -> None:
    book = load_rulebook(shipped_source(2018))
    cases = [
        ("registered", None),
        ("left_poverty", 2015),
        ("left_poverty", 2016),
        ("left_poverty", None),
        ("removed", None),
    ]
    profiles = pa.table(
        {
            "student_id": list(range(len(cases))),
            "household_status": [c[0] for c in cases],
            "exit_year": pa.array([c[1] for c in cases], pa.int16()),
        }
    )
    kept = eligible_rows(book, profiles).column("student_id").to_pylist()
    assert kept == [i for i, (s, y) in enumerate(cases) if book.household_eligible(s, y)]
    assert kept == [0, 2]

"""OpenFisca-style rule cases: every YAML case in cases/, through both evaluators.

Each case file is a list of cases with exactly the keys below. A case names a profile, a
semester of the book's school year, optionally another rule book (a path relative to
cases/), and the full list of lines expected. The single-case evaluator and the bulk
evaluator (on a one-row Arrow table) must both give exactly those lines.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from jingzhun.aid.bulk import FULL_PROFILE_SCHEMA, evaluate_bulk
from jingzhun.aid.evaluate import Profile, evaluate_case
from jingzhun.aid.rulebook import RuleBook, load_rulebook, shipped_source

CASES_DIR = Path(__file__).parent / "cases"
CASE_FILES = (
    "II.1.1.yaml",
    "II.1.2.yaml",
    "II.1.3.yaml",
    "II.1.4.yaml",
    "II.1.5.yaml",
    "II.1.6.yaml",
    "periods.yaml",
    "transition.yaml",
)
CASE_KEYS = {"name", "profile", "school_year", "semester", "rule_book", "expected"}
REQUIRED_KEYS = CASE_KEYS - {"rule_book"}
LINE_KEYS = {"programme", "amount", "kind", "clause", "rule_id"}
SEMESTERS = ("autumn", "spring")


class CaseFileError(Exception):
    """A case file that is not in the expected shape."""


@dataclass(frozen=True)
class Case:
    file: str
    name: str
    profile: Profile
    school_year: int
    semester: str
    rule_book: str | None
    expected: tuple[dict[str, Any], ...]

    @property
    def id(self) -> str:
        return f"{self.file}/{self.name}"


def _expected_line(where: str, index: int, raw: Any) -> dict[str, Any]:
    here = f"{where}, expected line {index + 1}"
    if not isinstance(raw, dict):
        raise CaseFileError(f"{here}: must be a mapping, got {raw!r}")
    unknown = set(raw) - LINE_KEYS
    if unknown:
        raise CaseFileError(
            f"{here}: unknown keys {sorted(unknown)} (allowed: {sorted(LINE_KEYS)})"
        )
    missing = LINE_KEYS - set(raw)
    if missing:
        raise CaseFileError(f"{here}: missing keys {sorted(missing)}")
    if not isinstance(raw["amount"], str):
        raise CaseFileError(f"{here}: amount must be a quoted string, got {raw['amount']!r}")
    return {**raw, "amount": Decimal(raw["amount"])}


def parse_cases(text: str, file: str) -> list[Case]:
    """Parse one case file; raise CaseFileError naming the file and case on any problem."""
    data = yaml.safe_load(text)
    if not isinstance(data, list) or not data:
        raise CaseFileError(f"{file}: must be a non-empty list of cases")
    cases: list[Case] = []
    for index, raw in enumerate(data):
        where = f"{file}, case {index + 1}"
        if not isinstance(raw, dict):
            raise CaseFileError(f"{where}: must be a mapping")
        where = f"{file}, case {index + 1} ({raw.get('name', '?')})"
        unknown = set(raw) - CASE_KEYS
        if unknown:
            raise CaseFileError(
                f"{where}: unknown keys {sorted(unknown)} (allowed: {sorted(CASE_KEYS)})"
            )
        missing = REQUIRED_KEYS - set(raw)
        if missing:
            raise CaseFileError(f"{where}: missing keys {sorted(missing)}")
        if raw["semester"] not in SEMESTERS:
            raise CaseFileError(f"{where}: semester must be autumn or spring")
        if not isinstance(raw["expected"], list):
            raise CaseFileError(f"{where}: expected must be a list (possibly empty)")
        try:
            profile = Profile.from_dict(raw["profile"])
        except (TypeError, ValueError) as exc:
            raise CaseFileError(f"{where}: bad profile: {exc}") from exc
        cases.append(
            Case(
                file=file,
                name=str(raw["name"]),
                profile=profile,
                school_year=raw["school_year"],
                semester=raw["semester"],
                rule_book=raw.get("rule_book"),
                expected=tuple(
                    _expected_line(where, i, line) for i, line in enumerate(raw["expected"])
                ),
            )
        )
    names = [c.name for c in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CaseFileError(f"{file}: case names used twice: {duplicates}")
    return cases


def all_cases() -> list[Case]:
    out: list[Case] = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        out.extend(parse_cases(path.read_text(encoding="utf-8"), path.name))
    return out


CASES = all_cases()


@functools.cache
def book_for(rule_book: str | None) -> RuleBook:
    if rule_book is None:
        return load_rulebook(shipped_source(2018), source="2018.yaml")
    path = CASES_DIR / rule_book
    return load_rulebook(path.read_text(encoding="utf-8"), source=rule_book)


def _key(line: dict[str, Any]) -> tuple[str, ...]:
    return (line["programme"], line["rule_id"], line["kind"], line["clause"], str(line["amount"]))


def normalised(lines: Any) -> list[dict[str, Any]]:
    """Return lines as sorted dicts of the compared fields, amounts as Decimal."""
    out = [
        {
            "programme": line["programme"],
            "amount": Decimal(line["amount"])
            if isinstance(line["amount"], str)
            else line["amount"],
            "kind": line["kind"],
            "clause": line["clause"],
            "rule_id": line["rule_id"],
        }
        for line in lines
    ]
    for line in out:
        assert isinstance(line["amount"], Decimal), line
    return sorted(out, key=_key)


def single_lines(book: RuleBook, profile: Profile, semester: str) -> list[dict[str, Any]]:
    return normalised(line.as_dict() for line in evaluate_case(book, profile, semester))


def bulk_lines(book: RuleBook, profile: Profile, semester: str) -> list[dict[str, Any]]:
    row = {"student_id": 1, **vars(profile)}
    table = pa.Table.from_pylist([row], schema=FULL_PROFILE_SCHEMA)
    result = evaluate_bulk(book, table, semester).to_pylist()
    assert {r["student_id"] for r in result} <= {1}
    return normalised(result)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case) -> None:
    book = book_for(case.rule_book)
    assert case.school_year == book.school_year
    expected = normalised(case.expected)
    assert single_lines(book, case.profile, case.semester) == expected, "evaluate_case"
    assert bulk_lines(book, case.profile, case.semester) == expected, "evaluate_bulk"


def test_case_files_are_the_expected_ones() -> None:
    assert sorted(p.name for p in CASES_DIR.glob("*.yaml")) == sorted(CASE_FILES)
    assert sorted({c.file for c in CASES}) == sorted(CASE_FILES)


def test_every_shipped_programme_and_rule_has_a_case() -> None:
    book = book_for(None)
    shipped = [c for c in CASES if c.rule_book is None]
    programmes = {line["programme"] for c in shipped for line in c.expected}
    rules = {line["rule_id"] for c in shipped for line in c.expected}
    assert set(book.programmes) - programmes == set()
    assert {r.id for r in book.rules} - rules == set()


def test_every_alternative_book_rule_has_a_case() -> None:
    for rule_book in sorted({c.rule_book for c in CASES if c.rule_book is not None}):
        book = book_for(rule_book)
        rules = {line["rule_id"] for c in CASES if c.rule_book == rule_book for line in c.expected}
        changed = {r.id for r in book.rules} - {r.id for r in book_for(None).rules}
        assert changed, rule_book
        assert changed - rules == set(), rule_book


def test_expected_lines_agree_with_the_book() -> None:
    """Every expected line names a rule of its book with that programme, kind and clause."""
    for case in CASES:
        rules = {r.id: r for r in book_for(case.rule_book).rules}
        for line in case.expected:
            rule = rules[line["rule_id"]]
            assert (rule.programme, rule.kind, rule.clause) == (
                line["programme"],
                line["kind"],
                line["clause"],
            ), case.id


def test_every_stage_semester_and_location_is_covered() -> None:
    assert {c.profile.stage for c in CASES} == {
        "preschool",
        "primary",
        "junior",
        "senior",
        "vocational",
        "university",
    }
    assert {c.semester for c in CASES} == set(SEMESTERS)
    assert {c.profile.location for c in CASES} == {"in_county", "in_province", "out_of_province"}
    assert {c.profile.household_status for c in CASES} == {"registered", "left_poverty", "removed"}


GOOD = """
- name: ok
  profile: {stage: preschool, grade: 1}
  school_year: 2018
  semester: autumn
  expected:
    - {programme: preschool_living, amount: "500.00", kind: cash, clause: II.1.1, rule_id: x}
"""


def test_good_case_text_parses() -> None:
    (case,) = parse_cases(GOOD, "good.yaml")
    assert case.id == "good.yaml/ok"
    assert case.expected[0]["amount"] == Decimal("500.00")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "  semester: autumn\n",
            "  semester: autumn\n  period: 2018-09\n",
            "good.yaml, case 1 (ok): unknown keys ['period']",
        ),
        (
            "kind: cash,",
            "kind: cash, unit: year,",
            "good.yaml, case 1 (ok), expected line 1: unknown keys ['unit']",
        ),
        (
            "grade: 1}",
            "grade: 1, age: 4}",
            "good.yaml, case 1 (ok): bad profile: unknown profile keys: age",
        ),
        ('amount: "500.00"', "amount: 500.00", "amount must be a quoted string, got 500.0"),
        ("  school_year: 2018\n", "", "good.yaml, case 1 (ok): missing keys ['school_year']"),
        ("semester: autumn", "semester: summer", "semester must be autumn or spring"),
    ],
)
def test_bad_case_text_fails_clearly(old: str, new: str, message: str) -> None:
    assert GOOD.count(old) == 1
    with pytest.raises(CaseFileError) as info:
        parse_cases(GOOD.replace(old, new), "good.yaml")
    assert message in str(info.value)


def test_duplicate_case_names_fail() -> None:
    with pytest.raises(CaseFileError, match=r"case names used twice: \['ok'\]"):
        parse_cases(GOOD + GOOD, "good.yaml")


def test_once_rule_paid_in_spring_when_pay_in_says_so() -> None:
    """A once-unit rule with pay_in: spring pays its whole amount in spring, not in autumn."""
    text = shipped_source(2018)
    old = "    unit: once\n"
    assert text.count(old) == 2
    book = load_rulebook(text.replace(old, old + "    pay_in: spring\n"), source="pay-in-spring")
    freshman = Profile(stage="university", grade=1, location="out_of_province")
    loan = {
        "programme": "origin_loan",
        "amount": Decimal("8000.00"),
        "kind": "loan",
        "clause": "II.1.5",
        "rule_id": "origin_loan_undergraduate",
    }
    grant = {
        "programme": "freshman_grant",
        "amount": Decimal("1000.00"),
        "kind": "cash",
        "clause": "II.1.5",
        "rule_id": "freshman_grant_out_of_province",
    }
    for evaluate in (single_lines, bulk_lines):
        assert evaluate(book, freshman, "autumn") == [loan]
        assert evaluate(book, freshman, "spring") == [grant]


def test_profile_dates_in_cases_are_dates() -> None:
    dated = [c for c in CASES if c.profile.enrolled_on or c.profile.left_on]
    assert dated
    for case in dated:
        for value in (case.profile.enrolled_on, case.profile.left_on):
            assert value is None or type(value) is dt.date

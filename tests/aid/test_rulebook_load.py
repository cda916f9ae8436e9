"""Loading and checking rule books: the shipped 2018 book, and broken books with exact lines.

Broken books are small text edits of the shipped source; each edit must match exactly once,
and the expected line is found in the edited text, so the tests follow the shipped book.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from jingzhun.aid.rulebook import RuleBookError, load_rulebook, shipped_source

SOURCE = shipped_source(2018)
NAME = "broken.yaml"
V2 = Path(__file__).parent / "cases" / "books" / "2018-v2.yaml"

BOARDING_JUNIOR_TAIL = (
    'amount: "1250.00"\n    unit: year\n    valid: {from: 2018-09-01, to: 2019-08-31}\n'
)
PRESCHOOL_RULE_CLAUSE = "    clause: II.1.1\n    when: {stage: [preschool]}\n"


def edit(old: str, new: str, text: str = SOURCE) -> str:
    """Replace the one occurrence of old in text (fail if it is not exactly one)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, fragment: str) -> int:
    """Return the 1-based line on which the one occurrence of fragment starts."""
    assert text.count(fragment) == 1, f"{fragment!r} occurs {text.count(fragment)} times"
    return text[: text.index(fragment)].count("\n") + 1


def errors_of(text: str) -> list[tuple[str, int, str]]:
    with pytest.raises(RuleBookError) as info:
        load_rulebook(text, source=NAME)
    errors = info.value.errors
    assert all(src == NAME for src, _line, _msg in errors)
    assert str(info.value) == "\n".join(f"{s}:{n}: {m}" for s, n, m in errors)
    return errors


def test_shipped_book_loads() -> None:
    book = load_rulebook(SOURCE, source="2018.yaml")
    assert book.school_year == 2018
    assert book.transition_years == 3
    assert book.months_per_semester == {"autumn": 5, "spring": 5}
    assert len(book.programmes) == 11
    assert {code: (p.clause, p.kind) for code, p in book.programmes.items()} == {
        "preschool_living": ("II.1.1", "cash"),
        "compulsory_waiver": ("II.1.2", "waiver"),
        "boarding_subsidy": ("II.1.2", "cash"),
        "senior_waiver": ("II.1.3", "waiver"),
        "senior_grant": ("II.1.3", "cash"),
        "vocational_waiver": ("II.1.4", "waiver"),
        "vocational_grant": ("II.1.4", "cash"),
        "vocational_extra": ("II.1.4", "cash"),
        "vocational_placement": ("II.1.4", "record"),
        "origin_loan": ("II.1.5", "loan"),
        "freshman_grant": ("II.1.5", "cash"),
    }
    assert len(book.rules) == 15
    assert len({r.id for r in book.rules}) == 15
    assert all(r.valid_from == dt.date(2018, 9, 1) for r in book.rules)
    assert all(r.valid_to == dt.date(2019, 8, 31) for r in book.rules)
    assert all(r.clause == book.programmes[r.programme].clause for r in book.rules)
    loans = {r.id: (r.minimum, r.amount) for r in book.rules if r.kind == "loan"}
    assert loans == {
        "origin_loan_undergraduate": (Decimal("1000.00"), Decimal("8000.00")),
        "origin_loan_graduate": (Decimal("1000.00"), Decimal("12000.00")),
    }
    assert len(book.stacking) == 4
    assert book.source == SOURCE
    assert [r.line for r in book.rules][:2] == [
        line_of(SOURCE, "- id: preschool_living\n"),
        line_of(SOURCE, "- id: compulsory_waiver_primary\n"),
    ]


def test_v2_book_loads_with_abutting_rules() -> None:
    book = load_rulebook(V2.read_text(encoding="utf-8"), source=V2.name)
    junior = {r.id: r for r in book.rules if r.programme == "boarding_subsidy"}
    assert {k: (v.amount, v.valid_from, v.valid_to) for k, v in junior.items()} == {
        "boarding_primary": (Decimal("1000.00"), dt.date(2018, 9, 1), dt.date(2019, 8, 31)),
        "boarding_junior": (Decimal("1250.00"), dt.date(2018, 9, 1), dt.date(2019, 2, 28)),
        "boarding_junior_2019": (Decimal("1500.00"), dt.date(2019, 3, 1), dt.date(2019, 8, 31)),
    }


# (id, old, new, marker of the expected line in the edited text, message fragment)
BROKEN = [
    (
        "unknown-top-level-key",
        "transition_years: 3\n",
        "transition_years: 3\nfee_standards: {}\n",
        "fee_standards:",
        "unknown key fee_standards in the rule book",
    ),
    (
        "unknown-rule-key",
        "  - id: preschool_living\n",
        "  - id: preschool_living\n    note: kindergarten\n",
        "note: kindergarten",
        "unknown key note in a rule",
    ),
    (
        "unknown-when-key",
        "when: {stage: [preschool]}",
        "when: {stage: [preschool], age: [3, 4, 5]}",
        "age: [3, 4, 5]",
        "unknown key age in when",
    ),
    (
        "missing-rule-clause",
        PRESCHOOL_RULE_CLAUSE,
        "    when: {stage: [preschool]}\n",
        "- id: preschool_living\n",
        "the clause is missing",
    ),
    (
        "malformed-rule-clause",
        PRESCHOOL_RULE_CLAUSE,
        "    clause: II.1.x\n    when: {stage: [preschool]}\n",
        "clause: II.1.x",
        "the clause II.1.x is not like II.1.2",
    ),
    (
        "amount-float",
        'amount: "1250.00"',
        "amount: 1250.5",
        "amount: 1250.5",
        'amount must be written as a quoted string, e.g. "1250.00"',
    ),
    (
        "amount-negative",
        'amount: "180.00"',
        'amount: "-180.00"',
        'amount: "-180.00"',
        "amount must be zero or more, with at most two decimals: -180.00",
    ),
    (
        "amount-three-decimals",
        'amount: "260.00"',
        'amount: "260.005"',
        'amount: "260.005"',
        "amount must be zero or more, with at most two decimals: 260.005",
    ),
    (
        "amount-not-a-number",
        'amount: "260.00"',
        'amount: "two hundred"',
        'amount: "two hundred"',
        "amount is not an amount: two hundred",
    ),
    (
        "minimum-float",
        'amount: "12000.00"\n    minimum: "1000.00"',
        'amount: "12000.00"\n    minimum: 1000.5',
        "minimum: 1000.5",
        'minimum must be written as a quoted string, e.g. "1250.00"',
    ),
    (
        "unknown-programme",
        "    programme: preschool_living\n",
        "    programme: kindergarten_meals\n",
        "programme: kindergarten_meals",
        "rule preschool_living names an unknown programme kindergarten_meals",
    ),
    (
        "unknown-stage",
        "when: {stage: [preschool]}",
        "when: {stage: [kindergarten]}",
        "when: {stage: [kindergarten]}",
        "stage has unknown values kindergarten (allowed: preschool, primary, junior, senior,",
    ),
    (
        "unknown-location",
        "location: [out_of_province]}",
        "location: [abroad]}",
        "location: [abroad]}",
        "location has unknown values abroad",
    ),
    (
        "interval-ends-before-it-starts",
        BOARDING_JUNIOR_TAIL,
        BOARDING_JUNIOR_TAIL.replace(
            "{from: 2018-09-01, to: 2019-08-31}", "{from: 2019-08-31, to: 2018-09-01}"
        ),
        "valid: {from: 2019-08-31, to: 2018-09-01}",
        "the validity interval ends before it starts",
    ),
    (
        "unknown-unit",
        'amount: "1250.00"\n    unit: year',
        'amount: "1250.00"\n    unit: fortnight',
        "unit: fortnight",
        "unit must be one of year, semester, month, once",
    ),
    (
        "unknown-pay-in",
        'amount: "500.00"\n    unit: once\n',
        'amount: "500.00"\n    unit: once\n    pay_in: summer\n',
        "pay_in: summer",
        "pay_in must be autumn or spring",
    ),
    (
        "invalid-yaml-flow",
        "when: {stage: [preschool]}",
        "when: {stage: [preschool}",
        "when: {stage: [preschool}",
        "not valid YAML",
    ),
    (
        "invalid-yaml-tab",
        "transition_years: 3\n",
        "transition_years: 3\n\tmonths: 5\n",
        "\tmonths: 5",
        "not valid YAML",
    ),
    (
        # The duplicate is the original `unit: year`, after the inserted one.
        "invalid-yaml-duplicate-key",
        '    when: {stage: [preschool]}\n    amount: "1000.00"\n    unit: year\n',
        '    unit: year\n    when: {stage: [preschool]}\n    amount: "1000.00"\n    unit: month\n',
        "unit: month",
        "duplicate key unit",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "marker", "fragment"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_broken_book_names_line_and_problem(old: str, new: str, marker: str, fragment: str) -> None:
    text = edit(old, new)
    errors = errors_of(text)
    assert len(errors) == 1, errors
    (_src, line, message) = errors[0]
    assert (line, fragment in message) == (line_of(text, marker), True), (line, message)


def test_overlapping_rules_of_one_programme() -> None:
    extra = (
        "  - id: boarding_junior_raise\n"
        "    programme: boarding_subsidy\n"
        "    clause: II.1.2\n"
        "    when: {stage: [junior], boarding: true}\n"
        '    amount: "1500.00"\n'
        "    unit: year\n"
        "    valid: {from: 2019-01-01, to: 2019-08-31}\n"
    )
    text = edit(BOARDING_JUNIOR_TAIL, BOARDING_JUNIOR_TAIL + extra)
    first = line_of(text, "- id: boarding_junior\n")
    assert errors_of(text) == [
        (
            NAME,
            line_of(text, "- id: boarding_junior_raise\n"),
            f"rules boarding_junior (line {first}) and boarding_junior_raise both give "
            "boarding_subsidy to the same students in overlapping periods",
        )
    ]


def test_abutting_rules_of_one_programme_load() -> None:
    """The same change, starting the day after the first rule ends, is not an overlap."""
    text = edit(
        BOARDING_JUNIOR_TAIL,
        BOARDING_JUNIOR_TAIL.replace("to: 2019-08-31", "to: 2018-12-31")
        + "  - id: boarding_junior_raise\n"
        "    programme: boarding_subsidy\n"
        "    clause: II.1.2\n"
        "    when: {stage: [junior], boarding: true}\n"
        '    amount: "1500.00"\n'
        "    unit: year\n"
        "    valid: {from: 2019-01-01, to: 2019-08-31}\n",
    )
    assert len(load_rulebook(text, source=NAME).rules) == 16


def test_programmes_meeting_without_stacking() -> None:
    text = edit(
        "  - {clause: II.1.6, programmes: [compulsory_waiver, boarding_subsidy]}\n",
        "",
    )

    def message(a: str, b: str) -> str:
        return (
            f"rules {a} (line {line_of(text, f'- id: {a}' + chr(10))}) and {b} can apply to the "
            "same student but no stacking rule lets compulsory_waiver and boarding_subsidy combine"
        )

    assert errors_of(text) == [
        (
            NAME,
            line_of(text, "- id: boarding_primary\n"),
            message("compulsory_waiver_primary", "boarding_primary"),
        ),
        (
            NAME,
            line_of(text, "- id: boarding_junior\n"),
            message("compulsory_waiver_junior", "boarding_junior"),
        ),
    ]


def test_duplicate_rule_id() -> None:
    text = edit("  - id: boarding_junior\n", "  - id: boarding_primary\n")
    first = line_of(SOURCE, "- id: boarding_primary\n")
    second = line_of(SOURCE, "- id: boarding_junior\n")
    assert errors_of(text) == [
        (NAME, second, f"rule id boarding_primary is used twice (first on line {first})")
    ]


def test_several_errors_are_reported_at_once() -> None:
    text = edit("transition_years: 3\n", "transition_years: 3\nfee_standards: {}\n")
    text = edit("  - id: preschool_living\n", "  - id: preschool_living\n    note: x\n", text)
    text = edit("    programme: preschool_living\n", "    programme: kindergarten\n", text)
    text = edit('amount: "1250.00"', "amount: 1250.5", text)
    text = edit(
        "amount: 1250.5\n    unit: year\n    valid: {from: 2018-09-01, to: 2019-08-31}",
        "amount: 1250.5\n    unit: year\n    valid: {from: 2019-08-31, to: 2018-09-01}",
        text,
    )
    text = edit(
        'when: {stage: [senior]}\n    amount: "2500.00"',
        'when: {stage: [high]}\n    amount: "2500.00"',
        text,
    )
    expected = [
        ("fee_standards:", "unknown key fee_standards in the rule book"),
        ("note: x", "unknown key note in a rule"),
        ("programme: kindergarten", "names an unknown programme kindergarten"),
        ("amount: 1250.5", "amount must be written as a quoted string"),
        ("from: 2019-08-31", "the validity interval ends before it starts"),
        ("stage: [high]", "stage has unknown values high"),
    ]
    errors = errors_of(text)
    assert [
        (line, fragment in msg)
        for (_s, line, msg), (_m, fragment) in zip(errors, expected, strict=True)
    ] == [(line_of(text, marker), True) for marker, _f in expected]


MINIMAL = """\
school_year: 2018
programmes:
  p:
    clause: II.1.1
    kind: cash
    label: {zh: 甲, en: A}
rules:
  - id: r
    programme: p
    clause: II.1.1
    when: {stage: [preschool]}
    amount: "10.00"
    unit: year
    valid: {from: 2018-09-01, to: 2019-08-31}
"""


def test_minimal_inline_book_loads() -> None:
    book = load_rulebook(MINIMAL, source=NAME)
    assert (book.school_year, book.transition_years, len(book.rules)) == (2018, 0, 1)
    assert book.months_per_semester == {"autumn": 5, "spring": 5}


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        (
            "school_year: 2018\n",
            "school_year: 2018\nyear: 2018\n",
            2,
            "unknown key year in the rule book",
        ),
        (
            "    kind: cash\n",
            "    kind: grant\n",
            5,
            "kind must be one of cash, waiver, record, loan",
        ),
        ("label: {zh: 甲, en: A}", "label: {zh: 甲}", 6, "label needs zh and en text"),
        ("  - id: r\n", "  - id: r\n    stacking: []\n", 9, "unknown key stacking in a rule"),
        ('amount: "10.00"', "amount: 10.50", 12, "amount must be written as a quoted string"),
        ('amount: "10.00"', 'amount: "-0.01"', 12, "amount must be zero or more"),
        (
            "[preschool]}",
            "[preschool], grade: [0]}",
            11,
            "grade must be a list of whole numbers 1-9",
        ),
        (
            "[preschool]}",
            "[preschool], boarding: yes please}",
            11,
            "boarding must be true or false",
        ),
        ("[preschool]}", "[preschool], degree: [phd]}", 11, "degree has unknown values phd"),
        ("to: 2019-08-31}", "to: 2019-08-31, until: 2020-01-01}", 14, "unknown key until in valid"),
        ("to: 2019-08-31}", "to: soon}", 14, "valid needs from and to dates (YYYY-MM-DD)"),
        ("    clause: II.1.1\n    when", "    clause: ''\n    when", 10, "the clause is missing"),
        (
            "    clause: II.1.1\n    kind",
            "    clause: II\n    kind",
            3,
            "the clause II is not like II.1.2",
        ),
    ],
)
def test_minimal_inline_book_errors(old: str, new: str, line: int, fragment: str) -> None:
    errors = errors_of(edit(old, new, MINIMAL))
    assert [(n, fragment in m) for _s, n, m in errors][:1] == [(line, True)], errors


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", 1, "the rule book must be a mapping"),
        ("- school_year: 2018\n", 1, "the rule book must be a mapping"),
        ("school_year: 2018\nprogrammes: {}\n", 1, "rules is missing"),
        (
            "school_year: 18\nprogrammes: {}\nrules: []\n",
            1,
            "school_year must be a year such as 2018",
        ),
        (
            "school_year: 2018\ntransition_years: -1\nprogrammes: {}\nrules: []\n",
            2,
            "transition_years must be a whole number 0-10",
        ),
        (
            "school_year: 2018\nmonths_per_semester: {autumn: 5}\nprogrammes: {}\nrules: []\n",
            2,
            "months_per_semester needs autumn and spring, each 1-6",
        ),
        ("school_year: 2018\nprogrammes: {}\nrules: {id: r}\n", 3, "rules must be a list"),
        ("school_year: 2018\nprogrammes: [p]\nrules: []\n", 2, "programmes must be a mapping"),
        (
            "school_year: 2018\nprogrammes: {}\nrules: []\nstacking: {a: b}\n",
            4,
            "stacking must be a list",
        ),
        ("school_year: [2018\nprogrammes: {}\n", 2, "not valid YAML"),
    ],
)
def test_top_level_errors(text: str, line: int, fragment: str) -> None:
    errors = errors_of(text)
    assert len(errors) == 1, errors
    assert (errors[0][1], fragment in errors[0][2]) == (line, True), errors


def test_stacking_rule_errors() -> None:
    text = SOURCE + "  - {clause: II.1.6, programmes: [preschool_living]}\n"
    text += "  - {clause: II.1.6, programmes: [preschool_living, nursery]}\n"
    assert errors_of(text) == [
        (
            NAME,
            line_of(text, "[preschool_living]}"),
            "a stacking rule lists two or more programmes",
        ),
        (
            NAME,
            line_of(text, "[preschool_living, nursery]}"),
            "stacking names unknown programmes nursery",
        ),
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("school_year: 2018\nprogrammes: {}\nrules: {}\n", 3, "rules must be a list"),
        ("school_year: 2018\nprogrammes: []\nrules: []\n", 2, "programmes must be a mapping"),
        (
            "school_year: 2018\nprogrammes: {}\nrules: []\nstacking: {}\n",
            4,
            "stacking must be a list",
        ),
    ],
)
def test_empty_container_of_the_wrong_type_is_refused(text: str, line: int, message: str) -> None:
    assert [(n, m) for _s, n, m in errors_of(text)] == [(line, message)]

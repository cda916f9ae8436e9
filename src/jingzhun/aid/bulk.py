"""The bulk evaluator: every profile of a semester against the rule book, set-wise.

It implements exactly the semantics of `aid.evaluate.evaluate_case` (a property test
holds the two together): household eligibility with the transition rule, the
enrolment window, the rules in force on the semester's first day with their
semester amount, and each rule's conditions.

It works column-wise on the Arrow table, as OpenFisca does on its arrays: the common
tests (household, enrolment window) are computed once for all rows, the rows are
grouped by stage once, and each rule tests only its stages' rows. The result is the
matching rows taken from the profiles with the rule's columns alongside. (An earlier
version joined profiles with rules in DuckDB; writing out the joined rows cost three
times as much as OpenFisca's whole evaluation, see docs/performance.md.)
"""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.aid.evaluate import DEGREE_LEVELS
from jingzhun.aid.rulebook import LOCATIONS, STAGES, Rule, RuleBook
from jingzhun.core.periods import Semester

MONEY = pa.decimal128(14, 2)

# Columns a profile table must have; any other columns are carried through to the result.
PROFILE_SCHEMA = pa.schema(
    [
        ("student_id", pa.int64()),
        ("stage", pa.string()),
        ("grade", pa.int16()),
        ("boarding", pa.bool_()),
        ("location", pa.string()),
        ("household_status", pa.string()),
        ("exit_year", pa.int16()),
        ("enrolled_on", pa.date32()),
        ("left_on", pa.date32()),
    ]
)
# Columns a profile table may have: the enrolment's degree level and freshman flag from the
# university list. Missing (or null) they read as '' and False: not known, so the grade
# decides as before (see aid.evaluate.Profile.rule_degree and new_entrant).
OPTIONAL_PROFILE_SCHEMA = pa.schema([("degree", pa.string()), ("freshman", pa.bool_())])
# Every column of a profile (aid.evaluate.Profile's fields and the student's id).
FULL_PROFILE_SCHEMA = pa.schema([*PROFILE_SCHEMA, *OPTIONAL_PROFILE_SCHEMA])

LINE_COLUMNS = ("programme", "kind", "amount", "rule_id", "clause", "unit", "minimum")


def _codes(encoded: pa.DictionaryArray) -> tuple[np.ndarray, list[str]]:
    """Return a dictionary column's integer codes and the list of values they stand for."""
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return codes, encoded.dictionary.to_pylist()


def _code_of(values: list[str], wanted: str) -> int:
    return values.index(wanted) if wanted in values else -2


def _flags(column: pa.ChunkedArray, *, null: bool) -> np.ndarray:
    return np.asarray(pc.fill_null(column, null).to_numpy(zero_copy_only=False), dtype=bool)


def _eligible(
    book: RuleBook, household_status: pa.DictionaryArray, exit_year: pa.ChunkedArray
) -> np.ndarray:
    """Return which households qualify: registered, or left poverty within the transition years."""
    status, statuses = _codes(household_status)
    exit_year = pc.fill_null(exit_year.cast(pa.int32()), -10_000)
    recent = np.asarray(
        pc.less(book.school_year, pc.add(exit_year, book.transition_years)).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    return (status == _code_of(statuses, "registered")) | (
        (status == _code_of(statuses, "left_poverty")) & recent
    )


def eligible_rows(book: RuleBook, profiles: pa.Table) -> pa.Table:
    """Return the profiles whose household qualifies under the book (see RuleBook.household_eligible)."""
    status = profiles.column("household_status").combine_chunks().dictionary_encode()
    return profiles.filter(pa.array(_eligible(book, status, profiles.column("exit_year"))))


# The values the rules and the household test name, per column. A column whose values are all
# among them is coded by looking them up (pc.index_in), cheaper than hashing a dictionary of
# its own; any other value, and any other text column, is dictionary-encoded.
KNOWN_VALUES: dict[str, tuple[str, ...]] = {
    "stage": STAGES,
    "location": LOCATIONS,
    "household_status": ("registered", "left_poverty", "removed"),
    "degree": DEGREE_LEVELS,
}

# From this many profiles on, the rows are evaluated in slices, one per core (at most
# MAX_THREADS), in threads: every step over the rows is NumPy or Arrow, which release the GIL.
PARALLEL_ROWS = 200_000
MAX_THREADS = 4

_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class _Plan:
    """One semester's rules as a table over the cases they tell apart.

    A case is (stage, grade, boarding, location, new entrant, graduate), where a stage, grade
    or location that no rule names is one class "other" (class 0; class i is the i-th named
    value, 1-based). Key k is a case's index in an array of `shape`; one more key, the last,
    is "no lines" (the household or the enrolment window fails). A case's lines are the
    rules `flat[offset[k] : offset[k] + count[k]]` (indices into `rules`), in programme order
    as evaluate_case sorts them.
    """

    rules: list[tuple[Rule, Decimal]]
    stages: list[str]
    grades: list[int]
    locations: list[str]
    shape: tuple[int, ...]
    count: np.ndarray
    offset: np.ndarray
    flat: np.ndarray

    @property
    def none(self) -> int:
        """Return the key of "no lines"."""
        return int(np.prod(self.shape))


def _plan(book: RuleBook, semester: str) -> _Plan:
    """Return the rules in force for the semester as a table over all cases (see _Plan)."""
    rules = sorted(book.rules_for(semester), key=lambda pair: pair[0].programme)
    stages = sorted({s for r, _ in rules for s in r.when.stage})
    grades = sorted({g for r, _ in rules for g in r.when.grade or ()})
    locations = sorted({v for r, _ in rules for v in r.when.location or ()})
    shape = (len(stages) + 1, len(grades) + 1, 2, len(locations) + 1, 2, 2)
    size = int(np.prod(shape))
    stage, grade, boarding, location, new_entrant, graduate = np.indices(shape).reshape(6, size)
    match = np.zeros((size + 1, len(rules)), dtype=bool)
    # Conditions.matches over every case at once: a named value is its class; "other" (0)
    # is in no rule's list; the degree is "graduate" where graduate, else "undergraduate".
    for k, (rule, _amount) in enumerate(rules):
        w = rule.when
        m = np.isin(stage, [stages.index(s) + 1 for s in w.stage])
        if w.grade is not None:
            m &= np.isin(grade, [grades.index(g) + 1 for g in w.grade])
        if w.boarding is not None:
            m &= boarding == int(w.boarding)
        if w.location is not None:
            m &= np.isin(location, [locations.index(v) + 1 for v in w.location])
        if w.new_entrant is not None:
            m &= new_entrant == int(w.new_entrant)
        if w.degree is not None:
            named = {"undergraduate": 0, "graduate": 1}
            m &= np.isin(graduate, [named[d] for d in w.degree if d in named])
        match[:size, k] = m
    count = match.sum(axis=1).astype(np.int8)
    _keys, flat = np.nonzero(match)  # row-major: by key, then rule (programme order)
    offset = (np.cumsum(count, dtype=np.int32) - count).astype(np.int32)
    return _Plan(rules, stages, grades, locations, shape, count, offset, flat.astype(np.int16))


def _plain(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Return a column as one array (a single chunk as it is, never copied)."""
    if not isinstance(column, pa.ChunkedArray):
        return column
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _encode_column(column: pa.ChunkedArray, known: tuple[str, ...] | None) -> pa.DictionaryArray:
    """Return a text column dictionary-encoded (an encoded one as it is, its chunks unified)."""
    values = _plain(column)
    if pa.types.is_dictionary(values.type):
        return values
    if known:
        dictionary = pa.array(known, values.type)
        codes = pc.index_in(values, value_set=dictionary)
        if codes.null_count == values.null_count:  # every value is a known one
            return pa.DictionaryArray.from_arrays(codes, dictionary, safe=False)
    return values.dictionary_encode()


def _class_of(encoded: pa.DictionaryArray, named: list[str]) -> np.ndarray:
    """Return per row 1 + its value's index in `named`, 0 for any other value or null."""
    values = encoded.dictionary.to_pylist()
    # One entry per dictionary entry, and a last one for null (code -1).
    table = np.array([named.index(v) + 1 if v in named else 0 for v in values] + [0], np.int16)
    codes = encoded.indices
    if codes.null_count:
        codes = codes.fill_null(-1)
    return table[codes.to_numpy(zero_copy_only=False)]


def _numbers(column: pa.ChunkedArray, null: Any) -> np.ndarray:
    """Return a column as a NumPy array, nulls filled (dates as days since 1970)."""
    values = _plain(column)
    if pa.types.is_date(values.type) or pa.types.is_timestamp(values.type):
        values = values.cast(pa.date32()).view(pa.int32())
    if values.null_count:
        values = values.fill_null(null)
    return values.to_numpy(zero_copy_only=False)


def _grade_class(grade: np.ndarray, grades: list[int]) -> np.ndarray:
    """Return per row 1 + its grade's index in `grades` (the named grades), else 0."""
    if grade.dtype == np.int16:  # one lookup in a table of every int16 value
        table = np.zeros(1 << 16, np.int16)
        for i, g in enumerate(grades):
            if -(1 << 15) <= g < 1 << 15:
                table[np.uint16(g & 0xFFFF)] = i + 1
        return table[grade.view(np.uint16)]
    out = np.zeros(len(grade), np.int16)
    for i, g in enumerate(grades):
        out[grade == g] = i + 1
    return out


def evaluate_bulk(book: RuleBook, profiles: pa.Table, semester: str) -> pa.Table:
    """Return one row per (profile, programme line): the profile's columns plus the line's.

    Profiles whose household does not qualify or whose enrolment misses the semester give
    no rows. Amounts are decimal(14,2), never float. Rows come in the profiles' order, each
    profile's lines by programme (as evaluate_case lists them). Text and amount columns are
    dictionary-encoded (codes into the few distinct values); cast them to plain arrays where
    a consumer needs that. A large table comes back in a few chunks (see PARALLEL_ROWS).
    """
    missing = [f.name for f in PROFILE_SCHEMA if f.name not in profiles.column_names]
    if missing:
        raise ValueError("profiles lack columns: " + ", ".join(missing))
    plan = _plan(book, semester)
    n = profiles.num_rows
    threads = min(os.cpu_count() or 1, MAX_THREADS) if n >= PARALLEL_ROWS else 1
    text = [
        name
        for name, kind in zip(profiles.column_names, profiles.schema.types, strict=True)
        if _is_text(kind)
    ]

    def encode(name: str) -> pa.DictionaryArray:
        return _encode_column(profiles.column(name), KNOWN_VALUES.get(name))

    if threads == 1:
        encoded = {name: encode(name) for name in text}
        return _lines(book, plan, semester, profiles, encoded)

    def part(start: int) -> pa.Table:
        size = -(-n // threads)
        codes = {name: column.slice(start, size) for name, column in encoded.items()}
        return _lines(book, plan, semester, profiles.slice(start, size), codes)

    with ThreadPoolExecutor(threads) as pool:
        encoded = dict(zip(text, pool.map(encode, text), strict=True))
        parts = list(pool.map(part, range(0, n, -(-n // threads))))
    return pa.concat_tables(parts)


def _lines(
    book: RuleBook,
    plan: _Plan,
    semester: str,
    profiles: pa.Table,
    encoded: dict[str, pa.DictionaryArray],
) -> pa.Table:
    """Return evaluate_bulk's rows for a slice of the profiles (text columns encoded)."""
    n = profiles.num_rows
    period = Semester.named(book.school_year, semester)
    # The household qualifies (registered, or left poverty within the transition years)
    # and the enrolment covers the semester (started by its last day, active on its first).
    status = _class_of(encoded["household_status"], ["registered", "left_poverty"])
    exit_year = _numbers(profiles.column("exit_year"), -10_000).astype(np.int32, copy=False)
    ok = (status == 1) | ((status == 2) & (exit_year > book.school_year - book.transition_years))
    ok &= _numbers(profiles.column("enrolled_on"), -(1 << 31)) <= ((period.last_day - _EPOCH).days)
    ok &= _numbers(profiles.column("left_on"), (1 << 31) - 1) > (period.first_day - _EPOCH).days

    grade = _numbers(profiles.column("grade"), 0)
    stage = _class_of(encoded["stage"], plan.stages)
    university = (
        stage == plan.stages.index("university") + 1
        if "university" in plan.stages
        else _class_of(encoded["stage"], ["university"]) == 1
    )
    if "degree" in encoded:
        degree = _class_of(encoded["degree"], ["graduate", "associate", "bachelor"])
        # Null and '' are "not known".
        known, is_graduate = degree != 0, degree == 1
    else:
        known = is_graduate = np.zeros(n, dtype=bool)
    freshman = (
        _numbers(profiles.column("freshman"), False).astype(bool, copy=False)
        if "freshman" in profiles.column_names
        else np.zeros(n, dtype=bool)
    )
    # The degree level decides; where it is not known, the fifth year on counts as graduate.
    graduate = university & np.where(known, is_graduate, grade >= 5)
    # The freshman flag decides where the university list was imported (a level or the flag
    # set); otherwise the first university year is the new entrants'.
    new_entrant = university & np.where(known | freshman, freshman, grade == 1)

    # Each row's case key (see _Plan), "no lines" where the household or enrolment fails.
    _s, g_n, b_n, l_n, e_n, d_n = plan.shape
    kind = np.dtype(np.int16 if plan.none < 1 << 15 else np.int32)
    key = stage.astype(kind) * (g_n * b_n * l_n * e_n * d_n)
    key += _grade_class(grade, plan.grades).astype(kind) * (b_n * l_n * e_n * d_n)
    key += _numbers(profiles.column("boarding"), False).astype(kind) * (l_n * e_n * d_n)
    key += _class_of(encoded["location"], plan.locations).astype(kind) * (e_n * d_n)
    key += new_entrant.astype(kind) * d_n
    key += graduate
    key[~ok] = plan.none

    # Each row's lines, one after the other: row i's are lines first[i] to first[i + 1] - 1,
    # its case's rules from plan.offset on. The row of each line is the parent index of a
    # list array with those offsets (Arrow's list_parent_indices: faster than np.repeat).
    count = plan.count[key]
    first = np.zeros(n + 1, np.int32)
    np.cumsum(count, dtype=np.int32, out=first[1:])
    total = int(first[-1])
    picks = pc.list_parent_indices(pa.ListArray.from_arrays(pa.array(first), pa.nulls(total)))
    position = (plan.offset[key] - first[:-1])[picks.to_numpy()]
    position += np.arange(total, dtype=np.int32)
    which = plan.flat[position]

    # The result: text columns as dictionaries (their codes taken, the values shared), the
    # other profile columns taken row by row, the line's columns as codes into the rules'
    # few distinct values (one dictionary entry per value, so grouping by code is grouping
    # by value).
    columns: dict[str, pa.Array] = {}
    for name in profiles.column_names:
        if name in encoded:
            columns[name] = pa.DictionaryArray.from_arrays(
                encoded[name].indices.take(picks), encoded[name].dictionary, safe=False
            )
        else:
            columns[name] = _plain(profiles.column(name)).take(picks)
    values: dict[str, tuple[list[Any], pa.DataType]] = {
        "programme": ([r.programme for r, _ in plan.rules], pa.string()),
        "kind": ([r.kind for r, _ in plan.rules], pa.string()),
        "rule_id": ([r.id for r, _ in plan.rules], pa.string()),
        "clause": ([r.clause for r, _ in plan.rules], pa.string()),
        "unit": ([r.unit for r, _ in plan.rules], pa.string()),
        "amount": ([a for _, a in plan.rules], MONEY),
        "minimum": ([r.minimum for r, _ in plan.rules], MONEY),
    }
    for name, (of_rule, kind_of) in values.items():
        distinct = sorted({v for v in of_rule if v is not None})
        table = np.array([-1 if v is None else distinct.index(v) for v in of_rule], np.int8)
        codes = table[which]
        columns[name] = pa.DictionaryArray.from_arrays(
            pa.array(codes, mask=codes < 0 if None in of_rule else None),
            pa.array(distinct, kind_of),
            safe=False,
        )
    return pa.table(columns)

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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.aid.rulebook import RuleBook
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


def _encode(profiles: pa.Table) -> dict[str, pa.DictionaryArray]:
    """Return every string column of the profiles dictionary-encoded (once)."""
    return {
        name: profiles.column(name).combine_chunks().dictionary_encode()
        for name in profiles.column_names
        if pa.types.is_string(profiles.schema.field(name).type)
        or pa.types.is_large_string(profiles.schema.field(name).type)
    }


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


def evaluate_bulk(book: RuleBook, profiles: pa.Table, semester: str) -> pa.Table:
    """Return one row per (profile, programme line): the profile's columns plus the line's.

    Profiles whose household does not qualify or whose enrolment misses the semester give
    no rows. Amounts are decimal(14,2), never float. Rows come grouped by rule. Text and
    amount columns are dictionary-encoded (codes into the few distinct values); cast them to
    plain arrays where a consumer needs that.
    """
    missing = [f.name for f in PROFILE_SCHEMA if f.name not in profiles.column_names]
    if missing:
        raise ValueError("profiles lack columns: " + ", ".join(missing))
    first = Semester.named(book.school_year, semester).first_day
    last = Semester.named(book.school_year, semester).last_day

    encoded = _encode(profiles)
    eligible = _eligible(book, encoded["household_status"], profiles.column("exit_year"))
    # The enrolment covers the semester: started by its last day, active on its first.
    started = _flags(
        pc.less_equal(profiles.column("enrolled_on"), pa.scalar(last, pa.date32())), null=True
    )
    active = _flags(
        pc.greater(profiles.column("left_on"), pa.scalar(first, pa.date32())), null=True
    )
    ok = eligible & started & active

    stage, stages = _codes(encoded["stage"])
    location, locations = _codes(encoded["location"])
    grade = np.asarray(
        pc.fill_null(profiles.column("grade"), 0).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    boarding = _flags(profiles.column("boarding"), null=False)
    university = stage == _code_of(stages, "university")
    if "degree" in encoded:
        degree, degrees = _codes(encoded["degree"])
        # A null degree is "not known", like ''.
        known = (degree != -1) & (degree != _code_of(degrees, ""))
        is_graduate = degree == _code_of(degrees, "graduate")
    else:
        known = is_graduate = np.zeros(len(stage), dtype=bool)
    freshman = (
        _flags(profiles.column("freshman"), null=False)
        if "freshman" in profiles.column_names
        else np.zeros(len(stage), dtype=bool)
    )
    # The degree level decides; where it is not known, the fifth year on counts as graduate.
    graduate = university & np.where(known, is_graduate, grade >= 5)
    # The freshman flag decides where the university list was imported (a level or the flag
    # set); otherwise the first university year is the new entrants'.
    new_entrant = university & np.where(known | freshman, freshman, grade == 1)
    rows_of_stage = {name: np.flatnonzero(ok & (stage == i)) for i, name in enumerate(stages)}
    empty = np.empty(0, dtype=np.int64)

    rules = book.rules_for(semester)
    taken: list[np.ndarray] = []
    which: list[np.ndarray] = []
    for k, (rule, _amount) in enumerate(rules):
        w = rule.when
        rows = np.concatenate([rows_of_stage.get(s, empty) for s in w.stage])
        keep = np.ones(len(rows), dtype=bool)
        if w.grade is not None:
            keep &= np.isin(grade[rows], w.grade)
        if w.boarding is not None:
            keep &= boarding[rows] == w.boarding
        if w.location is not None:
            keep &= np.isin(location[rows], [_code_of(locations, v) for v in w.location])
        if w.new_entrant is not None:
            keep &= new_entrant[rows] == w.new_entrant
        if w.degree is not None and len(set(w.degree)) == 1:
            keep &= graduate[rows] == (w.degree[0] == "graduate")
        chosen = rows[keep]
        taken.append(chosen)
        which.append(np.full(len(chosen), k, dtype=np.int32))
    index = np.concatenate(taken) if taken else empty
    rule_index = pa.array(np.concatenate(which) if which else np.empty(0, dtype=np.int32))

    # The result: string columns as dictionaries (their codes taken, the values shared),
    # everything else taken row by row. Nothing is copied per value for the text.
    picks = pa.array(index)
    columns: dict[str, pa.Array] = {}
    for name in profiles.column_names:
        if name in encoded:
            columns[name] = pa.DictionaryArray.from_arrays(
                encoded[name].indices.take(picks), encoded[name].dictionary
            )
        else:
            columns[name] = profiles.column(name).combine_chunks().take(picks)
    text = {
        "programme": [r.programme for r, _ in rules],
        "kind": [r.kind for r, _ in rules],
        "rule_id": [r.id for r, _ in rules],
        "clause": [r.clause for r, _ in rules],
        "unit": [r.unit for r, _ in rules],
    }
    for name, values in text.items():
        # One dictionary entry per distinct value (two rules of one programme share it), so
        # that grouping on the codes groups on the values.
        distinct = sorted(set(values))
        code_of_rule = pa.array([distinct.index(v) for v in values], pa.int32())
        columns[name] = pa.DictionaryArray.from_arrays(
            code_of_rule.take(rule_index), pa.array(distinct, pa.string())
        )
    # Amounts too: a handful of distinct values, so codes into them (decimal(14,2) values).
    for name, amounts in (
        ("amount", [a for _, a in rules]),
        ("minimum", [r.minimum for r, _ in rules]),
    ):
        distinct_amounts = sorted({a for a in amounts if a is not None})
        codes = pa.array(
            [None if a is None else distinct_amounts.index(a) for a in amounts], pa.int32()
        )
        columns[name] = pa.DictionaryArray.from_arrays(
            codes.take(rule_index), pa.array(distinct_amounts, MONEY)
        )
    out = pa.table(columns)
    return out

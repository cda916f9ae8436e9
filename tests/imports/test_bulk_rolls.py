"""A roll file large enough for the set-wise paths (blind indexes and masks in DuckDB, ids given
before the write, plain indexes built after it on SQLite) lands exactly as row by row would."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from stdnum.cn import ric
from tests.imports.helpers import ROLLS_HEADER, base_county, make_id, run_import, write_csv

from jingzhun.core import crypto
from jingzhun.core.bulk import fetch_columns
from jingzhun.core.models import SetAsideRow
from jingzhun.core.sensitive import unseal
from jingzhun.schools.models import Enrolment, Student

pytestmark = pytest.mark.django_db

N = 1500


def _rows(n: int = N, *, year: str = "2018") -> list[list[str]]:
    rows = []
    for i in range(n):
        pid = make_id("420101", f"2010{1 + i % 12:02d}{1 + i % 28:02d}", f"{i % 1000:03d}")
        roll = f"G{pid}" if i % 5 else f"L{i:08d}"  # some roll numbers are not G + the ID
        the_id = "" if i % 7 == 0 else (pid if i % 11 else pid[:-1] + "0")  # missing, bad
        rows.append(
            [
                roll,
                f"学生{i}",
                the_id,
                "男" if i % 2 else "女",
                f"2010-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "2142010001" if i % 3 else "2142010002",
                year,
                "小学" if i % 3 else "初中",
                str(1 + i % 3),
                f"{1 + i % 4}班",
                "王老师",
                "是" if i % 2 else "否",
                "在读",
                "",
                f"{year}-09-01",
                "是" if i % 5 == 0 else "否",
            ]
        )
    return rows


def _indexes() -> list[tuple[str, str]]:
    if connection.vendor != "sqlite":
        return []
    return fetch_columns(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
        "AND tbl_name IN ('schools_student', 'schools_enrolment') ORDER BY name"
    )


def test_large_roll_lands_exactly_and_again_changes_nothing(tmp_path: Path) -> None:
    base_county(tmp_path)
    indexes = _indexes()
    rows = _rows()
    path = write_csv(tmp_path / "rolls.csv", ROLLS_HEADER, rows)
    batch = run_import("rolls", path)
    assert batch.status == "done", batch.message
    assert (batch.rows_created, batch.rows_updated, batch.rows_unchanged) == (N, 0, 0)
    assert _indexes() == indexes  # the same index definitions after the bulk write

    by_roll = {r[0]: r for r in rows}
    students = list(Student.objects.all())
    assert len(students) == N
    for st in students:
        roll = unseal(st, prefix="roll", purpose="roll")
        row = by_roll[roll]
        assert st.name == row[1]
        assert st.roll_index == crypto.blind_index(roll, purpose="roll")
        assert st.roll_masked == crypto.mask(roll, "roll")
        the_id = row[2]
        if not the_id:
            assert (st.id_status, st.id_cipher, st.id_index, st.id_masked) == (
                "missing",
                None,
                None,
                "",
            )
            continue
        assert unseal(st, prefix="id", purpose="id") == the_id
        assert st.id_index == crypto.blind_index(the_id, purpose="id")
        assert st.id_masked == crypto.mask(the_id, "id")
        valid = st.id_status == "valid"
        assert valid == ric.is_valid(the_id)
        assert st.id15_index == (crypto.blind_index(the_id[:15], purpose="id15") if valid else None)
        embedded = roll[1:19] if roll.startswith("G") else None
        assert st.roll_id_index == (
            crypto.blind_index(embedded, purpose="id") if embedded else None
        )
    # Each enrolment belongs to the student of its row.
    school_of = {r[0]: r[5] for r in rows}
    pairs = Enrolment.objects.values_list("student__roll_index", "school__code", "grade")
    index_to_roll = {crypto.blind_index(r, purpose="roll"): r for r in by_roll}
    assert len(pairs) == N
    for roll_index, school, grade in pairs:
        roll = index_to_roll[roll_index]
        assert school == school_of[roll] and str(grade) == by_roll[roll][8]

    # Again, with one line twice: nothing changes, the second line is set aside.
    again = run_import("rolls", write_csv(tmp_path / "rolls2.csv", ROLLS_HEADER, rows + [rows[0]]))
    assert again.status == "done", again.message
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, N)
    assert again.rows_set_aside == 1
    assert Student.objects.count() == N and Enrolment.objects.count() == N
    # The file without that line fixes the row set aside; still nothing else changes.
    third = run_import("rolls", write_csv(tmp_path / "rolls3.csv", ROLLS_HEADER, rows))
    assert (third.rows_created, third.rows_updated, third.rows_unchanged) == (0, 0, N)
    assert SetAsideRow.objects.get(batch=again).status == SetAsideRow.Status.FIXED
    assert SetAsideRow.objects.get(batch=again).fixed_by == third


def test_ids_of_deleted_rows_are_not_given_again(tmp_path: Path) -> None:
    base_county(tmp_path)
    rows = _rows(1200)
    run_import("rolls", write_csv(tmp_path / "a.csv", ROLLS_HEADER, rows[:1100]))
    last = Student.objects.order_by("-id").first()
    assert last is not None
    Enrolment.objects.filter(student=last).delete()
    last.delete()
    batch = run_import("rolls", write_csv(tmp_path / "b.csv", ROLLS_HEADER, rows))
    assert batch.status == "done", batch.message
    assert batch.rows_created == 101
    assert not Student.objects.filter(id=last.pk).exists()
    assert Student.objects.count() == 1200

"""Splink's Spark backend (JINGZHUN_LINKAGE_BACKEND=spark) gives the links DuckDB gives.

Runs where pyspark and a Java runtime are installed (`pip install '.[spark]'`); skips with the
reason elsewhere. The residue and the model are test_fuzzy's small hand-made case.
"""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pytest

from jingzhun.identification import fuzzy
from jingzhun.identification.fuzzy import FuzzySettings

from .test_fuzzy import EXPECTED, PARAMETERS, residue  # noqa: F401 - the fixture is used

pytestmark = pytest.mark.skipif(
    bool(fuzzy.spark_available()),
    reason=f"Splink on Spark not tested: {fuzzy.spark_available()}",
)

DUCKDB = FuzzySettings()
SPARK = dataclasses.replace(DUCKDB, backend="spark", spark_master="local[2]")


def _rows(table: pa.Table) -> dict[tuple[int, int], tuple[str, float, bool]]:
    return {
        (r["person_id"], r["student_id"]): (r["decision"], r["match_probability"], r["name_agrees"])
        for r in table.to_pylist()
    }


def test_spark_links_equal_duckdb_links(residue) -> None:  # noqa: F811
    persons, students = residue
    model = fuzzy.model_from_parameters(PARAMETERS, 3e-4)
    on_duckdb = _rows(fuzzy.link(persons, students, model, DUCKDB, rejected=[(9100, 7000)]))
    on_spark = _rows(fuzzy.link(persons, students, model, SPARK, rejected=[(9100, 7000)]))
    # the same pairs, decisions and evidence; probabilities to floating-point noise
    assert set(on_spark) == set(on_duckdb)
    assert EXPECTED <= set(on_spark)
    for pair, (decision, probability, names) in on_duckdb.items():
        assert on_spark[pair][0] == decision, pair
        assert on_spark[pair][2] == names, pair
        assert on_spark[pair][1] == pytest.approx(probability, rel=1e-9, abs=1e-12), pair
    # A second run in the same Spark session (a worker links county after county).
    assert set(_rows(fuzzy.link(persons, students, model, SPARK))) == set(
        _rows(fuzzy.link(persons, students, model, DUCKDB))
    )


def test_a_model_is_stored_in_duckdb_form_and_reads_on_spark() -> None:
    model = fuzzy.model_from_parameters(PARAMETERS, 3e-4)
    spark = fuzzy.for_spark(model)
    conditions = [
        level["sql_condition"]
        for comparison in spark["comparisons"]
        for level in comparison["comparison_levels"]
    ]
    assert not any('"' in c or "jaro_winkler_similarity" in c for c in conditions)
    assert any("jaro_winkler(`name_pinyin_l`" in c for c in conditions)
    back = fuzzy._from_spark(spark)
    assert back["comparisons"] == model["comparisons"]

"""Fuzzy stage of identification: link the residue of the exact stage with Splink 5 on DuckDB.

The exact stage joins registry persons and roll students on the resident ID blind index. What
it leaves (students whose ID is missing, invalid or failed verification, and registry persons
not matched) comes here:

    persons, students = prepare(persons, students)      # comparison columns
    model = train(persons, students, FuzzySettings())   # once; saved with the run, reused
    links = link(persons, students, model, FuzzySettings(), accepted=..., rejected=...)

The model is a Fellegi-Sunter model (Splink's settings dict with trained m and u values, a
plain JSON-serialisable dict). It compares:

- the name: same characters, else same toneless pinyin (homophones), else Jaro-Winkler on the
  pinyin; term-frequency adjusted, so that a common name (王伟) is weaker evidence;
- the birth date: same, day and month swapped, one digit apart;
- the sex;
- the place: same village, else same township;
- the resident ID: same, within one edit (Damerau-Levenshtein), else different. No wider ID
  levels: the ID already carries the county and the birth date, so counting more of its
  agreement would count the same evidence twice.

Candidate pairs come from blocking rules chosen so that a single typo in one field still
blocks: the name's pinyin; birth date with surname, birth date with given name; village with
surname; and three fragments of the ID (any single mistyped digit leaves one whole).

Pinyin is read one character at a time (the reading pypinyin gives the character alone, with
surname readings for 单, 曾, 尉迟...), worked out once per distinct surname and distinct given
name: the same character always reads the same on both sides.

Links are one-to-one (greedy by descending probability, ties broken by the ids). A link with
probability >= `auto_threshold` whose names agree is made automatically; the others at or
above `review_threshold` go to the review queue. Twins (same birth date and village,
different names) are kept apart by the name: a pair whose names disagree is never automatic,
and where both twins are on both sides the right pairs score higher and are taken first.

Decrypted ID numbers live only in memory here (and in a private DuckDB spill directory,
removed on exit, should a run exceed `memory_limit`); the links carry no ID, only
`id_distance`.

Pure Python + DuckDB + Splink + pypinyin: no Django here.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pypinyin import Style, lazy_pinyin

PERSONS = "persons"
STUDENTS = "students"

# Two-character surnames: the first two characters of a longer name are the surname.
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 夏侯 轩辕 端木 独孤 "
    "南宫 西门 万俟 闻人 澹台 公羊 申屠 太史 呼延 单于 百里 东郭 钟离 宗政 濮阳 淳于 "
    "赫连 拓跋 完颜 司空 第五".split()
)

# Surnames read differently from the character's usual reading (单 shan, not dan).
SURNAME_READINGS: dict[str, str] = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "查": "zha",
    "朴": "piao",
    "盖": "ge",
    "缪": "miao",
    "乐": "yue",
    "覃": "qin",
    "翟": "zhai",
    "召": "shao",
    "种": "chong",
    "秘": "bi",
    "黑": "he",
    "员": "yun",
    "隗": "wei",
    "繁": "po",
    "尉": "yu",
    "句": "gou",
    "便": "pian",
    "折": "she",
    "祭": "zhai",
    "长孙": "zhangsun",
    "尉迟": "yuchi",
    "万俟": "moqi",
    "单于": "chanyu",
}

# A name made only of these needs no cleaning; others are NFKC-folded and lose every space
# and dot (the middle dot of minority names), one by one in Python (they are few).
_PLAIN_NAME = r"^[\x{3400}-\x{9FFF}]+$"
_NAME_NOISE = frozenset(" \t\r\n\u3000\u00a0\ufeff\u200b·•・.．")
_PLAIN_ID = r"^[0-9X]{1,18}$"


@dataclass(frozen=True)
class FuzzySettings:
    """Thresholds and training knobs of the fuzzy stage."""

    auto_threshold: float = 0.99
    review_threshold: float = 0.5
    # EM: Splink 5's `max_pairs` argument of estimate_parameters_using_expectation_maximisation
    max_pairs_for_training: float = 2e6
    # u: Splink 5's `max_pairs` argument of estimate_u_using_random_sampling
    max_pairs_for_u: float = 1e7
    seed: int = 42
    # share of true links that agree exactly on name and birth date (prior estimation)
    deterministic_recall: float = 0.8
    # After training, no level's m falls below this (then m is renormalised): an error never
    # seen in training (a sex typo, a wholly wrong ID) must cost a few bits, not forty.
    m_floor: float = 1e-3
    # DuckDB: None leaves DuckDB's default (80% of RAM, all cores)
    memory_limit: str | None = "4GB"
    threads: int | None = None
    # Splink's backend: "duckdb" (in process) or "spark" (pyspark and a Java runtime; the same
    # model, comparisons and thresholds, run as Spark SQL on `spark_master`).
    backend: str = "duckdb"
    spark_master: str = "local[*]"
    # The Spark driver's heap (Spark's own default, 1g, runs out on a province's residue).
    spark_driver_memory: str = "4g"


# --------------------------------------------------------------------------------------------
# Preparation
# --------------------------------------------------------------------------------------------

_char_readings: dict[int, str] = {}  # code point -> toneless reading, filled as names come


def _readings(text: str) -> dict[int, str]:
    """Return the translate table for every character in `text` (pypinyin, one char at a time)."""
    for ch in set(text):
        if ord(ch) not in _char_readings:
            reading = "".join(lazy_pinyin(ch, style=Style.NORMAL)).lower()
            _char_readings[ord(ch)] = reading if reading.isascii() else ch.lower()
    return _char_readings


def _split_name(name: str) -> tuple[str, str]:
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def _surname_pinyin(surname: str, table: dict[int, str]) -> str:
    return SURNAME_READINGS.get(surname) or surname.translate(table)


def name_keys(name: str) -> tuple[str, str, str, str | None]:
    """Return (name_pinyin, surname, surname_pinyin, given_pinyin) of a cleaned name.

    Each character is read on its own (the toneless reading pypinyin gives it alone), so the
    same character always reads the same on both sides; a surname with a special reading (单
    shan, 曾 zeng, 尉迟 yuchi) reads as a surname.
    """
    table = _readings(name)
    surname, given = _split_name(name)
    surname_py = _surname_pinyin(surname, table)
    given_py = given.translate(table)
    return surname_py + given_py, surname, surname_py, given_py or None


def _converted(values: pa.Array, convert: Any) -> pa.Array:
    """Apply `convert` (str -> str) to the distinct values of `values` only."""
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary.to_pylist()
    table = _readings("".join(distinct))
    out = pa.array([convert(v, table) for v in distinct], pa.string())
    return pc.take(out, encoded.indices)


_COMPOUND_FIRST = pa.array(sorted({s[0] for s in COMPOUND_SURNAMES}))


def _name_columns(names: pa.Array) -> dict[str, pa.Array]:
    """Clean the names and add the pinyin columns.

    The pinyin is worked out on the distinct surnames and the distinct given names apart (a
    county has a few hundred surnames and some tens of thousands of given names), then spread
    back to the rows.
    """
    none = pa.scalar(None, pa.string())
    cleaned = _fix_odd(pc.cast(names, pa.string()), _PLAIN_NAME, _clean_name)
    surname = pc.utf8_slice_codeunits(cleaned, 0, 1)
    given = pc.utf8_slice_codeunits(cleaned, 1)
    # two-character surnames: only rows starting with one of their first characters
    maybe = pc.fill_null(
        pc.and_(pc.is_in(surname, _COMPOUND_FIRST), pc.greater(pc.utf8_length(cleaned), 2)), False
    )
    if pc.any(maybe).as_py():
        split = [_split_name(n) for n in pc.filter(cleaned, maybe).to_pylist()]
        surname = pc.replace_with_mask(surname, maybe, pa.array([a for a, _ in split], pa.string()))
        given = pc.replace_with_mask(given, maybe, pa.array([b for _, b in split], pa.string()))
    surname_py = _converted(surname, _surname_pinyin)
    given_py = _converted(given, lambda g, table: g.translate(table))
    return {
        "name": cleaned,
        "name_pinyin": pc.binary_join_element_wise(surname_py, given_py, ""),
        "surname": surname,
        "surname_pinyin": surname_py,
        "given_pinyin": pc.if_else(pc.equal(given_py, ""), none, given_py),
    }


def _blank_to_null(arr: pa.Array) -> pa.Array:
    arr = pc.utf8_trim_whitespace(pc.cast(arr, pa.string()))
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _clean_name(name: str) -> str | None:
    folded = "".join(c for c in unicodedata.normalize("NFKC", name) if c not in _NAME_NOISE)
    return folded or None


def _clean_id(value: str) -> str | None:
    folded = "".join(unicodedata.normalize("NFKC", value).split()).upper()
    return folded or None


def _fix_odd(values: pa.Array, plain: str, fix: Any) -> pa.Array:
    """Return `values` with the rows not matching the regex `plain` replaced by fix(row)."""
    odd = pc.invert(pc.fill_null(pc.match_substring_regex(values, plain), True))
    if not pc.any(odd).as_py():
        return values
    fixed = pa.array([fix(v) for v in pc.filter(values, odd).to_pylist()], pa.string())
    return pc.replace_with_mask(values, odd, fixed)


def _id_columns(ids: pa.Array) -> dict[str, pa.Array]:
    none = pa.scalar(None, pa.string())
    ids = _fix_odd(pc.cast(ids, pa.string()), _PLAIN_ID, _clean_id)
    # 18 ASCII characters: slice bytes (cheaper than code points)
    full = pc.fill_null(
        pc.and_(pc.equal(pc.binary_length(ids), 18), pc.string_is_ascii(ids)), False
    )
    raw = pc.cast(pc.if_else(full, ids, none), pa.binary())

    def part(start: int, stop: int) -> pa.Array:
        return pc.cast(pc.binary_slice(raw, start, stop), pa.string())

    return {
        "id_number": ids,
        # one mistyped character leaves at least one of these whole:
        # head14 (area + birth date) for a typo in the last four, tail9 for a typo in the
        # first nine, area + last four for a typo in the birth date
        "id_head14": part(0, 14),
        "id_tail9": part(9, 18),
        "id_area_tail4": pc.cast(pc.binary_replace_slice(raw, 6, 14, b""), pa.string()),
    }


def _prepared(table: pa.Table, id_column: str, source: str) -> pa.Table:
    n = table.num_rows

    def col(name: str) -> pa.Array:
        if name not in table.column_names:
            return pa.nulls(n, pa.string())
        c = table.column(name)
        return c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c

    names = _name_columns(col("name"))
    ids = _id_columns(col("id_number"))
    birth = (
        pc.cast(col("birth_date"), pa.date32())
        if "birth_date" in table.column_names
        else pa.nulls(n, pa.date32())
    )
    ymd = pc.cast(
        pc.add(
            pc.add(pc.multiply(pc.year(birth), 10000), pc.multiply(pc.month(birth), 100)),
            pc.day(birth),
        ),
        pa.string(),
    )
    sex = pc.utf8_upper(_blank_to_null(col("sex")))
    if pc.any(pc.is_in(sex, pa.array(["男", "女"]))).as_py():
        sex = pc.replace_substring(pc.replace_substring(sex, "男", "M"), "女", "F")
    sex = pc.if_else(pc.is_in(sex, pa.array(["M", "F"])), sex, pa.scalar(None, pa.string()))
    village = _blank_to_null(col("village_code"))
    township = pc.coalesce(
        _blank_to_null(col("township_code")), pc.utf8_slice_codeunits(village, 0, 9)
    )
    return pa.table(
        {
            "unique_id": pc.cast(col(id_column), pa.int64()),
            "source_dataset": pa.repeat(pa.scalar(source, pa.string()), n),
            **names,
            **ids,
            "birth_date": birth,
            "birth_ymd": ymd,
            "sex": sex,
            "village_code": village,
            "township_code": township,
        }
    )


PREPARED_COLUMNS = (
    "unique_id",
    "source_dataset",
    "name",
    "name_pinyin",
    "surname",
    "surname_pinyin",
    "given_pinyin",
    "id_number",
    "id_head14",
    "id_tail9",
    "id_area_tail4",
    "birth_date",
    "birth_ymd",
    "sex",
    "village_code",
    "township_code",
)


def prepare(persons: pa.Table, students: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Return (persons, students) with the comparison and blocking columns Splink needs.

    Input: persons (person_id, name, id_number, birth_date, sex, village_code, township_code)
    and students (student_id, same columns, any of them null; sex may be ""). Output, the same
    columns for both: `PREPARED_COLUMNS`, with unique_id = person_id / student_id and
    source_dataset = "persons" / "students".
    """
    jobs = [
        (part, id_column, source)
        for table, id_column, source in (
            (persons, "person_id", PERSONS),
            (students, "student_id", STUDENTS),
        )
        for part in _slices(table)
    ]
    # Arrow's kernels release the GIL: slices are prepared side by side
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        done = list(pool.map(lambda job: _prepared(*job), jobs))
    return (
        pa.concat_tables([t for t, (_, _, s) in zip(done, jobs, strict=True) if s == PERSONS]),
        pa.concat_tables([t for t, (_, _, s) in zip(done, jobs, strict=True) if s == STUDENTS]),
    )


_SLICE_ROWS = 200_000


def _slices(table: pa.Table) -> list[pa.Table]:
    if table.num_rows <= _SLICE_ROWS:
        return [table]
    return [table.slice(i, _SLICE_ROWS) for i in range(0, table.num_rows, _SLICE_ROWS)]


def _is_prepared(table: pa.Table) -> bool:
    return "unique_id" in table.column_names and "name_pinyin" in table.column_names


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------

NAME_JW_THRESHOLD = 0.92


def _level(sql: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def _comparisons() -> list[dict[str, Any]]:
    return [
        {
            "output_column_name": "name",
            "comparison_description": "name: characters, toneless pinyin, Jaro-Winkler on pinyin",
            "comparison_levels": [
                _level('"name_l" IS NULL OR "name_r" IS NULL', "name missing", is_null_level=True),
                _level(
                    '"name_l" = "name_r"',
                    "same characters",
                    tf_adjustment_column="name",
                    tf_adjustment_weight=1.0,
                ),
                _level(
                    '"name_pinyin_l" = "name_pinyin_r"',
                    "same pinyin (homophone)",
                    tf_adjustment_column="name_pinyin",
                    tf_adjustment_weight=1.0,
                ),
                _level(
                    f'jaro_winkler_similarity("name_pinyin_l", "name_pinyin_r") >= {NAME_JW_THRESHOLD}',
                    f"pinyin Jaro-Winkler >= {NAME_JW_THRESHOLD}",
                ),
                _level("ELSE", "different"),
            ],
        },
        {
            "output_column_name": "birth_date",
            "comparison_description": "birth date",
            "comparison_levels": [
                _level(
                    '"birth_date_l" IS NULL OR "birth_date_r" IS NULL',
                    "birth date missing",
                    is_null_level=True,
                ),
                _level('"birth_date_l" = "birth_date_r"', "same"),
                _level(
                    'substr("birth_ymd_l", 1, 4) = substr("birth_ymd_r", 1, 4)'
                    ' AND substr("birth_ymd_l", 5, 2) = substr("birth_ymd_r", 7, 2)'
                    ' AND substr("birth_ymd_l", 7, 2) = substr("birth_ymd_r", 5, 2)',
                    "day and month swapped",
                ),
                _level('levenshtein("birth_ymd_l", "birth_ymd_r") <= 1', "one digit apart"),
                _level("ELSE", "different"),
            ],
        },
        {
            "output_column_name": "sex",
            "comparison_description": "sex",
            "comparison_levels": [
                _level('"sex_l" IS NULL OR "sex_r" IS NULL', "sex missing", is_null_level=True),
                _level('"sex_l" = "sex_r"', "same"),
                _level("ELSE", "different"),
            ],
        },
        {
            "output_column_name": "place",
            "comparison_description": "village, else township",
            "comparison_levels": [
                _level(
                    '("village_code_l" IS NULL OR "village_code_r" IS NULL)'
                    ' AND ("township_code_l" IS NULL OR "township_code_r" IS NULL)',
                    "place missing",
                    is_null_level=True,
                ),
                _level('"village_code_l" = "village_code_r"', "same village"),
                _level('"township_code_l" = "township_code_r"', "same township"),
                _level("ELSE", "different"),
            ],
        },
        {
            "output_column_name": "id_number",
            "comparison_description": "resident ID, within one edit",
            "comparison_levels": [
                _level(
                    '"id_number_l" IS NULL OR "id_number_r" IS NULL',
                    "ID missing",
                    is_null_level=True,
                ),
                _level('"id_number_l" = "id_number_r"', "same"),
                _level('damerau_levenshtein("id_number_l", "id_number_r") <= 1', "one edit apart"),
                _level("ELSE", "different"),
            ],
        },
    ]


BLOCKING_RULES = (
    "l.name_pinyin = r.name_pinyin",
    "l.birth_date = r.birth_date AND l.surname_pinyin = r.surname_pinyin",
    "l.birth_date = r.birth_date AND l.given_pinyin = r.given_pinyin",
    "l.village_code = r.village_code AND l.surname_pinyin = r.surname_pinyin",
    "l.id_head14 = r.id_head14",
    "l.id_tail9 = r.id_tail9",
    "l.id_area_tail4 = r.id_area_tail4",
)

COMPARISON_NAMES = ("name", "birth_date", "sex", "place", "id_number")


def splink_settings(probability_two_random_records_match: float = 1e-6) -> dict[str, Any]:
    """Return the untrained Splink settings dict (comparisons and blocking rules)."""
    return {
        "link_type": "link_only",
        "unique_id_column_name": "unique_id",
        "source_dataset_column_name": "source_dataset",
        "probability_two_random_records_match": probability_two_random_records_match,
        "comparisons": _comparisons(),
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": br, "sql_dialect": "duckdb"} for br in BLOCKING_RULES
        ],
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": [],
        "em_convergence": 0.0001,
        "max_iterations": 25,
    }


def model_from_parameters(
    parameters: Mapping[str, Sequence[tuple[float, float]]],
    probability_two_random_records_match: float,
) -> dict[str, Any]:
    """Return a model with hand-specified (m, u) per non-null level of each comparison.

    `parameters` maps a comparison name (`COMPARISON_NAMES`) to its (m, u) pairs, in level
    order, skipping the null level.
    """
    model = splink_settings(probability_two_random_records_match)
    for comparison in model["comparisons"]:
        values = list(parameters[comparison["output_column_name"]])
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        if len(values) != len(levels):
            raise ValueError(
                f"{comparison['output_column_name']}: {len(levels)} levels, {len(values)} values"
            )
        for level, (m, u) in zip(levels, values, strict=True):
            level["m_probability"] = m
            level["u_probability"] = u
    return model


@contextmanager
def _duckdb(settings: FuzzySettings) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB of its own, spilling (past `memory_limit`) to a private directory."""
    spill = tempfile.mkdtemp(prefix="jingzhun-fuzzy-")
    con = duckdb.connect(":memory:")
    try:
        if settings.memory_limit:
            con.execute(f"SET memory_limit = '{settings.memory_limit}'")
        con.execute(f"SET temp_directory = '{spill}'")
        if settings.threads:
            con.execute(f"SET threads = {int(settings.threads)}")
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _linker(
    con: duckdb.DuckDBPyConnection,
    persons: pa.Table,
    students: pa.Table,
    model: dict[str, Any],
    settings: FuzzySettings | None = None,
) -> Any:
    from splink import DuckDBAPI, Linker

    if settings is not None and settings.backend == "spark":
        from splink.backends.spark import SparkAPI

        session = spark_session(settings.spark_master, settings.spark_driver_memory)
        for name in (PERSONS, STUDENTS):  # a previous run's input views, in the same session
            session.catalog.dropTempView(name)
        db_api: Any = SparkAPI(spark_session=session)
        model = for_spark(model)
    else:
        db_api = DuckDBAPI(con)
    frames = [
        db_api.register(persons, dataset_display_name=PERSONS),
        db_api.register(students, dataset_display_name=STUDENTS),
    ]
    return Linker(frames, copy.deepcopy(model), log_level=None)


# --------------------------------------------------------------------------------------------
# Spark
# --------------------------------------------------------------------------------------------

_spark: dict[str, Any] = {}
_QUOTED = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)"')


def spark_available() -> str:
    """Return '' when Splink can run on Spark here, else why not (pyspark or Java missing)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install '.[spark]')"
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return "no Java runtime (java on PATH or JAVA_HOME)"
    return ""


def spark_session(master: str = "local[*]", driver_memory: str = "4g") -> Any:
    """Return this process's Spark session (made once), with Splink's similarity functions.

    Spark's scratch files (shuffles, Splink's checkpoints, which hold decrypted ID numbers)
    go to a private directory removed when the process exits.
    """
    if master in _spark:
        return _spark[master]
    import atexit

    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    # py4j says goodbye at interpreter exit, when logging's streams may be closed already.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    scratch = tempfile.mkdtemp(prefix="jingzhun-spark-")
    atexit.register(shutil.rmtree, scratch, True)
    session = (
        SparkSession.builder.master(master)
        .appName("jingzhun-linkage")
        .config("spark.jars", similarity_jar_location())
        .config("spark.local.dir", scratch)
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.default.parallelism", "8")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(os.path.join(scratch, "checkpoints"))
    _spark[master] = session
    return session


def for_spark(model: dict[str, Any]) -> dict[str, Any]:
    """Return the model with its comparison SQL in Spark's dialect (same levels and values).

    DuckDB quotes identifiers with double quotes, Spark with backticks; Splink's Spark jar
    names Jaro-Winkler `jaro_winkler`. Blocking rules carry their dialect and are translated
    by Splink itself.
    """
    model = copy.deepcopy(model)
    if "sql_dialect" in model:
        model["sql_dialect"] = "spark"
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            sql = _QUOTED.sub(r"`\1`", level["sql_condition"])
            level["sql_condition"] = sql.replace("jaro_winkler_similarity(", "jaro_winkler(")
    return model


def _from_spark(trained: dict[str, Any]) -> dict[str, Any]:
    """Return a model trained on Spark in the stored (DuckDB) form: the same levels, with the
    trained m and u values and prior."""
    model = splink_settings(trained["probability_two_random_records_match"])
    for ours, theirs in zip(model["comparisons"], trained["comparisons"], strict=True):
        for level, done in zip(ours["comparison_levels"], theirs["comparison_levels"], strict=True):
            for key in ("m_probability", "u_probability"):
                if key in done:
                    level[key] = done[key]
    return model


def _to_arrow(frame: Any, settings: FuzzySettings) -> pa.Table:
    """Return a Splink result frame as an Arrow table (Spark's collected through Arrow)."""
    if settings.backend == "spark":
        return frame.as_spark_dataframe().toArrow()
    return frame.as_duckdbpyrelation().to_arrow_table()


def _inputs(persons: pa.Table, students: pa.Table) -> tuple[pa.Table, pa.Table]:
    if _is_prepared(persons) and _is_prepared(students):
        return persons, students
    return prepare(persons, students)


def train(
    persons: pa.Table, students: pa.Table, settings: FuzzySettings | None = None
) -> dict[str, Any]:
    """Estimate the model on this residue and return it as a JSON-serialisable dict.

    The prior comes from pairs agreeing exactly on name and birth date (with the recall in
    `settings`), u values from random sampling, m values by expectation maximisation on
    two blockings: same pinyin name (estimates everything but the name) and same birth date
    and surname (estimates the name, sex, place and ID). Sampling is hashed on the ids with
    `settings.seed`, so the same inputs give the same model.
    """
    from splink import block_on

    settings = settings or FuzzySettings()
    persons, students = _inputs(persons, students)
    with _duckdb(settings) as con:
        linker = _linker(con, persons, students, splink_settings(), settings)
        training = linker.training
        training.estimate_probability_two_random_records_match(
            [block_on("name", "birth_date")], recall=settings.deterministic_recall
        )
        training.estimate_u_using_random_sampling(
            max_pairs=settings.max_pairs_for_u, seed=settings.seed
        )
        training.estimate_parameters_using_expectation_maximisation(
            block_on("name_pinyin"), max_pairs=settings.max_pairs_for_training
        )
        training.estimate_parameters_using_expectation_maximisation(
            block_on("birth_date", "surname_pinyin"), max_pairs=settings.max_pairs_for_training
        )
        model = linker.misc.save_model_to_json()
    model = json.loads(json.dumps(model))
    if settings.backend == "spark":
        model = _from_spark(model)
    return _regularised(model, settings)


def _regularised(model: dict[str, Any], settings: FuzzySettings) -> dict[str, Any]:
    """Floor every level's m at `m_floor` and u at one sampled pair, then renormalise.

    Values are rounded to 12 significant digits (DuckDB's parallel sums differ in the last
    bits from run to run) and the random linker_uid is dropped, so that the same inputs and
    seed give the same dict.
    """
    u_floor = 1.0 / settings.max_pairs_for_u
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for key, floor in (("m_probability", settings.m_floor), ("u_probability", u_floor)):
            values = [max(float(lv.get(key) or 0.0), floor) for lv in levels]
            total = sum(values)
            for lv, v in zip(levels, values, strict=True):
                lv[key] = _round(v / total)
    model["probability_two_random_records_match"] = _round(
        model["probability_two_random_records_match"]
    )
    model.pop("linker_uid", None)
    return model


def _round(value: float) -> float:
    return float(f"{value:.12g}")


# --------------------------------------------------------------------------------------------
# Linking
# --------------------------------------------------------------------------------------------

LINK_SCHEMA = pa.schema(
    [
        ("person_id", pa.int64()),
        ("student_id", pa.int64()),
        ("match_probability", pa.float64()),
        ("match_weight", pa.float64()),
        ("decision", pa.string()),
        ("name_agrees", pa.bool_()),
        ("birth_date_agrees", pa.bool_()),
        ("sex_agrees", pa.bool_()),
        ("village_agrees", pa.bool_()),
        ("township_agrees", pa.bool_()),
        ("id_distance", pa.int32()),
        *[(f"gamma_{c}", pa.int8()) for c in COMPARISON_NAMES],
        *[(f"{c}_level", pa.string()) for c in COMPARISON_NAMES],
    ]
)


def _pairs_table(pairs: Iterable[tuple[int, int]] | None) -> pa.Table:
    rows = sorted(set(pairs or ()))
    return pa.table(
        {
            "person_id": pa.array([int(p) for p, _ in rows], pa.int64()),
            "student_id": pa.array([int(s) for _, s in rows], pa.int64()),
        }
    )


def _without_accepted(
    persons: pa.Table, students: pa.Table, accepted: pa.Table
) -> tuple[pa.Table, pa.Table]:
    if accepted.num_rows == 0:
        return persons, students
    pid = "unique_id" if _is_prepared(persons) else "person_id"
    sid = "unique_id" if _is_prepared(students) else "student_id"
    persons = persons.filter(pc.invert(pc.is_in(persons.column(pid), accepted.column("person_id"))))
    students = students.filter(
        pc.invert(pc.is_in(students.column(sid), accepted.column("student_id")))
    )
    return persons, students


def _level_label_sql(model: dict[str, Any], name: str) -> str:
    for comparison in model["comparisons"]:
        if comparison.get("output_column_name") != name:
            continue
        levels = comparison["comparison_levels"]
        whens = []
        value = len([lv for lv in levels if not lv.get("is_null_level")]) - 1
        for level in levels:
            label = str(level.get("label_for_charts") or level["sql_condition"]).replace("'", "''")
            if level.get("is_null_level"):
                whens.append(f"WHEN gamma_{name} = -1 THEN '{label}'")
            else:
                whens.append(f"WHEN gamma_{name} = {value} THEN '{label}'")
                value -= 1
        return "CASE " + " ".join(whens) + " END"
    return "NULL"


def one_to_one(candidates: pa.Table) -> pa.Table:
    """Keep each person and each student at most once, greedily.

    Pairs whose names agree go first, then by descending probability: a roll row carrying a
    sibling's ID (ID agrees, name does not) must not take the child before the pair whose name
    and birth date agree. Ties are broken by the smaller person_id, then the smaller student_id.
    """
    keys = [("match_probability", "descending")]
    if "name_agrees" in candidates.column_names:
        keys.insert(0, ("name_agrees", "descending"))
    order = pc.sort_indices(
        candidates,
        sort_keys=[
            *keys,
            ("person_id", "ascending"),
            ("student_id", "ascending"),
        ],
    )
    ordered = candidates.take(order)
    persons_used: set[int] = set()
    students_used: set[int] = set()
    keep: list[int] = []
    pids = ordered.column("person_id").to_pylist()
    sids = ordered.column("student_id").to_pylist()
    for i, (p, s) in enumerate(zip(pids, sids, strict=True)):
        if p in persons_used or s in students_used:
            continue
        persons_used.add(p)
        students_used.add(s)
        keep.append(i)
    return ordered.take(pa.array(keep, pa.int64()))


def link(
    persons: pa.Table,
    students: pa.Table,
    model: dict[str, Any],
    settings: FuzzySettings | None = None,
    *,
    accepted: Iterable[tuple[int, int]] | None = None,
    rejected: Iterable[tuple[int, int]] | None = None,
) -> pa.Table:
    """Link the residue one-to-one and return the links at or above the review threshold.

    `persons` and `students` are the raw residue tables (or the output of `prepare`).
    `accepted` (person_id, student_id) pairs a person confirmed: both sides are taken out
    before linking. `rejected` pairs a person turned down: never proposed again (the student
    may still link to someone else). Returns `LINK_SCHEMA`, sorted by probability descending:
    decision "auto" (probability >= auto_threshold and names agree) or "review".
    """
    settings = settings or FuzzySettings()
    persons, students = _without_accepted(persons, students, _pairs_table(accepted))
    persons, students = _inputs(persons, students)
    if persons.num_rows == 0 or students.num_rows == 0:
        return LINK_SCHEMA.empty_table()
    with _duckdb(settings) as con:
        linker = _linker(con, persons, students, model, settings)
        predictions = linker.inference.predict(
            threshold_match_probability=settings.review_threshold, warning_mode="never"
        )
        if settings.backend == "spark":
            # The pairs above the review threshold are few: the rest is done here, in DuckDB.
            con.register("__jz_predictions", _to_arrow(predictions, settings))
            physical = "__jz_predictions"
        else:
            physical = predictions.physical_name
        con.register("__jz_rejected", _pairs_table(rejected))
        labels = ",\n".join(f"{_level_label_sql(model, c)} AS {c}_level" for c in COMPARISON_NAMES)
        candidates = con.sql(f"""
            WITH pr AS (SELECT * FROM {physical}),
            c AS (
                SELECT
                    CASE WHEN source_dataset_l = '{PERSONS}' THEN unique_id_l ELSE unique_id_r END AS person_id,
                    CASE WHEN source_dataset_l = '{PERSONS}' THEN unique_id_r ELSE unique_id_l END AS student_id,
                    CAST(match_probability AS DOUBLE) AS match_probability,
                    CAST(match_weight AS DOUBLE) AS match_weight,
                    coalesce(name_l = name_r OR name_pinyin_l = name_pinyin_r, false) AS name_agrees,
                    birth_date_l = birth_date_r AS birth_date_agrees,
                    sex_l = sex_r AS sex_agrees,
                    village_code_l = village_code_r AS village_agrees,
                    township_code_l = township_code_r AS township_agrees,
                    CAST(damerau_levenshtein(id_number_l, id_number_r) AS INTEGER) AS id_distance,
                    {", ".join(f"CAST(gamma_{c} AS TINYINT) AS gamma_{c}" for c in COMPARISON_NAMES)},
                    {labels}
                FROM pr
                WHERE match_probability >= {float(settings.review_threshold)!r}
            )
            SELECT c.* FROM c
            ANTI JOIN __jz_rejected r ON r.person_id = c.person_id AND r.student_id = c.student_id
        """).to_arrow_table()
    chosen = one_to_one(candidates)
    auto = pc.and_(
        pc.greater_equal(chosen.column("match_probability"), settings.auto_threshold),
        chosen.column("name_agrees"),
    )
    decision = pc.if_else(auto, "auto", "review")
    chosen = chosen.append_column("decision", decision)
    return chosen.select(LINK_SCHEMA.names).cast(LINK_SCHEMA)

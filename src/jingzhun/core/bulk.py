"""Set-wise writes: many rows in one statement batch, never a per-row ORM loop."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from django.db import connection

from jingzhun.core import db

BATCH = 5000


def _chunks(rows: Sequence[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def insert_rows(
    table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, progress: Any = None
) -> int:
    """Insert rows into a table (COPY on PostgreSQL, executemany on SQLite); return the count."""
    if not rows:
        return 0
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    done = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with db.copy(cursor, f"COPY {qn(table)} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    done += 1
                    if progress is not None and done % 50_000 == 0:
                        progress(done)
            return done
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {qn(table)} ({cols}) VALUES ({marks})"
        for chunk in _chunks(rows, BATCH):
            cursor.executemany(sql, chunk)
            done += len(chunk)
            if progress is not None:
                progress(done)
    return done


@contextmanager
def plain_indexes_deferred(table: str, *, enabled: bool = True) -> Iterator[None]:
    """SQLite: drop a table's plain (not unique) indexes for a bulk insert and create them
    again after it, with their own definitions, in the same transaction.

    One sort per index at the end is several times cheaper than a B-tree insert per row into
    an index whose keys (blind indexes) arrive in random order. Unique indexes stay, so every
    row is still checked as it lands; readers see the old table until the commit, and a
    rollback gives the indexes back. Elsewhere (PostgreSQL), or when not enabled, nothing.
    """
    if not enabled or connection.vendor != "sqlite" or not connection.in_atomic_block:
        yield
        return
    qn = connection.ops.quote_name
    plain = [
        (name, sql)
        for name, sql in fetch_columns(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
            "AND sql IS NOT NULL ORDER BY name",
            [table],
        )
        if not str(sql).lstrip().upper().startswith("CREATE UNIQUE")
    ]
    with connection.cursor() as cursor:
        for name, _sql in plain:
            cursor.execute(f"DROP INDEX {qn(name)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _name, sql in plain:
                cursor.execute(sql)


def copy_arrow(table: str, columns: Sequence[str], data: pa.Table, *, progress: Any = None) -> int:
    """Load an Arrow table into PostgreSQL with COPY ... CSV (binary columns as bytea hex text)."""
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    done = 0
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    with connection.cursor() as cursor:
        with db.copy(cursor, f"COPY {qn(table)} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
            for batch in data.to_batches(max_chunksize=50_000):
                buffer = io.BytesIO()
                pacsv.write_csv(pa.Table.from_batches([batch]), buffer, options)
                copy.write(buffer.getvalue())
                done += batch.num_rows
                if progress is not None:
                    progress(done)
    return done


def plain_rows(data: pa.Table, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """Return rows of an Arrow table as tuples ready for SQLite, without a Python object per
    decimal or date: decimals and dates go as text (as Django writes them), booleans as 0/1,
    dictionary columns as their values. Columns go through NumPy, which makes Python values
    several times faster than Arrow's per-value conversion."""
    out = []
    for name in columns:
        column = data.column(name).combine_chunks()
        kind = column.type
        if pa.types.is_dictionary(kind):
            column = column.cast(kind.value_type)
            kind = kind.value_type
        if pa.types.is_decimal(kind) or pa.types.is_date(kind):
            column = column.cast(pa.string())
        elif pa.types.is_boolean(kind):
            column = column.cast(pa.int8())
        if column.null_count and not pa.types.is_string(column.type):
            # NumPy would turn a missing number into NaN: fill, convert, then put None back.
            values = column.fill_null(0).to_numpy(zero_copy_only=False).astype(object)
            values[column.is_null().to_numpy(zero_copy_only=False)] = None
            out.append(values.tolist())
        else:
            out.append(column.to_numpy(zero_copy_only=False).tolist())
    return list(zip(*out, strict=True))


def update_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Update rows by primary key; each row is (*values, id)."""
    if not rows:
        return 0
    qn = connection.ops.quote_name
    sets = ", ".join(f"{qn(c)} = %s" for c in columns)
    sql = f"UPDATE {qn(table)} SET {sets} WHERE {qn('id')} = %s"
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, BATCH):
            cursor.executemany(sql, chunk)
    return len(rows)


IN_LIST = 900  # values per IN list (SQLite)
IN_ARRAY = 100_000  # values per array parameter (PostgreSQL)


def select_in(
    sql: str, values: Sequence[Any], params: Sequence[Any] = ()
) -> Iterator[tuple[str, list[Any]]]:
    """Yield (statement, parameters) that together run ``sql`` over ``values``.

    ``sql`` holds one ``IN ({marks})``, whose values come after ``params``. On SQLite each
    statement gets an IN list of at most 900 values. On PostgreSQL it gets one array
    parameter (``= ANY(%s::bigint[])`` or ``::text[]``) of up to 100,000 values: an IN list
    is planned against every partition of a partitioned table, which costs seconds a
    statement at province scale (docs/scaling.md).
    """
    values = list(values)
    if connection.vendor == "postgresql":
        kind = "bigint" if values and isinstance(values[0], int) else "text"
        text = sql.replace("IN ({marks})", f"= ANY(%s::{kind}[])")
        for start in range(0, len(values), IN_ARRAY):
            yield text, [*params, values[start : start + IN_ARRAY]]
        return
    for start in range(0, len(values), IN_LIST):
        chunk = values[start : start + IN_LIST]
        yield sql.replace("{marks}", ", ".join(["%s"] * len(chunk))), [*params, *chunk]


def fetch_columns(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Return all rows of a query as tuples."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def fetch_arrow(
    sql: str, params: Sequence[Any], schema: pa.Schema, *, chunk: int = 100_000
) -> pa.Table:
    """Read a query into an Arrow table of the given schema, a chunk of rows at a time.

    On PostgreSQL the rows come as CSV from COPY and Arrow parses them, with no Python
    object per value; on SQLite dates arriving as text are parsed by Arrow, not row by row.
    """
    if connection.vendor == "postgresql" and not any(
        pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type) for f in schema
    ):
        return _copy_arrow_out(sql, params, schema)
    batches: list[pa.RecordBatch] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk):
            columns = list(zip(*rows, strict=True))
            arrays = []
            for field, values in zip(schema, columns, strict=True):
                if pa.types.is_date(field.type) and any(isinstance(v, str) for v in values):
                    arrays.append(pa.array(values, pa.string()).cast(pa.date32()))
                elif pa.types.is_boolean(field.type):
                    arrays.append(
                        pa.array([None if v is None else bool(v) for v in values], field.type)
                    )
                else:
                    arrays.append(pa.array(values, field.type))
            batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def _copy_arrow_out(sql: str, params: Sequence[Any], schema: pa.Schema) -> pa.Table:
    """Read a query through COPY ... TO STDOUT (CSV) into Arrow (PostgreSQL)."""
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        with db.copy(cursor, f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params or None) as copy:
            for block in copy:
                buffer.write(block)
    if not buffer.getbuffer().nbytes:
        return schema.empty_table()
    buffer.seek(0)
    return pacsv.read_csv(
        buffer,
        read_options=pacsv.ReadOptions(column_names=schema.names, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=schema,
            true_values=["t"],
            false_values=["f"],
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    ).cast(schema)

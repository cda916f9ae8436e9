"""Writing the demo county (or province) to files: .xlsx through XlsxWriter, .csv streamed."""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import random
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import xlsxwriter

from jingzhun.demo.generator.county import _County
from jingzhun.demo.generator.dates import BASE_YEAR
from jingzhun.demo.generator.model import (
    _SCALES,
    AREA_HEADERS,
    HEADERS,
    KINDS,
    PROVINCE_COUNTIES,
    REGISTRY_HEADERS,
    ROLL_HEADERS,
    SCHOOL_HEADERS,
    TRUTH_HEADERS,
    Cell,
    MessRates,
    Progress,
    _CountySpec,
    _Enrol,
    _Scale,
    _Shared,
)
from jingzhun.demo.generator.places import _county_spec, _province_specs, _shared_schools
from jingzhun.demo.generator.staff import STAFF_HEADERS, staff_rows
from jingzhun.demo.generator.teachers import TEACHER_HEADERS, teacher_rows

_CREATED = datetime(BASE_YEAR, 9, 10, 8, 0, tzinfo=UTC)


def created_at(school_year: int) -> datetime:
    """Return the fixed creation time written into a school year's workbooks."""
    return _CREATED.replace(year=school_year)


def _write_xlsx(
    path: Path,
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    title: str = "",
    subtitle: str = "",
    note: str = "",
    text_cols: Iterable[int] = (),
    progress: Progress | None = None,
    stage: str = "",
    created: datetime = _CREATED,
) -> None:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    # a fixed creation time keeps the bytes identical from run to run
    wb.set_properties({"created": created, "author": "jingzhun demo"})
    ws = wb.add_worksheet("Sheet1")
    bold = wb.add_format({"bold": True, "border": 1, "align": "center", "bg_color": "#DDEBF7"})
    title_fmt = wb.add_format({"bold": True, "font_size": 16, "align": "center"})
    text_fmt = wb.add_format({"num_format": "@"})
    last = len(headers) - 1
    text = set(text_cols)
    for c, h in enumerate(headers):
        width = max(8, 2 * len(h) + 2)
        ws.set_column(c, c, 20 if c in text else width, text_fmt if c in text else None)
    r = 0
    if title:
        ws.merge_range(r, 0, r, last, title, title_fmt)
        r += 1
    if subtitle:
        ws.merge_range(r, 0, r, last, subtitle)
        r += 1
    for c, h in enumerate(headers):
        ws.write_string(r, c, h, bold)
    r += 1
    total = len(rows)
    for i, row in enumerate(rows):
        for c, v in enumerate(row):
            if isinstance(v, str):
                if v:
                    ws.write_string(r, c, v)
            else:
                ws.write_number(r, c, v)
        r += 1
        if progress and (i + 1) % 10000 == 0:
            progress(stage, i + 1, total)
    if note:
        ws.write_string(r, 0, note)
    wb.close()
    if progress:
        progress(stage, total, total)


def _fmt_cell(v: Cell) -> str:
    return v if isinstance(v, str) else str(v)


def _write_csv(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(headers)
        w.writerows([_fmt_cell(v) for v in row] for row in rows)


def _generate_county(
    *,
    seed: int,
    scale: _Scale,
    out: Path,
    mess: MessRates,
    progress: Progress | None,
    school_year: int = BASE_YEAR,
) -> dict[str, Path]:
    spec = _county_spec(seed)
    shared = _shared_schools(random.Random(seed ^ 0x5EED), "42")
    county = _County(spec, scale, shared, mess, excel=True, school_year=school_year)
    county.build()
    if progress:
        progress("build", 1, 1)
    year = school_year
    created = created_at(year)
    paths = {kind: out / f"{kind}.xlsx" for kind in (*KINDS, "staff", "teachers")}
    paths["truth"] = out / "truth.csv"
    _write_xlsx(paths["areas"], AREA_HEADERS, county.area_rows(), text_cols=(0, 3), created=created)
    if progress:
        progress("areas", 1, 1)
    _write_xlsx(
        paths["schools"],
        SCHOOL_HEADERS,
        county.school_rows() + [s.row() for s in shared.all()],
        text_cols=(0, 3, 4),
        created=created,
    )
    if progress:
        progress("schools", 1, 1)
    _write_xlsx(
        paths["registry"],
        REGISTRY_HEADERS,
        county.registry_rows(),
        title=f"{spec.name}{year}年建档立卡贫困人口信息表",
        subtitle=f"填报单位：{spec.name}扶贫开发办公室　　　　数据截至：{year}年8月31日",
        note=f"注：本表由{spec.name}扶贫办提供，仅限教育资助工作使用，不得外传。",
        text_cols=(0, 1, 8, 10, 19, 20),
        progress=progress,
        stage="registry",
        created=created,
    )
    rolls, truth = county.roll_rows()
    _write_xlsx(
        paths["rolls"],
        ROLL_HEADERS,
        rolls,
        title=f"{spec.name}{year}-{year + 1}学年学生学籍信息表",
        note=f"注：本表由{spec.name}教育局学籍管理系统导出，含本县户籍在县外就读学生。",
        text_cols=(0, 2, 5),
        progress=progress,
        stage="rolls",
        created=created,
    )
    _write_csv(paths["truth"], TRUTH_HEADERS, truth)
    if progress:
        progress("truth", 1, 1)
    staff, _gaps = staff_rows(county, county.enrolments)
    _write_xlsx(paths["staff"], STAFF_HEADERS, staff, text_cols=(2, 4), created=created)
    if progress:
        progress("staff", 1, 1)
    write_teachers(paths["teachers"], county, county.enrolments, staff, created)
    if progress:
        progress("teachers", 1, 1)
    return paths


def write_teachers(
    path: Path,
    county: _County,
    enrolments: Sequence[_Enrol],
    staff: Sequence[Sequence[Cell]],
    created: datetime,
) -> None:
    """Write the county's teacher roster (see :mod:`.teachers`), as its personnel clerk keeps it."""
    rows, _plan = teacher_rows(county, enrolments, staff)
    year, name = county.school_year, county.spec.name
    _write_xlsx(
        path,
        TEACHER_HEADERS,
        rows,
        title=f"{name}{year}年秋季学期中小学（幼儿园）教职工花名册",
        subtitle=f"填报单位：{name}教育局人事股　　　　统计时间：{year}年9月30日",
        text_cols=(3, 4, 5, 11),
        created=created,
    )


def _county_csv_chunks(
    spec: _CountySpec, scale: _Scale, shared: _Shared, mess: MessRates, school_year: int
) -> dict[str, str]:
    """Build one county and return its rows as CSV text (no header), by kind."""
    county = _County(spec, scale, shared, mess, excel=False, school_year=school_year)
    county.build()
    rolls, truth = county.roll_rows()
    parts = {
        "areas": county.area_rows(),
        "schools": county.school_rows(),
        "registry": county.registry_rows(),
        "rolls": rolls,
        "truth": truth,
    }
    out: dict[str, str] = {}
    for kind, rows in parts.items():
        buf = io.StringIO()
        csv.writer(buf).writerows([_fmt_cell(v) for v in row] for row in rows)
        out[kind] = buf.getvalue()
    return out


def _chunks_in_order(
    specs: Sequence[_CountySpec],
    scale: _Scale,
    shared: _Shared,
    mess: MessRates,
    workers: int,
    school_year: int = BASE_YEAR,
) -> Iterator[dict[str, str]]:
    """Yield each county's CSV chunks in county order, built by up to ``workers`` processes.

    Counties are independent (own seed, own area codes), so the output does not depend on
    the number of workers. At most ``2 * workers`` finished counties wait in memory.
    """
    if workers <= 1 or len(specs) <= 1:
        for spec in specs:
            yield _county_csv_chunks(spec, scale, shared, mess, school_year)
        return
    # spawn, not fork: the caller may be a Django process with open connections and threads
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: deque[Future[dict[str, str]]] = deque()
        todo = iter(specs)
        for spec in todo:
            pending.append(pool.submit(_county_csv_chunks, spec, scale, shared, mess, school_year))
            if len(pending) >= 2 * workers:
                break
        while pending:
            chunk = pending.popleft().result()
            spec_next = next(todo, None)
            if spec_next is not None:
                pending.append(
                    pool.submit(_county_csv_chunks, spec_next, scale, shared, mess, school_year)
                )
            yield chunk


def _generate_province(
    *,
    seed: int,
    out: Path,
    mess: MessRates,
    progress: Progress | None,
    counties: int = PROVINCE_COUNTIES,
    county_scale: _Scale | None = None,
    workers: int | None = None,
    school_year: int = BASE_YEAR,
) -> dict[str, Path]:
    """Stream a province county by county to CSV files; memory holds a few counties at most."""
    scale = county_scale or _SCALES["county"]
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    shared = _shared_schools(random.Random(seed ^ 0x5EED), "42")
    specs = _province_specs(seed, counties)
    out.mkdir(parents=True, exist_ok=True)
    paths = {kind: out / f"{kind}.csv" for kind in KINDS}
    files = {kind: paths[kind].open("w", encoding="utf-8", newline="") for kind in KINDS}
    try:
        for kind, f in files.items():
            csv.writer(f).writerow(HEADERS[kind])
        csv.writer(files["schools"]).writerows(
            [_fmt_cell(v) for v in s.row()] for s in shared.all()
        )
        for i, chunks in enumerate(
            _chunks_in_order(specs, scale, shared, mess, workers, school_year)
        ):
            for kind, text in chunks.items():
                files[kind].write(text)
            if progress:
                progress("county", i + 1, len(specs))
    finally:
        for f in files.values():
            f.close()
    return paths

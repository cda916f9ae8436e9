"""Generate a synthetic demo county (or province) in the import formats.

The files follow docs/formats.md: areas, schools, the poverty registry (建档立卡), the
student rolls (学籍), the staff roster and the teacher roster for one school year, plus
``truth.csv``, which records for every roll row who the student really is, so that matching
can be scored.

Only registered-poor persons appear in the registry; every other resident of the county
appears only as a student on the rolls. The rolls carry the clerical mess found in real
files (typos in ID numbers, siblings' IDs, missing IDs, homophones in names, swapped day
and month), at the rates given by :class:`MessRates`.

The county is drawn in the frame of school year 2018 and moved to the school year asked for
(:mod:`.dates`), so a seed gives the same people in every year, each as old as they should be.

Modules: :mod:`.dates` (date table, years, ID digits), :mod:`.model` (headers, rates, the
county model), :mod:`.places` (areas, villages, schools), :mod:`.people` (households,
persons), :mod:`.rolls` (enrolments, classes, roll rows and their mess), :mod:`.staff` (the
staff roster), :mod:`.teachers` (the teacher roster), :mod:`.writers` (xlsx and csv files).
No database and no settings: the demo management commands and the benchmarks call
:func:`generate`.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jingzhun.core.periods import SchoolYear
from jingzhun.demo.generator.county import _County
from jingzhun.demo.generator.dates import _W, BASE_YEAR, _dates, _day, shift_date
from jingzhun.demo.generator.model import (
    _SCALES,
    AREA_HEADERS,
    HEADERS,
    KINDS,
    MESS_KINDS,
    NO_MESS,
    PROVINCE_COUNTIES,
    REGISTRY_HEADERS,
    ROLL_HEADERS,
    SCHOOL_HEADERS,
    SCHOOL_YEAR,
    TRUTH_HEADERS,
    Cell,
    MessRates,
    Progress,
    _CountySpec,
    _Enrol,
    _Person,
    _Scale,
    _School,
    _Shared,
    _yn,
)
from jingzhun.demo.generator.places import _county_spec, _province_specs, _shared_schools
from jingzhun.demo.generator.staff import STAFF_HEADERS, StaffGaps, grade_word, staff_rows
from jingzhun.demo.generator.writers import (
    _generate_county,
    _generate_province,
    _write_csv,
    _write_xlsx,
    created_at,
)

__all__ = [
    "AREA_HEADERS",
    "BASE_YEAR",
    "HEADERS",
    "KINDS",
    "MESS_KINDS",
    "NO_MESS",
    "PROVINCE_COUNTIES",
    "REGISTRY_HEADERS",
    "ROLL_HEADERS",
    "SCHOOL_HEADERS",
    "SCHOOL_YEAR",
    "STAFF_HEADERS",
    "TRUTH_HEADERS",
    "_SCALES",
    "_W",
    "Cell",
    "MessRates",
    "Progress",
    "StaffGaps",
    "_County",
    "_CountySpec",
    "_Enrol",
    "_Person",
    "_Scale",
    "_School",
    "_Shared",
    "_county_spec",
    "_dates",
    "_day",
    "_generate_county",
    "_generate_province",
    "_province_specs",
    "_shared_schools",
    "_write_csv",
    "_write_xlsx",
    "_yn",
    "created_at",
    "current_school_year",
    "generate",
    "grade_word",
    "shift_date",
    "staff_rows",
]

COUNTY_TZ = ZoneInfo("Asia/Shanghai")


def current_school_year(today: date | None = None) -> int:
    """Return the school year (its first calendar year) of ``today``, the county's date."""
    # the county's date, not the server's: settings (and timezone.localdate) may not be loaded
    return SchoolYear.of(today or datetime.now(COUNTY_TZ).date()).start


def generate(
    *,
    seed: int,
    scale: str,
    out: Path,
    mess: MessRates = MessRates(),  # noqa: B008 - frozen dataclass, safe as a default
    progress: Progress | None = None,
    layout: str = "standard",
    school_year: int | None = None,
) -> dict[str, Path]:
    """Generate the demo files into ``out`` and return their paths by kind.

    ``scale`` is ``"county"`` (one county, .xlsx files), ``"province"`` (100 counties,
    streamed to .csv files) or ``"tiny"`` (one township, for tests). The output is
    deterministic for a given seed.

    ``layout`` is ``"standard"`` (the import formats of docs/formats.md) or ``"national"``
    (the files national systems export, see :mod:`jingzhun.demo.national`; county or tiny
    scale only).

    ``school_year`` is the first calendar year of the school year the county lives in (2026
    for 2026-2027); ``None`` means the school year of today. Every date and year moves with
    it; school year 2018 gives the files this generator has always written.
    """
    if layout not in ("standard", "national"):
        raise ValueError(f"unknown layout {layout!r}: use standard or national")
    year = current_school_year() if school_year is None else school_year
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if layout == "national":
        if scale not in _SCALES:
            raise ValueError(f"the national layout needs scale county or tiny, not {scale!r}")
        from jingzhun.demo.national import generate_national

        return generate_national(
            seed=seed, scale=_SCALES[scale], out=out, mess=mess, progress=progress, school_year=year
        )
    if scale == "province":
        return _generate_province(
            seed=seed, out=out, mess=mess, progress=progress, school_year=year
        )
    if scale not in _SCALES:
        raise ValueError(f"unknown scale {scale!r}: use county, province or tiny")
    return _generate_county(
        seed=seed, scale=_SCALES[scale], out=out, mess=mess, progress=progress, school_year=year
    )

"""Grades written as text, and schools taken from the rolls, for counties without a school list.

The national student-roll export names each school (学校标识码, 学校名称) and writes the grade
as text; the kind of a school follows from the stages it teaches, and its township is proposed
from its name (青山镇中心小学 lies in 青山镇) for the clerk to confirm.
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa
from django.utils.translation import gettext as _

from jingzhun.core.bulk import fetch_columns
from jingzhun.core.models import ImportChange
from jingzhun.schools.models import School

_CN = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_PRESCHOOL = {"小班": 1, "中班": 2, "大班": 3, "学前班": 3, "托班": 1}
_NUM = r"([一二三四五六七八九]|[1-9])"


def _n(text: str) -> int:
    return _CN.get(text) or int(text)


def parse_grade(text: str | None, stage: str | None = None) -> tuple[str, int] | None:
    """Return (stage, grade within the stage) for a grade as the rolls write it, or None.

    A plain number needs the stage (学段) beside it; text grades carry their own stage:
    小班/中班/大班, 一年级…六年级 (primary), 七年级…九年级 or 初一…初三 (junior), 高一…高三,
    中职一年级…, 大一…大五 and 研一… (university).
    """
    if text is None:
        return None
    t = "".join(str(text).split())
    if t in _PRESCHOOL:
        return "preschool", _PRESCHOOL[t]
    if re.fullmatch(r"\d{1,2}", t):
        return (stage, int(t)) if stage and 1 <= int(t) <= 9 else None
    patterns: list[tuple[str, str, int]] = [
        (rf"^中职{_NUM}年级$", "vocational", 0),
        (rf"^职高{_NUM}年级$", "vocational", 0),
        (rf"^中职{_NUM}$", "vocational", 0),
        (rf"^高{_NUM}$", "senior", 0),
        (rf"^高中{_NUM}年级$", "senior", 0),
        (rf"^初{_NUM}$", "junior", 0),
        (rf"^初中{_NUM}年级$", "junior", 0),
        (rf"^大{_NUM}$", "university", 0),
        (rf"^研{_NUM}$", "university", 4),
        (rf"^{_NUM}年级$", "", 0),
    ]
    for pattern, found_stage, offset in patterns:
        m = re.match(pattern, t)
        if not m:
            continue
        n = _n(m.group(1)) + offset
        if found_stage:
            limit = {"senior": 3, "junior": 3, "vocational": 4, "university": 9}[found_stage]
            return (found_stage, n) if 1 <= n <= limit else None
        # N年级: 1-6 primary, 7-9 junior, unless a stage says otherwise.
        if stage in ("senior", "vocational", "university", "junior") and n <= 4:
            return stage, n
        if stage == "preschool" and n <= 3:
            return stage, n
        if n <= 6:
            return "primary", n
        return "junior", n - 6
    return None


def school_kind(stages: set[str], name: str) -> str:
    """Return the kind of a school from the stages it teaches and its name."""
    if "特殊教育" in name or "特教" in name or "培智" in name:
        return School.Kind.SPECIAL
    if "教学点" in name:
        return School.Kind.TEACHING_POINT
    if stages == {"preschool"} or "幼儿园" in name:
        return School.Kind.KINDERGARTEN
    if "vocational" in stages or "职业" in name or "职校" in name:
        return School.Kind.VOCATIONAL
    if "university" in stages:
        return School.Kind.UNIVERSITY
    if "senior" in stages:
        return School.Kind.COMPLETE_SECONDARY if "junior" in stages else School.Kind.GENERAL_HIGH
    if "junior" in stages:
        return School.Kind.NINE_YEAR if "primary" in stages else School.Kind.JUNIOR_HIGH
    return School.Kind.PRIMARY


def _stem(name: str) -> str:
    for suffix in ("街道办事处", "街道", "镇", "乡"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def propose_township(name: str, townships: list[tuple[int, str]]) -> int | None:
    """Return the township whose name (or its stem: 青山 of 青山镇) the school's name holds;
    the longest such name wins, and a tie proposes nothing."""
    hits = sorted(
        ((len(stem), pk) for pk, t in townships for stem in {t, _stem(t)} if stem and stem in name),
        reverse=True,
    )
    if not hits or (len(hits) > 1 and hits[0][0] == hits[1][0] and hits[0][1] != hits[1][1]):
        return None
    return hits[0][1]


def schools_derive(data: pa.Table, ctx: Any) -> tuple[int, int]:
    """Create the schools a roll file names but the county lacks; return (created, without a
    proposed township). Each is recorded as a derived change of the import."""
    known = {c for (c,) in fetch_columns("SELECT code FROM schools_school")}
    codes = data.column("school_code").to_pylist()
    names = data.column("school_name").to_pylist()
    stages = data.column("stage").to_pylist()
    boarding = data.column("boarding").to_pylist()
    wanted: dict[str, tuple[str, set[str], bool]] = {}
    for code, name, stage, board in zip(codes, names, stages, boarding, strict=True):
        if not code or code in known or not name:
            continue
        entry = wanted.setdefault(code, (name, set(), False))
        entry[1].add(stage)
        wanted[code] = (entry[0], entry[1], entry[2] or bool(board))
    if not wanted:
        return 0, 0
    county = ctx.batch.county_code
    towns = [
        (pk, name)
        for pk, name, code in fetch_columns(
            "SELECT id, name, code FROM registry_area WHERE level = 'township'"
        )
        if not county or code.startswith(county)
    ]
    unplaced = 0
    changes = []
    for code in sorted(wanted):
        name, taught, board = wanted[code]
        township = propose_township(name, towns)
        unplaced += township is None
        kind = school_kind(taught - {None}, name)  # type: ignore[operator]
        School.objects.create(code=code, name=name, kind=kind, township_id=township, boarding=board)
        changes.append(
            ImportChange(
                batch=ctx.batch,
                entity="school",
                key=code,
                action="derived",
                changes={"name": name, "kind": kind, "township_id": township},
            )
        )
    ImportChange.objects.bulk_create(changes)
    ctx.progress(_("Schools taken from the rolls"), force=True)
    return len(wanted), unplaced

"""The demo county's staff roster (``staff.xlsx``): everyone who works in the duty chain.

One row per post, most of them people without a login on the platform:

* 班主任: the head teacher of every class on the rolls, under the same name as the rolls'
  班主任 column (a teaching point's one teacher heads each of its grades: one row per grade,
  same person and phone);
* 校长: each in-county school's principal (teaching points have none: the township's
  central school runs them);
* 中心校校长: each township's central-school head, with the township's central primary
  school (or nine-year school) as the school;
* 乡镇教育专干: each township's education officer (no school);
* 村干部 for every village or community, 驻村第一书记 for poor villages (no school).

Columns (:data:`STAFF_HEADERS`): 姓名, 性别, 手机号码, 岗位, 学校标识码, 学校名称, 年级, 班级,
乡镇, 行政村. 年级 is the grade in words ("八年级", "高一", "小班") and 班级 the class exactly as the
rolls' 班级 column names it ("9班"; "八年级9班" where the rolls write it so, in nine-year and
special schools), both empty for anyone but a head teacher; 乡镇 and 行政村 are names, empty where they do not apply. Phone numbers are
fake 11-digit mobile numbers.

Planted gaps, so that chain coverage has something to find (:func:`staff_gaps` names them):

* :data:`MISSING_HEAD_TEACHERS` classes (3; fewer if the county has fewer classes outside
  teaching points) have no 班主任 row;
* one village (:data:`MISSING_CADRES`) has no cadre row.

Every draw comes from a generator of its own (seeded from the county's seed), after the rolls
are written, so the other files do not change with the roster.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from jingzhun.demo import names
from jingzhun.demo.generator.county import _County
from jingzhun.demo.generator.model import (
    _PHONE_PREFIXES,
    _STAGE_ORDER,
    Cell,
    _Enrol,
    _full_name,
    _pick,
    _School,
    _Township,
)

STAFF_HEADERS = (
    "姓名",
    "性别",
    "手机号码",
    "岗位",
    "学校标识码",
    "学校名称",
    "年级",
    "班级",
    "乡镇",
    "行政村",
)
HEAD_TEACHER = "班主任"
PRINCIPAL = "校长"
CENTRAL_SCHOOL_HEAD = "中心校校长"
EDUCATION_OFFICER = "乡镇教育专干"
VILLAGE_CADRE = "村干部"
FIRST_SECRETARY = "驻村第一书记"
MISSING_HEAD_TEACHERS = 3
MISSING_CADRES = 1
STAFF_SEED_OFFSET = 0x53544146  # "STAF"
_CN = "一二三四五六七八九"


def grade_word(stage: str, grade: int) -> str:
    """Return a grade as a roster writes it: 小班, 三年级, 八年级, 高一, 中职二年级."""
    if stage == "学前":
        return ("小班", "中班", "大班")[min(max(grade, 1), 3) - 1]
    if stage == "小学":
        return f"{_CN[grade - 1]}年级"
    if stage == "初中":
        return f"{_CN[grade + 5]}年级"
    if stage == "高中":
        return f"高{_CN[grade - 1]}"
    if stage == "中职":
        return f"中职{_CN[grade - 1]}年级"
    return f"{_CN[grade - 1]}年级"


@dataclass(frozen=True)
class StaffGaps:
    """The planted gaps: classes (school code, 年级, 班级) and villages (code) left out."""

    classes: tuple[tuple[str, str, str], ...]
    villages: tuple[str, ...]


def _row(*cells: Cell) -> list[Cell]:
    return list(cells)


def _gender(name: str, rng: random.Random, male_share: float) -> str:
    given = name[1:]
    if any(c in names.FEMALE_CHARS for c in given):
        return "女"
    if any(c in names.MALE_CHARS for c in given):
        return "男"
    return "男" if rng.random() < male_share else "女"


class _Roster:
    def __init__(self, county: _County) -> None:
        self.county = county
        self.rng = random.Random(county.spec.seed + STAFF_SEED_OFFSET)
        self.used_phones: set[str] = set()
        self.phone_of: dict[str, str] = {}  # a person's key -> phone, for people on many rows
        self.gender_of: dict[str, str] = {}

    def phone(self, key: str = "") -> str:
        if key and key in self.phone_of:
            return self.phone_of[key]
        rng = self.rng
        while True:
            number = _pick(rng, _PHONE_PREFIXES) + f"{int(rng.random() * 1e8):08d}"
            if number not in self.used_phones:
                break
        self.used_phones.add(number)
        if key:
            self.phone_of[key] = number
        return number

    def person(self, male_share: float) -> tuple[str, str]:
        rng = self.rng
        name = _full_name(rng, self.county.surname(rng), rng.random() < male_share)
        return name, _gender(name, rng, male_share)


def _classes(enrolments: Iterable[_Enrol], county: _County) -> list[_Enrol]:
    """One roll row per in-county class of the given rows, in school, stage, grade, class order."""
    order = {s.code: i for i, s in enumerate(county.schools)}
    seen: set[tuple[str, str, int, int]] = set()
    out: list[_Enrol] = []
    for en in enrolments:
        if en.school.code not in order:
            continue
        key = (en.school.code, en.stage, en.grade, en.class_no)
        if key not in seen:
            seen.add(key)
            out.append(en)
    out.sort(key=lambda en: (order[en.school.code], _STAGE_ORDER[en.stage], en.grade, en.class_no))
    return out


def _central_school(township: _Township) -> _School:
    schools = township.primary or township.junior or township.kg
    # the county seat's central school is its second primary (城关小学), as the seat's
    # experimental primary answers to the bureau directly
    return schools[-1] if township.seat and len(schools) > 1 else schools[0]


def _place(county: _County, school: _School) -> tuple[str, str]:
    township = next((t.name for t in county.townships if t.code == school.township), "")
    village = next((v.name for v in county.villages if v.code == school.village), "")
    return township, village


def staff_rows(county: _County, enrolments: Iterable[_Enrol]) -> tuple[list[list[Cell]], StaffGaps]:
    """Return the roster rows for the classes of ``enrolments`` (the roll rows written), and
    the gaps planted in it. Call after the rolls are built: head teachers come from them."""
    roster = _Roster(county)
    rng = roster.rng
    classes = _classes(enrolments, county)
    # the planted gaps
    ordinary = [en for en in classes if en.school.kind != "教学点"]
    left_out = rng.sample(ordinary, min(MISSING_HEAD_TEACHERS, len(ordinary)))
    missing = {(en.school.code, en.stage, en.grade, en.class_no) for en in left_out}
    rural = [v for v in county.villages if v.name.endswith("村")] or county.villages
    no_cadre = {v.code for v in rng.sample(rural, min(MISSING_CADRES, len(rural)))}

    rows: list[list[Cell]] = []
    for township in county.townships:
        central = _central_school(township)
        name, gender = roster.person(0.85)
        rows.append(
            _row(name, gender, roster.phone(), CENTRAL_SCHOOL_HEAD, central.code, central.name)
            + _row("", "", township.name, "")
        )
        name, gender = roster.person(0.6)
        rows.append(
            _row(name, gender, roster.phone(), EDUCATION_OFFICER, "", "", "", "", township.name, "")
        )
    by_school: dict[str, list[_Enrol]] = {}
    for en in classes:
        by_school.setdefault(en.school.code, []).append(en)
    for school in county.schools:
        town_name, village_name = _place(county, school)
        if school.kind != "教学点":
            name, gender = roster.person(0.75)
            rows.append(
                _row(name, gender, roster.phone(), PRINCIPAL, school.code, school.name, "", "")
                + _row(town_name, village_name)
            )
        for en in by_school.get(school.code, []):
            stage, grade, class_no = en.stage, en.grade, en.class_no
            if (school.code, stage, grade, class_no) in missing:
                continue
            key = ("", 0, 0) if school.kind == "教学点" else (stage, grade, class_no)
            name = school.teachers.get(key, "")
            if not name:  # a class the rolls did not name a head teacher for (none today)
                name = roster.person(0.4)[0]
                school.teachers[key] = name
            person_key = f"{school.code}:{name}"
            if person_key not in roster.gender_of:
                roster.gender_of[person_key] = _gender(name, rng, 0.4)
            gender = roster.gender_of[person_key]
            rows.append(
                [
                    name,
                    gender,
                    roster.phone(person_key),
                    HEAD_TEACHER,
                    school.code,
                    school.name,
                    grade_word(stage, grade),
                    county.class_name(en),
                    town_name,
                    village_name,
                ]
            )
    for v in county.villages:
        if v.code in no_cadre:
            continue
        name, gender = roster.person(0.75)
        post = FIRST_SECRETARY if v.poor else VILLAGE_CADRE
        rows.append(
            _row(name, gender, roster.phone(), post, "", "", "", "", v.township.name, v.name)
        )
    gaps = StaffGaps(
        classes=tuple(
            sorted(
                (en.school.code, grade_word(en.stage, en.grade), county.class_name(en))
                for en in left_out
            )
        ),
        villages=tuple(sorted(no_cadre)),
    )
    return rows, gaps

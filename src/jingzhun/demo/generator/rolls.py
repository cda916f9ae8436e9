"""Enrolments, classes and head teachers of the demo county, and the roll rows with their mess."""

from __future__ import annotations

import math

from jingzhun.demo.generator.dates import BASE_YEAR, _day
from jingzhun.demo.generator.model import (
    _CN_NUM,
    _STAGE_ORDER,
    MESS_KINDS,
    Cell,
    _Enrol,
    _full_name,
    _homophone,
    _Person,
    _pick,
    _Picker,
    _School,
    _Village,
    _yn,
)
from jingzhun.demo.generator.people import _People


class _Rolls(_People):
    """Enrolments, classes and the roll rows with their mess."""

    def build_enrolments(self) -> None:
        rng, scale = self.rng, self.scale
        for hh in self.households:
            for m in hh.members:
                self._place(m, True, hh.village)
        weights = [float(v.population) for v in self.villages]
        picker = _Picker((str(i), w) for i, w in enumerate(weights))
        while len(self.enrolments) < scale.enrolments:
            village = self.villages[int(picker(rng))]
            hh = self._nonpoor_household(village)
            for m in hh.members[1:]:
                self._place(m, False, village)

    def _place(self, p: _Person, poor: bool, v: _Village) -> None:
        rng = self.rng
        age = p.age
        if age < 3 or age > 22:
            return
        r = rng.random()
        e = age + 1 if r < 0.02 else age - 1 if r < 0.12 else age
        school: _School
        if e < 3:
            return
        severe = p.dis_kind in ("智力", "多重", "精神") and p.dis_grade <= 2
        if e <= 5:
            rate = (0.62, 0.82, 0.92)[e - 3] * (0.94 if poor else 1.0)
            if severe or rng.random() >= rate:
                return
            school = v.vk if v.vk and rng.random() < 0.75 else _pick(rng, v.kg)
            stage, grade = "学前", e - 2
        elif e <= 14:
            missing = 0.015 if poor else 0.005
            if severe:
                missing = 0.5
            if rng.random() < missing:
                return
            stage, grade = ("小学", e - 5) if e <= 11 else ("初中", e - 11)
            if p.dis_kind in ("智力", "听力", "视力", "多重") and rng.random() < 0.55:
                school = self.special
            elif rng.random() < (0.03 if poor else 0.06):
                school = self.shared.city_primary if stage == "小学" else self.shared.city_junior
            elif stage == "初中":
                school = _pick(rng, v.junior)
            elif grade <= 3 and v.tp and rng.random() < 0.8:
                school = v.tp
            elif v.vp and rng.random() < 0.82:
                school = v.vp
            else:
                school = _pick(rng, v.primary)
        elif e <= 17:
            r = rng.random()
            if severe:
                return
            high, voc = (0.45, 0.33) if poor else (0.55, 0.25)
            if r < high:
                school, stage = self.high, "高中"
            elif r < high + voc:
                school, stage = self.vocational, "中职"
            else:
                return  # left school after junior high (两后生) or finished
            grade = e - 14
        else:
            if e > 21 or severe or rng.random() >= (0.32 if poor else 0.38):
                return
            unis = (
                self.shared.universities_in if rng.random() < 0.75 else self.shared.universities_out
            )
            school, stage, grade = _pick(rng, unis), "大学", e - 17
        en = _Enrol(p, school, stage, grade)
        # statuses
        r = rng.random()
        drop = {"初中": 0.012, "高中": 0.02, "中职": 0.025, "小学": 0.002}.get(stage, 0.003)
        if not poor:
            drop /= 2
        if r < drop:
            en.status = "辍学"
        elif r < drop + 0.003:
            en.status = "休学"
        elif r < drop + 0.007 and school.location == "县内":
            en.status = "转出"
        if en.status != "在读":
            en.status_day = _day(BASE_YEAR, 9, 10) + int(rng.random() * 200)
        # boarding
        if school.boarding:
            kind = school.kind
            if stage == "大学":
                pb = 1.0
            elif stage == "小学":
                pb = 0.05 if grade <= 3 else 0.35
            elif stage == "初中":
                pb = 0.65
            elif kind == "普通高中":
                pb = 0.85
            elif kind == "特殊教育学校":
                pb = 0.6
            else:
                pb = 0.75
            if v.poor:
                pb *= 1.25
            if p.left_behind:
                pb *= 1.2
            en.boarding = rng.random() < pb
        # date the student entered this school
        start_year = BASE_YEAR - grade + 1
        r = rng.random()
        en.enrolled_on = (
            _day(start_year, 9, 1)
            if r < 0.9
            else _day(start_year, 8, 30 + int(rng.random() * 2))
            if r < 0.95
            else _day(start_year, 9, 2 + int(rng.random() * 20))
        )
        self.enrolments.append(en)

    # -- classes

    def assign_classes(self) -> list[_Enrol]:
        rng = self.rng
        order = {s.code: i for i, s in enumerate(self.schools)}
        for i, s in enumerate(self.shared.all()):
            order[s.code] = len(self.schools) + i
        groups: dict[tuple[int, int, int], list[_Enrol]] = {}
        for en in self.enrolments:
            key = (order[en.school.code], _STAGE_ORDER[en.stage], en.grade)
            groups.setdefault(key, []).append(en)
        out: list[_Enrol] = []
        for key in sorted(groups):
            members = groups[key]
            rng.shuffle(members)
            school = members[0].school
            if school.location != "县内":
                k = 8 if school.kind == "高等学校" else 6
                for en in members:
                    en.class_no = 1 + int(rng.random() * k)
            elif school.kind == "教学点":
                for en in members:
                    en.class_no = 1
            else:
                k = max(1, math.ceil(len(members) / school.cap))
                for i, en in enumerate(members):
                    en.class_no = i % k + 1
            members.sort(key=lambda en: en.class_no)
            out.extend(members)
        return out

    def class_name(self, en: _Enrol) -> str:
        kind = en.school.kind
        if en.stage == "初中" and kind in ("九年一贯制学校", "特殊教育学校"):
            return f"{_CN_NUM[en.grade + 5]}年级{en.class_no}班"
        return f"{en.class_no}班"

    def teacher(self, en: _Enrol) -> str:
        school = en.school
        if school.kind == "教学点":
            return school.teachers[("", 0, 0)]
        key = (en.stage, en.grade, en.class_no)
        name = school.teachers.get(key)
        if name is None:
            name = _full_name(self.rng, self.surname(self.rng), self.rng.random() < 0.4)
            school.teachers[key] = name
        return name

    # -- emit rows

    def _fmt(self, day: int, style: int, ymd: tuple[int, int, int] | None = None) -> str:
        y, m, d = ymd or self.dates.ymd[day]
        if style == 0:
            return f"{y:04d}-{m:02d}-{d:02d}"
        if style == 1:
            return f"{y}/{m}/{d}"
        return f"{y}年{m}月{d}日"

    def roll_rows(self) -> tuple[list[list[Cell]], list[list[Cell]]]:
        """Return (rolls rows, truth rows), in the same order."""
        rng, mess, dates = self.rng, self.mess, self.dates
        ordered = self.assign_classes()
        # Rolls may carry the ID of a household member, but never one that has its own
        # roll row: two active enrolments for one ID would make the whole file invalid.
        on_roll = {en.person.id for en in ordered if en.person.id}
        swap_p = min(1.0, mess.day_month_swap / (132 / 365))
        rolls: list[list[Cell]] = []
        truth: list[list[Cell]] = []
        school_day = _day(BASE_YEAR, 9, 1)
        for en in ordered:
            p = en.person
            school = en.school
            hh = p.hh
            in_registry = bool(hh and hh.no)
            style = school.style
            applied: list[str] = []
            id_cell: Cell = p.id
            name = p.name
            ymd = dates.ymd[p.day]
            if p.id:
                roll_no = "G" + p.id
                if mess.sibling_id and rng.random() < mess.sibling_id:
                    other = self._sibling(p, on_roll)
                    if other:
                        id_cell = other
                        on_roll.add(other)
                        applied.append("sibling_id")
                if mess.id_typo and rng.random() < mess.id_typo:
                    s = str(id_cell)
                    pos = int(rng.random() * 17)
                    digit = str((int(s[pos]) + 1 + int(rng.random() * 9)) % 10)
                    typed = s[:pos] + digit + s[pos + 1 :]
                    # An invalid ID ending in 000 reads as one Excel rounded (the import refuses
                    # it, as it should); a clerk's typo must not look like that.
                    if not typed.endswith("000"):
                        id_cell = typed
                        applied.append("id_typo")
                if mess.missing_id and rng.random() < mess.missing_id:
                    id_cell = ""
                    applied = [a for a in applied if a not in ("sibling_id", "id_typo")]
                    applied.append("missing_id")
                if (
                    mess.excel_number
                    and id_cell
                    and str(id_cell)[-1] != "X"
                    and rng.random() < mess.excel_number
                ):
                    number = float(int(str(id_cell)[:15]) * 1000)
                    id_cell = number if self.excel else f"{number:.5E}"
                    applied.append("excel_number")
            else:
                roll_no = self._l_number(p)
            if mess.homophone and rng.random() < mess.homophone:
                alt = _homophone(rng, name)
                if alt:
                    name = alt
                    applied.append("homophone")
            y, m, d = ymd
            if d <= 12 and d != m and mess.day_month_swap and rng.random() < swap_p:
                ymd = (y, d, m)
                applied.append("day_month_swap")
            if in_registry and hh is not None:
                flag_p = 0.15 if hh.status == "已清退" else 0.92
            else:
                flag_p = 0.006
            rolls.append(
                [
                    roll_no,
                    name,
                    id_cell,
                    "男" if p.male else "女",
                    self._fmt(p.day, style, ymd),
                    school.code,
                    self.school_year,
                    en.stage,
                    en.grade,
                    self.class_name(en),
                    self.teacher(en),
                    _yn(en.boarding),
                    en.status,
                    self._fmt(en.status_day or school_day, style),
                    self._fmt(en.enrolled_on, style),
                    _yn(rng.random() < flag_p),
                ]
            )
            truth.append(
                [
                    roll_no,
                    p.id,
                    p.key,
                    "true" if in_registry else "false",
                    hh.no if hh else "",
                    ",".join(k for k in MESS_KINDS if k in applied),
                ]
            )
        return rolls, truth

    def _sibling(self, p: _Person, on_roll: set[str]) -> str:
        hh = p.hh
        if hh is None:
            return ""
        others = [m for m in hh.members if m is not p and m.id and m.id not in on_roll]
        if not others:
            return ""
        kids = ("之子", "之女") if p.relation in ("之子", "之女") else ("之孙子", "之孙女")
        siblings = [m for m in others if m.relation in kids]
        return self.rng.choice(siblings or others).id

    def _l_number(self, p: _Person) -> str:
        while True:
            n = f"L{self.spec.code}{self.dates.compact[p.day]}{int(self.rng.random() * 1e4):04d}"
            if n not in self.used_l_numbers:
                self.used_l_numbers.add(n)
                return n

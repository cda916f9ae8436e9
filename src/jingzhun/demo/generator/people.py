"""Persons and households of the demo county: the poverty registry and everyone else.

:class:`_CountyBase` holds the county's state and draws persons (names, resident IDs,
birth days in the frame of :mod:`.dates`); :class:`_People` builds the registered-poor
households and, on demand, the households outside the registry whose children fill the rolls.
"""

from __future__ import annotations

import random

from jingzhun.demo import names
from jingzhun.demo.generator.dates import (
    _AGE_RANGES,
    _CHECK,
    _SEQ,
    _SEQ_SUM,
    BASE_YEAR,
    _area_sum,
    _dates,
)
from jingzhun.demo.generator.model import (
    _BANK_PICKER,
    _BANKS,
    _DISABILITY_KINDS,
    _PHONE_PREFIXES,
    _POVERTY_CAUSES,
    Cell,
    MessRates,
    _apportion,
    _CountySpec,
    _Enrol,
    _full_name,
    _Household,
    _luhn,
    _Person,
    _pick,
    _Picker,
    _ri,
    _Scale,
    _School,
    _Shared,
    _Township,
    _Village,
    _yn,
)


class _CountyBase:
    """Everything about one county, built in memory (a county is small) and then emitted."""

    def __init__(
        self,
        spec: _CountySpec,
        scale: _Scale,
        shared: _Shared,
        mess: MessRates,
        excel: bool,
        school_year: int = BASE_YEAR,
    ) -> None:
        self.spec = spec
        self.school_year = school_year
        self.years = school_year - BASE_YEAR  # how far the frame moves
        self.scale = scale
        self.shared = shared
        self.mess = mess
        self.excel = excel  # output goes to .xlsx (affects the excel_number mess only)
        self.rng = random.Random(spec.seed)
        self.dates = _dates(self.years)
        self.used_bodies: set[str] = set()
        self.used_accounts: set[str] = set()
        self.used_l_numbers: set[str] = set()
        self.area_sum = _area_sum(spec.code)
        self.alt_sum = _area_sum(spec.alt_code)
        self.n_persons = 0
        self.townships: list[_Township] = []
        self.villages: list[_Village] = []
        self.schools: list[_School] = []
        self.households: list[_Household] = []
        self.enrolments: list[_Enrol] = []
        self.high: _School
        self.vocational: _School
        self.special: _School
        rng = self.rng
        local = rng.sample(names.LOCAL_SURNAMES, 6) if rng.random() < 0.7 else []
        weights: dict[str, float] = {s: float(w) for s, w in names.SURNAMES}
        for s in local:
            weights[s] = weights.get(s, 0) + rng.uniform(80, 300)
        self.surname = _Picker(weights.items())
        minority = rng.uniform(0.0, 0.5)
        self.ethnicity = _Picker(
            [
                ("汉族", 1.0 - minority),
                ("土家族", minority * 0.7),
                ("苗族", minority * 0.22),
                ("侗族", minority * 0.08),
            ]
        )

    # -- persons

    def new_id(self, day: int, male: bool, late: bool = False) -> str:
        rng = self.rng
        area, asum = (self.spec.alt_code, self.alt_sum) if late else (self.spec.code, self.area_sum)
        prefix = area + self.dates.compact[day]
        base = asum + self.dates.wsum[day]
        while True:
            seq = int(rng.random() * 500) * 2 + (1 if male else 0)
            body = prefix + _SEQ[seq]
            if body not in self.used_bodies:
                break
        self.used_bodies.add(body)
        return body + _CHECK[(base + _SEQ_SUM[seq]) % 11]

    def new_person(
        self,
        surname: str,
        male: bool,
        age: int,
        relation: str,
        gen_char: str = "",
        with_id: bool = True,
    ) -> _Person:
        rng = self.rng
        lo, hi = _AGE_RANGES[age]
        day = lo + int(rng.random() * (hi - lo + 1))
        late = age <= 8 and rng.random() < 0.03
        id_ = self.new_id(day, male, late) if with_id else ""
        self.n_persons += 1
        key = f"{self.spec.code}-{self.n_persons:07d}"
        return _Person(key, _full_name(rng, surname, male, gen_char), id_, male, day, age, relation)

    # -- areas and schools


class _People(_CountyBase):
    """Households and persons."""

    def build_poor_households(self) -> None:
        scale = self.scale
        weights = [
            v.population * (4.0 if v.poor else 0.2 if v.name.endswith("社区") else 1.0)
            for v in self.villages
        ]
        counts = _apportion(scale.poor_households, weights)
        for v, count in zip(self.villages, counts, strict=True):
            for _ in range(count):
                v.seq += 1
                hh = _Household(v, f"{v.code}{v.seq:04d}")
                self._poor_household(hh)
                self.households.append(hh)

    def _poor_household(self, hh: _Household) -> None:
        rng = self.rng
        r = rng.random()
        head_age = (
            _ri(rng, 25, 34)
            if r < 0.15
            else _ri(rng, 35, 44)
            if r < 0.43
            else _ri(rng, 45, 54)
            if r < 0.68
            else _ri(rng, 55, 64)
            if r < 0.85
            else _ri(rng, 65, 82)
        )
        head_male = rng.random() < 0.88
        surname = self.surname(rng)
        hh.ethnicity = self.ethnicity(rng)
        head = self.new_person(surname, head_male, head_age, "户主")
        members = [head]
        spouse: _Person | None = None
        if rng.random() < (0.86 if head_age < 60 else 0.62):
            gap = _ri(rng, -1, 6)
            sp_age = min(92, max(20, head_age - gap if head_male else head_age + gap))
            spouse = self.new_person(self.surname(rng), not head_male, sp_age, "配偶")
            members.append(spouse)
        mother_age = spouse.age if head_male and spouse else head_age
        kids_surname = surname if head_male or rng.random() < 0.4 else self.surname(rng)
        gen_char = _pick(rng, names.NEUTRAL_CHARS + "家子文嘉思") if rng.random() < 0.25 else ""
        r = rng.random()
        n_kids = 0 if r < 0.07 else 1 if r < 0.33 else 2 if r < 0.74 else 3 if r < 0.94 else 4
        grand_parent: _Person | None = None
        children: list[_Person] = []
        for _ in range(n_kids):
            age = mother_age - _ri(rng, 19, 36)
            if age < 0:
                continue
            if age > 23 and rng.random() < 0.7:
                continue  # grown up and registered elsewhere
            male = rng.random() < 0.53
            kid = self.new_person(
                kids_surname, male, age, "之子" if male else "之女", gen_char if age < 30 else ""
            )
            members.append(kid)
            children.append(kid)
        # grandchildren, often left behind with grandparents
        adult_sons = [k for k in children if k.male and k.age >= 21]
        if head_age >= 46 and (adult_sons or rng.random() < 0.35) and rng.random() < 0.7:
            parent_age = adult_sons[0].age if adult_sons else head_age - _ri(rng, 22, 30)
            gsurname = adult_sons[0].name[0] if adult_sons else kids_surname
            if adult_sons and rng.random() < 0.5:
                members.append(
                    self.new_person(self.surname(rng), False, max(20, parent_age - 2), "之儿媳")
                )
            for _ in range(_pick(rng, (1, 1, 2, 2, 3))):
                age = parent_age - _ri(rng, 19, 32)
                if 0 <= age <= 17:
                    male = rng.random() < 0.53
                    members.append(
                        self.new_person(gsurname, male, age, "之孙子" if male else "之孙女")
                    )
            grand_parent = head
        # the head's parents
        elders: list[_Person] = []
        if head_age <= 50 and rng.random() < 0.3:
            f_age = min(90, head_age + _ri(rng, 22, 32))
            if rng.random() < 0.6:
                elders.append(self.new_person(surname, True, f_age, "之父"))
            if rng.random() < 0.8:
                elders.append(self.new_person(self.surname(rng), False, min(90, f_age - 2), "之母"))
            members.extend(elders)
        for m in members:
            m.hh = hh
            m.ethnicity = hh.ethnicity if rng.random() < 0.9 else self.ethnicity(rng)
            is_child = m.age < 18
            if rng.random() < (0.02 if is_child else 0.06):
                m.dis_kind = _DISABILITY_KINDS(rng)
                m.dis_grade = _pick(rng, (1, 2, 2, 3, 3, 3, 4, 4, 4))
            if is_child:
                m.left_behind = rng.random() < 0.2
                if m.relation in ("之孙子", "之孙女"):
                    m.guardian = grand_parent or head
                elif m.left_behind and elders:
                    m.guardian = elders[-1]
                elif m.relation in ("户主", "配偶"):
                    m.guardian = None
                else:
                    m.guardian = spouse if spouse and rng.random() < 0.3 else head
        hh.members = members
        # household fields
        r = rng.random()
        y = self.years
        hh.reg_year = y + (2014 if r < 0.72 else 2015 if r < 0.88 else 2016)
        r = rng.random()
        if r < 0.006:
            hh.status = "已清退"
        elif r < 0.31:
            hh.status = "已脱贫"
            hh.exit_year = y + (2017 if hh.reg_year == y + 2016 or rng.random() < 0.6 else 2016)
        else:
            hh.status = "在册"
        disabled = any(m.dis_kind for m in members)
        hh.cause = "因残" if disabled and rng.random() < 0.5 else _POVERTY_CAUSES(rng)
        hh.dibao = rng.random() < 0.25
        if rng.random() >= 0.02:
            bank, prefix, _ = _BANKS[int(_BANK_PICKER(rng))]
            while True:
                body = prefix + "".join(str(int(rng.random() * 10)) for _ in range(12))
                if body not in self.used_accounts:
                    break
            self.used_accounts.add(body)
            hh.bank = bank
            hh.account = body + _luhn(body)
        if rng.random() >= 0.03:
            hh.phone = _pick(rng, _PHONE_PREFIXES) + f"{int(rng.random() * 1e8):08d}"

    def _nonpoor_household(self, village: _Village) -> _Household:
        rng = self.rng
        hh = _Household(village, "")
        parent_age = _ri(rng, 24, 52)
        male = rng.random() < 0.75
        surname = self.surname(rng)
        head = self.new_person(surname, male, parent_age, "户主")
        hh.members = [head]
        r = rng.random()
        n_kids = 1 if r < 0.38 else 2 if r < 0.85 else 3
        kids_surname = surname if male or rng.random() < 0.3 else self.surname(rng)
        gen_char = _pick(rng, names.NEUTRAL_CHARS + "家子文嘉思") if rng.random() < 0.2 else ""
        mother_age = parent_age + (_ri(rng, -5, 1) if male else 0)
        for _ in range(n_kids):
            age = mother_age - _ri(rng, 20, 38)
            if age < 0 or age > 24:
                continue
            male_kid = rng.random() < 0.53
            with_id = not (age <= 5 and rng.random() < 0.02) and rng.random() >= 0.002
            kid = self.new_person(
                kids_surname,
                male_kid,
                age,
                "之子" if male_kid else "之女",
                gen_char,
                with_id=with_id,
            )
            kid.hh = hh
            if rng.random() < 0.004:
                kid.dis_kind = _DISABILITY_KINDS(rng)
                kid.dis_grade = _pick(rng, (1, 2, 3, 4))
            hh.members.append(kid)
        head.hh = hh
        return hh

    def registry_rows(self) -> list[list[Cell]]:
        dates = self.dates
        rows: list[list[Cell]] = []
        for hh in self.households:
            head: list[Cell] = [
                hh.no,
                hh.village.code,
                hh.reg_year,
                hh.status,
                hh.exit_year or "",
                hh.cause,
                _yn(hh.dibao),
                hh.bank,
                hh.account,
            ]
            for m in hh.members:
                child = m.age < 18
                g = m.guardian
                rows.append(
                    [
                        *head,
                        m.name,
                        m.id,
                        "男" if m.male else "女",
                        dates.iso[m.day],
                        m.relation,
                        m.ethnicity,
                        m.dis_kind,
                        m.dis_grade or "",
                        _yn(m.left_behind) if child else "",
                        g.name if g else "",
                        g.id if g else "",
                        hh.phone,
                    ]
                )
        return rows

"""The staff directory import ("staff"): teachers, principals, central-school heads, township
officers and village cadres, most of whom have no login.

The layout is the county's staff sheet: 姓名, 性别, 手机号码, 岗位, 学校标识码, 学校名称, 年级, 班级,
乡镇, 行政村. A class (年级 "八年级", 班级 "9班") is the school's class of the working school year;
townships and villages are found by name. Importing the same sheet again changes nothing: a
person is the same person when school (else area), name and phone agree; a changed class or
post updates them. Afterwards every class whose rolls name a head teacher and which has none
in the directory gets one (the teacher roster kept in step).
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa
from django.utils.translation import gettext as _

from jingzhun.accounts.models import StaffMember
from jingzhun.core.importing import Context, Counts, Field, Importer, put_column
from jingzhun.core.working_year import working_year
from jingzhun.duty.chain import staff_sync_roster
from jingzhun.registry.models import Area
from jingzhun.schools.derive import parse_grade
from jingzhun.schools.models import School, SchoolClass

Post = StaffMember.Post
POSTS = {
    "班主任": Post.CLASS_TEACHER,
    "校长": Post.PRINCIPAL,
    "中心校校长": Post.CENTRAL_SCHOOL_HEAD,
    "中心学校校长": Post.CENTRAL_SCHOOL_HEAD,
    "乡镇教育专干": Post.TOWNSHIP_OFFICER,
    "教育专干": Post.TOWNSHIP_OFFICER,
    "村干部": Post.VILLAGE_CADRE,
    "驻村第一书记": Post.VILLAGE_CADRE,
    "第一书记": Post.VILLAGE_CADRE,
    "县教育局": Post.COUNTY_OFFICER,
    "教师": Post.OTHER,
    "其他": Post.OTHER,
}
SEXES = {"男": "M", "女": "F"}
PHONE = re.compile(r"^\+?[\d-]{7,20}$")

STAFF_FIELDS = (
    Field("name", "姓名", "name", required=True, max_length=50, aliases=("教师姓名",)),
    Field("sex", "性别", "sex", "choice", choices=SEXES),
    Field("phone", "手机号码", "phone", max_length=20, aliases=("联系电话", "电话", "手机")),
    Field("post", "岗位", "post", "choice", required=True, choices=POSTS, aliases=("职务",)),
    Field("school_code", "学校标识码", "school_code", "code", lengths=tuple(range(6, 31))),
    Field("school_name", "学校名称", "school_name", max_length=100),
    Field("grade", "年级", "grade", max_length=20),
    Field("klass", "班级", "class", max_length=30, aliases=("班级名称",)),
    Field("township", "乡镇", "township", max_length=50, aliases=("乡镇名称",)),
    Field("village", "行政村", "village", max_length=50, aliases=("村", "村名称")),
)

# Posts whose place must be known, and which column names it.
NEEDS_SCHOOL = {Post.CLASS_TEACHER, Post.PRINCIPAL}
NEEDS_TOWNSHIP = {Post.CENTRAL_SCHOOL_HEAD, Post.TOWNSHIP_OFFICER}
NEEDS_VILLAGE = {Post.VILLAGE_CADRE}


def normalize_phone(text: str | None) -> str:
    return "".join(str(text or "").split()).replace("－", "-")


class StaffImporter(Importer):
    kind = "staff"
    fields = STAFF_FIELDS
    county_column = "area_code"
    key_fields = ("name",)

    def check(self, data: pa.Table, ctx: Context) -> pa.Table:
        rows = data.to_pylist()
        schools_by_code = {s.code: s for s in School.objects.select_related("township")}
        schools_by_name: dict[str, list[School]] = {}
        for s in schools_by_code.values():
            schools_by_name.setdefault(s.name, []).append(s)
        townships: dict[str, list[Area]] = {}
        villages: dict[str, list[Area]] = {}
        for a in Area.objects.filter(level__in=(Area.Level.TOWNSHIP, Area.Level.VILLAGE)):
            (townships if a.level == Area.Level.TOWNSHIP else villages).setdefault(
                a.name, []
            ).append(a)
        county = ctx.batch.county_code or next(
            (s.township.code[:6] for s in schools_by_code.values() if s.township is not None),
            "",
        )
        year = ctx.batch.school_year or working_year(county)
        classes = {
            (c.school_id, c.stage, c.grade, c.name): c.pk
            for c in SchoolClass.objects.filter(school_year=year).only(
                "pk", "school_id", "stage", "grade", "name"
            )
        }
        out: dict[str, list[Any]] = {
            "school_id": [],
            "class_id": [],
            "township_id": [],
            "village_id": [],
            "area_code": [],
        }

        def bad(row: dict[str, Any], name: str, value: Any, reason: str) -> None:
            ctx.report.add(row["_line"], ctx.header(name), value, reason)

        for row in rows:
            post = row["post"]
            school = None
            if row["school_code"]:
                school = schools_by_code.get(row["school_code"])
                if school is None:
                    bad(row, "school_code", row["school_code"], _("Unknown school code."))
            elif row["school_name"]:
                found = schools_by_name.get(row["school_name"], [])
                if len(found) == 1:
                    school = found[0]
                else:
                    bad(
                        row,
                        "school_name",
                        row["school_name"],
                        _("Unknown school name; give the school code.")
                        if not found
                        else _("Several schools have this name; give the school code."),
                    )
            township: Area | None = None
            if row["township"]:
                areas = townships.get(row["township"], [])
                if county:
                    areas = [a for a in areas if a.code.startswith(county)] or areas
                if len(areas) == 1:
                    township = areas[0]
                else:
                    bad(row, "township", row["township"], _("Unknown township."))
            elif school is not None and school.township_id:
                township = school.township
            village: Area | None = None
            if row["village"]:
                areas = villages.get(row["village"], [])
                if township is not None:
                    areas = [a for a in areas if a.code.startswith(township.code)]
                elif county:
                    areas = [a for a in areas if a.code.startswith(county)]
                if len(areas) == 1:
                    village = areas[0]
                    if township is None:
                        township = Area.objects.filter(code=village.code[:9]).first()
                else:
                    bad(
                        row,
                        "village",
                        row["village"],
                        _("Unknown village, or not in that township."),
                    )
            class_id = None
            if row["grade"] or row["klass"]:
                parsed = parse_grade(row["grade"])
                if school is None:
                    if post in NEEDS_SCHOOL or row["school_code"] or row["school_name"]:
                        pass  # the school's own error says it
                    else:
                        bad(row, "klass", row["klass"], _("A class needs its school."))
                elif parsed is None or not row["klass"]:
                    bad(
                        row,
                        "grade",
                        row["grade"],
                        _("Write the grade like 八年级 and the class like 9班."),
                    )
                else:
                    stage, grade = parsed
                    class_id = classes.get((school.pk, stage, grade, row["klass"]))
                    if class_id is None:
                        bad(
                            row,
                            "klass",
                            f"{row['grade']}{row['klass']}",
                            _("This school has no such class in the school year %(year)d.")
                            % {"year": year},
                        )
            if (
                post in NEEDS_SCHOOL
                and school is None
                and not (row["school_code"] or row["school_name"])
            ):
                bad(row, "school_code", "", _("A class teacher or principal needs a school."))
            if post in NEEDS_TOWNSHIP and township is None and not row["township"]:
                bad(row, "township", "", _("This post needs its township."))
            if post in NEEDS_VILLAGE and village is None and not row["village"]:
                bad(row, "village", "", _("A village cadre needs their village."))
            phone = normalize_phone(row["phone"])
            if phone and not PHONE.match(phone):
                bad(row, "phone", row["phone"], _("Not a phone number."))
            code = (
                village.code
                if village is not None
                else township.code
                if township is not None
                else (
                    school.township.code
                    if school is not None and school.township is not None
                    else ""
                )
            )
            out["school_id"].append(school.pk if school else None)
            out["class_id"].append(class_id)
            out["township_id"].append(township.pk if township else None)
            out["village_id"].append(village.pk if village else None)
            out["area_code"].append(code or None)
        for name, values in out.items():
            kind = pa.string() if name == "area_code" else pa.int64()
            data = put_column(data, name, pa.array(values, kind))
        ctx.batch.school_year = ctx.batch.school_year or year
        return data

    def apply(self, data: pa.Table, ctx: Context) -> Counts:
        counts = Counts()
        existing = list(StaffMember.objects.all())
        by_key: dict[tuple[Any, ...], StaffMember] = {}
        roster: dict[tuple[Any, ...], StaffMember] = {}
        for s in existing:
            by_key.setdefault(self._key(s.school_id, s.area_code, s.name, s.phone), s)
            if s.source == StaffMember.Source.ROSTER and s.school_id:
                roster.setdefault((s.school_id, s.name), s)
        new: list[StaffMember] = []
        changed: list[StaffMember] = []
        seen: set[tuple[Any, ...]] = set()
        fields = [
            "sex",
            "post",
            "school_id",
            "school_class_id",
            "township_id",
            "village_id",
            "area_code",
            "active",
        ]
        for row in data.to_pylist():
            phone = normalize_phone(row["phone"])
            key = self._key(row["school_id"], row["area_code"] or "", row["name"], phone)
            if key in seen:
                counts.unchanged += 1
                continue
            seen.add(key)
            wanted = {
                "sex": row["sex"] or "",
                "post": row["post"],
                "school_id": row["school_id"],
                "school_class_id": row["class_id"],
                "township_id": row["township_id"],
                "village_id": row["village_id"],
                "area_code": row["area_code"] or "",
                "active": True,
            }
            person = by_key.get(key)
            if person is None and row["school_id"]:
                person = roster.pop((row["school_id"], row["name"]), None)
                if person is not None:
                    person.phone = phone
                    person.source = StaffMember.Source.IMPORT
            if person is None:
                new.append(
                    StaffMember(
                        name=row["name"], phone=phone, source=StaffMember.Source.IMPORT, **wanted
                    )
                )
                counts.created += 1
                continue
            if all(getattr(person, k) == v for k, v in wanted.items()) and person.phone == phone:
                counts.unchanged += 1
                continue
            for k, v in wanted.items():
                setattr(person, k, v)
            changed.append(person)
            counts.updated += 1
        # A class has one head teacher: someone else who held a class now given to an imported
        # person gives it up (the rolls' roster entries especially).
        taken = {p.school_class_id for p in [*new, *changed] if p.school_class_id}
        keep = {p.pk for p in changed}
        StaffMember.objects.filter(post=Post.CLASS_TEACHER, school_class_id__in=taken).exclude(
            pk__in=keep
        ).update(school_class=None)
        StaffMember.objects.bulk_create(new, batch_size=500)
        StaffMember.objects.bulk_update(changed, [*fields, "phone", "source"], batch_size=500)
        county = ctx.batch.county_code
        if county and ctx.batch.school_year:
            added = staff_sync_roster(county_code=county, school_year=ctx.batch.school_year)
            if added:
                counts.notes.append(
                    _(
                        "%(n)d classes had no head teacher in the sheet; their head teachers "
                        "were taken from the rolls (without a phone)."
                    )
                    % {"n": added}
                )
        return counts

    @staticmethod
    def _key(school_id: int | None, area_code: str, name: str, phone: str) -> tuple[Any, ...]:
        if school_id:
            return ("school", school_id, name, phone)
        return ("area", area_code, name, phone)


STAFF_IMPORTER = StaffImporter()

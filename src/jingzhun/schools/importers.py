"""Importers for the school list and the student rolls (docs/formats.md)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core import crypto, normalize
from jingzhun.core.bulk import fetch_arrow, fetch_columns, insert_rows, update_rows
from jingzhun.core.importing import (
    Context,
    Counts,
    Field,
    Importer,
    ImportFailure,
    duck,
    hash_expr,
    put_column,
    sync_rows,
)
from jingzhun.core.models import DataQualityTask, ImportChange
from jingzhun.core.partitions import ensure_partitions, follow_student_county
from jingzhun.core.quality import Finding, tasks_sync
from jingzhun.core.sensitive import seal_array
from jingzhun.core.working_year import working_year
from jingzhun.registry.importers import SEX
from jingzhun.schools.derive import parse_grade, schools_derive
from jingzhun.schools.models import Enrolment, School

ENROLMENT_KEY_SQL = (
    "CAST(student_id AS VARCHAR(20)) || ':' || CAST(school_year AS VARCHAR(6)) || ':' "
    "|| CAST(school_id AS VARCHAR(20))"
)

KINDS = {
    "幼儿园": "kindergarten",
    "教学点": "teaching_point",
    "小学": "primary",
    "初级中学": "junior_high",
    "初中": "junior_high",
    "九年一贯制学校": "nine_year",
    "九年一贯制": "nine_year",
    "完全中学": "complete_secondary",
    "普通高中": "general_high",
    "高中": "general_high",
    "中等职业学校": "vocational",
    "中职": "vocational",
    "职业中学": "vocational",
    "特殊教育学校": "special",
    "特教学校": "special",
    "高等学校": "university",
    "大学": "university",
    "高校": "university",
    **{k: k for k in School.Kind.values},
}
LOCATIONS = {
    "县内": "in_county",
    "县外省内": "in_province",
    "省内": "in_province",
    "省外": "out_of_province",
    **{k: k for k in School.Location.values},
}
STAGES = {
    "学前": "preschool",
    "幼儿园": "preschool",
    "学前教育": "preschool",
    "小学": "primary",
    "初中": "junior",
    "初级中学": "junior",
    "高中": "senior",
    "普通高中": "senior",
    "中职": "vocational",
    "中等职业教育": "vocational",
    "大学": "university",
    "高等教育": "university",
    "本科": "university",
    "专科": "university",
    "preschool": "preschool",
    "primary": "primary",
    "junior": "junior",
    "senior": "senior",
    "vocational": "vocational",
    "university": "university",
}
STATUSES = {
    "在读": "enrolled",
    "在校": "enrolled",
    "在籍": "enrolled",
    "休学": "suspended",
    "转出": "transferred_out",
    "辍学": "dropped_out",
    "毕业": "graduated",
    "enrolled": "enrolled",
    "suspended": "suspended",
    "transferred_out": "transferred_out",
    "dropped_out": "dropped_out",
    "graduated": "graduated",
}


def only_county() -> str:
    """Return the one county this installation holds ('' if none or several)."""
    codes = [c for (c,) in fetch_columns("SELECT code FROM registry_area WHERE level = 'county'")]
    return str(codes[0]) if len(codes) == 1 else ""


class SchoolImporter(Importer):
    kind = "schools"
    county_column = "township_code"
    fields = (
        Field(
            "code",
            "学校标识码",
            "school_code",
            "code",
            required=True,
            lengths=tuple(range(6, 31)),
            aliases=("学校代码", "学校编码"),
        ),
        Field("name", "学校名称", "school_name", required=True),
        Field(
            "kind",
            "办学类型",
            "kind",
            "choice",
            required=True,
            choices=KINDS,
            aliases=("学校类型",),
        ),
        Field("township_code", "乡镇代码", "township_code", "code", lengths=(9,)),
        Field("village_code", "村代码", "village_code", "code", lengths=(12,)),
        Field("boarding", "是否寄宿制", "boarding", "bool", aliases=("寄宿制",)),
        Field("location", "所在地", "location", "choice", choices=LOCATIONS),
    )

    def check(self, data: pa.Table, ctx: Context) -> pa.Table:
        con = duck()
        con.register("f", data)
        areas = dict(fetch_columns("SELECT code, level FROM registry_area"))
        for line, _code, town, village, loc in con.execute(
            "SELECT _line, code, township_code, village_code, coalesce(location, 'in_county') FROM f"
        ).fetchall():
            if loc == "in_county" and not town:
                ctx.report.add(
                    line,
                    ctx.header("township_code"),
                    town,
                    _("A school in the county needs its township."),
                )
            if town and areas.get(town) != "township":
                ctx.report.add(line, ctx.header("township_code"), town, _("Unknown township code."))
            if village and (
                areas.get(village) != "village" or (town and not village.startswith(town))
            ):
                ctx.report.add(
                    line,
                    ctx.header("village_code"),
                    village,
                    _("Unknown village, or not in that township."),
                )
        for line, code in con.execute("""SELECT _line, code FROM f QUALIFY
                row_number() OVER (PARTITION BY code ORDER BY _line) > 1""").fetchall():
            ctx.report.add(
                line, ctx.header("code"), code, _("This code appears more than once in the file.")
            )
        return data

    def apply(self, data: pa.Table, ctx: Context) -> Counts:
        con = duck()
        con.register("f", data)
        area_rows = fetch_columns("SELECT code, id, is_poor FROM registry_area")
        con.register(
            "a",
            pa.table(
                {
                    "code": [r[0] for r in area_rows],
                    "id": [r[1] for r in area_rows],
                    "is_poor": [bool(r[2]) for r in area_rows],
                }
            ),
        )
        cols = [
            "name",
            "kind",
            "location",
            "township_id",
            "village_id",
            "in_poor_village",
            "boarding",
        ]
        t = con.sql(f"""
            WITH x AS (
              SELECT f.code, f.name, f.kind, coalesce(f.location, 'in_county') AS location,
                     t.id AS township_id, v.id AS village_id,
                     coalesce(v.is_poor, false) AS in_poor_village,
                     coalesce(f.boarding, false) AS boarding
              FROM f LEFT JOIN a t ON t.code = f.township_code LEFT JOIN a v ON v.code = f.village_code)
            SELECT *, {hash_expr(cols)} AS row_hash FROM x""").to_arrow_table()
        t = t.append_column("_key", t.column("code"))
        r = sync_rows(
            ctx=ctx,
            table="schools_school",
            entity="school",
            rows=t,
            key_sql="code",
            diff_columns=cols,
        )
        return Counts(r.created, r.updated, r.unchanged)


class RollsImporter(Importer):
    kind = "rolls"
    key_fields = ("roll_number",)
    fields = (
        Field(
            "roll_number",
            "学籍号",
            "roll_number",
            required=True,
            max_length=40,
            aliases=("全国学籍号", "学籍辅号", "学生学籍号"),
        ),
        Field("name", "姓名", "name", required=True, max_length=50, aliases=("学生姓名",)),
        # On a roll the ID is optional: a wrong check digit or date is kept as an invalid ID
        # for identification to resolve; an ID Excel turned into a number is still refused.
        Field(
            "id_number",
            "身份证号",
            "id_number",
            "id",
            aliases=("身份证件号", "证件号码", "身份证号码"),
            soft_errors=("id_checksum", "id_birth_date", "id_length", "id_chars"),
        ),
        Field("sex", "性别", "sex", "choice", choices=SEX),
        Field("birth_date", "出生日期", "birth_date", "date"),
        Field(
            "school_code",
            "学校标识码",
            "school_code",
            required=True,
            max_length=30,
            aliases=("学校代码",),
        ),
        Field("school_name", "学校名称", "school_name", max_length=100),
        # The national export has no school year (it is the export's, given at import) and no
        # stage (it follows from 年级 written as text: 小班, 一年级, 初二, 高一, 中职一年级 …).
        Field("school_year", "学年", "school_year", "year", aliases=("学年度",)),
        Field("stage", "学段", "stage", "choice", choices=STAGES),
        Field("grade", "年级", "grade", required=True, max_length=20, aliases=("年级名称",)),
        Field("class_name", "班级", "class_name", max_length=30, aliases=("班级名称", "班号")),
        Field("head_teacher", "班主任", "head_teacher", max_length=50),
        Field(
            "boarding", "是否寄宿", "boarding", "bool", aliases=("是否住校", "寄宿生", "就读方式")
        ),
        Field("migrant", "是否随迁子女", "migrant", "bool", aliases=("随迁子女",)),
        Field("status", "学籍状态", "status", "choice", choices=STATUSES, aliases=("在校状态",)),
        Field("status_date", "状态日期", "status_date", "date", aliases=("变动日期",)),
        Field("enrolled_on", "入学日期", "enrolled_on", "date", aliases=("入学年月",)),
        Field(
            "poor_flag",
            "是否建档立卡",
            "registered_poor",
            "bool",
            aliases=("建档立卡", "是否建档立卡贫困户"),
        ),
    )

    def check(self, data: pa.Table, ctx: Context) -> pa.Table:
        data = self._stage_and_grade(data, ctx)
        data = self._school_year(data, ctx)
        con = duck()
        con.register("f", data)
        h = ctx.header
        schools = [c for (c,) in fetch_columns("SELECT code FROM schools_school")]
        con.register("known", pa.table({"code": pa.array(schools, pa.string())}))
        # Only the rows naming an unknown school without its name come back to Python.
        for line, code, name in con.execute("""
                SELECT DISTINCT _line, school_code, school_name FROM f
                WHERE school_code IS NOT NULL AND coalesce(school_name, '') = ''
                  AND school_code NOT IN (SELECT code FROM known)
                ORDER BY _line""").fetchall():
            if not name:
                ctx.report.add(
                    line,
                    h("school_code"),
                    code,
                    _(
                        "Unknown school code; import the school list first, or a roll file "
                        "that names the school (学校名称)."
                    ),
                )
        for (
            line,
            roll,
        ) in con.execute("""SELECT _line, roll_number FROM f WHERE roll_number IS NOT NULL
                QUALIFY row_number() OVER (PARTITION BY roll_number, school_year ORDER BY _line) > 1""").fetchall():
            ctx.report.add(
                line,
                h("roll_number"),
                crypto.mask_id(roll),
                _("This roll number appears more than once for the same school year."),
            )
        # One ID on several roll numbers: a sibling's ID typed in, or one child's two records
        # (重复学籍). Every row lands, marked; identification decides by name and birth date,
        # with the ID inside 全国学籍号 as a second witness.
        for line, value, lines in con.execute("""
                SELECT _line, id_number, list(_line ORDER BY _line) OVER w FROM f
                WHERE id_number IS NOT NULL AND id_number__error IS NULL
                WINDOW w AS (PARTITION BY id_number, school_year
                             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
                QUALIFY count(DISTINCT roll_number) OVER (PARTITION BY id_number, school_year) > 1
                """).fetchall():
            shown = ", ".join(str(x) for x in lines[:-1]) + " " + _("and") + f" {lines[-1]}"
            ctx.report.add(
                line,
                h("id_number"),
                value,
                _(
                    "This ID number is on lines %(lines)s, under different roll numbers: both "
                    "landed, marked; identification decides who is who by name and birth date."
                )
                % {"lines": shown},
                sensitive=True,
                warning=True,
            )
        for line, value in con.execute("""
                SELECT _line, birth_date FROM f WHERE birth_date IS NOT NULL AND (
                    birth_date > coalesce(enrolled_on, status_date, make_date(school_year, 9, 1)))""").fetchall():
            ctx.report.add(
                line, h("birth_date"), value, _("The birth date is after the roll date.")
            )
        return data

    def _stage_and_grade(self, data: pa.Table, ctx: Context) -> pa.Table:
        """Read 年级 as text (一年级, 初二, 高一, 中职一年级, 小班 …) or as a number with 学段."""
        # Each distinct (年级, 学段) pair is read once, then joined back to the rows.
        con = duck()
        con.register(
            "g",
            pa.table(
                {
                    "gtext": data.column("grade").cast(pa.string()),
                    "gstage": data.column("stage").cast(pa.string()),
                    "_line": data.column("_line"),
                    "_i": pa.array(range(data.num_rows), pa.int64()),
                }
            ),
        )
        pairs = con.execute("SELECT DISTINCT gtext, gstage FROM g").fetchall()
        found = [parse_grade(text, stage) for text, stage in pairs]
        con.register(
            "m",
            pa.table(
                {
                    "gtext": pa.array([p[0] for p in pairs], pa.string()),
                    "gstage": pa.array([p[1] for p in pairs], pa.string()),
                    "o_stage": pa.array([f[0] if f else None for f in found], pa.string()),
                    "o_grade": pa.array([f[1] if f else None for f in found], pa.int64()),
                }
            ),
        )
        join = """FROM g LEFT JOIN m ON g.gtext IS NOT DISTINCT FROM m.gtext
                  AND g.gstage IS NOT DISTINCT FROM m.gstage"""
        for line, text in con.execute(
            f"SELECT g._line, g.gtext {join} WHERE m.o_grade IS NULL AND g.gtext IS NOT NULL "
            "ORDER BY g._i"
        ).fetchall():
            ctx.report.add(
                line,
                ctx.header("grade"),
                text,
                _(
                    "Not a grade we know; write it like 一年级, 初二, 高一, 中职一年级 or "
                    "小班, or give 学段 and a number."
                ),
            )
        out = con.sql(f"SELECT m.o_stage, m.o_grade {join} ORDER BY g._i").to_arrow_table()
        con.close()
        data = put_column(data, "stage", out.column("o_stage").combine_chunks())
        return put_column(data, "grade", out.column("o_grade").combine_chunks())

    def _school_year(self, data: pa.Table, ctx: Context) -> pa.Table:
        """Fill the school year a file does not give: the one chosen at import, else the
        county's working year."""
        column = data.column("school_year")
        if column.null_count == 0:
            return data
        year = ctx.batch.school_year or working_year(ctx.batch.county_code)
        filled = pc.fill_null(column, pa.scalar(year, column.type))
        return put_column(data, "school_year", filled)

    def apply(self, data: pa.Table, ctx: Context) -> Counts:
        con = duck()
        derived = schools_derive(data, ctx)
        # On a roll an invalid ID is kept (normalised as far as it goes), marked invalid.
        raw = data.column("id_number__raw")
        valid = data.column("id_number")
        cleaned = normalize.clean_ids(raw)
        kept = pc.if_else(pc.is_valid(valid), valid, cleaned)
        id_status = pc.if_else(
            pc.is_valid(valid), "valid", pc.if_else(pc.is_valid(raw), "invalid", "missing")
        )
        t = data.drop_columns(["id_number", "id_number__raw", "id_number__error"])
        t = t.append_column("id_plain", kept).append_column("id_status", id_status)
        t = t.append_column(
            "roll_index", crypto.blind_index_array(data.column("roll_number"), purpose="roll")
        )
        t = t.append_column("_row", pa.array(range(t.num_rows), pa.int64()))
        # The ID inside a national roll number (G + the ID at first registration).
        roll_ids, _roll_errors = normalize.normalize_id_numbers(
            pc.if_else(
                pc.fill_null(pc.starts_with(data.column("roll_number"), "G"), False),
                pc.utf8_slice_codeunits(data.column("roll_number"), 1, 19),
                pa.scalar(None, pa.string()),
            )
        )
        t = t.append_column("_roll_id_index", crypto.blind_index_array(roll_ids, purpose="id"))
        id15 = pc.if_else(
            pc.equal(valid, ""), pa.scalar(None, pa.string()), pc.utf8_slice_codeunits(valid, 0, 15)
        )
        t = t.append_column("_id15_index", crypto.blind_index_array(id15, purpose="id15"))
        con.register("f", t)
        # A valid ID on several roll numbers of one school year: every such row is marked.
        t = con.sql("""SELECT *, (id_status = 'valid' AND count(DISTINCT roll_index) OVER (
                           PARTITION BY id_plain, school_year) > 1) AS _shared
                       FROM f""").to_arrow_table()
        con.register("f", t)
        schools = fetch_columns(
            "SELECT s.code, s.id, coalesce(a.code, '') FROM schools_school s "
            "LEFT JOIN registry_area a ON a.id = s.township_id"
        )
        con.register(
            "s",
            pa.table(
                {
                    "code": [r[0] for r in schools],
                    "school_id": [r[1] for r in schools],
                    "county": [r[2][:6] for r in schools],
                    "township": [r[2] for r in schools],
                }
            ),
        )
        county = ctx.batch.county_code or self._county_of(con)
        ctx.batch.county_code = county
        ctx.progress(_("Writing classes"), force=True)
        self._sync_classes(con)
        class_rows = fetch_columns(
            "SELECT id, school_id, school_year, stage, grade, name FROM schools_schoolclass"
        )
        con.register(
            "c",
            pa.table(
                {
                    "class_id": [r[0] for r in class_rows],
                    "school_id": [r[1] for r in class_rows],
                    "school_year": [r[2] for r in class_rows],
                    "stage": [r[3] for r in class_rows],
                    "grade": [r[4] for r in class_rows],
                    "name": [r[5] for r in class_rows],
                }
            ),
        )
        # A student belongs to the county of their school; at a school outside any county
        # (universities, city schools of migrant children) to the importing county, or, in a
        # file that spans several counties, to the county their valid ID was issued in.
        st_cols = [
            "name",
            "id_index",
            "id_status",
            "sex",
            "birth_date",
            "poor_flag",
            "county_code",
            "roll_id_index",
            "id15_index",
            "shared_id",
            "migrant",
        ]
        students = con.sql(
            """
            SELECT f.roll_index AS _key, f.roll_number AS _roll, f.id_plain AS _id_plain, f.name,
                   f.id_status, coalesce(f.sex, '') AS sex, f.birth_date,
                   coalesce(f.poor_flag, false) AS poor_flag,
                   f._roll_id_index AS roll_id_index, f._id15_index AS id15_index,
                   f._shared AS shared_id,
                   coalesce(f.migrant, false) AS migrant,
                   coalesce(nullif(s.county, ''), nullif($county, ''),
                            CASE WHEN f.id_status = 'valid' THEN substr(f.id_plain, 1, 6) END)
                     AS county_code
            FROM f JOIN s ON s.code = f.school_code
            QUALIFY row_number() OVER (PARTITION BY f.roll_index ORDER BY f.school_year DESC, f._line DESC) = 1
            """,
            params={"county": county},
        ).to_arrow_table()
        for (line,) in con.sql(
            """
                SELECT f._line FROM f JOIN s ON s.code = f.school_code
                WHERE nullif(s.county, '') IS NULL AND $county = ''
                  AND f.id_status <> 'valid' ORDER BY 1""",
            params={"county": county},
        ).fetchall():
            ctx.report.add(
                line,
                ctx.header("school_code"),
                None,
                _(
                    "A school outside the county and no valid ID: this student's county is unknown "
                    "(import the file with its county to set it)."
                ),
                warning=True,
            )
        students = students.set_column(
            students.schema.get_field_index("county_code"),
            "county_code",
            pc.fill_null(students.column("county_code"), ""),
        )
        sealed_id = seal_array(students.column("_id_plain"), prefix="id", purpose="id")
        sealed_roll = seal_array(
            students.column("_roll"), prefix="roll", purpose="roll", with_index=False
        )
        for name, column in {**sealed_id, **sealed_roll}.items():
            students = students.append_column(name, column)
        students = students.append_column("roll_index", students.column("_key"))
        students = students.append_column("_label", students.column("roll_masked"))
        con.register("students", students)
        students = con.sql(
            f"SELECT *, {hash_expr(st_cols)} AS row_hash FROM students"
        ).to_arrow_table()
        students = students.drop_columns(["_roll", "_id_plain"])
        # PostgreSQL: a county new to the tables gets its partitions before its rows come.
        ensure_partitions(students.column("county_code").unique().to_pylist())
        sres = sync_rows(
            ctx=ctx,
            table="schools_student",
            entity="student",
            rows=students,
            key_sql="roll_index",
            diff_columns=st_cols,
            sensitive={"id_index": "id_number"},
            watch="county_code",
        )
        con.register("st", sres.ids)
        self._shared_id_tasks(con, ctx)
        en_cols = [
            "school_class_id",
            "stage",
            "grade",
            "boarding",
            "status",
            "status_date",
            "enrolled_on",
        ]
        # University lists give the degree level and the freshman flag; rolls do not.
        extra = ["degree", "freshman"] if "degree" in data.column_names else []
        en_cols += extra
        extra_sql = "".join(f", f.{c}" for c in extra)
        en = con.sql(f"""
            WITH x AS (
              SELECT st.id AS student_id, s.school_id, f.school_year, c.class_id AS school_class_id,
                     f.stage, f.grade, coalesce(f.boarding, false) AS boarding,
                     coalesce(f.status, 'enrolled') AS status, f.status_date, f.enrolled_on,
                     sx.county_code
                     {extra_sql}
              FROM f JOIN st ON st._key = f.roll_index JOIN s ON s.code = f.school_code
              JOIN students sx ON sx._key = f.roll_index
              LEFT JOIN c ON c.school_id = s.school_id AND c.school_year = f.school_year
                AND c.stage = f.stage AND c.grade = f.grade AND c.name = f.class_name)
            SELECT student_id || ':' || school_year || ':' || school_id AS _key, *,
                   {hash_expr(en_cols)} AS row_hash, {ctx.batch.pk} AS import_batch_id
            FROM x""").to_arrow_table()
        self._close_moved(en, ctx)
        eres = sync_rows(
            ctx=ctx,
            table="schools_enrolment",
            entity="enrolment",
            rows=en,
            key_sql=ENROLMENT_KEY_SQL,
            diff_columns=en_cols,
            order_by="student_id",
        )
        # Students who moved county take their older enrolments and their link along.
        follow_student_county(student_ids=sres.watched)
        counts = Counts(eres.created, eres.updated, eres.unchanged)
        counts.notes.append(
            _("Students: %(c)d new, %(u)d updated.") % {"c": sres.created, "u": sres.updated}
        )
        self._unplaced_school_tasks(ctx)
        if derived[0]:
            counts.notes.append(
                _(
                    "Schools taken from the rolls: %(n)d (kind from the grades taught); "
                    "%(m)d need their township chosen on the schools page."
                )
                % {"n": derived[0], "m": derived[1]}
            )
        return counts

    def _unplaced_school_tasks(self, ctx: Context) -> None:
        """One task per school in the county whose township nobody has chosen yet."""
        schools = fetch_columns("SELECT id, name, code, location, township_id FROM schools_school")
        county = ctx.batch.county_code
        tasks_sync(
            kind=DataQualityTask.Kind.SCHOOL_TOWNSHIP,
            entity="school",
            county_code=county,
            findings=[
                Finding(
                    pk,
                    f"{name} {code}",
                    _("Choose its township on the schools page."),
                    county,
                )
                for pk, name, code, location, township in schools
                if location == "in_county" and township is None
            ],
            checked=[r[0] for r in schools],
            batch=ctx.batch,
        )

    def _shared_id_tasks(self, con: Any, ctx: Context) -> None:
        """One task per roll row whose ID another row of the file also carries."""
        joined = """FROM f JOIN st ON st._key = f.roll_index JOIN s ON s.code = f.school_code"""
        # Only the marked rows come back as Python rows; the others as one column of ids.
        rows = con.sql(f"""
            SELECT st.id, f.name, coalesce(nullif(s.township, ''), s.county), f._line, f._shared
            {joined} WHERE f._shared ORDER BY f._line""").fetchall()
        checked = con.sql(f"SELECT st.id {joined}").to_arrow_table().column(0).to_pylist()
        tasks_sync(
            kind=DataQualityTask.Kind.SHARED_ID,
            entity="student",
            county_code=ctx.batch.county_code,
            findings=[
                Finding(
                    pk,
                    name,
                    _("Line %(line)d: the same ID number as another roll row of this file.")
                    % {"line": line},
                    area,
                )
                for pk, name, area, line, shared in rows
                if shared
            ],
            checked=checked,
            batch=ctx.batch,
        )

    def _sync_classes(self, con: Any) -> None:
        """Create the classes the file names, and take their head teachers from it."""
        classes = con.execute("""
            SELECT s.school_id, f.school_year, f.stage, f.grade, f.class_name AS name,
                   coalesce(max(f.head_teacher), '') AS head_teacher_name
            FROM f JOIN s ON s.code = f.school_code WHERE f.class_name IS NOT NULL
            GROUP BY ALL""").fetchall()
        existing = {
            (a, b, c, d, e): (pk, t_)
            for pk, a, b, c, d, e, t_ in fetch_columns(
                "SELECT id, school_id, school_year, stage, grade, name, head_teacher_name FROM schools_schoolclass"
            )
        }
        insert_rows(
            "schools_schoolclass",
            ["school_id", "school_year", "stage", "grade", "name", "head_teacher_name"],
            [c for c in classes if c[:5] not in existing],
        )
        renamed = [
            (c[5], existing[c[:5]][0])
            for c in classes
            if c[:5] in existing and existing[c[:5]][1] != c[5] and c[5]
        ]
        update_rows("schools_schoolclass", ["head_teacher_name"], renamed)

    def _county_of(self, con: Any) -> str:
        """Return the one county the file's in-county schools lie in."""
        rows = fetch_columns(
            "SELECT s.code, a.code FROM schools_school s "
            "JOIN registry_area a ON a.id = s.township_id"
        )
        con.register("sc", pa.table({"code": [r[0] for r in rows], "town": [r[1] for r in rows]}))
        counties = [
            c
            for (c,) in con.execute(
                "SELECT DISTINCT substr(town, 1, 6) FROM f JOIN sc ON sc.code = f.school_code"
            ).fetchall()
        ]
        if len(counties) > 1:
            return ""  # a province's file: each student's county is found row by row
        if not counties:
            # Schools taken from the rolls may not have their township yet: the county is
            # then the one county this installation holds.
            only = only_county()
            if only:
                return only
        if len(counties) != 1:
            raise ImportFailure(
                _("Cannot tell which county these rolls belong to; give the county.")
            )
        return str(counties[0])

    def _close_moved(self, en: pa.Table, ctx: Context) -> None:
        """Mark a student's active enrolment at another school in the same year transferred out."""
        active = pc.is_in(
            en.column("status"), value_set=pa.array([str(s) for s in Enrolment.ACTIVE])
        )
        years = sorted(pc.unique(en.column("school_year").filter(active)).to_pylist())
        if not years:
            return
        marks = ", ".join(["%s"] * len(years))
        existing = fetch_arrow(
            "SELECT id, student_id, school_year, school_id FROM schools_enrolment "
            f"WHERE status IN ('enrolled', 'suspended') AND school_year IN ({marks})",
            years,
            pa.schema(
                [
                    ("id", pa.int64()),
                    ("student_id", pa.int64()),
                    ("school_year", pa.int64()),
                    ("school_id", pa.int64()),
                ]
            ),
        )
        if existing.num_rows == 0:
            return
        con = duck()
        con.register("e", existing)
        con.register("n", en.select(["student_id", "school_year", "school_id", "status"]))
        closed = con.sql("""
            SELECT e.id, e.student_id, e.school_year FROM e
            SEMI JOIN (SELECT student_id, school_year FROM n
                       WHERE status IN ('enrolled', 'suspended')) m
              ON m.student_id = e.student_id AND m.school_year = e.school_year
            ANTI JOIN n ON n.student_id = e.student_id AND n.school_year = e.school_year
              AND n.school_id = e.school_id
            ORDER BY e.id""").fetchall()
        con.close()
        today = timezone.localdate()
        update_rows(
            "schools_enrolment",
            ["status", "status_date", "row_hash"],
            [("transferred_out", today, "", pk) for pk, _st, _yr in closed],
        )
        ImportChange.objects.bulk_create(
            [
                ImportChange(
                    batch=ctx.batch,
                    entity="enrolment",
                    key=f"{st}:{yr}:{pk}",
                    action="transferred_out",
                    changes={"status": ["enrolled", "transferred_out"]},
                )
                for pk, st, yr in closed
            ]
        )


SCHOOL_IMPORTER = SchoolImporter()
ROLLS_IMPORTER = RollsImporter()

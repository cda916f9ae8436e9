"""Importers for the area list and the poverty registry (docs/formats.md)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core import crypto, normalize
from jingzhun.core.bulk import fetch_arrow, fetch_columns, insert_rows
from jingzhun.core.importing import (
    ERROR_MESSAGES,
    Context,
    Counts,
    Field,
    Importer,
    duck,
    hash_expr,
    put_column,
    sync_rows,
)
from jingzhun.core.models import DataQualityTask
from jingzhun.core.partitions import ensure_partitions, follow_household_county
from jingzhun.core.quality import Finding, tasks_sync
from jingzhun.core.sensitive import seal_array
from jingzhun.registry.derive import areas_derive
from jingzhun.registry.models import Area

LEVELS = {
    "县": "county",
    "区": "county",
    "county": "county",
    "乡镇": "township",
    "乡": "township",
    "镇": "township",
    "街道": "township",
    "township": "township",
    "村": "village",
    "社区": "village",
    "village": "village",
}
HOUSEHOLD_STATUS = {
    "在册": "registered",
    "未脱贫": "registered",
    "registered": "registered",
    "已脱贫": "left_poverty",
    "脱贫": "left_poverty",
    "left_poverty": "left_poverty",
    "已清退": "removed",
    "清退": "removed",
    "removed": "removed",
    # 返贫: left poverty once and registered again; lands as registered, marked relapsed.
    "返贫": "relapsed",
    "relapsed": "relapsed",
}
# The kind digit of a disability-card number (GB/T 26341): 残疾人证号 = ID + kind + grade.
DISABILITY_DIGITS = {
    "1": "视力",
    "2": "听力",
    "3": "言语",
    "4": "肢体",
    "5": "智力",
    "6": "精神",
    "7": "多重",
}
SEX = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"}


class AreaImporter(Importer):
    kind = "areas"
    county_column = "code"
    fields = (
        Field(
            "code",
            "区划代码",
            "code",
            "code",
            required=True,
            lengths=(6, 9, 12),
            aliases=("行政区划代码", "代码"),
        ),
        Field("name", "名称", "name", required=True, aliases=("区划名称",)),
        Field("level", "级别", "level", "choice", choices=LEVELS),
        Field("parent_code", "上级代码", "parent_code", "code", lengths=(6, 9)),
        Field("is_poor", "是否贫困村", "is_poor_village", "bool", aliases=("贫困村",)),
        Field("longitude", "经度", "longitude", "decimal"),
        Field("latitude", "纬度", "latitude", "decimal"),
    )

    def check(self, data: pa.Table, ctx: Context) -> pa.Table:
        con = duck()
        con.register("f", data)
        rows = con.execute("""
            SELECT _line, code, parent_code, level,
                   CASE length(code) WHEN 6 THEN 'county' WHEN 9 THEN 'township' ELSE 'village' END AS lvl,
                   count(*) OVER (PARTITION BY code) AS dup
            FROM f WHERE code IS NOT NULL""").fetchall()
        known = set(Area.objects.values_list("code", flat=True))
        in_file = {r[1] for r in rows}
        for line, code, parent, level, lvl, dup in rows:
            if dup > 1:
                ctx.report.add(
                    line,
                    ctx.header("code"),
                    code,
                    _("This code appears more than once in the file."),
                )
            if level and level != lvl:
                ctx.report.add(
                    line,
                    ctx.header("level"),
                    level,
                    _("The level does not fit a code of %(n)d digits.") % {"n": len(code)},
                )
            if lvl != "county":
                if not parent:
                    ctx.report.add(line, ctx.header("parent_code"), parent, "required")
                elif not code.startswith(parent) or len(parent) != len(code) - 3:
                    ctx.report.add(
                        line,
                        ctx.header("parent_code"),
                        parent,
                        _("The parent code must be the first %(n)d digits of the code.")
                        % {"n": len(code) - 3},
                    )
                elif parent not in in_file and parent not in known:
                    ctx.report.add(
                        line, ctx.header("parent_code"), parent, _("Unknown parent area.")
                    )
        return data

    def apply(self, data: pa.Table, ctx: Context) -> Counts:
        counts = Counts()
        rows = sorted(data.to_pylist(), key=lambda r: len(r["code"]))
        for row in rows:
            code = row["code"]
            level = {6: "county", 9: "township", 12: "village"}[len(code)]
            parent = Area.objects.get(code=row["parent_code"]) if row["parent_code"] else None
            wanted = {
                "name": row["name"],
                "level": level,
                "parent": parent,
                "is_poor": bool(row["is_poor"]) and level == "village",
                "longitude": row["longitude"],
                "latitude": row["latitude"],
            }
            area = Area.objects.filter(code=code).first()
            if area is None:
                area = Area(code=code, **wanted)
                area.full_clean()
                area.save()
                counts.created += 1
                continue
            diff = {
                k: [str(getattr(area, k)), str(v)]
                for k, v in wanted.items()
                if getattr(area, k) != v
                and not (
                    k in ("longitude", "latitude")
                    and v is not None
                    and getattr(area, k) is not None
                    and float(getattr(area, k)) == float(v)
                )
            }
            if diff:
                for k, v in wanted.items():
                    setattr(area, k, v)
                area.full_clean()
                area.save()
                ctx.batch.changes.create(entity="area", key=code, action="updated", changes=diff)
                counts.updated += 1
            else:
                counts.unchanged += 1
        return counts


def surviving_digits(raw: str | None) -> str | None:
    """Return the first 15 digits an Excel-rounded ID still holds, or None.

    Excel keeps 15 significant digits: an 18-digit ID typed into a number cell comes back as
    18 digits ending in 000, or (from a number cell) as 4.2010120100503E+17. Fewer than 12
    digits in the mantissa (a text such as 4.22827E+17, as a CSV shows it) lost too much; and
    the birth date the 15 digits hold must be a real date.
    """
    if not raw:
        return None
    if len(raw) == 18 and raw.isdigit():
        digits = raw[:15]
    else:
        m = re.fullmatch(r"(\d)\.(\d+)E\+17", raw.upper())
        if m is None or len(m.group(2)) < 11:
            return None
        digits = (m.group(1) + m.group(2)).ljust(15, "0")[:15]
    try:
        dt.date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    except ValueError:
        return None
    return digits


class RegistryImporter(Importer):
    kind = "registry"
    county_column = "village_code"
    key_fields = ("person_no", "id_number")
    fields = (
        Field(
            "household_no",
            "户编号",
            "household_no",
            required=True,
            max_length=32,
            aliases=("建档立卡户编号", "户码", "家庭编号"),
        ),
        Field(
            "person_no",
            "人口编号",
            "person_no",
            max_length=40,
            aliases=("人员编号", "成员编号", "个人编号"),
        ),
        # The national export has no village code: it is the first 12 digits of 户编号.
        Field(
            "village_code",
            "村代码",
            "village_code",
            "code",
            lengths=(12,),
            aliases=("行政村代码", "村级代码"),
        ),
        Field(
            "county_name", "县", "county_name", max_length=100, aliases=("县（市、区）", "县名称")
        ),
        Field(
            "township_name",
            "乡（镇）",
            "township_name",
            max_length=100,
            aliases=("乡镇", "乡", "乡镇名称", "乡（镇、街道）", "乡镇（街道）"),
        ),
        Field(
            "village_name",
            "行政村",
            "village_name",
            max_length=100,
            aliases=("村", "村名称", "村名", "行政村名称"),
        ),
        Field("village_is_poor", "是否贫困村", "village_is_poor", "bool", aliases=("贫困村",)),
        Field(
            "registration_year",
            "识别年度",
            "registration_year",
            "int",
            lo=2000,
            hi=2100,
            aliases=("识别年份", "建档年度"),
        ),
        Field(
            "household_status",
            "户状态",
            "household_status",
            "choice",
            choices=HOUSEHOLD_STATUS,
            aliases=("贫困户状态", "脱贫状态", "脱贫属性"),
        ),
        Field("exit_year", "脱贫年度", "exit_year", "int", lo=2000, hi=2100, aliases=("脱贫年份",)),
        Field("poverty_cause", "致贫原因", "poverty_cause", aliases=("主要致贫原因",)),
        Field("minimum_income", "是否低保", "minimum_income", "bool", aliases=("低保户",)),
        Field("bank_name", "开户银行", "bank_name", aliases=("开户行",)),
        Field(
            "bank_account",
            "一卡通账号",
            "bank_account",
            "bank",
            aliases=("银行账号", "惠民惠农一卡通账号", "账号"),
        ),
        Field("name", "姓名", "name", required=True, max_length=50),
        # Blank, Excel-mangled or otherwise unusable IDs land when 人口编号 keys the person:
        # they become data-quality tasks, and identification links by name, birth and village.
        Field(
            "id_number",
            "身份证号",
            "id_number",
            "id",
            aliases=("证件号码", "身份证号码", "公民身份号码"),
            soft_errors=(
                "id_excel_number",
                "id_length",
                "id_chars",
                "id_birth_date",
                "id_checksum",
            ),
        ),
        Field("sex", "性别", "sex", "choice", choices=SEX),
        Field("birth_date", "出生日期", "birth_date", "date"),
        Field("relation", "与户主关系", "relation", max_length=20),
        Field("ethnicity", "民族", "ethnicity", max_length=20),
        Field("disability_kind", "残疾类别", "disability_kind", max_length=20),
        Field("disability_grade", "残疾等级", "disability_grade", "int", lo=1, hi=4),
        Field(
            "disability_card",
            "残疾证号",
            "disability_card",
            max_length=30,
            aliases=("残疾证号码", "残疾人证号"),
        ),
        Field("education", "文化程度", "education", max_length=20),
        Field(
            "school_status",
            "在校生状况",
            "school_status",
            max_length=20,
            aliases=("在校生情况", "在校状况", "在校生状态"),
        ),
        Field("left_behind", "是否留守儿童", "left_behind", "bool", aliases=("留守儿童",)),
        Field("guardian_name", "监护人姓名", "guardian_name", max_length=50),
        Field("guardian_id_number", "监护人身份证号", "guardian_id_number", "id"),
        Field("phone", "联系电话", "phone", max_length=20, aliases=("电话", "手机号码")),
    )

    def _resolve(self, data: pa.Table) -> pa.Table:
        """Derive what the national export leaves implicit.

        The village code is the first 12 digits of 户编号; a 20-character disability-card
        number in the ID column (or in 残疾证号 when the ID is blank) gives the ID (its first
        18 characters), the disability kind and grade; `_id_status` says what the ID is.
        """
        raw = normalize.clean_ids(data.column("id_number__raw"))
        card = normalize.clean_ids(data.column("disability_card"))
        is_card = pc.fill_null(pc.match_substring_regex(raw, r"^\d{17}[\dX]\d{2}$"), False)
        card_ok = pc.fill_null(pc.match_substring_regex(card, r"^\d{17}[\dX]\d{2}$"), False)
        from_card = pc.if_else(
            is_card,
            pc.utf8_slice_codeunits(raw, 0, 18),
            pc.if_else(
                pc.and_(pc.is_null(raw), card_ok),
                pc.utf8_slice_codeunits(card, 0, 18),
                pa.scalar(None, pa.string()),
            ),
        )
        card_ids, card_errors = normalize.normalize_id_numbers(from_card)
        use_card = pc.and_(pc.is_valid(card_ids), pc.is_null(data.column("id_number")))
        ids = pc.if_else(use_card, card_ids, data.column("id_number"))
        errors = pc.if_else(use_card, pa.scalar(None, pa.string()), data.column("id_number__error"))
        status = pc.case_when(
            pc.make_struct(
                pc.is_valid(ids),
                pc.is_null(raw),
                pc.fill_null(pc.equal(errors, "id_excel_number"), False),
                field_names=["a", "b", "c"],
            ),
            "valid",
            "missing",
            "excel_number",
            "invalid",
        )
        whole_card = pc.if_else(
            is_card, raw, pc.if_else(card_ok, card, pa.scalar(None, pa.string()))
        )
        kind_digit = pc.utf8_slice_codeunits(whole_card, 18, 19)
        grade_digit = pc.utf8_slice_codeunits(whole_card, 19, 20)
        kinds = pa.array(
            [DISABILITY_DIGITS.get(d or "") for d in kind_digit.to_pylist()], pa.string()
        )
        grades = pc.if_else(
            pc.fill_null(pc.match_substring_regex(grade_digit, r"^[1-4]$"), False),
            grade_digit,
            pa.scalar(None, pa.string()),
        ).cast(pa.int64())
        household = data.column("household_no").cast(pa.string())
        derived = pc.if_else(
            pc.fill_null(pc.match_substring_regex(household, r"^\d{12}"), False),
            pc.utf8_slice_codeunits(household, 0, 12),
            pa.scalar(None, pa.string()),
        )

        data = put_column(data, "id_number", ids)
        data = put_column(data, "id_number__error", errors)
        data = put_column(data, "_id_status", status)
        data = put_column(data, "_id_from_card", use_card)
        data = put_column(data, "_id_raw_clean", raw)
        data = put_column(
            data, "disability_kind", pc.coalesce(data.column("disability_kind"), kinds)
        )
        data = put_column(
            data,
            "disability_grade",
            pc.coalesce(data.column("disability_grade").cast(pa.int64()), grades),
        )
        return put_column(data, "village_code", pc.coalesce(data.column("village_code"), derived))

    def check(self, data: pa.Table, ctx: Context) -> pa.Table:
        data = self._resolve(data)
        con = duck()
        con.register("f", data)
        areas = dict(fetch_columns("SELECT code, level FROM registry_area"))
        h = ctx.header
        for line, code, village_name, township_name in con.execute(
            "SELECT _line, village_code, village_name, township_name FROM f"
        ).fetchall():
            if code is None:
                ctx.report.add(
                    line,
                    h("village_code"),
                    None,
                    _("No village code, and 户编号 does not start with one (12 digits)."),
                )
            elif areas.get(code) != "village" and not (
                village_name and (areas.get(code[:9]) == "township" or township_name)
            ):
                ctx.report.add(
                    line,
                    h("village_code"),
                    code,
                    _(
                        "Unknown village code; import the area list first, or a file that "
                        "names the township and village."
                    ),
                )
        # A person without a usable ID is kept only when 人口编号 keys them.
        for line, raw, error, person_no, birth in con.execute("""
                SELECT _line, id_number__raw, id_number__error, person_no, birth_date FROM f
                WHERE _id_status <> 'valid'""").fetchall():
            if not person_no:
                reason = str(ERROR_MESSAGES.get(error or "required", ""))
                ctx.report.add(
                    line,
                    h("id_number"),
                    raw,
                    _("%(reason)s Without 人口编号 this person cannot be kept: fix the ID number.")
                    % {"reason": reason},
                    sensitive=True,
                )
            elif birth is None:
                ctx.report.add(
                    line,
                    h("birth_date"),
                    None,
                    _("The ID number is unusable, so the birth date is required."),
                )
        for col, what in (("id_number", _("ID number")), ("person_no", _("person number"))):
            for line, value, first in con.execute(f"""
                    SELECT _line, {col}, first_value(_line) OVER w FROM f WHERE {col} IS NOT NULL
                    WINDOW w AS (PARTITION BY {col} ORDER BY _line)
                    QUALIFY row_number() OVER w > 1""").fetchall():
                ctx.report.add(
                    line,
                    h(col),
                    value,
                    _("This %(what)s appears more than once in the file (first on line %(first)d).")
                    % {"what": what, "first": first},
                    sensitive=col == "id_number",
                )
        for col in (
            "village_code",
            "registration_year",
            "household_status",
            "exit_year",
            "bank_account",
            "minimum_income",
        ):
            for line, value in con.execute(f"""
                    SELECT _line, {col} FROM f WHERE household_no IS NOT NULL
                    QUALIFY coalesce(CAST({col} AS VARCHAR), '~') <> first_value(
                        coalesce(CAST({col} AS VARCHAR), '~')) OVER (
                        PARTITION BY household_no ORDER BY _line)
                    """).fetchall():
                ctx.report.add(
                    line,
                    h(col),
                    value if col != "bank_account" else crypto.mask_account(value),
                    _("Household fields must agree on every member's row."),
                )
        exit_header = h("exit_year") if "exit_year" in ctx.mapped else h("household_status")
        # Once per household (on its first row), not once per member.
        for (line,) in con.execute("""SELECT _line FROM f WHERE household_status = 'left_poverty'
                                      AND exit_year IS NULL
                                      QUALIFY row_number() OVER (
                                          PARTITION BY household_no ORDER BY _line) = 1
                                      ORDER BY _line""").fetchall():
            ctx.report.add(
                line,
                exit_header,
                None,
                _(
                    "Left poverty, but the year it left is not given: listed for the poverty "
                    "office; the transition rule applies as the setting "
                    "JINGZHUN_UNKNOWN_EXIT_YEAR says."
                ),
                warning=True,
            )
        for line, value in con.execute("""
                SELECT _line, birth_date FROM f WHERE birth_date IS NOT NULL AND id_number IS NOT NULL
                AND strftime(birth_date, '%Y%m%d') <> substr(id_number, 7, 8)""").fetchall():
            ctx.report.add(
                line,
                h("birth_date"),
                value,
                _("The birth date differs from the one in the ID number."),
                warning=True,
            )
        for line, raw in con.execute(
            "SELECT _line, _id_raw_clean FROM f WHERE _id_from_card"
        ).fetchall():
            ctx.report.add(
                line,
                h("id_number"),
                raw,
                _(
                    "A disability-card number (ID + kind + grade) stands in the ID column: the ID "
                    "was taken from its first 18 characters; listed for the poverty office."
                ),
                warning=True,
                sensitive=True,
            )
        return data

    def apply(self, data: pa.Table, ctx: Context) -> Counts:
        con = duck()
        derived = areas_derive(data, ctx)
        village_rows = fetch_columns("SELECT code, id FROM registry_area WHERE level = 'village'")
        con.register(
            "v",
            pa.table(
                {
                    "code": pa.array([r[0] for r in village_rows], pa.string()),
                    "village_id": pa.array([r[1] for r in village_rows], pa.int64()),
                }
            ),
        )
        raw_clean = data.column("_id_raw_clean")
        data = data.drop_columns(
            [
                c
                for c in data.column_names
                if c.endswith(("__raw", "__error")) or c == "_id_raw_clean"
            ]
        )
        # What an Excel-rounded ID still holds: its first 15 digits, when 18 digits were kept.
        id15 = [
            surviving_digits(r) if st == "excel_number" else None
            for r, st in zip(
                raw_clean.to_pylist(), data.column("_id_status").to_pylist(), strict=True
            )
        ]
        data = data.append_column(
            "id15_index", pa.array(crypto.blind_index_many(id15, purpose="id15"), pa.string())
        )
        data = data.append_column(
            "id_index",
            pa.array(
                crypto.blind_index_many(data.column("id_number").to_pylist(), purpose="id"),
                pa.string(),
            ),
        )
        data = data.append_column(
            "guardian_id_index",
            pa.array(
                crypto.blind_index_many(
                    data.column("guardian_id_number").to_pylist(), purpose="id"
                ),
                pa.string(),
            ),
        )
        data = data.append_column(
            "bank_index",
            pa.array(
                crypto.blind_index_many(data.column("bank_account").to_pylist(), purpose="bank"),
                pa.string(),
            ),
        )
        con.register("f", data)
        hh_cols = [
            "village_id",
            "registration_year",
            "status",
            "relapsed",
            "exit_year",
            "poverty_cause",
            "minimum_income",
            "bank_name",
            "bank_index",
        ]
        hh = con.sql(f"""
            WITH first AS (
                SELECT f.*, v.village_id,
                       CASE WHEN household_status = 'relapsed' THEN 'registered'
                            ELSE coalesce(household_status, 'registered') END AS status,
                       household_status IS NOT DISTINCT FROM 'relapsed' AS relapsed
                FROM f JOIN v ON v.code = f.village_code
                QUALIFY row_number() OVER (PARTITION BY household_no ORDER BY _line) = 1)
            SELECT household_no AS _key, household_no, village_id, registration_year, status,
                   relapsed, exit_year, coalesce(poverty_cause, '') AS poverty_cause,
                   coalesce(minimum_income, false) AS minimum_income,
                   coalesce(bank_name, '') AS bank_name, bank_index, bank_account AS _bank,
                   {hash_expr(hh_cols)} AS row_hash, {ctx.batch.pk} AS import_batch_id
            FROM first ORDER BY _line""").to_arrow_table()
        for name, column in seal_array(
            hh.column("_bank"), prefix="bank", purpose="bank", with_index=False
        ).items():
            hh = hh.append_column(name, column)
        hh = hh.drop_columns(["_bank"])
        old_status = dict(fetch_columns("SELECT household_no, status FROM registry_household"))
        households = sync_rows(
            ctx=ctx,
            table="registry_household",
            entity="household",
            rows=hh,
            key_sql="household_no",
            diff_columns=hh_cols,
            sensitive={"bank_index": "bank_account"},
            watch="village_id",
        )
        self._record_status_changes(hh, households.ids, old_status, ctx)
        con.register("h", households.ids)
        existing = fetch_arrow(
            "SELECT id_index, person_no FROM registry_person WHERE id_index IS NOT NULL",
            [],
            pa.schema([("id_index", pa.string()), ("person_no", pa.string())]),
        )
        con.register("ex", existing)
        p_cols = [
            "household_id",
            "person_no",
            "id_index",
            "id_status",
            "id15_index",
            "name",
            "sex",
            "birth_date",
            "relation",
            "ethnicity",
            "disability_kind",
            "disability_grade",
            "left_behind",
            "guardian_name",
            "guardian_id_index",
            "phone",
            "education",
            "school_status",
        ]
        # A person keeps the key they have: found by ID, a person first imported without
        # 人口编号 stays keyed by the ID (the update then adds the number).
        persons = con.sql(f"""
            WITH x AS (
              SELECT CASE WHEN ex.id_index IS NOT NULL THEN coalesce(ex.person_no, ex.id_index)
                          ELSE coalesce(f.person_no, f.id_index) END AS _key,
                     f.id_number AS _id, f.guardian_id_number AS _gid,
                     h.id AS household_id, f.person_no, f.id_index, f._id_status AS id_status,
                     f.id15_index, f.name,
                     coalesce(f.sex, CASE WHEN CAST(substr(f.id_number, 17, 1) AS INTEGER) % 2 = 1
                                          THEN 'M' WHEN f.id_number IS NOT NULL THEN 'F'
                                          ELSE '' END) AS sex,
                     coalesce(f.birth_date, strptime(substr(f.id_number, 7, 8), '%Y%m%d')::DATE) AS birth_date,
                     coalesce(relation, '') AS relation, coalesce(ethnicity, '') AS ethnicity,
                     coalesce(disability_kind, '') AS disability_kind, disability_grade,
                     coalesce(left_behind, false) AS left_behind,
                     coalesce(guardian_name, '') AS guardian_name, guardian_id_index,
                     coalesce(phone, '') AS phone, coalesce(education, '') AS education,
                     coalesce(school_status, '') AS school_status, f.village_code AS _village,
                     first_value(substr(f.village_code, 1, 6)) OVER (
                       PARTITION BY f.household_no ORDER BY f._line) AS county_code,
                     f._line AS _line, f._id_from_card AS _from_card
              FROM f JOIN h ON h._key = f.household_no LEFT JOIN ex ON ex.id_index = f.id_index)
            SELECT *, {hash_expr(p_cols)} AS row_hash FROM x""").to_arrow_table()
        sealed = {
            **seal_array(persons.column("_id"), prefix="id", purpose="id", with_index=False),
            **seal_array(
                persons.column("_gid"), prefix="guardian_id", purpose="id", with_index=False
            ),
        }
        for name, column in sealed.items():
            persons = persons.append_column(name, column)
        persons = persons.append_column(
            "_label",
            pc.if_else(
                pc.equal(persons.column("id_masked"), ""),
                pc.coalesce(persons.column("person_no"), pa.scalar("")),
                persons.column("id_masked"),
            ),
        )
        facts = persons.select(["_key", "id_status", "_from_card", "_village", "_label", "name"])
        persons = persons.drop_columns(["_id", "_gid", "_village", "_line", "_from_card"])
        # PostgreSQL: a county new to the tables gets its partitions before its rows come.
        ensure_partitions(persons.column("county_code").unique().to_pylist())
        result = sync_rows(
            ctx=ctx,
            table="registry_person",
            entity="person",
            rows=persons,
            key_sql="coalesce(person_no, id_index)",
            diff_columns=p_cols,
            sensitive={"guardian_id_index": "guardian_id_number", "id_index": "id_number"},
        )
        # Persons of a household that moved to another village (maybe county) follow it.
        follow_household_county(households.watched)
        opened = self._quality_tasks(con, facts, result.ids, hh, households.ids, ctx)
        counts = Counts(result.created, result.updated, result.unchanged)
        counts.notes.append(
            _("Households: %(c)d new, %(u)d updated.")
            % {"c": households.created, "u": households.updated}
        )
        if derived[0] or derived[1]:
            counts.notes.append(
                _(
                    "Areas taken from the registry: %(t)d townships and %(v)d villages (check "
                    "their names and poor-village flags on the areas page)."
                )
                % {"t": derived[0], "v": derived[1]}
            )
        if opened:
            counts.notes.append(
                _("%(n)d records need checking at their source (data-quality tasks).")
                % {"n": opened}
            )
        return counts

    def _quality_tasks(
        self,
        con: Any,
        facts: pa.Table,
        person_ids: pa.Table,
        hh: pa.Table,
        household_ids: pa.Table,
        ctx: Context,
    ) -> int:
        """Open a task for every person without a usable ID and every unknown exit year;
        resolve the tasks of records this file now gives clean."""
        con.register("facts", facts)
        con.register("pid", person_ids)
        rows = con.sql("""SELECT pid.id, facts.id_status, facts._from_card, facts._village,
                                 facts._label, facts.name
                          FROM facts JOIN pid ON pid._key = facts._key""").fetchall()
        county = ctx.batch.county_code
        kinds = {
            "missing": DataQualityTask.Kind.ID_MISSING,
            "excel_number": DataQualityTask.Kind.ID_EXCEL_NUMBER,
            "invalid": DataQualityTask.Kind.ID_INVALID,
        }
        opened = 0
        checked = [r[0] for r in rows]
        for status, kind in kinds.items():
            found = [
                Finding(pk, f"{name} {label}", "", village)
                for pk, st, _card, village, label, name in rows
                if st == status
            ]
            opened += tasks_sync(
                kind=kind,
                entity="person",
                county_code=county,
                findings=found,
                checked=checked,
                batch=ctx.batch,
            )[0]
        opened += tasks_sync(
            kind=DataQualityTask.Kind.ID_DISABILITY_CARD,
            entity="person",
            county_code=county,
            findings=[
                Finding(pk, f"{name} {label}", "", village)
                for pk, _st, card, village, label, name in rows
                if card
            ],
            checked=checked,
            batch=ctx.batch,
        )[0]
        con.register("hh", hh)
        con.register("hid", household_ids)
        unknown = con.sql("""SELECT hid.id, hh.household_no, hh.status, hh.exit_year
                             FROM hh JOIN hid ON hid._key = hh._key""").fetchall()
        village_of = dict(
            fetch_columns(
                "SELECT h.id, a.code FROM registry_household h "
                "JOIN registry_area a ON a.id = h.village_id"
            )
        )
        opened += tasks_sync(
            kind=DataQualityTask.Kind.EXIT_YEAR_UNKNOWN,
            entity="household",
            county_code=county,
            findings=[
                Finding(pk, no, "", village_of.get(pk, ""))
                for pk, no, status, year in unknown
                if status == "left_poverty" and year is None
            ],
            checked=[r[0] for r in unknown],
            batch=ctx.batch,
        )[0]
        return opened

    def _record_status_changes(
        self, hh: pa.Table, ids: pa.Table, old_status: dict[str, str], ctx: Context
    ) -> None:
        """Append a dated history entry for every new household and every changed status."""
        id_of = dict(zip(ids.column("_key").to_pylist(), ids.column("id").to_pylist(), strict=True))
        today = timezone.localdate()
        history = []
        for row in hh.select(
            ["household_no", "status", "exit_year", "registration_year"]
        ).to_pylist():
            if old_status.get(row["household_no"]) != row["status"]:
                year = (
                    row["exit_year"]
                    if row["status"] == "left_poverty"
                    else row["registration_year"]
                )
                history.append(
                    (id_of[row["household_no"]], row["status"], year, today, ctx.batch.pk)
                )
        insert_rows(
            "registry_householdstatuschange",
            ["household_id", "status", "year", "recorded_on", "import_batch_id"],
            history,
        )


class PoorVillagesImporter(Importer):
    """The county's list of poor villages (贫困村名单): sets the flag, by code or by name."""

    kind = "poor_villages"
    key_fields = ("village_code", "village_name")
    fields = (
        Field(
            "village_code",
            "村代码",
            "village_code",
            "code",
            lengths=(12,),
            aliases=("行政村代码", "区划代码", "村级代码"),
        ),
        Field("township_name", "乡（镇）", "township_name", max_length=100, aliases=("乡镇", "乡")),
        Field("village_name", "行政村", "village_name", max_length=100, aliases=("村", "村名称")),
    )

    def check(self, data: pa.Table, ctx: Context) -> pa.Table:
        villages = fetch_columns(
            "SELECT v.code, v.name, t.name FROM registry_area v "
            "JOIN registry_area t ON t.id = v.parent_id WHERE v.level = 'village'"
        )
        codes = {c for c, _v, _t in villages}
        by_name: dict[tuple[str, str], list[str]] = {}
        for code, village, town in villages:
            by_name.setdefault((town, village), []).append(code)
        found: list[str | None] = []
        for line, code, town, village in zip(
            data.column("_line").to_pylist(),
            data.column("village_code").to_pylist(),
            data.column("township_name").to_pylist(),
            data.column("village_name").to_pylist(),
            strict=True,
        ):
            named = by_name.get((town or "", village or ""), [])
            if code and code in codes:
                found.append(code)
            elif not code and len(named) == 1:
                found.append(named[0])
            else:
                found.append(None)
                ctx.report.add(
                    line,
                    ctx.header("village_code" if code else "village_name"),
                    code or village,
                    _("Unknown village: import the registry (or the area list) first."),
                )
        return data.set_column(
            data.schema.get_field_index("village_code"),
            "village_code",
            pa.array(found, pa.string()),
        )

    def apply(self, data: pa.Table, ctx: Context) -> Counts:
        codes = sorted({c for c in data.column("village_code").to_pylist() if c})
        counts = Counts()
        for start in range(0, len(codes), 900):
            chunk = codes[start : start + 900]
            counts.updated += Area.objects.filter(code__in=chunk, is_poor=False).update(
                is_poor=True
            )
        # Every row is counted once: a village named twice is unchanged the second time.
        counts.unchanged = data.num_rows - counts.updated
        ctx.batch.county_code = ctx.batch.county_code or (codes[0][:6] if codes else "")
        return counts


AREA_IMPORTER = AreaImporter()
POOR_VILLAGES_IMPORTER = PoorVillagesImporter()
REGISTRY_IMPORTER = RegistryImporter()

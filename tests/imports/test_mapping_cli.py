"""`jingzhun import` when a file's columns need mapping: the proposal, confirming it, a mapping
file, and a source's kept mapping (which also picks up columns added later)."""

from __future__ import annotations

import inspect
import json
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from tests.imports.helpers import ROLLS_HEADER, base_county, rolls_rows, write_csv

from jingzhun.core import importing
from jingzhun.core.importing import importer_for
from jingzhun.core.mapping import extend_mapping, read_mapping_file
from jingzhun.core.models import ColumnMapping, ImportBatch
from jingzhun.schools.models import Enrolment, Student

pytestmark = pytest.mark.django_db

SOURCE = "某某县教育局"
ODD_ROLL = "学生全国学籍编号XYZ"  # guessed as the roll number
ODD_YEAR = "年度"  # guessed as the school year
ODD_SCHOOL = "单位代号"  # not recognised: the school code is not found


def _header(**renamed: str) -> list[str]:
    header = list(ROLLS_HEADER)
    for old, new in renamed.items():
        header[header.index(old)] = new
    return header


def _guessed_file(tmp_path: Path, name: str = "rolls.csv") -> Path:
    """A rolls file whose roll-number and school-year headers differ from ours."""
    return write_csv(tmp_path / name, _header(学籍号=ODD_ROLL, 学年=ODD_YEAR), rolls_rows())


def _missing_file(tmp_path: Path) -> Path:
    """A rolls file whose school-code header is not recognised at all."""
    header = _header(学籍号=ODD_ROLL, 学校标识码=ODD_SCHOOL)
    return write_csv(tmp_path / "rolls.csv", header, rolls_rows())


def _import(*args: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("import", *args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def _row(out: str, field: str) -> list[str]:
    """The cells of a field's row of the printed mapping table."""
    for line in out.splitlines():
        cells = line.split()
        if cells and cells[0] == field:
            return [c for c in cells[1:] if c != "*"]
    raise AssertionError(f"no row for {field} in:\n{out}")


def test_the_proposed_mapping_is_printed_and_nothing_lands(tmp_path: Path) -> None:
    base_county(tmp_path)
    out, error = _import("rolls", str(_guessed_file(tmp_path)))
    assert error is not None and str(error) == "import needs_mapping"
    assert _row(out, "roll_number") == ["学籍号", ODD_ROLL, "(guessed)"]
    assert _row(out, "school_year") == ["学年", ODD_YEAR, "(guessed)"]
    assert _row(out, "name") == ["姓名", "姓名"]
    assert _row(out, "school_code") == ["学校标识码", "学校标识码"]
    assert "Columns of the file left unmapped: none" in out
    assert "--confirm-mapping" in out and "--mapping FILE" in out and "--write-mapping" in out
    assert Student.objects.count() == 0
    assert ImportBatch.objects.get(kind="rolls").status == "needs_mapping"


def test_a_required_column_not_found_is_shown_and_the_extra_column_listed(
    tmp_path: Path,
) -> None:
    base_county(tmp_path)
    out, error = _import("rolls", str(_missing_file(tmp_path)))
    assert error is not None
    assert _row(out, "school_code") == ["学校标识码", "—", "not", "found", "—"]
    assert f"Columns of the file left unmapped: {ODD_SCHOOL}" in out
    # confirming a proposal without a required column is refused, naming the column
    out, error = _import("rolls", str(_missing_file(tmp_path)), "--confirm-mapping")
    assert error is not None
    assert "required columns are not found: 学校标识码 (school_code)" in str(error)
    assert Student.objects.count() == 0
    statuses = ImportBatch.objects.filter(kind="rolls").values_list("status", flat=True)
    assert list(statuses) == ["needs_mapping", "needs_mapping"]


def test_confirm_mapping_lands_the_file_and_keeps_the_mapping_for_the_source(
    tmp_path: Path,
) -> None:
    base_county(tmp_path)
    path = _guessed_file(tmp_path)
    out, error = _import("rolls", str(path), "--source", SOURCE, "--confirm-mapping")
    assert error is None, out
    first, landed = ImportBatch.objects.filter(kind="rolls").order_by("pk")
    assert (first.status, landed.status) == ("needs_mapping", "done")
    assert landed.mapping["roll_number"] == ODD_ROLL
    assert landed.mapping["school_year"] == ODD_YEAR
    assert landed.mapping == first.proposed_mapping
    assert (landed.rows_total, landed.rows_created) == (3, 3)
    assert Student.objects.count() == 3
    assert f"import #{first.pk} is run again as import #{landed.pk}" in out
    kept = ColumnMapping.objects.get(kind="rolls", source=SOURCE)
    assert kept.mapping == landed.mapping
    assert f"Mapping kept for source {SOURCE}" in out
    # the next file from the source maps itself, with no option
    again = _guessed_file(tmp_path, "rolls-next.csv")
    out, error = _import("rolls", str(again), "--source", SOURCE)
    assert error is None, out
    latest = ImportBatch.objects.filter(kind="rolls").latest("pk")
    assert (latest.status, latest.rows_unchanged, latest.mapping) == ("done", 3, {})
    assert ImportBatch.objects.filter(kind="rolls").count() == 3
    # another source is not mapped by it
    out, error = _import("rolls", str(again), "--source", "另一个来源")
    assert error is not None and str(error) == "import needs_mapping"


def test_confirm_without_a_source_keeps_nothing(tmp_path: Path) -> None:
    base_county(tmp_path)
    out, error = _import("rolls", str(_guessed_file(tmp_path)), "--confirm-mapping")
    assert error is None, out
    assert Student.objects.count() == 3
    assert not ColumnMapping.objects.exists()


def test_a_written_mapping_is_edited_and_given_back(tmp_path: Path) -> None:
    base_county(tmp_path)
    path = _missing_file(tmp_path)
    target = tmp_path / "mapping.yaml"
    out, error = _import("rolls", str(path), "--write-mapping", str(target))
    assert error is not None
    assert f"Mapping written to {target}." in out
    written = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert written["roll_number"] == ODD_ROLL
    assert written["school_code"] == ""  # required and not found: left for the user to fill
    assert written["name"] == "姓名"
    assert "stage" in written and "poor_flag" in written
    assert ODD_SCHOOL in target.read_text(encoding="utf-8")  # the file's columns, as a comment
    # the user fills in the missing column and gives the file back
    written["school_code"] = ODD_SCHOOL
    target.write_text(yaml.safe_dump(written, allow_unicode=True), encoding="utf-8")
    out, error = _import("rolls", str(path), "--mapping", str(target), "--source", SOURCE)
    assert error is None, out
    landed = ImportBatch.objects.filter(kind="rolls").latest("pk")
    assert landed.status == "done" and landed.mapping["school_code"] == ODD_SCHOOL
    assert Enrolment.objects.filter(school__code="2142010001").count() == 1
    assert ColumnMapping.objects.get(source=SOURCE).mapping["school_code"] == ODD_SCHOOL


def test_a_short_json_mapping_is_completed_by_exact_headers(tmp_path: Path) -> None:
    base_county(tmp_path)
    mapping = tmp_path / "m.json"
    mapping.write_text(
        json.dumps({"roll_number": ODD_ROLL, "school_code": ODD_SCHOOL}, ensure_ascii=False),
        encoding="utf-8",
    )
    out, error = _import("rolls", str(_missing_file(tmp_path)), "--mapping", str(mapping))
    assert error is None, out
    (batch,) = ImportBatch.objects.filter(kind="rolls")  # no first run was needed
    assert batch.status == "done"
    assert batch.mapping["roll_number"] == ODD_ROLL and batch.mapping["grade"] == "年级"
    assert len(batch.mapping) == len(ROLLS_HEADER)
    assert Student.objects.count() == 3


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"roll_no": ODD_ROLL}, "Unknown fields in m.yaml: roll_no. The fields of rolls:"),
        ({"roll_number": "学号"}, "m.yaml maps roll_number to 学号, which is not a column of"),
        (
            {"roll_number": ODD_ROLL, "name": ODD_ROLL},
            f"m.yaml maps both roll_number and name to the column {ODD_ROLL}.",
        ),
        ({"roll_number": ODD_ROLL}, "m.yaml leaves required columns unmapped: 学校标识码"),
    ],
)
def test_a_wrong_mapping_file_is_named_and_nothing_is_imported(
    tmp_path: Path, mapping: dict[str, str], message: str
) -> None:
    base_county(tmp_path)
    target = tmp_path / "m.yaml"
    target.write_text(
        yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    out, error = _import("rolls", str(_missing_file(tmp_path)), "--mapping", str(target))
    assert error is not None and message in str(error)
    assert not ImportBatch.objects.filter(kind="rolls").exists()
    assert Student.objects.count() == 0


def test_a_mapping_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "m.yaml"
    target.write_text("- roll_number\n- name\n", encoding="utf-8")
    with pytest.raises(ValueError, match="must map each field to a column header"):
        read_mapping_file(target)
    target.write_text("roll_number: [\n", encoding="utf-8")
    with pytest.raises(ValueError, match="is not valid YAML or JSON"):
        read_mapping_file(target)
    target.write_text("roll_number: 学籍号\nclass_name: ''\nsex: null\n", encoding="utf-8")
    assert read_mapping_file(target) == {"roll_number": "学籍号"}


def test_school_year_and_strict_are_stored_on_the_batch(tmp_path: Path) -> None:
    base_county(tmp_path)
    path = write_csv(tmp_path / "rolls.csv", ROLLS_HEADER, rolls_rows())
    out, error = _import("rolls", str(path), "--school-year", "2018-2019", "--strict")
    batch = ImportBatch.objects.get(kind="rolls")
    assert (batch.school_year, batch.strict) == (2018, True)
    out, error = _import("rolls", str(path))
    latest = ImportBatch.objects.filter(kind="rolls").latest("pk")
    assert (latest.school_year, latest.strict) == (None, False)
    out, error = _import("rolls", str(path), "--school-year", "18")
    assert error is not None and "Not a school year: 18" in str(error)
    assert ImportBatch.objects.filter(kind="rolls").count() == 2


# --------------------------------------------------------------------------- columns added later


def test_extend_mapping_adds_exactly_named_columns_only() -> None:
    rolls = importer_for("rolls")
    headers = [ODD_ROLL, "姓名", "入学日期", "班级名称 ", "Sex", "学段名", "年 级"]
    kept = {"roll_number": 0, "name": 1}
    extended = extend_mapping(kept, headers, rolls)
    assert extended == {
        "roll_number": 0,
        "name": 1,
        "enrolled_on": 2,  # our label
        "class_name": 3,  # an alias, spaces aside
        "sex": 4,  # the English label, case aside
        "grade": 6,
    }
    assert kept == {"roll_number": 0, "name": 1}  # the kept mapping itself is not changed
    # a column the kept mapping uses is never taken by another field
    assert extend_mapping({"name": 2}, ["学籍号", "x", "姓名"], rolls) == {
        "name": 2,
        "roll_number": 0,
    }
    assert extend_mapping({"roll_number": 0}, ["姓名", "姓名"], rolls) == {
        "roll_number": 0,
        "name": 1,
    }


WIRED = "extend_mapping" in inspect.getsource(importing.stored_mapping)


@pytest.mark.xfail(
    not WIRED, reason="importing.stored_mapping does not call extend_mapping yet", strict=True
)
def test_a_kept_mapping_picks_up_an_exactly_named_column_added_later(tmp_path: Path) -> None:
    base_county(tmp_path)
    # the source's first file has no enrolment-date column
    header = _header(学籍号=ODD_ROLL, 学年=ODD_YEAR)
    keep = [i for i, h in enumerate(header) if h != "入学日期"]
    first = write_csv(
        tmp_path / "first.csv",
        [header[i] for i in keep],
        [[row[i] for i in keep] for row in rolls_rows()],
    )
    out, error = _import("rolls", str(first), "--source", SOURCE, "--confirm-mapping")
    assert error is None, out
    assert "enrolled_on" not in ColumnMapping.objects.get(source=SOURCE).mapping
    assert not Enrolment.objects.filter(enrolled_on__isnull=False).exists()
    # its next file adds the column under our own header: it maps itself, and the dates land
    out, error = _import("rolls", str(_guessed_file(tmp_path, "next.csv")), "--source", SOURCE)
    assert error is None, out
    dates = sorted(str(d) for d in Enrolment.objects.values_list("enrolled_on", flat=True))
    assert dates == ["2016-09-01", "2018-09-01", "2018-09-01"]

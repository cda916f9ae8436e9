"""A crafted workbook is refused before any reader unpacks it (issue 11, item 3)."""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from jingzhun.core import tabular
from jingzhun.core.tabular import TabularError, read_table
from jingzhun.core.uploads import check_workbook

ALIASES = {"姓名", "身份证号", "name", "id_number"}
BOMB_MB = 200
REPO = Path(__file__).resolve().parents[2]

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
    'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
    'application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
    'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
    'formats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
    'formats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
_SHEET = (
    '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    "</sheetData></worksheet>"
)


def write_bomb(path: Path, megabytes: int = BOMB_MB) -> Path:
    """Write a ~1 MB .xlsx whose one shared string is *megabytes* MB of 'A' (streamed)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        book.writestr("xl/worksheets/sheet1.xml", _SHEET)
        with book.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.')
            part.write(b'openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">')
            part.write(b"<si><t>")
            block = b"A" * (1 << 20)
            for _ in range(megabytes):
                part.write(block)
            part.write(b"</t></si></sst>")
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bomb(tmp_path_factory.mktemp("bomb") / "registry.xlsx")


def test_the_bomb_is_small_and_unpacks_to_200_mb(bomb: Path) -> None:
    assert bomb.stat().st_size < 2 << 20
    with zipfile.ZipFile(bomb) as book:
        assert book.getinfo("xl/sharedStrings.xml").file_size > BOMB_MB << 20


def test_a_zip_bomb_is_refused_before_any_reader_opens_it(
    bomb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_reader(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("calamine was asked to unpack the bomb")

    monkeypatch.setattr(tabular.fastexcel, "read_excel", no_reader)
    with pytest.raises(TabularError) as refused:
        read_table(bomb, header_aliases=ALIASES)
    message = str(refused.value)
    assert message.startswith("registry.xlsx was refused: ")
    assert "xl/sharedStrings.xml" in message and "compressed" in message


def test_reading_the_bomb_takes_no_memory(bomb: Path) -> None:
    # A fresh process, so that its peak memory is the read's alone.
    script = textwrap.dedent(
        f"""
        import resource, sys
        import django
        django.setup()
        from jingzhun.core.tabular import TabularError, read_table
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            read_table({str(bomb)!r}, header_aliases={ALIASES!r})
        except TabularError as exc:
            print("refused:", exc)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print("grew_kib", after - before)
        """
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "JINGZHUN_TESTING": "1",
        "DJANGO_SETTINGS_MODULE": "jingzhun.settings",
        "JINGZHUN_VAR_DIR": str(bomb.parent / "var"),
        "PYTHONPATH": f"{REPO / 'src'}:{REPO}",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert "refused:" in lines, done.stdout
    assert int(lines["grew_kib"]) < 64 * 1024  # under 64 MiB (unpacked: over 200 MiB)


def _forge_size(path: Path, part: str, declared: int) -> None:
    """Make the archive declare *declared* bytes for *part* (local and central headers)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as book:
        info = book.getinfo(part)
    name = part.encode()
    local = info.header_offset
    struct.pack_into("<I", data, local + 22, declared)
    central = data.index(b"PK\x01\x02", local)
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, declared)
    path.write_bytes(bytes(data))


def test_a_workbook_lying_about_its_sizes_is_refused(tmp_path: Path) -> None:
    path = write_bomb(tmp_path / "forged.xlsx", megabytes=8)
    _forge_size(path, "xl/sharedStrings.xml", 1000)  # "1000 bytes": too small to check a ratio
    with zipfile.ZipFile(path) as book:
        assert book.getinfo("xl/sharedStrings.xml").file_size == 1000
    with pytest.raises(TabularError, match="does not hold what the archive says"):
        read_table(path, header_aliases=ALIASES)


def _workbook(path: Path, rows: int) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["姓名", "身份证号"])
    for r in range(1, rows + 1):
        sheet.write_row(r, 0, [f"学生{r}", f"4201012010010{r:05d}"])
    book.close()
    return path


def test_a_workbook_unpacking_to_more_than_the_ceiling_is_refused(
    tmp_path: Path, settings: Any
) -> None:
    path = _workbook(tmp_path / "big.xlsx", 20_000)
    assert len(read_table(path, header_aliases=ALIASES).table) == 20_000  # under the default
    settings.XLSX_MAX_UNCOMPRESSED_BYTES = 1 << 20
    with pytest.raises(TabularError) as refused:
        read_table(path, header_aliases=ALIASES)
    assert str(refused.value) == (
        "big.xlsx was refused: it would unpack to more than 1.0 MB. Save it as CSV (UTF-8) "
        "or split it, and import it again."
    )


def test_ordinary_workbooks_pass_the_check(tmp_path: Path) -> None:
    check_workbook(_workbook(tmp_path / "ok.xlsx", 500))
    check_workbook(tmp_path / "ok.xlsx", name="名单.xlsx")
    text = tmp_path / "not-a-zip.xlsx"
    text.write_text("姓名,身份证号\n")
    check_workbook(text)  # not a zip: the reader says what it is

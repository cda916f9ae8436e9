"""One CSV writer for every download; no other writer in the platform (issue 11, item 4)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest

from jingzhun.core import csvsafe

SRC = Path(__file__).resolve().parents[2] / "src" / "jingzhun"
# Files that write CSV which is data, not a download: the demo's input files, and the one-row
# file a set-aside row is imported from again (its cells must arrive exactly as typed).
RAW_CSV_ALLOWED = {
    "core/csvsafe.py",
    "core/setaside.py",
    "demo/national.py",
    "demo/generator/writers.py",
}


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("张三", "张三"),
        ("a=b", "a=b"),
        ("-12.50", "-12.50"),
        ("+86 138 0000 0000", "+86 138 0000 0000"),
        ("", ""),
    ],
)
def test_neutralise(value: str, written: str) -> None:
    assert csvsafe.neutralise(value) == written
    assert csvsafe.is_formula(value) == (value != written)


def test_the_writer_neutralises_texts_only() -> None:
    out = io.StringIO()
    writer = csvsafe.writer(out, lineterminator="\n")
    writer.writerow(["=1+1", -5, None, dt.date(2018, 9, 1), 1.5])
    writer.writerows([["@x"], ["ok"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["'=1+1", "-5", "", "2018-09-01", "1.5"],
        ["'@x"],
        ["ok"],
    ]


def test_no_other_csv_writer_in_the_platform() -> None:
    found = {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8"))
    }
    assert found <= RAW_CSV_ALLOWED, f"write CSV through jingzhun.core.csvsafe: {found}"

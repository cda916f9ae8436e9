"""The one CSV writer of the platform's downloads, safe to open in a spreadsheet.

Excel, WPS and LibreOffice run a CSV cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a
tab or line break before one) as a formula: a name such as ``=HYPERLINK("http://…","点击")``
in a download becomes a link or a command on the clerk's computer. The ``.xlsx`` downloads
are safe (their texts are written as text cells, never as formulas); every CSV a user
downloads goes through :func:`writer`, which writes such a text with a leading apostrophe
(``'=HYPERLINK(…)``), the usual way of telling a spreadsheet "this is text". The text itself
is kept whole after it. A value made only of digits, spaces and ``.,+-`` (a negative amount,
a phone number ``+86 138…``) cannot call anything and is written as it is.

Files the platform writes for itself or for the demo (the one-row file a set-aside row is
imported from, the demo's input files) are data, not downloads, and stay raw.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

#: A cell starting with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
_HARMLESS = re.compile(r"[0-9 .,+\-]+")


def neutralise(text: str) -> str:
    """Return *text* as a spreadsheet shows it as text: with a leading ``'`` if it would run."""
    if text.startswith(FORMULA_STARTS) and not _HARMLESS.fullmatch(text):
        return "'" + text
    return text


def is_formula(text: str) -> bool:
    """Return whether a spreadsheet would run *text* as a formula (see :func:`neutralise`)."""
    return neutralise(text) != text


def cell(value: Any) -> Any:
    """Return a value as written to a CSV: None empty, dates ISO, texts neutralised."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    return value


class SafeWriter:
    """A ``csv.writer`` whose every cell goes through :func:`cell`."""

    def __init__(self, out: Any, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: Any, **options: Any) -> SafeWriter:
    """Return the platform's CSV writer on the text stream *out* (``csv.writer`` options)."""
    return SafeWriter(out, **options)

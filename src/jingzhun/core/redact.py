"""Whole ID and bank numbers stay out of addresses and out of log lines.

An address (path and query string) is kept by browsers (history), by the web server and
gunicorn (access logs) and by Django's development server (its request lines), so a number
typed into a GET search would end up in all of them. :func:`holds_whole_number` tells such
text apart: the admin refuses it as a search term, the API refuses an address holding one
(the ID search of the API is a POST, the number in the body). :class:`RedactNumbers` is the
logging filter that blanks any long run of digits before a line is written.

Pure Python: the logging configuration imports it before Django's apps are ready.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from urllib.parse import unquote

# Runs of digits, with the check character X a resident ID may end with.
_RUN = re.compile(r"\d+[Xx]?")
# Separators people type inside a number ("4201 0120 ...", "6228-4800-...").
_SEPARATORS = re.compile(r"[\s\-]+")
# A number as it may stand in a log line: digits (full-width too), maybe split by spaces,
# hyphens or the "+" and "%20" an address writes a space as, maybe ending with X.
_LOG_RUN = re.compile(r"\d(?:(?:[\s+\-]|%20)*\d)*(?:(?:[\s+\-]|%20)*[Xx])?")
REDACTED = "[number removed]"


def holds_whole_number(text: str) -> bool:
    """Return whether *text* holds a whole resident ID or bank card number.

    After full-width characters are folded and spaces and hyphens dropped, a run of digits
    (with a final X) of 15 characters (the old ID) or of 17 and more (an 18-character ID, a
    17-19 digit bank card, or a roll number "G" + an ID) is one. A run of 16 is not: it is
    the filed-card number of a poor household (village code + 4 digits), which is searched.
    """
    folded = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    return any(len(run) == 15 or len(run) >= 17 for run in _RUN.findall(folded))


def redact(text: str) -> str:
    """Return *text* with every number of 15 or more digits blanked (a log line's view).

    Wider than :func:`holds_whole_number`: a 16-digit run goes too. A line holding
    percent-encoded text (a request line) is decoded first, so that full-width digits or
    encoded spaces do not hide a number.
    """
    if "%" in text:
        decoded = unquote(text)
        if _LOG_RUN.sub(_blank, decoded) != decoded:
            text = decoded
    return _LOG_RUN.sub(_blank, text)


def _blank(match: re.Match[str]) -> str:
    digits = sum(ch.isdigit() or ch in "Xx" for ch in match.group(0))
    return REDACTED if digits >= 15 else match.group(0)


class RedactNumbers(logging.Filter):
    """A logging filter: the message and any traceback lose their long runs of digits."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is left to the formatter to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True

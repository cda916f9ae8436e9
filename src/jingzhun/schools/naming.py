"""One name for a class, the same on every page, Excel sheet and PDF.

Grades count from the first year of primary school (junior high 1 is grade 7), as schools and
official documents in China do: 三年级1班, 八年级9班, 高一3班. English pages say the same thing
in English words with the same numbers: "Grade 8, 9班", "Senior 1, 3班".
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

_CN = "〇一二三四五六七八九十"


def _cn(n: int) -> str:
    if 0 <= n <= 10:
        return _CN[n]
    if n < 20:
        return "十" + _CN[n - 10]
    return str(n)


def _absolute(stage: str | None, grade: int) -> int:
    """The grade counted from primary 1: junior high's grades follow primary's six."""
    return grade + 6 if stage == "junior" and grade <= 3 else grade


def class_name_zh(stage: str | None, grade: int | None, name: str | None) -> str:
    """Return a class as a Chinese document names it: 三年级1班, 八年级9班, 高一3班."""
    if not name:
        return ""
    if not grade:
        return name
    if stage in ("senior",) and 1 <= grade <= 3:
        return f"高{_cn(grade)}{name}"
    if stage == "vocational" and 1 <= grade <= 3:
        return f"中职{_cn(grade)}年级{name}"
    return f"{_cn(_absolute(stage, grade))}年级{name}"


def class_name(stage: str | None, grade: int | None, name: str | None) -> str:
    """Return a class in the user's language, with the numbering of the documents."""
    if not name:
        return ""
    if (translation.get_language() or "").startswith("zh"):
        return class_name_zh(stage, grade, name)
    if not grade:
        return name
    if stage == "senior" and 1 <= grade <= 3:
        return _("Senior %(grade)s, %(name)s") % {"grade": grade, "name": name}
    if stage == "vocational" and 1 <= grade <= 3:
        return _("Vocational %(grade)s, %(name)s") % {"grade": grade, "name": name}
    return _("Grade %(grade)s, %(name)s") % {"grade": _absolute(stage, grade), "name": name}


def class_of(cls: Any) -> str:
    """Return a SchoolClass (or None) in the user's language ("" for none)."""
    if cls is None:
        return ""
    return class_name(cls.stage, cls.grade, cls.name)


def class_of_zh(cls: Any) -> str:
    """Return a SchoolClass (or None) as a Chinese document names it ("" for none)."""
    if cls is None:
        return ""
    return class_name_zh(cls.stage, cls.grade, cls.name)

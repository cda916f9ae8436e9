"""PDF helpers shared by the apps' documents: a font with Chinese glyphs for reportlab, the
official way of writing a date, and a story made into a PDF."""

from __future__ import annotations

import datetime as dt
import functools
import io
from pathlib import Path
from typing import Any

from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.platypus import SimpleDocTemplate

#: Fonts reportlab can embed, in order of preference: (path, index in a .ttc collection).
#: Noto CJK is tried first (index 2 is SC) but its CFF outlines are refused by reportlab's
#: TrueType reader; the others have TrueType outlines.
CJK_FONT_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
)
#: reportlab's built-in Chinese font: always available, referenced rather than embedded (the
#: viewer supplies a Song typeface). Its character map (UniGB-UCS2-H) covers GB 2312 and a bit
#: more; a character outside it shows as a box.
FALLBACK_CJK_FONT = "STSong-Light"
#: Characters the fallback font lacks, and the look-alike it has: the middle dot of names
#: such as 买买提·艾力 is GB 2312's 间隔点, which that map knows as U+30FB.
_FALLBACK_SUBSTITUTES = str.maketrans(dict.fromkeys("\u00b7\u2022\u2027\u22c5\uff65", "\u30fb"))


def printable(text: str, font: str) -> str:
    """Return *text* with the characters *font* lacks replaced by look-alikes it has."""
    return text.translate(_FALLBACK_SUBSTITUTES) if font == FALLBACK_CJK_FONT else text


@functools.cache
def cjk_font() -> str:
    """Register a font with Chinese glyphs for reportlab once and return its name.

    Take the first of :data:`CJK_FONT_CANDIDATES` that exists and that reportlab can read,
    else the built-in CID font :data:`FALLBACK_CJK_FONT`.
    """
    for path, index in CJK_FONT_CANDIDATES:
        if not Path(path).is_file():
            continue
        name = f"{Path(path).stem}-{index}"
        try:
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
        except (TTFError, OSError):
            continue
        return name
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CJK_FONT))
    return FALLBACK_CJK_FONT


def cn_date(day: dt.date) -> str:
    """Return a date as an official document writes it: 2018年9月20日."""
    return f"{day.year}年{day.month}月{day.day}日"


def pdf_bytes(
    story: list[Any], *, pagesize: tuple[float, float], side_mm: float, top_mm: float
) -> bytes:
    """Return the PDF of a reportlab story on pages of *pagesize*, with margins of *side_mm*
    left and right and *top_mm* top and bottom, its title and author left empty (a document
    names no one in its properties)."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=side_mm * mm,
        rightMargin=side_mm * mm,
        topMargin=top_mm * mm,
        bottomMargin=top_mm * mm,
        title="",
        author="",
    )
    doc.build(story)
    return buffer.getvalue()

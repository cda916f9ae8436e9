"""Translations: both catalogues complete and compiled, key texts in each language, pages too.

The site speaks Simplified Chinese by default (LANGUAGE_CODE zh-hans) and English on request.
"""

from __future__ import annotations

import gettext
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from conftest import County, Personas
from jingzhun.accounts.roles import Role
from jingzhun.core.importing import ERROR_MESSAGES
from jingzhun.core.models import ImportBatch, ImportChange
from jingzhun.core.tabular import TabularError, read_table
from jingzhun.core.views_imports import change_rows

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
LANGUAGES = ("zh_Hans", "en")
# %(name)s, %(n)d, %s, and str.format fields such as {} or {year}; %% is a literal percent.
PLACEHOLDER = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdifrx]|%[sdifrx]|\{[^{}]*\}")
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Entry:
    msgid: str
    msgstr: str
    msgctxt: str | None = None
    flags: set[str] = field(default_factory=set)
    line: int = 0
    msgid_plural: str | None = None
    plurals: dict[int, str] = field(default_factory=dict)

    @property
    def translations(self) -> list[str]:
        """Return every msgstr of the entry: the one, or each plural form in order."""
        if self.msgid_plural is None:
            return [self.msgstr]
        return [self.plurals[n] for n in sorted(self.plurals)]

    def source_for(self, form: int) -> str:
        """Return the source text a translation form renders (singular or plural)."""
        if self.msgid_plural is None or form == 0:
            return self.msgid
        return self.msgid_plural

    @property
    def key(self) -> str:
        """The key GNU gettext stores the entry under."""
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid


def _unquote(text: str) -> str:
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), text)


def parse_po(path: Path) -> list[Entry]:
    """Return the entries of a .po file (a small parser, plurals included)."""
    entries: list[Entry] = []
    current: Entry | None = None
    keyword = ""
    flags: set[str] = set()
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#~"):
            raise AssertionError(f"{path}:{number}: obsolete entry left in the catalogue")
        if line.startswith("#,"):
            flags |= {f.strip() for f in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"$', line)
        if match:
            previous, keyword = keyword, match.group(1)
            text = _unquote(match.group(2))
            # An entry starts at its msgctxt, or at its msgid when it has no context.
            if keyword == "msgctxt" or (keyword == "msgid" and previous != "msgctxt"):
                current = Entry(msgid="", msgstr="", line=number, flags=flags)
                entries.append(current)
                flags = set()
            assert current is not None, f"{path}:{number}: {keyword} outside an entry"
            _append(current, keyword, text, reset=True)
            continue
        match = re.match(r'^"(.*)"$', line)
        assert match and current is not None, f"{path}:{number}: cannot parse {raw!r}"
        _append(current, keyword, _unquote(match.group(1)), reset=False)
    return entries


def _append(entry: Entry, keyword: str, text: str, *, reset: bool) -> None:
    plural = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
    if plural:
        n = int(plural.group(1))
        entry.plurals[n] = text if reset else entry.plurals[n] + text
    elif keyword == "msgid_plural":
        entry.msgid_plural = text if reset else (entry.msgid_plural or "") + text
    else:
        setattr(entry, keyword, text if reset else getattr(entry, keyword) + text)


def _catalogue(language: str) -> list[Entry]:
    return parse_po(LOCALE_DIR / language / "LC_MESSAGES" / "django.po")


def _placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text.replace("%%", "")))


def test_the_parser_reads_context_and_continued_lines(tmp_path: Path) -> None:
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: x\\n"\n\n'
        '#, python-format\nmsgctxt "person"\nmsgid "a %(n)d"\nmsgstr ""\n"b \\"%(n)d\\""\n\n'
        'msgid "c"\nmsgstr ""\n',
        encoding="utf-8",
    )
    header, first, second = parse_po(po)
    assert (header.msgid, header.msgstr) == ("", "Language: x\n")
    assert (first.msgctxt, first.msgid, first.msgstr) == ("person", "a %(n)d", 'b "%(n)d"')
    assert "python-format" in first.flags
    assert (second.msgid, second.msgstr, second.msgctxt) == ("c", "", None)


def test_the_parser_reads_plurals(tmp_path: Path) -> None:
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n\n'
        'msgid "%(n)d case"\nmsgid_plural "%(n)d cases"\nmsgstr[0] "%(n)d "\n"个"\n'
        'msgstr[1] ""\n',
        encoding="utf-8",
    )
    _header, entry = parse_po(po)
    assert (entry.msgid, entry.msgid_plural) == ("%(n)d case", "%(n)d cases")
    assert entry.translations == ["%(n)d 个", ""]
    assert entry.source_for(1) == "%(n)d cases"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy(language: str) -> None:
    entries = _catalogue(language)
    assert len(entries) > 300  # the whole project, not a stub
    header, messages = entries[0], entries[1:]
    assert header.msgid == "" and "fuzzy" not in header.flags
    assert f"Language: {language}\n" in header.msgstr
    untranslated = [e.msgid for e in messages if not all(t.strip() for t in e.translations)]
    fuzzy = [e.msgid for e in messages if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []
    assert len({e.key for e in messages}) == len(messages), "duplicate entries"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_are_kept(language: str) -> None:
    wrong = [
        (e.msgid, text)
        for e in _catalogue(language)[1:]
        for form, text in enumerate(e.translations)
        # Chinese has one plural form: it renders the plural source text.
        if _placeholders(e.source_for(form if language == "en" else 1)) != _placeholders(text)
    ]
    assert wrong == []


def test_chinese_catalogue_is_chinese_and_english_is_english() -> None:
    not_chinese = [
        e.msgid for e in _catalogue("zh_Hans")[1:] if not all(CJK.search(t) for t in e.translations)
    ]
    # Only texts that are the same in both languages may stay in Latin letters.
    assert set(not_chinese) <= {"SHA-256"}
    for entry in _catalogue("en")[1:]:
        # English msgids translate to themselves; a Chinese msgid would need an English msgstr.
        for form, text in enumerate(entry.translations):
            if not CJK.search(entry.msgid):
                assert text == entry.source_for(form)
            else:
                assert re.search(r"[A-Za-z]{3}", text), entry.msgid


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_the_po_file(language: str) -> None:
    mo = LOCALE_DIR / language / "LC_MESSAGES" / "django.mo"
    assert mo.exists(), "compile the catalogues: jingzhun compilemessages --ignore=.venv"
    with mo.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]
    stale = [
        e.msgid
        for e in _catalogue(language)[1:]
        if (
            compiled.get(e.key) != e.msgstr
            if e.msgid_plural is None
            else [compiled.get((e.key, n)) for n in sorted(e.plurals)] != e.translations
        )
    ]
    assert stale == [], "the .mo is older than the .po: run jingzhun compilemessages"


# --------------------------------------------------------------------------- texts in code


def test_key_texts_in_chinese_and_in_english(county: County) -> None:
    with translation.override("zh-hans"):
        assert str(ERROR_MESSAGES["id_checksum"]) == "身份证号校验码错误（是否录入有误？）。"
        assert Role.CLASS_TEACHER.label == "班主任"
        assert str(Role.BUREAU_LEADER.label) == "局领导"
        assert ImportBatch(status="done").get_status_display() == "已导入"
        assert ImportBatch(status="needs_mapping").get_status_display() == "需确认列映射"
        assert str(ImportBatch._meta.get_field("report_path").verbose_name) == "错误报告"
        assert str(county.class_a) == "甲镇中心小学 小学3年级1班"
    with translation.override("en"):
        assert str(ERROR_MESSAGES["id_checksum"]) == (
            "The ID number's check character is wrong (a typing error?)."
        )
        assert Role.CLASS_TEACHER.label == "Class teacher"
        assert ImportBatch(status="done").get_status_display() == "Imported"
        assert str(county.class_a) == "甲镇中心小学 Primary grade 3 1班"


def test_file_errors_follow_the_language(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    for language, text in (("zh-hans", "empty.csv 是空文件。"), ("en", "empty.csv is empty.")):
        with translation.override(language), pytest.raises(TabularError) as info:
            read_table(empty, header_aliases={"姓名"})
        assert str(info.value) == text


# --------------------------------------------------------------------------- pages


def test_login_page_speaks_chinese_by_default_and_english_on_request(db: None) -> None:
    default = Client().get("/admin/login/").content.decode()
    chinese = Client().get("/admin/login/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    english = Client().get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for page in (default, chinese):
        assert "欢迎回到" in page and "教育精准扶贫" in page
        assert "Welcome back to" not in page
    assert "Welcome back to" in english and "Jingzhun" in english
    assert "欢迎回到" not in english


def test_language_cookie_wins_over_the_browser(db: None) -> None:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Welcome back to" in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "欢迎回到" in page


def test_home_page_in_both_languages(client: Client, personas: Personas) -> None:
    client.force_login(personas.township_a)
    chinese = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "分乡镇统计" in chinese and "建档立卡贫困户" in chinese and "首页" in chinese
    assert "By township" not in chinese
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "By township" in english and "Poor households" in english
    assert "分乡镇统计" not in english


def test_import_page_in_both_languages(client: Client, personas: Personas) -> None:
    client.force_login(personas.aid_officer)
    chinese = client.get("/imports/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "导入文件" in chinese and "学籍名册" in chinese
    english = client.get("/imports/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Import a file" in english and "Student rolls" in english


def test_import_changes_are_shown_in_the_users_language(personas: Personas) -> None:
    batch = ImportBatch.objects.create(
        kind="registry", file_name="f.xlsx", stored_path="x", sha256="0" * 64
    )
    change = ImportChange.objects.create(
        batch=batch,
        entity="household",
        key="4201010010010001",
        action="updated",
        changes={"status": ["registered", "left_poverty"], "bank_account": ["***", "***"]},
    )
    with translation.override("zh-hans"):
        (row,) = change_rows([change])
        assert str(row["entity"]) == "建档立卡贫困户"
        assert [(str(f["label"]), str(f["before"]), str(f["after"])) for f in row["fields"]] == [
            ("状态", "在册", "已脱贫"),
            ("一卡通账号", "***", "***"),
        ]
    with translation.override("en"):
        (row,) = change_rows([change])
        assert str(row["entity"]) == "poor household"
        assert [str(f["label"]) for f in row["fields"]] == ["status", "benefits-card account"]


@pytest.mark.slow
def test_every_source_text_is_in_the_catalogue(tmp_path: Path) -> None:
    """makemessages over the sources finds no text the Chinese catalogue lacks."""
    import shutil
    import subprocess
    import sys

    if shutil.which("xgettext") is None:
        pytest.skip("GNU gettext (xgettext) is not installed")
    source = Path(settings.BASE_DIR)
    copy = tmp_path / "jingzhun"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "jingzhun.settings"},
    )
    fresh = {e.key for e in parse_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")}
    kept = {e.key for e in _catalogue("zh_Hans")}
    assert sorted(fresh - kept) == []

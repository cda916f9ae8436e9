"""Produce the bank documents from plain data: the payment file and the parsed return file.

Nothing here touches the database: the callers gather the data (and check permissions and
write the audit trail) and pass the dataclasses defined below. The files are exchanged with
Chinese banks and are always in Chinese. Money is ``Decimal`` yuan with two places.

Bank payment file (代发文件)
    :func:`bank_file_csv` writes UTF-8 with a BOM (so that Excel opens it), comma separated,
    CRLF line ends, fields quoted only when needed, every line with six fields::

        批次号,<batch reference>,笔数,<count>,总金额,<total>
        序号,账号,户名,金额,附言/参考号,备注
        1,<account>,<holder>,<amount>,<reference>,<programme>（<student>）
        ...
        合计,<count>,,<total>,,

    Amounts have two decimals and no thousands separator (``1250.00``); the account number
    is written whole as digits. Texts are written through the platform's CSV writer
    (:mod:`jingzhun.core.csvsafe`): a name a spreadsheet would run as a formula (``=…``,
    ``+…``, ``-…``, ``@…``) is written with a leading apostrophe, the text kept whole after it,
    and a line break or tab inside a text becomes a space, so that every payment stays one
    line. The first and the last line carry the same control totals
    (number of payments, sum of the amounts). The CSV is meant for the bank's import: opened
    and saved again in Excel, long account numbers would lose digits; look at the ``.xlsx``
    instead. :func:`bank_file_xlsx` lays out the same rows on one sheet, with the account as
    text and the amounts as numbers formatted ``0.00``; its texts are text cells, kept
    exactly (a workbook never runs a text cell as a formula).

    :func:`parse_bank_return` reads the bank's return file (``.csv`` in UTF-8, with or without
    BOM, or GB18030; ``.xlsx``/``.xls`` through fastexcel) with the columns 参考号, 账号,
    金额, 状态 and optionally 失败原因 (English headers reference, account, amount, status,
    reason, and a few usual spellings, are recognised too). Title rows above the header and
    a trailing 合计 line are skipped. Every bad row is reported at once in a
    :class:`BankReturnError`.
"""

from __future__ import annotations

import io
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path, PurePath
from typing import Any, Literal, TypeAlias

import fastexcel
import xlsxwriter

from jingzhun.core import csvsafe
from jingzhun.core.money import CENT
from jingzhun.core.tabular import (
    CSV_EXTENSIONS,
    EXCEL_EXTENSIONS,
    TabularError,
    normalize_header,
    read_table,
)

__all__ = [
    "new_workbook",
    "check_money",
    "check_text",
    "BankFile",
    "BankReturnError",
    "BankRow",
    "ReturnProblem",
    "ReturnRow",
    "bank_file_csv",
    "bank_file_xlsx",
    "parse_bank_return",
]

PaymentStatus: TypeAlias = Literal["paid", "failed"]


def check_money(value: object, what: str, *, positive: bool = False) -> None:
    """Raise unless *value* is a finite, non-negative Decimal with at most two decimals."""
    if not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite() or value < 0 or (positive and value == 0):
        raise ValueError(f"{what} must be a {'positive' if positive else 'non-negative'} amount")
    if value != value.quantize(CENT):
        raise ValueError(f"{what} has more than two decimals: {value}")


def check_text(value: str, what: str, *, required: bool = True) -> None:
    """Raise if a bank-file text is empty when it is required.

    Any other text is written, whatever it starts with: the CSV neutralises what a
    spreadsheet would run, the workbook keeps it as a text cell.
    """
    if required and not value.strip():
        raise ValueError(f"{what} is empty")


def _one_line(text: str) -> str:
    """Return a text with its line breaks and tabs as spaces (one payment, one line)."""
    return "".join(" " if c in "\r\n\t\v\f\x85\u2028\u2029" else c for c in text)


def new_workbook() -> tuple[io.BytesIO, Any]:
    """Return an in-memory workbook that never turns strings into formulas or numbers."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    return buffer, workbook


# =========================================================================== bank file


@dataclass(frozen=True, slots=True)
class BankRow:
    """One payment of a batch."""

    #: The whole account number, digits only (the bank needs it).
    account: str
    #: The account holder's name.
    holder: str
    amount: Decimal
    #: The payment's reference, echoed in the bank's return file.
    reference: str
    #: Programme label, written in 备注.
    programme: str = ""
    #: Whom the money is for (the student), written in 备注 after the programme: siblings paid
    #: into one parent's card are two rows with the same holder and different students.
    beneficiary: str = ""

    @property
    def note(self) -> str:
        """Return the 备注 cell: the programme, then the student in brackets."""
        if self.beneficiary and self.programme:
            return f"{self.programme}（{self.beneficiary}）"
        return self.programme or self.beneficiary

    def __post_init__(self) -> None:
        """Check the account, the texts and the amount."""
        if not re.fullmatch(r"[0-9]{6,40}", self.account):
            raise ValueError("the account number must be 6 to 40 digits")
        check_text(self.holder, "holder")
        check_text(self.reference, "reference")
        check_text(self.programme, "programme", required=False)
        check_text(self.beneficiary, "beneficiary", required=False)
        check_money(self.amount, "amount", positive=True)


@dataclass(frozen=True, slots=True)
class BankFile:
    """A payment batch to hand to the bank."""

    batch_reference: str
    rows: Sequence[BankRow]

    def __post_init__(self) -> None:
        """Check the batch reference."""
        check_text(self.batch_reference, "batch_reference")

    @property
    def count(self) -> int:
        """Return the number of payments."""
        return len(self.rows)

    @property
    def total(self) -> Decimal:
        """Return the sum of the amounts."""
        return sum((row.amount for row in self.rows), Decimal("0.00"))


BANK_HEADERS = ("序号", "账号", "户名", "金额", "附言/参考号", "备注")


def _plain_amount(amount: Decimal) -> str:
    """Return 1250.00: two decimals, no thousands separator."""
    return f"{amount.quantize(CENT):.2f}"


def bank_file_csv(batch: BankFile) -> bytes:
    """Return the batch as CSV for the bank (layout in the module docstring)."""
    out = io.StringIO()
    writer = csvsafe.writer(out, lineterminator="\r\n")
    total = _plain_amount(batch.total)
    writer.writerow(
        ["批次号", _one_line(batch.batch_reference), "笔数", batch.count, "总金额", total]
    )
    writer.writerow(BANK_HEADERS)
    for number, row in enumerate(batch.rows, start=1):
        writer.writerow(
            [
                number,
                row.account,
                _one_line(row.holder),
                _plain_amount(row.amount),
                _one_line(row.reference),
                _one_line(row.note),
            ]
        )
    writer.writerow(["合计", batch.count, "", total, "", ""])
    return out.getvalue().encode("utf-8-sig")


def bank_file_xlsx(batch: BankFile) -> bytes:
    """Return the batch as a workbook with the rows of :func:`bank_file_csv`.

    Accounts are text cells, amounts numbers formatted ``0.00``, 序号 and 笔数 integers.
    """
    buffer, workbook = new_workbook()
    sheet = workbook.add_worksheet("代发明细")
    font = {"font_name": "宋体", "font_size": 11}
    plain = workbook.add_format(font)
    text = workbook.add_format({**font, "num_format": "@"})
    money = workbook.add_format({**font, "num_format": "0.00"})
    header = workbook.add_format({**font, "bold": True, "bg_color": "#E6E6E6", "border": 1})

    total = float(batch.total)
    sheet.write_string(0, 0, "批次号", plain)
    sheet.write_string(0, 1, batch.batch_reference, text)
    sheet.write_string(0, 2, "笔数", plain)
    sheet.write_number(0, 3, batch.count, plain)
    sheet.write_string(0, 4, "总金额", plain)
    sheet.write_number(0, 5, total, money)
    for col, title in enumerate(BANK_HEADERS):
        sheet.write_string(1, col, title, header)
    r = 1
    for number, row in enumerate(batch.rows, start=1):
        r = 1 + number
        sheet.write_number(r, 0, number, plain)
        sheet.write_string(r, 1, row.account, text)
        sheet.write_string(r, 2, row.holder, text)
        sheet.write_number(r, 3, float(row.amount), money)
        sheet.write_string(r, 4, row.reference, text)
        sheet.write_string(r, 5, row.note, text)
    r += 1
    sheet.write_string(r, 0, "合计", plain)
    sheet.write_number(r, 1, batch.count, plain)
    sheet.write_number(r, 3, total, money)
    for col, width in enumerate((6, 24, 12, 12, 22, 20)):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(2, 0)
    workbook.close()
    return buffer.getvalue()


# --------------------------------------------------------------------------- return file


@dataclass(frozen=True, slots=True)
class ReturnRow:
    """One payment's result as the bank reports it."""

    #: Line (CSV) or row (Excel) number in the file, as the user sees it.
    line: int
    reference: str
    account: str
    amount: Decimal
    status: PaymentStatus
    #: The bank's reason for a failure; "" when none is given.
    reason: str


@dataclass(frozen=True, slots=True)
class ReturnProblem:
    """What is wrong with one cell (or, with line 0, with the whole file)."""

    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        """Return 第 5 行 金额“12.345”：… ."""
        where = f"第 {self.line} 行 " if self.line else ""
        return f"{where}{self.column}“{self.value}”：{self.reason}"


class BankReturnError(ValueError):
    """The bank's return file has bad rows; :attr:`problems` lists every one."""

    def __init__(self, problems: Sequence[ReturnProblem]) -> None:
        """Keep the problems and make a message listing them."""
        self.problems = list(problems)
        lines = "\n".join(str(problem) for problem in self.problems)
        super().__init__(f"银行回盘文件有 {len(self.problems)} 处错误：\n{lines}")


#: Header texts recognised for each field, best match first (compared after
#: :func:`~jingzhun.core.tabular.normalize_header`).
RETURN_COLUMNS: dict[str, tuple[str, ...]] = {
    "reference": (
        "参考号",
        "附言/参考号",
        "业务参考号",
        "交易参考号",
        "参考编号",
        "附言",
        "reference",
        "referenceno",
        "reference_no",
        "refno",
        "ref",
    ),
    "account": (
        "账号",
        "帐号",
        "收款账号",
        "收款帐号",
        "收款人账号",
        "银行账号",
        "卡号",
        "account",
        "accountno",
        "account_no",
        "accountnumber",
    ),
    "amount": ("金额", "金额(元)", "交易金额", "代发金额", "实发金额", "amount"),
    "status": ("状态", "处理状态", "交易状态", "处理结果", "交易结果", "结果", "status", "result"),
    "reason": (
        "失败原因",
        "原因",
        "错误原因",
        "错误信息",
        "reason",
        "failurereason",
        "failure_reason",
        "error",
        "message",
    ),
}
RETURN_COLUMN_LABELS = {
    "reference": "参考号",
    "account": "账号",
    "amount": "金额",
    "status": "状态",
    "reason": "失败原因",
}
_REQUIRED_COLUMNS = ("reference", "account", "amount", "status")

_PAID = frozenset(
    {"成功", "交易成功", "处理成功", "支付成功", "paid", "success", "succeeded", "ok"}
)
_FAILED = frozenset({"失败", "交易失败", "处理失败", "支付失败", "failed", "fail", "failure"})
_AMOUNT_TEXT = re.compile(r"(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d{1,2})?")


def _fold(value: str) -> str:
    """Return the value with full-width forms folded and outer whitespace removed."""
    return unicodedata.normalize("NFKC", value).strip()


def _return_amount(text: str, numeric: bool) -> Decimal | str:
    """Return the amount of a cell, or the reason it is not one."""
    folded = _fold(text)
    if numeric:
        # A number cell: as Excel stores it, rounded half-up to the cent.
        try:
            amount = Decimal(folded).quantize(CENT, rounding=ROUND_HALF_UP)
        except InvalidOperation:
            return "金额无效"
    elif _AMOUNT_TEXT.fullmatch(folded):
        try:
            amount = Decimal(folded.replace(",", "")).quantize(CENT)
        except InvalidOperation:
            return "金额过大"
    elif folded.startswith("-"):
        return "金额不能为负数"
    else:
        return "金额应为不超过两位小数的数字"
    if amount < 0:
        return "金额不能为负数"
    return amount


def _numeric_cells(data: bytes, sheet: str | None, column: int) -> set[int]:
    """Return the row numbers (1-based) of *column* whose cells are numbers, not text."""
    reader = fastexcel.read_excel(data)
    # A boolean load is null for text cells and non-null for number cells; row i is row i + 1
    # as with the string load of read_table.
    batch = reader.load_sheet(
        sheet if sheet is not None else 0,
        header_row=None,
        skip_rows=0,
        dtypes="boolean",
        use_columns=[column],
        eager=True,
    )
    values = batch.column(0).to_pylist()
    return {i + 1 for i, value in enumerate(values) if value is not None}


def _map_columns(headers: Sequence[str]) -> dict[str, int]:
    """Return the column index of each field found among *headers*."""
    normalised = [normalize_header(h) for h in headers]
    found: dict[str, int] = {}
    taken: set[int] = set()
    for field, aliases in RETURN_COLUMNS.items():
        for alias in aliases:
            key = normalize_header(alias)
            index = next((i for i, h in enumerate(normalised) if h == key and i not in taken), None)
            if index is not None:
                found[field] = index
                taken.add(index)
                break
    return found


def _return_row(
    cells: dict[str, str], line: int, numeric: bool
) -> ReturnRow | list[tuple[str, str]]:
    """Return the row read from *cells* (field -> text), or its (field, reason) problems."""
    problems: list[tuple[str, str]] = []
    reference = cells["reference"]
    if not reference:
        problems.append(("reference", "缺少参考号"))
    account = _fold(cells["account"])
    if not account:
        problems.append(("account", "缺少账号"))
    elif not account.isascii() or not account.isdigit():
        problems.append(("account", "账号应为数字（Excel 中请将账号设为文本，否则会丢失位数）"))
    amount = _return_amount(cells["amount"], numeric) if cells["amount"] else "缺少金额"
    if isinstance(amount, str):
        problems.append(("amount", amount))
    status_text = _fold(cells["status"]).casefold()
    status: PaymentStatus | None = (
        "paid" if status_text in _PAID else "failed" if status_text in _FAILED else None
    )
    if status is None:
        problems.append(("status", "状态应为“成功”或“失败”" if status_text else "缺少状态"))
    if problems or isinstance(amount, str) or status is None:
        return problems
    return ReturnRow(line, reference, account, amount, status, cells.get("reason", ""))


def parse_bank_return(data: bytes, file_name: str) -> list[ReturnRow]:
    """Read the bank's return file and return its rows in file order.

    *file_name* tells the format by its extension (.csv, or .xlsx/.xls). Raise
    :class:`BankReturnError` listing every bad cell: a missing reference or account, an
    account that is not digits, an amount that is not a number with at most two decimals (a
    number cell of a workbook is rounded half-up to the cent instead), an unknown status; or,
    with line 0, why the file cannot be read at all.
    """
    suffix = PurePath(file_name).suffix.lower()
    if suffix not in EXCEL_EXTENSIONS | CSV_EXTENSIONS:
        raise BankReturnError(
            [ReturnProblem(0, "文件", file_name, "不支持的文件类型，应为 .csv 或 .xlsx")]
        )
    aliases = {alias for names in RETURN_COLUMNS.values() for alias in names}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"return{suffix}"
        path.write_bytes(data)
        try:
            raw = read_table(path, header_aliases=aliases)
        except TabularError as exc:
            raise BankReturnError([ReturnProblem(0, "文件", file_name, str(exc))]) from exc

    columns = _map_columns(raw.headers)
    missing = [field for field in _REQUIRED_COLUMNS if field not in columns]
    if missing:
        raise BankReturnError(
            [
                ReturnProblem(raw.header_line, RETURN_COLUMN_LABELS[f], "", "缺少该列")
                for f in missing
            ]
        )
    numeric: set[int] = set()
    if suffix in EXCEL_EXTENSIONS:
        numeric = _numeric_cells(data, raw.sheet, columns["amount"])

    values = {field: raw.table.column(i).to_pylist() for field, i in columns.items()}
    labels = {field: raw.headers[i] or RETURN_COLUMN_LABELS[field] for field, i in columns.items()}
    rows: list[ReturnRow] = []
    problems: list[ReturnProblem] = []
    for k, line in enumerate(raw.line_numbers.to_pylist()):
        cells = {field: column[k] or "" for field, column in values.items()}
        row = _return_row(cells, line, line in numeric)
        if isinstance(row, ReturnRow):
            rows.append(row)
        else:
            problems += [ReturnProblem(line, labels[f], cells[f], reason) for f, reason in row]
    if problems:
        raise BankReturnError(problems)
    return rows

"""The year-end audit (年终审计, III.3): the anomalies in what a county paid in a school year.

Every check is set-wise: one query (ORM aggregate or plain SQL) over the county's payments
of the year, never a query per payment; Python only words the rows a check found. The checks
themselves are in :mod:`jingzhun.oversight.audit_checks`; this module names the kinds, holds
the report and builds it.

The kinds (DOMAIN.md II.1, II.3.4, III.2):

1. ``duplicate`` — one person paid twice for one programme and semester (two roll records of
   one registry person, each with its own entitlement);
2. ``not_poor`` — the household was not registered poor at the time (removed from the
   registry before the semester, its transition after leaving poverty over, or registered
   only later); ``not_enrolled`` — no enrolment at the time (a teacher: left the school
   before the month paid);
3. ``after_death`` — declared, but the registry records no death: reported "cannot be
   checked"; ``over_age`` — above the age a stage admits (:data:`AGE_LIMITS`, from the plain
   birth dates the registry and the roster hold; no ID is decrypted);
4. ``shared_account`` — one bank account (its blind index) receiving for students of several
   households (siblings of one household share its benefits card, which is no anomaly);
5. ``no_evidence`` — paid without the step the workflow requires (school review, public
   notice, county approval; a teacher's line without the school's review or county approval);
6. ``over_budget`` and ``unsettled_adjustment`` — declared, "checked after the fund ledger
   lands": never reported as 0 found.

The report renders its :attr:`AuditReport.sections` (the fund ledger's trial balance and bank
reconciliation, when they exist) before the anomalies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from jingzhun.funds import ledger
from jingzhun.funds.reports import (
    RECONCILIATION_HEADERS,
    reconciliation_sheet,
    trial_balance_sheet,
)

#: The oldest a student may be, in whole years on the first day of the semester paid, at
#: each stage: the audit's reading (the rule book names stages, not ages). Compulsory school
#: age is 6 to 15 (DOMAIN.md, dropout control); late starters and repeaters are allowed for.
AGE_LIMITS: dict[str, int] = {
    "preschool": 7,
    "primary": 15,
    "junior": 18,
    "senior": 21,
    "vocational": 24,
}
#: A teacher of this age or older on the first day of a month is retired: no rural living
#: allowance for that month.
TEACHER_RETIREMENT_AGE = 60
#: At most this many anomalies of one kind are listed (all are counted).
MAX_LISTED = 5000


class Severity:
    HIGH = "high"
    MEDIUM = "medium"
    LABELS: dict[str, Any] = {HIGH: _("High"), MEDIUM: _("Medium")}
    LABELS_ZH: dict[str, str] = {HIGH: "高", MEDIUM: "中"}


class State:
    CHECKED = "checked"
    LATER = "later"  # checked once the fund ledger lands
    UNAVAILABLE = "unavailable"  # the records hold no fact to check it with


@dataclass(frozen=True)
class Kind:
    """One kind of anomaly the audit looks for."""

    key: str
    label: Promise
    label_zh: str
    severity: str
    state: str = State.CHECKED
    note: Promise | str = ""
    note_zh: str = ""


KINDS: tuple[Kind, ...] = (
    Kind(
        "duplicate",
        _("Paid twice for one programme and period"),
        "同一对象同一项目同一期间重复支付",
        Severity.HIGH,
    ),
    Kind(
        "not_poor",
        _("Not registered poor at the time"),
        "支付时非建档立卡对象",
        Severity.HIGH,
    ),
    Kind(
        "not_enrolled",
        _("Not enrolled (or not at the school) at the time"),
        "支付时不在籍（教师已离校）",
        Severity.HIGH,
    ),
    Kind(
        "after_death",
        _("Paid after a recorded death"),
        "死亡后仍支付",
        Severity.HIGH,
        State.UNAVAILABLE,
        _("Cannot be checked: the poverty registry as imported records no deaths."),
        "无法核查：导入的扶贫系统数据未记录死亡信息。",
    ),
    Kind(
        "over_age",
        _("Above the age limit of the programme"),
        "超出资助年龄范围",
        Severity.MEDIUM,
    ),
    Kind(
        "shared_account",
        _("One account receiving for unrelated students"),
        "同一账户代领多名非同户学生资金",
        Severity.MEDIUM,
    ),
    Kind(
        "no_evidence",
        _("Paid without the evidence its step needs"),
        "支付缺少审核、公示或审批记录",
        Severity.HIGH,
    ),
    Kind(
        "over_budget",
        _("Projects paid beyond their budget"),
        "项目超预算支付",
        Severity.HIGH,
    ),
    Kind(
        "unsettled_adjustment",
        _("Adjustments not settled"),
        "调整事项未结清",
        Severity.MEDIUM,
    ),
)
KIND_BY_KEY: dict[str, Kind] = {k.key: k for k in KINDS}


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Anomaly:
    """One anomaly: its kind, a sentence in the user's language and in Chinese (for the
    official documents), and links to its records. Never a whole ID or account number."""

    kind: str
    severity: str
    text: str
    text_zh: str
    amount: Decimal
    school: str = ""
    references: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()

    @property
    def kind_label(self) -> Any:
        return KIND_BY_KEY[self.kind].label

    @property
    def severity_label(self) -> Any:
        return Severity.LABELS[self.severity]


@dataclass(frozen=True)
class Section:
    """A part of the report rendered before the anomalies (a table with a title).

    The fund ledger's trial balance and bank reconciliation come here (:func:`sections`).
    """

    key: str
    title: str
    title_zh: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    note: str = ""


@dataclass(frozen=True)
class KindCount:
    kind: Kind
    count: int | None  # None: not checked (see kind.state)
    listed: int = 0

    @property
    def checked(self) -> bool:
        return self.count is not None


@dataclass
class AuditReport:
    county_code: str
    county_name: str
    school_year: int
    counts: list[KindCount]
    anomalies: list[Anomaly]
    sections: list[Section] = field(default_factory=list)
    made_at: dt.datetime | None = None

    @property
    def year_label(self) -> str:
        return f"{self.school_year}-{self.school_year + 1}"

    @property
    def total(self) -> int:
        return sum(c.count or 0 for c in self.counts)

    def of_kind(self, kind: str) -> list[Anomaly]:
        return [a for a in self.anomalies if a.kind == kind]


def _shown(row: Sequence[Any]) -> list[Any]:
    """Return a sheet's row as the report shows it: amounts with two places and separators."""
    return [f"{v:,.2f}" if isinstance(v, float) else v for v in row]


def sections(county_code: str, school_year: int) -> list[Section]:
    """Return the parts the report renders before the anomalies: the fund ledger's trial
    balance at the end of the school year (or today, before it ends) and the bank
    reconciliation of the year's batches."""
    on = min(timezone.localdate(), dt.date(school_year + 1, 8, 31))
    tb = trial_balance_sheet(ledger.trial_balance(county_code, on))
    rec = reconciliation_sheet(ledger.bank_reconciliation(county_code, school_year), school_year)
    return [
        Section(
            key="trial-balance",
            title=str(_("Trial balance of the fund ledger, as of %(on)s") % {"on": on}),
            title_zh=tb.title,
            headers=list(tb.headers),
            rows=[_shown(r) for r in tb.rows],
        ),
        Section(
            key="bank-reconciliation",
            title=str(_("Bank reconciliation of the year's payment batches")),
            title_zh=rec.title,
            headers=RECONCILIATION_HEADERS,
            rows=[_shown(r) for r in rec.rows],
        ),
    ]

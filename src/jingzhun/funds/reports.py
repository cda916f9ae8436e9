"""The fund ledger's official sheets, in Chinese (the workbooks of the fund pages and the
year-end audit report)."""

from __future__ import annotations

from typing import Any

from django.utils import translation

from jingzhun.core import xlsx
from jingzhun.funds import ledger
from jingzhun.funds.models import Account

CN_CHANNEL = {
    "central": "中央财政",
    "provincial": "省级财政",
    "municipal": "市级财政",
    "county": "县级财政",
    "lottery": "彩票公益金",
    "rain_dew": "扶贫办雨露计划",
    "donation": "社会捐赠",
    "opening": "期初余额",
}
CN_KIND = {
    "channel": "资金来源",
    "opening": "期初余额",
    "pool": "统筹资金账户",
    "programme": "项目可用资金",
    "payable": "应付学生和教师",
    "bank": "已送银行待回单",
    "paid": "已支付",
    "receivable": "应收（多付待追回）",
}


def labels_cn(county_code: str, years: Any) -> dict[str, str]:
    """Return programme code -> Chinese name for the school years given (official sheets)."""
    out: dict[str, str] = {}
    with translation.override("zh-hans"):
        for year in sorted({y for y in years if y is not None}):
            out.update(ledger.programme_labels(county_code, year))
    return out


def account_cn(acc: Account, labels: dict[str, str] | None = None) -> str:
    kind = CN_KIND.get(acc.kind, acc.kind)
    if acc.kind == Account.Kind.CHANNEL:
        return f"{kind}·{CN_CHANNEL.get(acc.channel, acc.channel)}"
    if acc.school_year is not None:
        programme = (labels or {}).get(acc.programme, acc.programme)
        return f"{kind}·{acc.school_year}-{acc.school_year + 1}学年·{programme}"
    return kind


def trial_balance_sheet(tb: ledger.TrialBalance) -> xlsx.Sheet:
    """The trial balance as a sheet (also used by the year-end audit), accounts named in
    Chinese."""
    county = tb.rows[0].account.county_code if tb.rows else ""
    labels = labels_cn(county, [r.account.school_year for r in tb.rows])
    data: list[list[Any]] = [
        [
            account_cn(r.account, labels),
            float(r.debit),
            float(r.credit),
            float(r.balance) if r.balance > 0 else "",
            float(-r.balance) if r.balance < 0 else "",
        ]
        for r in tb.rows
    ]
    data.append(
        [
            "合计",
            float(tb.total_debit),
            float(tb.total_credit),
            float(tb.debit_balances),
            float(tb.credit_balances),
        ]
    )
    return xlsx.Sheet(
        f"试算平衡表（截至{tb.on.isoformat()}）",
        ["科目", "借方发生额", "贷方发生额", "借方余额", "贷方余额"],
        data,
    )


def _reconciliation_row(r: ledger.Reconciliation) -> list[Any]:
    return [
        r.reference,
        "秋季学期" if r.semester == "autumn" else "春季学期",
        r.sent,
        float(r.sent_amount),
        r.paid,
        float(r.paid_amount),
        r.failed,
        float(r.failed_amount),
        r.pending,
        float(r.pending_amount),
        r.returns,
        r.mismatches,
        "已结清" if r.settled else ("待回单" if r.balanced else "不平衡"),
    ]


RECONCILIATION_HEADERS = [
    "批次",
    "学期",
    "送银行笔数",
    "送银行金额",
    "成功笔数",
    "成功金额",
    "失败笔数",
    "失败金额",
    "未回单笔数",
    "未回单金额",
    "回单文件数",
    "回单不符行数",
    "状态",
]


def reconciliation_sheet(rows: list[ledger.Reconciliation], year: int) -> xlsx.Sheet:
    """The bank reconciliation of a school year as a sheet (also used by the year-end audit)."""
    return xlsx.Sheet(
        f"{year}-{year + 1}学年银行对账",
        RECONCILIATION_HEADERS,
        [_reconciliation_row(r) for r in rows],
    )

"""In a real browser: the fund ledger pages as the aid centre and the inspector see them, and
money received recorded through the preview.

Each page is saved as /tmp/funds-<page>.png (JINGZHUN_SCREENSHOTS overrides the folder) so that
a person can look at it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSWORD, Personas
from tests.funds.test_ledger import _allocate, _batch, _lines

from jingzhun.funds import services as funds
from jingzhun.funds.models import JournalEntry

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Debian's chromium is not installed; browser tests skipped"
    ),
]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
SHOTS = Path(os.environ.get("JINGZHUN_SCREENSHOTS", "/tmp"))


@pytest.fixture
def browser_page(live_server: Any) -> Any:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        yield context.new_page()
        browser.close()


def _login(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/admin/login/?next=/funds/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{url}/funds/")


def test_fund_pages_in_a_browser(
    audit_flushable: Any, personas: Personas, live_server: Any, browser_page: Any
) -> None:
    # given money allocated and a batch approved
    _allocate(personas, "1000.00", channel="central")
    batch = _batch(personas, "shot", _lines(2, "150.00"))
    funds.payment_batch_approve(actor=personas.aid_officer, batch_id=batch.pk)
    reference = batch.payments.order_by("id").first().reference  # type: ignore[union-attr]
    page, url = browser_page, live_server.url
    # when the aid centre records money received from the lottery fund, previewed first
    _login(page, url, personas.aid_officer.username)
    assert "资金账簿" in page.inner_text("body")
    page.select_option("select[name=channel]", "lottery")
    page.fill("input[name=amount]", "5000")
    page.fill("input[name=document]", "福彩公益金〔2018〕3号")
    page.click("#jz-transfer button[type=submit]")
    preview = page.inner_text("#jz-transfer-preview")
    assert "5,000.00" in preview and "彩票公益金" in preview
    assert JournalEntry.objects.filter(kind="transfer_in").count() == 0
    page.screenshot(path=str(SHOTS / "funds-transfer-preview.png"), full_page=True)
    page.click("#jz-transfer-confirm")
    page.wait_for_url(f"{url}/funds/?year=*")
    assert JournalEntry.objects.filter(kind="transfer_in").count() == 1
    page.goto(f"{url}/funds/?year=2018")
    body = page.inner_text("body")
    assert "5,000.00" in body and "700.00" in body  # the pool; available 1,000 - 300
    page.screenshot(path=str(SHOTS / "funds-home.png"), full_page=True)
    # then every page reads as the inspector sees it
    page.context.clear_cookies()
    _login(page, url, personas.inspector.username)
    for name, path, expected in (
        ("journal", "/funds/journal/", "记账凭证"),
        ("trial-balance", "/funds/trial-balance/", "借贷平衡"),
        ("reconciliation", "/funds/reconciliation/?year=2018", "银行对账"),
        ("trace", f"/funds/trace/?payment={reference}", "统筹资金的来源渠道"),
        ("overpayments", "/funds/overpayments/", "多付款项"),
    ):
        page.goto(f"{url}{path}")
        assert expected in page.inner_text("body"), name
        page.screenshot(path=str(SHOTS / f"funds-{name}.png"), full_page=True)
    assert "6217000000001234" not in page.content()

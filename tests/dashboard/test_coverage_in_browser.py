"""In a real browser with the network unplugged: the bureau leader's home page with its coverage
cards, the coverage page, and the trend charts drawn by the Chart.js the back office ships
(the page's Content-Security-Policy must let it run)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tests.conftest import PASSWORD, County, Personas
from tests.dashboard.browser import MARKS, shots_of
from tests.dashboard.test_coverage import build

from jingzhun.dashboard.coverage_snapshots import snapshot_month

pytestmark = MARKS


def test_leader_reads_coverage_and_trends_offline(
    audit_flushable: Any,
    county: County,
    personas: Personas,
    live_server: Any,
    page: Any,
    tmp_path: Path,
) -> None:
    build(county, personas)
    for month in (dt.date(2018, 10, 1), dt.date(2018, 11, 1), dt.date(2018, 12, 1)):
        snapshot_month("420101", month, today=dt.date(2026, 12, 6))
    shots = shots_of(tmp_path)
    blocked: list[str] = []
    problems: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(live_server.url):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server.url}/admin/login/?next=/")
    page.fill("input[name=username]", personas.bureau_leader.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("#jz-home-coverage .jz-card").count() == 5
    page.screenshot(path=str(shots / "leader-home.png"), full_page=True)

    page.goto(f"{live_server.url}/centre/coverage/?on=2018-12-31&level=township")
    body = page.inner_text("body")
    assert "甲镇" in body and "乙乡" in body
    page.screenshot(path=str(shots / "coverage.png"), full_page=True)

    page.goto(f"{live_server.url}/centre/coverage/trends/?since=2018-10")
    page.wait_for_function("() => window.Chart !== undefined")
    # Chart.js keeps each chart it drew: one per canvas, with a line per township and county.
    drawn = page.evaluate(
        "() => Array.from(document.querySelectorAll('canvas[data-chart]'))"
        ".map(c => { const ch = window.Chart.getChart(c); "
        "return ch ? ch.data.datasets.length : 0; })"
    )
    assert drawn and all(n >= 1 for n in drawn), drawn
    assert page.locator("table").count() >= len(drawn)  # a table beside every chart
    page.screenshot(path=str(shots / "trends.png"), full_page=True)
    assert blocked == []  # nothing was asked of the internet
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p]

"""Fixtures of the command centre's tests: a browser page with the network unplugged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.dashboard.browser import offline_browser


@pytest.fixture
def offline_page(live_server: Any) -> Iterator[Any]:
    """A page of Debian's chromium that reaches only the test server; ``page.blocked`` lists
    what it was refused."""
    with offline_browser() as browser:
        page = browser.page()
        page.blocked = browser.blocked
        yield page


@pytest.fixture
def page(offline_page: Any) -> Any:
    return offline_page

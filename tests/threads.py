"""Run the same work in several threads released at once, each on its own connection.

For tests that need committed data (the ``transactional_db`` fixture, or ``audit_flushable``).
A barrier releases every thread together after its own preparation (a login, a file), so
the calls overlap as much as the database lets them; no sleep decides anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.utils import translation


def at_once(
    n: int,
    work: Callable[[int, Any], Any],
    *,
    prepare: Callable[[int], Any] = lambda i: None,
) -> list[Any]:
    """Return work(i, prepare(i)) of n threads run together: a result or the exception raised."""
    results: list[Any] = [None] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            with translation.override("en"):  # as the test itself (the fixture is per thread)
                state = prepare(i)
                barrier.wait(timeout=120)
                results[i] = work(i, state)
        except Exception as exc:  # noqa: BLE001 - the test counts outcomes
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def english_client(user: Any) -> Client:
    """Return a test client logged in as user, asking for English pages."""
    client = Client(raise_request_exception=False)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def messages_of(response: HttpResponse) -> list[str]:
    """Return the texts of the messages a response left for the next page."""
    return [str(m) for m in get_messages(response.wsgi_request)]

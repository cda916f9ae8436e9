"""Progress of long jobs, kept in a small file so that it is visible while a transaction is open.

SQLite allows one writer at a time: a job that holds the write lock for its
whole import cannot also update a progress row that another connection reads.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from django.conf import settings


def progress_path(job: str) -> Path:
    return Path(settings.VAR_DIR) / "progress" / f"{job}.json"


class Progress:
    """Write (stage, done, total) for a job at most a few times a second."""

    def __init__(self, job: str, *, echo: Any = None, min_interval: float = 0.3) -> None:
        self.path = progress_path(job)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.echo = echo
        self.min_interval = min_interval
        self._last = 0.0
        self.phase = (
            "prepare"  # "prepare" (reading, checking) or "apply" (writing, in a transaction)
        )

    def __call__(self, stage: str, done: int = 0, total: int = 0, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.min_interval and done < total:
            return
        self._last = now
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "stage": stage,
                    "done": done,
                    "total": total,
                    "phase": self.phase,
                    "pid": os.getpid(),
                    "at": time.time(),
                }
            )
        )
        os.replace(tmp, self.path)
        if self.echo is not None:
            pct = f" {100 * done // total}%" if total else ""
            self.echo(f"{stage}: {done}/{total}{pct}" if total else stage)


def read_progress(job: str) -> dict[str, Any]:
    """Return the last progress written for a job, or an empty dict."""
    try:
        return dict(json.loads(progress_path(job).read_text()))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}

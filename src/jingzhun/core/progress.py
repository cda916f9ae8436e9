"""Progress of long jobs, kept in a small file so that it is visible while a transaction is open.

SQLite allows one writer at a time: a job that holds the write lock for its
whole import cannot also update a progress row that another connection reads.

Every run of a job has a file of its own, ``progress/<job>/<run>.json`` (the run id is given,
or made up for each :class:`Progress`), so two runs of the same kind (two aid computations of
a county started at once) never write the same file. Each write goes to a temporary file
unique to that write and replaces the run's file atomically. :func:`read_progress` returns a
given run's progress, or else the latest written by any run of the job.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings

#: A finished run's file is removed when a new run of the same job starts this long after.
KEEP_SECONDS = 24 * 3600
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _safe(text: str) -> str:
    return _SAFE.sub("_", text).lstrip(".") or "_"


def progress_dir(job: str) -> Path:
    """Return the folder holding the progress files of a job's runs."""
    return Path(settings.VAR_DIR) / "progress" / _safe(job)


def progress_path(job: str, run: str) -> Path:
    """Return the progress file of one run of a job."""
    return progress_dir(job) / f"{_safe(run)}.json"


class Progress:
    """Write (stage, done, total) for a job at most a few times a second."""

    def __init__(
        self,
        job: str,
        *,
        run: str | None = None,
        echo: Any = None,
        min_interval: float = 0.3,
    ) -> None:
        self.job = job
        self.run = run or uuid.uuid4().hex
        self.path = progress_path(job, self.run)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.echo = echo
        self.min_interval = min_interval
        self._last = 0.0
        self.phase = (
            "prepare"  # "prepare" (reading, checking) or "apply" (writing, in a transaction)
        )
        _prune(self.path.parent, keep=self.path)

    def __call__(self, stage: str, done: int = 0, total: int = 0, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.min_interval and done < total:
            return
        self._last = now
        text = json.dumps(
            {
                "stage": stage,
                "done": done,
                "total": total,
                "phase": self.phase,
                "pid": os.getpid(),
                "run": self.run,
                "at": time.time(),
            }
        )
        # A temporary file of this write alone, then an atomic rename over the run's file.
        fd, tmp = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.stem}.", suffix=".tmp"
        )
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        if self.echo is not None:
            pct = f" {100 * done // total}%" if total else ""
            self.echo(f"{stage}: {done}/{total}{pct}" if total else stage)


def _prune(folder: Path, *, keep: Path) -> None:
    """Remove other runs' files (and stray temporary files) not written for a day."""
    limit = time.time() - KEEP_SECONDS
    for path in folder.iterdir():
        if path == keep:
            continue
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < limit:
                path.unlink()


def _load(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return {}


def read_progress(job: str, run: str | None = None) -> dict[str, Any]:
    """Return the last progress written for a run of a job, or an empty dict.

    Without *run*, return the progress most recently written by any run of the job.
    """
    if run is not None:
        return _load(progress_path(job, run))
    try:
        files = list(progress_dir(job).glob("*.json"))
    except OSError:
        return {}
    latest: dict[str, Any] = {}
    for path in files:
        found = _load(path)
        if found and float(found.get("at") or 0) >= float(latest.get("at") or 0):
            latest = found
    return latest

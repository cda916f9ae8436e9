"""An import killed with SIGKILL in the middle of writing leaves the database as it was."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from tests.conftest import subprocess_env
from tests.imports.helpers import ROLLS_HEADER, base_county, make_id, write_csv

from jingzhun.core.importing import imports_sweep
from jingzhun.core.models import AuditEvent, ImportBatch
from jingzhun.schools.models import Enrolment, SchoolClass, Student

pytestmark = pytest.mark.slow


def _big_rolls(path: Path, n: int) -> Path:
    rows = []
    for i in range(n):
        born = dt.date(2008, 1, 1) + dt.timedelta(days=i // 1000)
        pid = make_id("420101", born.strftime("%Y%m%d"), f"{i % 1000:03d}")
        rows.append(
            [
                f"L{i:018d}",
                f"学生{i}",
                pid if i % 7 else "",
                "男",
                "",
                "2142010002",
                "2018",
                "初中",
                str(1 + i % 3),
                f"{1 + i % 20}班",
                "李老师",
                "否",
                "在读",
                "",
                "",
                "否",
            ]
        )
    return write_csv(path, ROLLS_HEADER, rows)


def test_kill_during_write_leaves_database_unchanged(audit_flushable: Any, tmp_path: Path) -> None:
    # given a county with its schools, and a large roll file
    base_county(tmp_path)
    path = _big_rolls(tmp_path / "rolls.csv", 120_000)
    env = subprocess_env()
    # when the import is killed while its write transaction is open
    proc = subprocess.Popen(
        [sys.executable, "-m", "jingzhun.cli", "import", "rolls", str(path), "--county", "420101"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    killed = False
    progress_dir = Path(settings.VAR_DIR) / "progress"
    while time.monotonic() < deadline and proc.poll() is None:
        for f in progress_dir.glob("import-*/*.json"):  # progress/<job>/<run>.json
            try:
                p = json.loads(f.read_text())
            except (json.JSONDecodeError, FileNotFoundError):
                continue
            if p.get("pid") == proc.pid and p.get("phase") == "apply" and p.get("done", 0) > 0:
                os.kill(proc.pid, signal.SIGKILL)
                killed = True
                break
        if killed:
            break
        time.sleep(0.02)
    proc.wait(timeout=30)
    assert killed, (
        "the import finished or stalled before it could be killed: "
        + proc.stderr.read().decode()[-500:]
    )
    # then nothing of it is in the database
    connection.close()
    assert Student.objects.count() == 0
    assert Enrolment.objects.count() == 0
    assert SchoolClass.objects.count() == 0
    batch = ImportBatch.objects.get(kind="rolls")
    assert batch.status == ImportBatch.Status.RUNNING  # never finished: no counts recorded
    assert batch.rows_created == 0
    # and the sweep closes its record once it has been silent long enough
    assert imports_sweep(stale_after=3600) == 0
    assert imports_sweep(stale_after=0) == 1
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED and "interrupted" in batch.message
    assert (
        AuditEvent.objects.filter(action="import.interrupted", object_id=str(batch.pk)).count() == 1
    )

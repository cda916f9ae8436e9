"""Two runs of the same kind of job write their progress side by side (issue 11, item 7)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from jingzhun.core.progress import Progress, progress_dir, read_progress

ROUNDS = 50


def test_two_writers_of_one_job_interleaved_in_threads(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.VAR_DIR = tmp_path
    # Both writers have written their temporary file before either renames it, every time.
    meet = threading.Barrier(2, timeout=10)
    replace = os.replace

    def replace_together(src: Any, dst: Any) -> None:
        meet.wait()
        replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_together)
    errors: list[BaseException] = []
    writers = [Progress("aid-420101", min_interval=0), Progress("aid-420101", min_interval=0)]

    def work(progress: Progress, name: str) -> None:
        try:
            for i in range(1, ROUNDS + 1):
                progress(name, i, ROUNDS, force=True)
        except BaseException as exc:  # noqa: BLE001  (a thread's error, reported below)
            errors.append(exc)
            meet.abort()

    threads = [
        threading.Thread(target=work, args=(p, name))
        for p, name in zip(writers, ("first", "second"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # each run has its own file; nothing temporary is left behind
    first, second = (read_progress("aid-420101", run=p.run) for p in writers)
    assert (first["stage"], first["done"]) == ("first", ROUNDS)
    assert (second["stage"], second["done"]) == ("second", ROUNDS)
    assert first["run"] != second["run"]
    assert sorted(f.name for f in progress_dir("aid-420101").iterdir()) == sorted(
        f"{p.run}.json" for p in writers
    )
    # without a run, readers get the latest progress of any run of the job
    assert read_progress("aid-420101")["at"] == max(first["at"], second["at"])


def test_a_given_run_id_names_the_file_and_readers_find_it(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    Progress("identify-420101", run="task-1")("Reading", 1, 4, force=True)
    Progress("identify-420101", run="task-2")("Linking", 2, 4, force=True)
    assert read_progress("identify-420101", run="task-1")["stage"] == "Reading"
    assert read_progress("identify-420101")["stage"] == "Linking"
    assert read_progress("identify-420101", run="nothing") == {}
    assert read_progress("aid-999999") == {}
    assert (progress_dir("identify-420101") / "task-1.json").exists()

"""The production lock holds the platform's runtime and nothing a test or a scan needs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==", re.MULTILINE)


def _names(requirements: list[str]) -> set[str]:
    return {_norm(re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0]) for r in requirements}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lock: str) -> set[str]:
    return {_norm(n) for n in PIN.findall((ROOT / lock).read_text())}


def test_runtime_lock_has_no_development_tools() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    # every runtime dependency is pinned in both locks, every development tool only in the dev lock
    assert _names(project["dependencies"]) <= runtime
    assert _names(project["dependencies"]) | _names(project["optional-dependencies"]["dev"]) <= dev
    tools = _names(project["optional-dependencies"]["dev"]) | {"pytest-django", "hypothesis"}
    assert not (tools & runtime), tools & runtime
    assert runtime <= dev

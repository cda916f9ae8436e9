"""`jingzhun check --deploy` passes with production settings (as .ci/run runs it), and fails
when the deployment is not set up for HTTPS."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _production_env(var: Path, **extra: str) -> dict[str, str]:
    def key() -> str:
        return base64.b64encode(os.urandom(32)).decode()

    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "jingzhun.settings",
        "JINGZHUN_SECRET_KEY": secrets.token_urlsafe(50),
        "JINGZHUN_FIELD_KEYS": f"1:{key()}",
        "JINGZHUN_BLIND_INDEX_KEY": key(),
        "JINGZHUN_AUDIT_KEY": key(),
        "JINGZHUN_ALLOWED_HOSTS": "jingzhun.example.cn",
        "JINGZHUN_CSRF_TRUSTED_ORIGINS": "https://jingzhun.example.cn",
        "JINGZHUN_SECURE_COOKIES": "1",
        "JINGZHUN_DEBUG": "0",
        "JINGZHUN_VAR_DIR": str(var),
        **extra,
    }


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jingzhun.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checks(tmp_path: Path) -> None:
    # given production settings behind HTTPS, when Django's deployment checks run
    done = _check(_production_env(tmp_path))
    # then they pass, warnings included
    assert done.returncode == 0, done.stderr


def test_deployment_checks_fail_without_https_settings(tmp_path: Path) -> None:
    # given production settings without HTTPS cookies (and so without HSTS)
    done = _check(_production_env(tmp_path, JINGZHUN_SECURE_COOKIES="0"))
    # then the check fails and names what is missing
    assert done.returncode != 0
    for check in ("security.W004", "security.W012", "security.W016"):
        assert check in done.stderr

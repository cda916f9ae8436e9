"""`jingzhun backup` while another process writes, then `jingzhun restore` into a fresh database.

Each run uses its own databases (a SQLite file in tmp_path, or two PostgreSQL databases
beside the test database) and its own media directories; every command runs in a child
process, as an operator would run it.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from jingzhun.core.backup import BackupError, find_pg_tool

pytestmark = pytest.mark.slow

KEY_1 = base64.b64encode(b"k" * 32).decode()
KEY_2 = base64.b64encode(b"K" * 32).decode()
KEYS = f"1:{KEY_1},2:{KEY_2}"
OTHER = base64.b64encode(b"x" * 32).decode()
BLIND = base64.b64encode(b"b" * 32).decode()
BANK = "6228480012345678901"
MEDIA_FILE = ("imports", "建档立卡-2018.xlsx")
MEDIA_TEXT = "不是真的表格" * 100
MEDIA_BYTES = MEDIA_TEXT.encode()
READY_AFTER = 20

# The source installation, in one process: migrate; then a thread adds one person (ID
# sealed under key version 2) and its audit event per transaction, without a pause, while
# the main thread runs `jingzhun backup`. The thread counts the rows it committed while
# the backup command was running. Prints a JSON summary.
SOURCE = f"""
import datetime as dt, json, sys, threading
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from jingzhun.core import crypto, sealed
from jingzhun.core.audit import audit_record
from jingzhun.core.sensitive import seal
from jingzhun.registry.models import Area, Household, Person

call_command("migrate", "--noinput", verbosity=0)
county = Area.objects.create(code="420101", name="测试县", level="county")
town = Area.objects.create(code="420101001", name="甲镇", level="township", parent=county)
village = Area.objects.create(
    code="420101001001", name="甲村", level="village", parent=town, is_poor=True)
bank = seal({BANK!r}, prefix="bank", purpose="bank")
bank["bank_cipher"], bank["bank_key"] = crypto.encrypt({BANK!r}, purpose="bank", version=1)
household = Household.objects.create(
    household_no="4201010010010001", village=village, registration_year=2015, **bank)
sealed.seal_file(
    iter([{MEDIA_BYTES!r}]), settings.MEDIA_ROOT / {MEDIA_FILE[0]!r} / {MEDIA_FILE[1]!r},
    purpose=sealed.UPLOAD)

ready, stop, running = threading.Event(), threading.Event(), threading.Event()
done = {{"written": 0, "during": 0, "error": None}}

def write():
    try:
        i = 0
        while not stop.is_set() or i < {READY_AFTER}:
            with transaction.atomic():
                person = Person.objects.create(
                    household_id=household.pk, name=f"童{{i}}", sex="M",
                    birth_date=dt.date(2010, 1, 1), relation="之子",
                    **seal(f"420101201001{{i:06d}}", prefix="id", purpose="id"))
                audit_record(actor=None, actor_name="writer", action="test.person", target=person)
            i += 1
            done["written"] = i
            if running.is_set():
                done["during"] += 1
            if i == {READY_AFTER}:
                ready.set()
    except Exception as exc:
        done["error"] = repr(exc)
        ready.set()
    finally:
        connection.close()

writer = threading.Thread(target=write)
writer.start()
ready.wait()
running.set()
try:
    call_command("backup", sys.argv[1])
finally:
    running.clear()
    stop.set()
    writer.join()
print(json.dumps(done))
"""

# The restoring side, in one process: each step points the process at a database, a media
# directory (with its audit checkpoint file) and keys, runs `jingzhun restore`, then reads
# what the installation holds through the platform's own code. Prints one JSON line per step.
RESTORE = """
import io, json, sys
from pathlib import Path
import django
django.setup()
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections
from django.utils import translation
from jingzhun.core import crypto, sealed
from jingzhun.core.audit import verify_chain
from jingzhun.core.models import AuditEvent
from jingzhun.core.sensitive import unseal
from jingzhun.registry.models import Household, Person

translation.activate("en")

def audit_verify():
    try:
        call_command("audit_verify", stdout=io.StringIO(), stderr=io.StringIO())
        return True
    except CommandError:
        return False

def state(media):
    last = Person.objects.order_by("-pk").first()
    return {
        "chain": list(verify_chain()),
        "audit_verify": audit_verify(),
        "upload": b"".join(sealed.plain_chunks(media, purpose=sealed.UPLOAD)).decode(),
        "persons": Person.objects.count(),
        "person_events": AuditEvent.objects.filter(action="test.person").count(),
        "restored_events": AuditEvent.objects.filter(action="backup.restored").count(),
        "last_name": last.name,
        "last_id": unseal(last, prefix="id", purpose="id"),
        "bank": unseal(Household.objects.get(), prefix="bank", purpose="bank"),
    }

for step in json.loads(sys.argv[1]):
    connections.close_all()
    connections["default"].settings_dict["NAME"] = step["db"]
    settings.MEDIA_ROOT = Path(step["media"])
    settings.IMPORT_DIR = settings.MEDIA_ROOT / "imports"
    settings.REPORT_DIR = settings.MEDIA_ROOT / "reports"
    settings.AUDIT_CHECKPOINT_FILE = settings.MEDIA_ROOT.parent / "audit-checkpoints.jsonl"
    settings.FIELD_ENCRYPTION_KEYS = step["keys"]
    settings.BLIND_INDEX_KEY = step["blind"]
    crypto.keyring.cache_clear()
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("restore", *step["args"], stdout=out, stderr=err)
        result = {"ok": True, "state": state(settings.IMPORT_DIR / step["file"])}
    except CommandError as exc:
        connections.close_all()
        result = {"ok": False, "tables": len(connections["default"].introspection.table_names())}
        err.write(str(exc))
    result["media"] = settings.MEDIA_ROOT.exists()
    print(json.dumps({**result, "stdout": out.getvalue(), "stderr": err.getvalue()}), flush=True)
"""


@dataclass
class Site:
    """One installation: a database and a var directory (media under it)."""

    url: str
    name: str  # the database's NAME setting: a file (SQLite) or a database name
    var: Path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}
        return {
            **env,
            "DATABASE_URL": self.url,
            "JINGZHUN_TESTING": "1",
            "JINGZHUN_VAR_DIR": str(self.var),
            "JINGZHUN_MEDIA_ROOT": str(self.var / "media"),
            "JINGZHUN_FIELD_KEYS": KEYS,
            "JINGZHUN_BLIND_INDEX_KEY": BLIND,
            "DJANGO_SETTINGS_MODULE": "jingzhun.settings",
        }

    def step(self, *args: str, keys: str = KEYS, blind: str = BLIND) -> dict[str, Any]:
        """A restore step of the RESTORE script, into this installation."""
        media = str(self.var / "media")
        return {
            "db": self.name,
            "media": media,
            "file": MEDIA_FILE[1],
            "keys": keys,
            "blind": blind,
            "args": args,
        }


def _script(script: str, arg: str, site: Site) -> list[Any]:
    proc = subprocess.run(
        [sys.executable, "-c", script, arg],
        env=site.env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def _postgres_sites(tmp_path: Path) -> Iterator[list[Site]]:
    import psycopg

    s = settings.DATABASES["default"]
    auth = f"{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST']}:{s['PORT']}"
    names = [f"jz_backup_{os.getpid()}_{i}" for i in range(4)]
    admin = psycopg.connect(f"postgres://{auth}/postgres", autocommit=True)
    try:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        yield [Site(f"postgres://{auth}/{name}", name, tmp_path / name) for name in names]
    finally:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def sites(request: Any, tmp_path: Path) -> Iterator[list[Site]]:
    """Four installations on one engine: the source, the restore target and two spares."""
    on_postgres = "postgresql" in settings.DATABASES["default"]["ENGINE"]
    if request.param == "sqlite":
        if on_postgres:
            pytest.skip("the SQLite backup runs in the SQLite pass of the suite")
        files = [tmp_path / f"db{i}.sqlite3" for i in range(4)]
        yield [Site(f"sqlite:///{f}", str(f), tmp_path / f"var{i}") for i, f in enumerate(files)]
        return
    if not on_postgres:
        pytest.skip("the PostgreSQL backup runs when the suite runs on PostgreSQL")
    try:
        find_pg_tool("pg_dump")
        find_pg_tool("pg_restore")
    except BackupError as exc:
        pytest.skip(str(exc))
    yield from _postgres_sites(tmp_path)


def _manifest(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        return json.load(member)


def _tampered(archive: Path, out: Path) -> Path:
    """Copy an archive with one byte of its database changed, the manifest left as it was."""
    with tarfile.open(archive) as src, tarfile.open(out, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.startswith("database."):
                data = data[:-1] + bytes([data[-1] ^ 1])
            dst.addfile(member, io.BytesIO(data))
    return out


def test_backup_during_writes_restores_into_a_fresh_database(
    sites: list[Site], tmp_path: Path
) -> None:
    source, target, spare, spare2 = sites  # spare is never restored into

    # given a writer adding persons and their audit events while `jingzhun backup` runs
    (done,) = _script(SOURCE, str(tmp_path / "backups"), source)
    assert done["error"] is None
    (archive,) = (tmp_path / "backups").glob("jingzhun-*.tar.gz")
    manifest = _manifest(archive)

    # then rows were committed while the backup ran, and the snapshot sits among them
    assert done["during"] > 0
    persons = manifest["tables"]["registry_person"]
    assert READY_AFTER <= persons < done["written"]
    assert manifest["audit"]["count"] == persons  # one event per person, same transaction
    assert manifest["engine"] == ("sqlite" if source.url.startswith("sqlite") else "postgresql")
    assert manifest["key_versions"] == [1, 2]
    assert manifest["media"]["files"] == 1
    assert archive.stat().st_mode & 0o077 == 0
    assert KEY_1.encode() not in gzip.decompress(archive.read_bytes())

    first, refused, forced, no_key, altered, wrong_key, wrong_blind = _script(
        RESTORE,
        json.dumps(
            [
                target.step(str(archive)),
                target.step(str(archive)),
                target.step(str(archive), "--force"),
                spare.step(str(archive), keys=f"1:{KEY_1}"),
                spare.step(str(_tampered(archive, tmp_path / "altered.tar.gz"))),
                spare2.step(str(archive), keys=f"1:{KEY_1},2:{OTHER}"),
                spare2.step(str(archive), "--force", blind=OTHER),
            ]
        ),
        target,
    )

    # a restore into a fresh database and media directory verifies and holds the snapshot
    assert first["ok"], first["stderr"]
    state = first["state"]
    assert state["persons"] == state["person_events"] == persons
    assert state["restored_events"] == 1
    assert state["last_id"] == f"420101201001{int(state['last_name'][1:]):06d}"
    assert state["bank"] == BANK
    assert state["upload"] == MEDIA_TEXT
    assert state["chain"] == []
    assert state["audit_verify"]  # the restore wrote a checkpoint of the chain it verified
    assert "JINGZHUN_FIELD_KEYS" in first["stdout"]  # the keys reminder

    # a second restore over it is refused without --force; with it, it replaces the data
    assert not refused["ok"]
    assert "--force" in refused["stderr"]
    assert forced["ok"], forced["stderr"]
    assert forced["state"]["restored_events"] == 1
    assert forced["state"]["chain"] == []
    # the checkpoint the first restore wrote counts an event after the backup: the restore
    # says that such events are not in the backup
    assert "audit-checkpoint" in forced["stdout"]

    # a key version the data needs is missing, or the archive was altered: nothing is written
    assert not no_key["ok"]
    assert "JINGZHUN_FIELD_KEYS" in no_key["stderr"]
    assert not altered["ok"]
    assert "database." in altered["stderr"]
    assert no_key["tables"] == altered["tables"] == 0
    assert not no_key["media"] and not altered["media"]

    # the wrong key under the right version, or the wrong blind-index key: the verification
    # after the restore fails
    assert not wrong_key["ok"]
    assert "registry.Person.id" in wrong_key["stderr"]
    assert MEDIA_FILE[1] in wrong_key["stderr"]
    assert not wrong_blind["ok"]
    assert "JINGZHUN_BLIND_INDEX_KEY" in wrong_blind["stderr"]

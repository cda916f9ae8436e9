"""Back up and restore the database and the uploaded files, as one archive with a manifest.

An archive (``jingzhun-<time>.tar.gz``, mode 600) holds ``manifest.json``, the database
(``database.sqlite3``, made with ``VACUUM INTO``, or ``database.pgdump``, pg_dump's custom
format) and ``media.tar`` (``MEDIA_ROOT``). Both database copies are consistent snapshots
taken while the platform keeps writing; the manifest is computed from the same snapshot:
rows per table, the applied migrations, the audit chain's last event, and the field-key
versions the encrypted values need. It never holds a key.

:func:`restore` checks the archive (hashes, engine, migrations, keys) before it touches
anything, refuses a database or media directory that is not empty unless forced, and
verifies the result: the rows per table, the audit chain, and that one value of every
encrypted column decrypts and matches its blind index with the configured keys.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess  # nosec B404  # pg_dump and pg_restore only, as argument lists
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core import crypto, sealed
from jingzhun.core.audit import (
    append_checkpoint,
    audit_record,
    checkpoint_path,
    read_checkpoints,
    take_checkpoint,
    verify_chain,
)
from jingzhun.core.models import AuditEvent
from jingzhun.core.sensitive import SEALED, unseal

FORMAT = "jingzhun-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA = "media.tar"
DB_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
CHUNK = 1024 * 1024
# The variables an operator must keep apart from the backups, with their owner.
KEY_VARIABLES = (
    "JINGZHUN_FIELD_KEYS",
    "JINGZHUN_BLIND_INDEX_KEY",
    "JINGZHUN_AUDIT_KEY",
    "JINGZHUN_SECRET_KEY",
)

Echo = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass
class Outcome:
    """What a backup wrote or a restore found."""

    path: Path
    manifest: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- what a snapshot holds


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(cursor: Any, vendor: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        )
    else:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg\\_toast%' AND pg_catalog.pg_table_is_visible(c.oid) "
            "ORDER BY 1"
        )
    return [row[0] for row in cursor.fetchall()]


def _sealed_columns() -> Iterator[tuple[str, str, str, str, str]]:
    """Yield (label, table, cipher column, key column, purpose) of every encrypted column."""
    for model, prefix, purpose in SEALED:
        meta = model._meta  # type: ignore[attr-defined]
        yield (
            f"{meta.label}.{prefix}",
            meta.db_table,
            meta.get_field(f"{prefix}_cipher").column,
            meta.get_field(f"{prefix}_key").column,
            purpose,
        )


def inventory(cursor: Any, vendor: str) -> dict[str, Any]:
    """Return what a database holds: rows per table, migrations, audit tail, key versions."""
    tables = _tables(cursor, vendor)
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {_q(table)}")
        counts[table] = int(cursor.fetchone()[0])
    migrations: dict[str, list[str]] = {}
    if "django_migrations" in counts:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        for app, name in cursor.fetchall():
            migrations.setdefault(app, []).append(name)
    audit: dict[str, Any] = {"count": 0, "last_id": None, "last_hash": None}
    audit_table = AuditEvent._meta.db_table
    if audit_table in counts:
        cursor.execute(f"SELECT id, hash FROM {_q(audit_table)} ORDER BY id DESC LIMIT 1")
        row = cursor.fetchone()
        audit = {
            "count": counts[audit_table],
            "last_id": row and row[0],
            "last_hash": row and row[1],
        }
    sealed: dict[str, dict[str, Any]] = {}
    for label, table, cipher, key, _purpose in _sealed_columns():
        if table not in counts:
            continue
        cursor.execute(
            f"SELECT {_q(key)}, COUNT(*) FROM {_q(table)} "
            f"WHERE {_q(cipher)} IS NOT NULL GROUP BY {_q(key)} ORDER BY 1"
        )
        versions = {int(v): int(n) for v, n in cursor.fetchall()}
        sealed[label] = {"values": sum(versions.values()), "key_versions": sorted(versions)}
    needed = sorted({v for column in sealed.values() for v in column["key_versions"]})
    return {
        "tables": counts,
        "migrations": migrations,
        "audit": audit,
        "sealed": sealed,
        "key_versions": needed,
    }


# ---------------------------------------------------------------- helpers


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _version() -> str:
    try:
        return metadata.version("jingzhun")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


def _vendor() -> str:
    vendor = connection.vendor
    if vendor not in DB_MEMBER:
        raise BackupError(
            _("Backups support SQLite and PostgreSQL, not %(vendor)s.") % {"vendor": vendor}
        )
    return vendor


def find_pg_tool(name: str, pg_bin: str | None = None) -> str:
    """Return the path of pg_dump or pg_restore: in ``pg_bin``, on PATH, or the newest
    PostgreSQL bin directory; fail clearly when there is none."""
    if pg_bin:
        candidate = Path(pg_bin) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        raise BackupError(_("%(tool)s is not in %(dir)s.") % {"tool": name, "dir": pg_bin})
    found = shutil.which(name)
    if found:
        return found

    def major(path: str) -> int:
        match = re.search(r"/postgresql/(\d+)/", path)
        return int(match.group(1)) if match else 0

    installed = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=major)
    if installed:
        return installed[-1]
    raise BackupError(
        _(
            "%(tool)s was not found. Install the PostgreSQL client programs (the server's "
            "version or newer), or give their directory with --pg-bin."
        )
        % {"tool": name}
    )


def _pg_env() -> dict[str, str]:
    """The libpq variables of the configured database (the password never goes on argv)."""
    s = connection.settings_dict
    env = {**os.environ, "PGDATABASE": str(s["NAME"])}
    for var, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER")):
        if s.get(key):
            env[var] = str(s[key])
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    if (s.get("OPTIONS") or {}).get("sslmode"):
        env["PGSSLMODE"] = str(s["OPTIONS"]["sslmode"])
    return env


def _run(argv: list[str], env: dict[str, str]) -> None:
    # argv: the pg_dump/pg_restore found and our own options, never a shell
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # nosec B603
    if proc.returncode != 0:
        raise BackupError(
            _("%(tool)s failed (exit %(code)d): %(error)s")
            % {"tool": Path(argv[0]).name, "code": proc.returncode, "error": proc.stderr.strip()}
        )


def _media_files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath) / name


def _file_purpose(path: Path, media_root: Path) -> str:
    """The purpose a stored file is sealed under: uploads in the import store, else media."""
    try:
        imports = Path(settings.IMPORT_DIR).resolve().relative_to(media_root)
    except ValueError:
        imports = Path("imports")
    return sealed.UPLOAD if path.relative_to(media_root).is_relative_to(imports) else sealed.MEDIA


def _write_media(root: Path, out: Path, echo: Echo) -> dict[str, Any]:
    """Write MEDIA_ROOT's regular files to a tar; files removed meanwhile are left out.

    Return the number of files, their size, and the key versions of the sealed ones.
    """
    files = size = 0
    versions: set[int] = set()
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for path in _media_files(root) if root.is_dir() else ():
            rel = path.relative_to(root).as_posix()
            try:
                if path.is_symlink() or not path.is_file():
                    echo(_("media: %(file)s is not a regular file, left out") % {"file": rel})
                    continue
                with path.open("rb") as fh:
                    header = fh.read(len(sealed.MAGIC) + 4)
                    if header.startswith(sealed.MAGIC) and len(header) == len(sealed.MAGIC) + 4:
                        versions.add(int.from_bytes(header[len(sealed.MAGIC) :], "big"))
                    fh.seek(0)
                    info = tar.gettarinfo(arcname=rel, fileobj=fh)
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    tar.addfile(info, fh)
            except FileNotFoundError:
                continue  # removed while the backup ran: not part of any snapshot
            files += 1
            size += info.size
    return {"files": files, "bytes": size, "key_versions": sorted(versions)}


# ---------------------------------------------------------------- backup


def _snapshot_sqlite(work: Path) -> dict[str, Any]:
    """Copy the live SQLite database with VACUUM INTO; return the copy's inventory."""
    source = Path(connection.settings_dict["NAME"])
    if not source.is_file():
        raise BackupError(_("The database %(file)s does not exist.") % {"file": source})
    target = work / DB_MEMBER["sqlite"]
    timeout = float(connection.settings_dict.get("OPTIONS", {}).get("timeout", 20))
    live = sqlite3.connect(source, timeout=timeout, isolation_level=None)
    try:
        # One read transaction: a consistent snapshot, while writers go on (WAL).
        live.execute("VACUUM INTO ?", [str(target)])
    finally:
        live.close()
    copy = sqlite3.connect(target, isolation_level=None)
    try:
        (check,) = copy.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise BackupError(_("The database copy is damaged: %(error)s") % {"error": check})
        return inventory(copy.cursor(), "sqlite")
    finally:
        copy.close()


def _snapshot_postgresql(work: Path, pg_bin: str | None) -> dict[str, Any]:
    """pg_dump (custom format) of one exported snapshot; the inventory reads the same one."""
    pg_dump = find_pg_tool("pg_dump", pg_bin)
    target = work / DB_MEMBER["postgresql"]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        _run(
            [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={target}"],
            _pg_env(),
        )
        info = inventory(cursor, "postgresql")
        cursor.execute("SHOW server_version")
        info["server_version"] = cursor.fetchone()[0]
    return info


def backup(destination: Path, *, pg_bin: str | None = None, echo: Echo = print) -> Outcome:
    """Write a backup archive into a directory (or to a file name); return what it holds."""
    vendor = _vendor()
    media_root = Path(settings.MEDIA_ROOT).resolve()
    now = timezone.now()
    if destination.is_dir() or not destination.name.endswith((".tar.gz", ".tgz")):
        directory = destination
        path = directory / f"jingzhun-{timezone.localtime(now):%Y%m%d-%H%M%S}.tar.gz"
    else:
        directory, path = destination.parent, destination
    directory = directory.resolve()
    if directory == media_root or media_root in directory.parents:
        raise BackupError(_("Write backups outside MEDIA_ROOT (%(dir)s).") % {"dir": media_root})
    if path.exists():
        raise BackupError(_("%(file)s exists already.") % {"file": path})
    directory.mkdir(parents=True, exist_ok=True)
    # Staged beside the archive (same disk), readable by this user only.
    with tempfile.TemporaryDirectory(dir=directory, prefix=".jingzhun-backup-") as tmp:
        work = Path(tmp)
        echo(_("Copying the database (%(engine)s)…") % {"engine": vendor})
        if vendor == "sqlite":
            info = _snapshot_sqlite(work)
        else:
            info = _snapshot_postgresql(work, pg_bin)
        echo(_("Copying the uploaded files…"))
        media = _write_media(media_root, work / MEDIA, echo)
        members = [DB_MEMBER[vendor], MEDIA]
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "app_version": _version(),
            "created_at": now.isoformat(),
            "engine": vendor,
            **info,
            "key_versions": sorted({*info["key_versions"], *media["key_versions"]}),
            "media": media,
            "members": {name: _sha256(work / name) for name in members},
            "keys": "not in this archive: the backup's owner keeps "
            + ", ".join(KEY_VARIABLES)
            + " (field-key versions in key_versions)",
        }
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
        fd, partial = tempfile.mkstemp(dir=directory, prefix=".jingzhun-backup-", suffix=".part")
        try:
            with (
                os.fdopen(fd, "wb") as raw,
                tarfile.open(
                    fileobj=raw, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT
                ) as tar,
            ):
                for name in (MANIFEST, *members):
                    info_ = tar.gettarinfo(work / name, arcname=name)
                    info_.uid = info_.gid = 0
                    info_.uname = info_.gname = ""
                    info_.mode = 0o600
                    with (work / name).open("rb") as fh:
                        tar.addfile(info_, fh)
            os.replace(partial, path)  # mkstemp made it 0600
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
    audit_record(
        actor=None,
        actor_name="cli",
        action="backup.created",
        data={
            "file": path.name,
            "sha256": _sha256(path),
            "audit_last_id": manifest["audit"]["last_id"],
            "key_versions": manifest["key_versions"],
        },
    )
    return Outcome(path=path, manifest=manifest)


def key_reminder(manifest: dict[str, Any]) -> str:
    """The reminder printed after a backup and a restore."""
    return _(
        "The keys are NOT in the backup. Keep %(variables)s (field-key versions needed: "
        "%(versions)s) with the backup's owner, stored apart from the backup: without them "
        "the ID and bank numbers in it cannot be read or searched."
    ) % {
        "variables": ", ".join(KEY_VARIABLES),
        "versions": ", ".join(map(str, manifest["key_versions"])) or "-",
    }


# ---------------------------------------------------------------- restore


def read_archive(archive: Path, work: Path) -> dict[str, Any]:
    """Unpack an archive's members into ``work`` and check them against the manifest."""
    if not archive.is_file():
        raise BackupError(_("No such file: %(file)s") % {"file": archive})
    try:
        tar = tarfile.open(archive, "r:*")
    except tarfile.TarError as exc:
        raise BackupError(
            _("%(file)s is not a backup archive: %(error)s") % {"file": archive, "error": exc}
        ) from exc
    with tar:
        names = {m.name: m for m in tar.getmembers() if m.isfile()}
        if MANIFEST not in names:
            raise BackupError(_("%(file)s holds no manifest.json.") % {"file": archive})
        try:
            manifest = json.load(tar.extractfile(names[MANIFEST]))  # type: ignore[arg-type]
        except ValueError as exc:
            raise BackupError(
                _("The manifest is not valid JSON: %(error)s") % {"error": exc}
            ) from exc
        if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
            raise BackupError(
                _("%(file)s is not a backup this version can read.") % {"file": archive}
            )
        expected_members = {DB_MEMBER.get(manifest.get("engine", ""), DB_MEMBER["sqlite"]), MEDIA}
        if set(manifest.get("members", {})) != expected_members:
            raise BackupError(_("The manifest does not list the archive's members."))
        for name, expected in manifest["members"].items():
            if name not in names:
                raise BackupError(_("The archive lacks %(member)s.") % {"member": name})
            digest = hashlib.sha256()
            src = tar.extractfile(names[name])
            if src is None:  # not a regular file after all
                raise BackupError(_("The archive lacks %(member)s.") % {"member": name})
            with (work / name).open("wb") as out:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != expected:
                raise BackupError(
                    _("%(member)s does not match the manifest: the archive is damaged or altered.")
                    % {"member": name}
                )
    return manifest


def _check_compatible(manifest: dict[str, Any], vendor: str) -> None:
    if manifest["engine"] != vendor:
        raise BackupError(
            _("This is a %(backup)s backup; DATABASE_URL points at %(target)s.")
            % {"backup": manifest["engine"], "target": vendor}
        )
    missing = sorted(set(manifest["key_versions"]) - set(crypto.keyring().keys))
    if missing:
        raise BackupError(
            _(
                "The data needs field-key version(s) %(versions)s, which JINGZHUN_FIELD_KEYS "
                "does not hold. Set the keys kept with this backup, then restore."
            )
            % {"versions": ", ".join(map(str, missing))}
        )
    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    unknown = [
        f"{app}.{name}"
        for app, names in manifest["migrations"].items()
        for name in names
        if (app, name) not in known
    ]
    if unknown:
        raise BackupError(
            _(
                "The backup was made by a newer version (%(version)s): this one does not know "
                "the migrations %(migrations)s. Restore it with that version."
            )
            % {"version": manifest["app_version"], "migrations": ", ".join(unknown[:5])}
        )


def _occupied(vendor: str, media_root: Path) -> list[str]:
    """Say what restoring would overwrite: a database with tables, a media dir with files."""
    found = []
    if vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        exists = name.is_file() and name.stat().st_size > 0
        tables = connection.introspection.table_names() if exists else []
    else:
        tables = connection.introspection.table_names()
    if tables:
        found.append(
            _("the database %(name)s holds %(n)d tables")
            % {"name": connection.settings_dict["NAME"], "n": len(tables)}
        )
    if media_root.is_dir() and any(media_root.iterdir()):
        found.append(_("the media directory %(dir)s is not empty") % {"dir": media_root})
    return found


def _restore_sqlite(work: Path) -> None:
    target = Path(connection.settings_dict["NAME"])
    target.parent.mkdir(parents=True, exist_ok=True)
    connections.close_all()
    timeout = float(connection.settings_dict.get("OPTIONS", {}).get("timeout", 20))
    source = sqlite3.connect(work / DB_MEMBER["sqlite"])
    dest = sqlite3.connect(target, timeout=timeout)
    try:
        # SQLite's online backup writes through the target's own locks and journal, so a
        # stale WAL beside it cannot be replayed over the restored pages.
        source.backup(dest)
        dest.execute("PRAGMA journal_mode=WAL")
    finally:
        dest.close()
        source.close()


def _restore_postgresql(
    work: Path, *, force: bool, pg_bin: str | None, no_privileges: bool
) -> None:
    pg_restore = find_pg_tool("pg_restore", pg_bin)
    connections.close_all()
    # The restoring role (the owner of the tables, never the app's role) owns what it creates;
    # the grants to the app's role come back with the data unless left out.
    argv = [pg_restore, "--no-owner", "--exit-on-error", "--single-transaction"]
    if force:
        argv += ["--clean", "--if-exists"]
    if no_privileges:
        argv.append("--no-privileges")
    env = _pg_env()
    _run([*argv, f"--dbname={env['PGDATABASE']}", str(work / DB_MEMBER["postgresql"])], env)


def _restore_media(work: Path, media_root: Path) -> None:
    parent = media_root.parent
    parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(dir=parent, prefix=".jingzhun-media-"))
    try:
        with tarfile.open(work / MEDIA) as tar:
            tar.extractall(staged, filter="data")  # no absolute paths, no links out
        staged.chmod(media_root.stat().st_mode & 0o777 if media_root.is_dir() else 0o700)
        old = None
        if media_root.exists():
            old = parent / f".jingzhun-media-old-{os.getpid()}"
            media_root.rename(old)
        staged.rename(media_root)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise


def verify(manifest: dict[str, Any], media_root: Path) -> tuple[list[str], list[str]]:
    """Compare the database and media with a manifest; return the problems and the notes.

    The audit chain is verified with the keyed hashes and against the checkpoints up to the
    backup's last event; checkpoints after it are events the backup does not hold (a note).
    """
    problems: list[str] = []
    notes: list[str] = []
    vendor = _vendor()
    with connection.cursor() as cursor:
        now = inventory(cursor, vendor)
    for table, expected in manifest["tables"].items():
        got = now["tables"].get(table)
        if got != expected:
            problems.append(
                _("table %(table)s: %(got)s rows, the backup had %(expected)d")
                % {"table": table, "got": "-" if got is None else got, "expected": expected}
            )
    for table in sorted(set(now["tables"]) - set(manifest["tables"])):
        problems.append(_("table %(table)s is not in the backup") % {"table": table})
    if now["audit"] != manifest["audit"]:
        problems.append(
            _("the audit log ends at event #%(got)s, the backup at #%(expected)s")
            % {"got": now["audit"]["last_id"], "expected": manifest["audit"]["last_id"]}
        )
    checkpoints, bad_lines = read_checkpoints()
    problems += bad_lines
    last_id = manifest["audit"]["last_id"] or 0
    later = [c for c in checkpoints if c.last_id > last_id]
    for event_id, problem in verify_chain(checkpoints=[c for c in checkpoints if c not in later]):
        where = _("audit log") if event_id is None else _("audit event #%(id)d") % {"id": event_id}
        problems.append(f"{where}: {problem}")
    if later:
        newest = max(later, key=lambda c: c.last_id)
        notes.append(
            _(
                "The audit checkpoint file %(path)s records events up to #%(newest)d (%(at)s), "
                "after this backup's last event #%(last)d: those events are not in the backup. "
                "`jingzhun audit-verify` reports them missing until that file is kept aside as "
                "evidence and a new one is started with `jingzhun audit-checkpoint`."
            )
            % {
                "path": checkpoint_path(),
                "newest": newest.last_id,
                "at": newest.at,
                "last": last_id,
            }
        )
    problems += _check_decryption()
    files = list(_media_files(media_root)) if media_root.is_dir() else []
    if len(files) != manifest["media"]["files"]:
        problems.append(
            _("media: %(got)d files, the backup had %(expected)d")
            % {"got": len(files), "expected": manifest["media"]["files"]}
        )
    problems += _check_sealed_files(files, media_root)
    return problems, notes


def _check_sealed_files(files: list[Path], media_root: Path) -> list[str]:
    """Open the first chunk of one sealed file per purpose with the configured keys."""
    problems: list[str] = []
    seen: set[str] = set()
    for path in files:
        purpose = _file_purpose(path, media_root)
        if purpose in seen or sealed.sealed_version(path) is None:
            continue
        seen.add(purpose)
        try:
            with path.open("rb") as fh:
                next(iter(sealed.unseal_chunks(fh, purpose=purpose)), b"")
        except Exception as exc:  # a wrong or missing key, a damaged file: unreadable
            problems.append(
                _("media: %(file)s does not decrypt with the configured keys (%(error)s)")
                % {"file": path.relative_to(media_root), "error": type(exc).__name__}
            )
    return problems


def _check_decryption() -> list[str]:
    """Decrypt one value of every encrypted column with the configured keys."""
    problems = []
    for model, prefix, purpose in SEALED:
        manager = model._default_manager  # type: ignore[attr-defined]
        label = f"{model._meta.label}.{prefix}"  # type: ignore[attr-defined]
        fields = ["pk", f"{prefix}_cipher", f"{prefix}_key"]
        has_index = any(f.name == f"{prefix}_index" for f in model._meta.fields)  # type: ignore[attr-defined]
        if has_index:
            fields.append(f"{prefix}_index")
        row = (
            manager.filter(**{f"{prefix}_cipher__isnull": False})
            .only(*fields)
            .order_by("-pk")
            .first()
        )
        if row is None:
            continue
        try:
            plain = unseal(row, prefix=prefix, purpose=purpose)
        except Exception as exc:  # InvalidTag, a missing key version: either way unreadable
            problems.append(
                _("%(column)s: row %(pk)s does not decrypt with the configured keys (%(error)s)")
                % {"column": label, "pk": row.pk, "error": type(exc).__name__}
            )
            continue
        index = getattr(row, f"{prefix}_index") if has_index else None
        if index and crypto.blind_index(plain, purpose=purpose) != index:
            problems.append(
                _(
                    "%(column)s: row %(pk)s does not match its search index: "
                    "JINGZHUN_BLIND_INDEX_KEY is not the key the data was indexed with"
                )
                % {"column": label, "pk": row.pk}
            )
    return problems


def restore(
    archive: Path,
    *,
    force: bool = False,
    pg_bin: str | None = None,
    no_privileges: bool = False,
    echo: Echo = print,
) -> Outcome:
    """Restore an archive into the configured database and MEDIA_ROOT, then verify it."""
    vendor = _vendor()
    media_root = Path(settings.MEDIA_ROOT).resolve()
    scratch = media_root.parent if media_root.parent.is_dir() else None
    with tempfile.TemporaryDirectory(dir=scratch, prefix=".jingzhun-restore-") as tmp:
        work = Path(tmp)
        echo(_("Checking %(file)s…") % {"file": archive})
        manifest = read_archive(archive, work)
        _check_compatible(manifest, vendor)
        if vendor == "postgresql":
            find_pg_tool("pg_restore", pg_bin)  # fail before anything changes
        occupied = _occupied(vendor, media_root)
        if occupied and not force:
            raise BackupError(
                _(
                    "Nothing was restored: %(what)s. Restore into an empty database and media "
                    "directory, or give --force to replace them."
                )
                % {"what": "; ".join(occupied)}
            )
        echo(_("Restoring the database…"))
        if vendor == "sqlite":
            _restore_sqlite(work)
        else:
            _restore_postgresql(work, force=force, pg_bin=pg_bin, no_privileges=no_privileges)
        echo(_("Restoring the uploaded files…"))
        _restore_media(work, media_root)
    connections.close_all()
    echo(_("Verifying…"))
    problems, notes = verify(manifest, media_root)
    outcome = Outcome(path=archive, manifest=manifest, problems=problems, notes=notes)
    pending = _unapplied_migrations()
    if pending:
        outcome.notes.append(
            _("This version has %(n)d migration(s) the backup had not: run `jingzhun migrate`.")
            % {"n": len(pending)}
        )
    if not problems:
        audit_record(
            actor=None,
            actor_name="cli",
            action="backup.restored",
            data={
                "file": archive.name,
                "created_at": manifest["created_at"],
                "app_version": manifest["app_version"],
                "audit_last_id": manifest["audit"]["last_id"],
            },
        )
        if not notes:
            # The restored chain, just verified, is the one later checkpoints continue.
            checkpoint = take_checkpoint()
            if checkpoint is not None:
                append_checkpoint(checkpoint)
    return outcome


def _unapplied_migrations() -> list[tuple[str, str]]:
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    return sorted(set(loader.disk_migrations) - set(loader.applied_migrations or ()))


def describe(manifest: dict[str, Any]) -> str:
    """One line about an archive's content."""
    created = dt.datetime.fromisoformat(manifest["created_at"])
    return _(
        "%(engine)s database of %(created)s (version %(version)s): %(tables)d tables, "
        "%(rows)d rows, audit chain to event #%(audit)s; %(files)d uploaded files."
    ) % {
        "engine": manifest["engine"],
        "created": timezone.localtime(created).strftime("%Y-%m-%d %H:%M:%S"),
        "version": manifest["app_version"],
        "tables": len(manifest["tables"]),
        "rows": sum(manifest["tables"].values()),
        "audit": manifest["audit"]["last_id"] or "-",
        "files": manifest["media"]["files"],
    }

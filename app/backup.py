"""Consistent online backups of the SQLite database, and restoring one. PostgreSQL has its own tools
(pg_dump / pg_restore, see README); this refuses to pretend otherwise."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from app.extensions import db


class BackupRefused(Exception):
    pass


def sqlite_path() -> Path:
    url = make_url(str(db.engine.url))
    if url.get_backend_name() != "sqlite":
        raise BackupRefused("this database is PostgreSQL: use pg_dump -Fc and pg_restore (see README, Backups)")
    if not url.database or url.database == ":memory:":
        raise BackupRefused("an in-memory database cannot be backed up")
    return Path(url.database)


def create_backup(target: Path) -> int:
    """Copy the live database page by page with SQLite's online backup API (writers may go on meanwhile);
    the copy is checked with PRAGMA integrity_check. Returns its size in bytes."""
    source_path = sqlite_path()
    if target.resolve() == source_path.resolve():
        raise BackupRefused("the backup must not overwrite the database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".partial")
    partial.unlink(missing_ok=True)
    with sqlite3.connect(source_path) as source, sqlite3.connect(partial) as copy:
        source.backup(copy)
        if copy.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupRefused("the copy failed its integrity check")
    partial.replace(target)
    return target.stat().st_size


def restore_backup(backup: Path) -> None:
    """Replace the database's contents with the backup's (stop the server and timer workers first)."""
    target = sqlite_path()
    with sqlite3.connect(backup) as check:
        try:
            ok = check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            has_schema = check.execute("SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"
                                       ).fetchone()[0] == 1
        except sqlite3.DatabaseError as exc:
            raise BackupRefused(f"not a SQLite backup: {exc}") from exc
    if not ok or not has_schema:
        raise BackupRefused("not a backup of this application (integrity check or schema missing)")
    db.session.remove()
    db.engine.dispose()
    with sqlite3.connect(backup) as source, sqlite3.connect(target) as destination:
        source.backup(destination)

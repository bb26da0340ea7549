"""Liveness and readiness.

`/healthz` says the process answers (no database). `/readyz` says this node can serve: the database
answers within `SSO_READY_TIMEOUT` seconds and its schema is at the newest migration. The check runs on
its own connection (never one from the app's pool, which could be busy or stale) in a helper thread, so
a frozen database answers 503 on time instead of holding the worker; while one check is still stuck, the
next ones answer 503 at once rather than piling up threads.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool


@dataclass
class Verdict:
    """The answer of one readiness check."""

    ready: bool
    database: str
    migration: str | None = None


def probe_engine(url: str, timeout: float) -> Engine:
    """An unpooled engine whose connect (and, on PostgreSQL, each statement) gives up after `timeout`."""
    parsed = make_url(url)
    seconds = max(1, math.ceil(timeout))
    if parsed.get_backend_name() == "sqlite":
        return create_engine(url, poolclass=NullPool, connect_args={"timeout": timeout}, hide_parameters=True)
    return create_engine(
        url,
        poolclass=NullPool,
        hide_parameters=True,
        connect_args={"connect_timeout": seconds, "options": f"-c statement_timeout={int(timeout * 1000)}"},
    )


MIGRATION_FILES = Path(__file__).resolve().parent.parent / "migrations" / "versions"
_REVISION = re.compile(r"^(revision|down_revision)\s*=\s*['\"]?([^'\"\s]*)['\"]?", re.MULTILINE)


def head_revision() -> str | None:
    """The newest migration this code ships: the revision no other revises (read from the files, so a worker
    never loads Alembic, which only `init-db` needs)."""
    revisions, revised = set(), set()
    for path in MIGRATION_FILES.glob("*.py"):
        found = dict(_REVISION.findall(path.read_text()))
        if found.get("revision"):
            revisions.add(found["revision"])
            revised.add(found.get("down_revision"))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


class Readiness:
    """Readiness checks against one database URL, at most one in flight."""

    def __init__(self, url: str, timeout: float):
        self.url = url
        self.timeout = timeout
        self.engine = probe_engine(url, timeout)
        self.head = head_revision()
        self._lock = threading.Lock()
        self._running: threading.Thread | None = None

    def _sqlite_file_missing(self) -> bool:
        parsed = make_url(self.url)
        database = parsed.database or ""
        return (
            parsed.get_backend_name() == "sqlite"
            and database not in ("", ":memory:")
            and not database.startswith("file:")
            and not Path(database).exists()
        )

    def _query(self) -> Verdict:
        if self._sqlite_file_missing():
            return Verdict(False, "database file not found")
        try:
            with self.engine.connect() as conn:
                current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception as exc:  # any failure means "not ready"; the class name says which
            return Verdict(False, f"unreachable ({type(exc).__name__})")
        if current != self.head:
            return Verdict(False, "ok", f"{current or 'none'} (code expects {self.head})")
        return Verdict(True, "ok", current)

    def check(self) -> Verdict:
        """Run one check, waiting at most `timeout` seconds for it."""
        with self._lock:
            if self._running is not None and self._running.is_alive():
                return Verdict(False, "a previous check is still waiting for the database")
            result: list[Verdict] = []
            thread = threading.Thread(target=lambda: result.append(self._query()), name="sso-readyz", daemon=True)
            self._running = thread
            thread.start()
        thread.join(self.timeout)
        if not result:
            return Verdict(False, f"no answer within {self.timeout:g} s")
        return result[0]

"""Engine and connection helpers kept in app.extensions; no global session.

A database that cannot answer in time (stopped, frozen, locked) never holds a request long: every
transaction opened with `reading`/`writing` has a deadline (`SSO_DB_TIMEOUT`), PostgreSQL gets connect,
statement and lock timeouts and the pool a checkout timeout, SQLite a short busy timeout; whatever of
these fires becomes `DatabaseUnavailable`, which the API answers as 503 with `Retry-After` and the
console as a 503 page. The broken connection is dropped, so the next request after the database is
back simply works: no restart.
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

WRITE_OPTION = "sso_write"

# The defaults of the settings of the same names (see webapp/config.py and the README).
DEFAULT_TIMEOUTS = {"SSO_DB_TIMEOUT": 3000, "SSO_DB_CONNECT_TIMEOUT": 2, "SSO_DB_LOCK_TIMEOUT": 2000,
                    "SSO_DB_POOL_TIMEOUT": 2, "SSO_SQLITE_BUSY_TIMEOUT": 2000, "SSO_DB_RETRY_AFTER": 5}


class DatabaseUnavailable(Exception):
    """The database could not serve this request in time; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int, reason: str):
        self.retry_after = retry_after
        self.reason = reason  # for the log: the exception's class, never its message (it may quote SQL)
        super().__init__(f"database unavailable ({reason})")


class _Deadline(BaseException):
    """Raised by the alarm inside a blocked database call. A BaseException, so psycopg does not try to
    cancel the query first and SQLAlchemy drops the connection rather than reuse it."""


def make_engine(url: str, settings: Mapping[str, Any] | None = None) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys, a busy timeout and IMMEDIATE writes.

    With `settings` (the app's), the timeouts above apply; without (migrations, test set-up) only
    SQLite's busy timeout does."""
    timeouts = {**DEFAULT_TIMEOUTS, **{k: v for k, v in (settings or {}).items() if k in DEFAULT_TIMEOUTS}}
    parsed = make_url(url)
    # hide_parameters: SQL logging and DB errors must never show bound values (password hashes).
    if parsed.get_backend_name() != "sqlite":
        connect_args: dict[str, Any] = {}
        if settings is not None:
            statement = max(1, timeouts["SSO_DB_TIMEOUT"])
            lock = max(1, min(timeouts["SSO_DB_LOCK_TIMEOUT"], statement))
            connect_args = {"connect_timeout": max(2, timeouts["SSO_DB_CONNECT_TIMEOUT"]),
                            "options": f"-c statement_timeout={statement} -c lock_timeout={lock} "
                                       f"-c idle_in_transaction_session_timeout={max(statement * 2, 10000)}"}
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True,
                               pool_timeout=timeouts["SSO_DB_POOL_TIMEOUT"], connect_args=connect_args)
    else:
        busy = timeouts["SSO_SQLITE_BUSY_TIMEOUT"] if settings is not None else 30000
        engine = create_engine(url, connect_args={"timeout": busy / 1000, "check_same_thread": False},
                               hide_parameters=True)
        _sqlite_events(engine, busy)
    engine.sso_deadline = timeouts["SSO_DB_TIMEOUT"] / 1000 if settings is not None else 0  # type: ignore[attr-defined]
    engine.sso_retry_after = timeouts["SSO_DB_RETRY_AFTER"]  # type: ignore[attr-defined]
    return engine


def _sqlite_events(engine: Engine, busy_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection):
        # Writers take the lock up front: a deferred transaction that upgrades to a writer
        # fails at once with "database is locked" when another writer got there first.
        immediate = conn.get_execution_options().get(WRITE_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_depth = threading.local()


def _on_alarm(_signum, _frame):
    raise _Deadline()


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt whatever the database call is waiting for after `seconds` (main thread only: gunicorn's
    sync workers and the test client; elsewhere the server-side timeouts alone apply)."""
    if (seconds <= 0 or getattr(_depth, "value", 0) or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    _depth.value = 1
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _depth.value = 0


def _unavailable(engine: Engine, reason: BaseException) -> DatabaseUnavailable:
    return DatabaseUnavailable(getattr(engine, "sso_retry_after", 5), type(reason).__name__)


@contextmanager
def _guarded(engine: Engine) -> Iterator[None]:
    """The deadline around one transaction, and every way a database can fail to answer as
    DatabaseUnavailable (a constraint violation and the like pass through unchanged)."""
    try:
        with _deadline(getattr(engine, "sso_deadline", 0)):
            yield
    except _Deadline as exc:
        raise _unavailable(engine, exc) from None
    except (sa_exc.OperationalError, sa_exc.TimeoutError, sa_exc.InterfaceError) as exc:
        raise _unavailable(engine, exc) from None
    except sa_exc.DBAPIError as exc:
        if exc.connection_invalidated:
            raise _unavailable(engine, exc) from None
        raise


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read transaction (rolled back at the end; it never writes)."""
    with _guarded(engine):
        with engine.connect() as conn:
            with conn.begin():
                yield conn


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction: committed when the block ends normally, rolled back otherwise."""
    with _guarded(engine):
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
            with conn.begin():
                yield conn

"""Engine and connection helpers kept in app.extensions; no global session.

A database that cannot answer in time (stopped, frozen, locked) never holds a request long: every
transaction opened with `reading`/`writing` has a deadline (`SSO_DB_TIMEOUT`), getting its connection a
shorter one (`SSO_DB_CONNECT_DEADLINE`: a frozen server must not hold every new connection), PostgreSQL gets
connect, statement and lock timeouts and the pool a checkout timeout, SQLite a short busy timeout; whatever of
these fires becomes `DatabaseUnavailable`, which the API answers as 503 with `Retry-After` and the
console as a 503 page. The broken connection is dropped, so the next request after the database is
back simply works: no restart.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

WRITE_OPTION = "sso_write"
REPEAT = 0.05  # seconds between further alarms once a deadline has passed
# A pooled PostgreSQL connection idle this long is pinged before use (a restart or a dropped link is found
# before the request's first statement). A busy worker's connections are never idle that long, so the
# requests under load make no extra round trip; a failure in the middle of load is caught as any other
# disconnect (the request answers 503 and the pool starts afresh).
PING_AFTER_IDLE = 10.0

# The defaults of the settings of the same names (see webapp/config.py and the README).
DEFAULT_TIMEOUTS = {
    "SSO_DB_TIMEOUT": 3000,
    "SSO_DB_CONNECT_TIMEOUT": 2,
    "SSO_DB_CONNECT_DEADLINE": 1000,
    "SSO_DB_LOCK_TIMEOUT": 2000,
    "SSO_DB_POOL_TIMEOUT": 2,
    "SSO_SQLITE_BUSY_TIMEOUT": 2000,
    "SSO_DB_RETRY_AFTER": 5,
}


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
            connect_args = {
                "connect_timeout": max(2, timeouts["SSO_DB_CONNECT_TIMEOUT"]),
                "options": f"-c statement_timeout={statement} -c lock_timeout={lock} "
                f"-c idle_in_transaction_session_timeout={max(statement * 2, 10000)}",
            }
        engine = create_engine(
            url,
            pool_size=10,
            max_overflow=20,
            hide_parameters=True,
            pool_timeout=timeouts["SSO_DB_POOL_TIMEOUT"],
            connect_args=connect_args,
        )
        _ping_idle_connections(engine)
    else:
        busy = timeouts["SSO_SQLITE_BUSY_TIMEOUT"] if settings is not None else 30000
        engine = create_engine(
            url, connect_args={"timeout": busy / 1000, "check_same_thread": False}, hide_parameters=True
        )
        _sqlite_events(engine, busy)
    engine.sso_deadline = timeouts["SSO_DB_TIMEOUT"] / 1000 if settings is not None else 0  # type: ignore[attr-defined]
    # Getting a connection (a new one, or an idle pooled one pinged) has its own, shorter bound: libpq's
    # connect_timeout cannot go below 2 s and applies to each address tried (issue 31 #13).
    is_server = parsed.get_backend_name() != "sqlite" and settings is not None
    engine.sso_connect_deadline = timeouts["SSO_DB_CONNECT_DEADLINE"] / 1000 if is_server else 0  # type: ignore[attr-defined]
    engine.sso_retry_after = timeouts["SSO_DB_RETRY_AFTER"]  # type: ignore[attr-defined]
    return engine


def _ping_idle_connections(engine: Engine) -> None:
    """Pre-ping, but only a connection that sat idle for `PING_AFTER_IDLE` seconds (see above)."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy):
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_connection.rollback()
        except Exception as error:  # any failure: the pool drops this connection and makes a new one
            raise sa_exc.DisconnectionError() from error


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


_state = threading.local()  # armed: a deadline is running; fired: it has passed


def _on_alarm(_signum, _frame):
    if getattr(_state, "armed", False):
        _state.fired = True
        # Once past the deadline, fire again soon: the clean-up must not block on the hung server either.
        signal.setitimer(signal.ITIMER_REAL, REPEAT)
        raise _Deadline()


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt whatever the database call is waiting for after `seconds` (main thread only: gunicorn's
    sync workers and the test client; elsewhere the server-side timeouts alone apply). The handler
    stays installed and does nothing while no deadline is armed."""
    if (
        seconds <= 0
        or getattr(_state, "armed", False)
        or not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    if signal.getsignal(signal.SIGALRM) is not _on_alarm:
        signal.signal(signal.SIGALRM, _on_alarm)
    _state.fired = False
    _state.armed = True
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        try:
            _state.armed = False  # (an alarm may still raise here, before this line: hence the inner finally)
        finally:
            _state.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)


@contextmanager
def _shortened(seconds: float) -> Iterator[None]:
    """Inside an armed deadline: let what runs here take at most `seconds` (the deadline itself still
    holds, and when it is nearer nothing changes). Past it, the same alarm fires as for the deadline."""
    if seconds <= 0 or not getattr(_state, "armed", False):
        yield
        return
    remaining = signal.getitimer(signal.ITIMER_REAL)[0]
    if remaining <= seconds:
        yield
        return
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        if not getattr(_state, "fired", False):
            signal.setitimer(signal.ITIMER_REAL, max(remaining - (time.monotonic() - started), 0.001))


def _unavailable(engine: Engine, reason: BaseException) -> DatabaseUnavailable:
    return DatabaseUnavailable(getattr(engine, "sso_retry_after", 5), type(reason).__name__)


@contextmanager
def _transaction(engine: Engine, **options: Any) -> Iterator[Connection]:
    """One transaction under the deadline; every way a database can fail to answer becomes
    DatabaseUnavailable (a constraint violation and the like pass through unchanged)."""
    try:
        with _deadline(getattr(engine, "sso_deadline", 0)):
            with _shortened(getattr(engine, "sso_connect_deadline", 0)):
                conn = engine.connect().execution_options(**options)
            transaction = None
            try:
                transaction = conn.begin()
                yield conn
                transaction.commit()
            except BaseException:
                if getattr(_state, "fired", False):
                    # No ROLLBACK to a server that does not answer: the connection is dropped instead,
                    # so nothing tries to reset it later either.
                    conn.invalidate()
                elif transaction is not None and transaction.is_active:
                    transaction.rollback()
                raise
            finally:
                conn.close()
    except BaseException as exc:
        _raise_failure(engine, exc)


def _raise_failure(engine: Engine, exc: BaseException) -> NoReturn:
    """Raise what a failed transaction of `engine` answers: DatabaseUnavailable when the database did not
    answer in time or at all, else `exc` itself."""
    if getattr(_state, "fired", False):
        _state.fired = False
        # The other pooled connections lead to the same hung server: drop them all (a sync worker
        # serves one request at a time, so none is in use).
        engine.dispose()
        raise _unavailable(engine, exc) from None
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.TimeoutError, sa_exc.InterfaceError)) or (
        isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated
    ):
        raise _unavailable(engine, exc) from None
    raise exc


# --- One read transaction per request (issue 30) ---
#
# Inside `read_scope()` (every Flask request: webapp.init_request_scope) the `reading` blocks of one engine
# share one read transaction, begun by the first and ended when the scope ends, so a request that looks up
# its caller, the target and the page's own data reads them in one transaction and one pool checkout
# instead of one each. A write ends it first (or, when the write runs inside an open read block, such as
# a session's last-use mark, right after that block), so a read after a write sees the write; a read
# inside a write transaction, a failure in a read block (the transaction is rolled back and the next read
# begins afresh) and `reading(engine, alone=True)` (a streamed export's batches) keep their own
# transactions, as outside any scope (the command line, the service's own tests).


@dataclass(eq=False)
class _SharedRead:
    engine: Engine
    conn: Connection
    transaction: Any
    open_blocks: int = 0  # `reading` blocks now inside it
    stale: bool = False  # a write committed while a block was open: end it when that block ends


_shared_reads: ContextVar[dict[int, _SharedRead] | None] = ContextVar("sso_shared_reads", default=None)
_open_writes: ContextVar[int] = ContextVar("sso_open_writes", default=0)


@contextmanager
def read_scope() -> Iterator[None]:
    """Within this block, `reading` blocks share one read transaction per engine (see above)."""
    token = _shared_reads.set({})
    try:
        yield
    finally:
        shared = _shared_reads.get() or {}
        _shared_reads.reset(token)
        for read in list(shared.values()):
            _end_shared(read)


def _end_shared(read: _SharedRead) -> None:
    """End a shared read as `reading` ends its transaction. A read changed nothing, so a database that
    fails to answer now loses nothing: its connection is dropped and the request goes on."""
    engine = read.engine
    try:
        with _deadline(getattr(engine, "sso_deadline", 0)):
            try:
                if read.transaction.is_active:
                    read.transaction.commit()
            finally:
                read.conn.close()
    except (Exception, _Deadline):
        if getattr(_state, "fired", False):
            _state.fired = False
            engine.dispose()
        else:
            read.conn.invalidate()


def _end_shared_before_write(engine: Engine) -> None:
    shared = _shared_reads.get()
    read = shared.get(id(engine)) if shared else None
    if shared is None or read is None:
        return
    if read.open_blocks:
        read.stale = True  # still in use by the block the write runs in: ended when that block ends
    else:
        del shared[id(engine)]
        _end_shared(read)


@contextmanager
def reading(engine: Engine, *, alone: bool = False) -> Iterator[Connection]:
    """A read transaction (it never writes); inside `read_scope()` the request's shared one (see above)
    unless `alone`."""
    shared = _shared_reads.get()
    if shared is None or alone or _open_writes.get():
        with _transaction(engine) as conn:
            yield conn
        return
    read = shared.get(id(engine))
    if read is not None and read.open_blocks:  # nested in an open block, which handles any failure
        yield read.conn
        return
    try:
        with _deadline(getattr(engine, "sso_deadline", 0)):
            if read is None:
                with _shortened(getattr(engine, "sso_connect_deadline", 0)):
                    conn = engine.connect()
                try:
                    read = _SharedRead(engine, conn, conn.begin())
                except BaseException:
                    conn.invalidate() if getattr(_state, "fired", False) else conn.close()
                    raise
                shared[id(engine)] = read
            read.open_blocks = 1
            try:
                yield read.conn
            except BaseException:
                del shared[id(engine)]
                try:
                    if getattr(_state, "fired", False):
                        read.conn.invalidate()  # no ROLLBACK to a server that does not answer
                    elif read.transaction.is_active:
                        read.transaction.rollback()
                finally:
                    read.conn.close()
                raise
            finally:
                read.open_blocks = 0
            if read.stale:
                del shared[id(engine)]
                _end_shared(read)
    except BaseException as exc:
        _raise_failure(engine, exc)


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction: committed when the block ends normally, rolled back otherwise. Inside
    `read_scope()` it ends the shared read first, so what is read after it sees it."""
    _end_shared_before_write(engine)
    token = _open_writes.set(_open_writes.get() + 1)
    try:
        with _transaction(engine, **{WRITE_OPTION: True}) as conn:
            yield conn
    finally:
        _open_writes.reset(token)

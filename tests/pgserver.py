"""A throwaway PostgreSQL server for tests.

    with PostgresServer() as pg:
        pg.create_database("t1")
        engine = sqlalchemy.create_engine(pg.url("t1"))

Uses the newest /usr/lib/postgresql/*/bin (Debian's `postgresql` package, installed by
scripts/bootstrap.sh). The cluster lives in a temporary directory, listens only on
127.0.0.1 on a free port (plus a unix socket inside the temp dir), trusts every local
connection, and runs with durability switched off for speed. As root, initdb / pg_ctl run as
the `postgres` OS user via `runuser` (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import atexit
import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile

__all__ = ["PostgresServer", "PostgresUnavailable", "find_pg_bin"]


class PostgresUnavailable(RuntimeError):
    """PostgreSQL server binaries are not installed (or cannot be run)."""


def find_pg_bin() -> str:
    """Return the newest /usr/lib/postgresql/<version>/bin that has a `postgres` binary."""

    def version_key(path: str) -> tuple[int, ...]:
        version = path.split("/")[-3]
        return tuple(int(part) for part in re.findall(r"\d+", version)) or (0,)

    candidates = [os.path.dirname(p) for p in glob.glob("/usr/lib/postgresql/*/bin/postgres") if os.access(p, os.X_OK)]
    if not candidates:
        raise PostgresUnavailable(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin; run scripts/bootstrap.sh"
        )
    return max(candidates, key=version_key)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A private PostgreSQL cluster; use as a context manager or call start() / stop()."""

    OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"

    def __init__(self, *, bindir: str | None = None, extra_options: str = "") -> None:
        self.bindir = bindir
        self.extra_options = extra_options
        self.port: int | None = None
        self.tmpdir: str | None = None
        self.datadir: str | None = None
        self.logfile: str | None = None
        self._running = False
        self._as_postgres_user = os.geteuid() == 0

    # ------------------------------------------------------------------ helpers
    def _cmd(self, *args: str) -> list[str]:
        if self._as_postgres_user:
            runuser = shutil.which("runuser") or "/usr/sbin/runuser"
            return [runuser, "-u", "postgres", "--", *args]
        return list(args)

    def _tool(self, name: str) -> str:
        assert self.bindir is not None, "start() first"
        return os.path.join(self.bindir, name)

    def _cluster(self) -> tuple[str, str]:
        """(datadir, logfile) of a started cluster."""
        assert self.datadir is not None and self.logfile is not None, "start() first"
        return self.datadir, self.logfile

    def _run(self, *args: str, timeout: float = 120) -> None:
        assert self.tmpdir is not None, "start() first"
        out_path = os.path.join(self.tmpdir, "cmd.out")
        with open(out_path, "wb") as out:
            proc = subprocess.run(
                self._cmd(*args),
                cwd=self.tmpdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self._env(),
                timeout=timeout,
            )
        if proc.returncode != 0:
            with open(out_path, "rb") as f:
                output = f.read().decode(errors="replace")
            log = ""
            if self.logfile and os.path.exists(self.logfile):
                with open(self.logfile, "rb") as f:
                    log = f.read().decode(errors="replace")[-4000:]
            raise RuntimeError(f"{' '.join(args)} failed with exit code {proc.returncode}:\n{output}\n{log}")

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        env.pop("LANG", None)
        return env

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> PostgresServer:
        if self._running:
            return self
        if self.bindir is None:
            self.bindir = find_pg_bin()
        self.tmpdir = tempfile.mkdtemp(prefix="pgtest-")
        atexit.register(self.stop)
        try:
            if self._as_postgres_user:
                import pwd

                try:
                    pw = pwd.getpwnam("postgres")
                except KeyError:
                    raise PostgresUnavailable(
                        "running as root but there is no `postgres` OS user to run the server as"
                    ) from None
                os.chown(self.tmpdir, pw.pw_uid, pw.pw_gid)
            os.chmod(self.tmpdir, 0o700)
            self.datadir = os.path.join(self.tmpdir, "data")
            self.logfile = os.path.join(self.tmpdir, "postgres.log")
            self._run(
                os.path.join(self.bindir, "initdb"),
                "-D",
                self.datadir,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            )
            last_error: Exception | None = None
            for _attempt in range(5):  # the free port may be taken between probe and bind
                self.port = _free_port()
                options = (f"-h 127.0.0.1 -p {self.port} -k {self.tmpdir} {self.OPTIONS} {self.extra_options}").strip()
                try:
                    self._run(
                        os.path.join(self.bindir, "pg_ctl"),
                        "-D",
                        self.datadir,
                        "-l",
                        self.logfile,
                        "-o",
                        options,
                        "-w",
                        "-t",
                        "60",
                        "start",
                    )
                except RuntimeError as exc:
                    last_error = exc
                    continue
                self._running = True
                return self
            raise RuntimeError(f"could not start PostgreSQL: {last_error}")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._running and self.datadir:
            try:
                self._run(self._tool("pg_ctl"), "-D", self.datadir, "-m", "immediate", "-w", "stop", timeout=60)
            except Exception:
                pass
        self._running = False
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
        atexit.unregister(self.stop)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # ------------------------------------------------------------------ faults (tests of outages)
    def processes(self) -> list[int]:
        """The postmaster's pid and those of all its children (backends, background workers)."""
        datadir, _ = self._cluster()
        with open(os.path.join(datadir, "postmaster.pid")) as f:
            postmaster = int(f.readline())
        pids = [postmaster]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                if ppid == postmaster:
                    pids.append(int(entry))
        return pids

    def freeze(self) -> list[int]:
        """SIGSTOP the whole cluster: it keeps its sockets open but answers nothing (a hung server)."""
        import signal

        pids = self.processes()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        return pids

    def thaw(self, pids: list[int]) -> None:
        """SIGCONT what `freeze` stopped."""
        import signal

        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

    def halt(self) -> None:
        """Stop the server (fast shutdown) but keep its data, to `resume` on the same port."""
        datadir, _ = self._cluster()
        self._run(self._tool("pg_ctl"), "-D", datadir, "-m", "fast", "-w", "stop", timeout=60)

    def resume(self) -> None:
        """Start a `halt`ed server again on its port."""
        datadir, logfile = self._cluster()
        options = f"-h 127.0.0.1 -p {self.port} -k {self.tmpdir} {self.OPTIONS} {self.extra_options}".strip()
        self._run(self._tool("pg_ctl"), "-D", datadir, "-l", logfile, "-o", options, "-w", "-t", "60", "start")

    # ------------------------------------------------------------------ URLs / databases
    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL for `dbname`."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def dsn(self, dbname: str = "postgres") -> str:
        """libpq / psycopg connection string for `dbname`."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """Create database `name`; return its SQLAlchemy URL."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop database `name` (terminating its connections)."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

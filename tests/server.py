"""The service as it runs in production: gunicorn with two sync workers, on a loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
FLASK = str(Path(sys.executable).parent / "flask")


def console_session(base: str, username: str, password: str) -> requests.Session:
    """A `requests` session signed in to the console of the server at `base` through its login form."""
    from .web.html_forms import login_form  # tests/web imports this module's LiveServer

    http = requests.Session()
    filled = login_form(http.get(f"{base}/login", timeout=30).text, username, password)
    answer = http.post(f"{base}/login", data=filled.data(), allow_redirects=False, timeout=30)
    assert answer.status_code == 303, answer.text
    return http


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """Start `gunicorn -w 2 wsgi:app` with the given environment; `.url` is its base address.

    bench/run.py starts its nodes with this too (another `app`, `extra_args` such as --preload, its log,
    a fixed `port` from its --port-base)."""

    def __init__(
        self,
        env: dict[str, str],
        workers: int = 2,
        *,
        app: str = "wsgi:app",
        extra_args: tuple[str, ...] = (),
        log: Path | None = None,
        access_log: bool = True,
        worker: bool = False,
        port: int | None = None,
    ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env}
        self.workers = workers
        self.app = app
        self.extra_args = tuple(extra_args) + (("--access-logfile", "-") if access_log else ())
        self.process: subprocess.Popen | None = None
        self.log = log or ROOT / "test-results" / f"gunicorn-{self.port}.log"
        self.worker: OutboxWorker | None = (
            OutboxWorker(self.env, self.log.with_suffix(".worker.log")) if worker else None
        )

    def start(self) -> LiveServer:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> LiveServer:
        self.log.parent.mkdir(exist_ok=True)
        if self.worker is not None:
            self.worker.env = self.env  # what was set on the server after it was made (SSO_PUBLIC_URL) too
            self.worker.start()
        self.process = subprocess.Popen(
            [
                GUNICORN,
                "-w",
                str(self.workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--no-control-socket",
                *self.extra_args,
                self.app,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log}:\n{self.log.read_text()[-3000:]}")
            try:
                requests.get(self.url + "/zato/sso/openapi.json", timeout=10)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not start in time; see {self.log}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.worker is not None:
            self.worker.stop()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class OutboxWorker:
    """`flask --app webapp sso worker` with the given environment (the outbox's delivery, issue 27), as `make run`
    and production run it beside gunicorn."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env = {**os.environ, **env}
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> OutboxWorker:
        self.log.parent.mkdir(exist_ok=True)
        self.process = subprocess.Popen(
            [FLASK, "--app", "webapp", "sso", "worker"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as a crash."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def __enter__(self) -> OutboxWorker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# A low scrypt cost keeps the suite fast (~0.05 ms a hash; 2**10 took ~2.7 ms, and tests/core alone makes
# ~2,800); the tests of hashing itself use the real default.
TEST_SCRYPT_N = 2**4
# The database deadline (ms) of test servers: generous, so a busy machine does not turn slow answers into
# 503s; the fault tests set a short one.
TEST_DB_TIMEOUT = 30000


def server_env(db_url: str, fernet_key: str, **extra: str) -> dict[str, str]:
    """Environment for a production-like server on `db_url`."""
    return {
        "DATABASE_URL": db_url,
        "SECRET_KEY": "live-test-secret",
        "SSO_FERNET_KEYS": fernet_key,
        "SSO_APPS": "CRM,Console",
        "SSO_SCRYPT_N": str(TEST_SCRYPT_N),
        "SSO_DB_TIMEOUT": str(TEST_DB_TIMEOUT),
        "SSO_DB_CONNECT_DEADLINE": str(TEST_DB_TIMEOUT),  # a new connection on a loaded machine too
        **extra,
    }

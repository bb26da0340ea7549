"""Production defaults for gunicorn, read automatically from the working directory (`gunicorn wsgi:app`).

Every value can be overridden on the command line (`-w 4`, `-b 0.0.0.0:9000`) or through
GUNICORN_CMD_ARGS. What it reads from the environment:

  HOST, PORT            where to listen (default 127.0.0.1:8000; behind a proxy on another host use 0.0.0.0)
  WEB_CONCURRENCY       number of worker processes (default: 2 per CPU core + 1, at most 12)
  SSO_TRUSTED_PROXIES   0 (default): trust no forwarding header at all; N > 0: N proxies in front, whose
                        X-Forwarded-* the app applies (ProxyFix) and whose X-Forwarded-Proto gunicorn honours
  SSO_FORWARDED_ALLOW_IPS  the proxies' addresses or networks, when SSO_TRUSTED_PROXIES > 0
                        (default 127.0.0.1,::1: a proxy on the same host)
  PROMETHEUS_MULTIPROC_DIR  where the workers keep their metrics (emptied at start); a private temporary
                        directory when unset
"""

from __future__ import annotations

import gc
import glob
import logging
import multiprocessing
import os
import shutil
import tempfile

from gunicorn.glogging import Logger


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


bind = [f"{os.environ.get('HOST') or '127.0.0.1'}:{_int('PORT', 8000)}"]
workers = _int("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 12))
worker_class = "sync"
timeout = 30  # a worker silent for this long is killed and replaced
graceful_timeout = 30  # time to finish requests in flight on SIGTERM / reload
keepalive = 5  # seconds; keep it above nothing, below the proxy's upstream idle timeout
limit_request_line = 8190
limit_request_fields = 100
control_socket_disable = True  # gunicorn 27 would share ~/.gunicorn/gunicorn.ctl between instances

# Forwarding headers are believed only from configured proxies.
if _int("SSO_TRUSTED_PROXIES", 0) > 0:
    forwarded_allow_ips = os.environ.get("SSO_FORWARDED_ALLOW_IPS") or "127.0.0.1,::1"
else:
    forwarded_allow_ips = ""

# The app writes one structured line per request itself (webapp/ops/requestlog.py): no access log by
# default. `--access-logfile -` still works, without probes at INFO and without query strings.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("SSO_LOG_LEVEL", "info").lower()

QUIET_PATHS = ("/healthz", "/readyz", "/metrics")


class AccessLogger(Logger):
    """Gunicorn's logger, whose access lines skip health probes at INFO and never show a query string."""

    def access(self, resp, req, environ, request_time):
        if environ.get("PATH_INFO") in QUIET_PATHS and self.error_log.getEffectiveLevel() > logging.DEBUG:
            return
        super().access(resp, req, environ, request_time)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # The query may carry a UST (GET accepts query parameters): log the path only.
        atoms["r"] = f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')} {environ.get('SERVER_PROTOCOL', '')}"
        atoms["U"] = environ.get("PATH_INFO", "")
        atoms["q"] = ""
        return atoms


logger_class = AccessLogger

# Prometheus multiprocess mode: the directory must exist before the workers import prometheus_client.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="sso-metrics-")
    _made_metrics_dir = True
else:
    _made_metrics_dir = False


def on_starting(server):
    """Start with empty metrics: old workers' files would add stale counts."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for path in glob.glob(os.path.join(directory, "*.db")):
        os.remove(path)


def _freeze_what_start_made() -> None:
    """What importing and building the app made (modules, templates, tables, compiled statements) lives as
    long as the process: collect once, then move it out of the collector's sight (issue 30). A full collection
    then walks only what requests made since, not the ~110,000 objects of the app (tens of milliseconds,
    landing on whichever request triggered it); and with `--preload` the workers' collections no longer write
    to the pages they share with the master, which keeps those pages shared (PSS)."""
    gc.collect()
    gc.freeze()


def pre_fork(server, worker):
    """In the master before each worker: with `--preload` the app is here already (else this is cheap)."""
    _freeze_what_start_made()


def post_worker_init(worker):
    """In the worker, its app loaded (without `--preload`, by the worker itself)."""
    _freeze_what_start_made()


def child_exit(server, worker):
    """A worker's counters stay counted after it exits; only its live gauges go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)

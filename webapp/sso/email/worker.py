"""The outbox's delivery worker (`flask --app webapp sso worker`, issue 27): claims due messages oldest first,
hands each to the SMTP server, and records the outcome, one message per transaction.

- The server cannot be reached (refused, timed out, our login refused): nothing is lost and nothing is reordered.
  The message keeps its place, the rest of the batch is given back, and the worker waits before trying again,
  twice as long each time (`SSO_OUTBOX_BACKOFF_MS`, doubling up to `SSO_OUTBOX_BACKOFF_MAX_MS`); once the server
  answers, the queue goes out in order of creation.
- The server refuses one message for now (4xx): that message waits, twice as long after each try, and is marked
  failed after `SSO_OUTBOX_MAX_ATTEMPTS` tries; for good (5xx, a malformed address): failed at once. A super-user
  can queue a failed message again from the console.
- Several workers at once: on PostgreSQL each claim skips the rows another worker holds (SKIP LOCKED). On SQLite
  run one worker (claims are serialised by the write lock, so a second is safe but only competes with the app for
  it). A killed worker's claims come free when their lease (`SSO_OUTBOX_LEASE`) runs out.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from typing import Any

from ..kernel.context import Context
from . import outbox
from .mail import PERMANENT, TRANSPORT, Batch, Mailer, MailNotSent, Message

log = logging.getLogger("webapp.mail")


def worker_name() -> str:
    """host:pid:random, to tell one worker's claims from another's."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    """Delivers the outbox through `mailer` until `stop` is set."""

    def __init__(self, ctx: Context, mailer: Mailer, *, stop: threading.Event | None = None, name: str | None = None):
        settings = ctx.settings
        self.ctx, self.mailer = ctx, mailer
        self.stop = stop or threading.Event()
        self.name = name or worker_name()
        self.batch = settings.get("SSO_OUTBOX_BATCH", 20)
        self.poll = settings.get("SSO_OUTBOX_POLL_MS", 1000) / 1000
        self.lease = settings.get("SSO_OUTBOX_LEASE", 120)
        self.backoff_first = settings.get("SSO_OUTBOX_BACKOFF_MS", 1000) / 1000
        self.backoff_max = settings.get("SSO_OUTBOX_BACKOFF_MAX_MS", 300_000) / 1000
        self.max_attempts = settings.get("SSO_OUTBOX_MAX_ATTEMPTS", 10)
        self.smtp_timeout = float(settings.get("SSO_SMTP_TIMEOUT", 10))
        self.unreachable = 0  # batches in a row that found the server (or the database) unreachable
        self.blocked = False  # the last batch stopped at an unreachable server

    def backoff(self, tries: int) -> float:
        """Seconds to wait after `tries` failures in a row: first, 2 × first, 4 × first, ... up to the maximum."""
        return min(self.backoff_max, self.backoff_first * 2 ** max(0, tries - 1))

    def run_once(self) -> int:
        """Claim one batch and try each of its messages; the number tried. A message is only started while its
        lease leaves room for a whole SMTP conversation, so no other worker can take it meanwhile."""
        self.blocked = False
        claimed = outbox.claim(self.ctx, self.name, self.batch, self.lease)
        deadline = time.monotonic() + self.lease
        tried = 0
        with self.mailer.batch() as connection:  # one SMTP connection for the batch
            for position, message in enumerate(claimed):
                if self.stop.is_set() or time.monotonic() + self.smtp_timeout + 1 > deadline:
                    outbox.release(self.ctx, [m.id for m in claimed[position:]], self.name)
                    break
                tried += 1
                if not self._deliver(message, connection):
                    outbox.release(self.ctx, [m.id for m in claimed[position + 1 :]], self.name)
                    break
        return tried

    def _deliver(self, message: outbox.Claimed, connection: Batch) -> bool:
        """Try one message and record the outcome; False when the server could not be reached (stop the batch)."""
        about = f"outbox message {message.id} ({message.message_id})"
        try:
            connection.send(
                Message(message.recipient, message.subject, message.text, message.html, message.kind),
                about=about,
                message_id=message.message_id,
                date=message.creation_time,
            )
        except MailNotSent as failure:
            if failure.kind == TRANSPORT:
                self.blocked = True
                outbox.mark_retry(self.ctx, message.id, self.name, str(failure), delay=None, give_up=False)
                return False
            attempts = message.attempts + 1
            give_up = failure.kind == PERMANENT or attempts >= self.max_attempts
            outbox.mark_retry(
                self.ctx, message.id, self.name, str(failure), delay=self.backoff(attempts), give_up=give_up
            )
            if give_up:
                log.error("%s failed for good after %d tries: %s", about, attempts, failure)
            return True
        if not outbox.mark_sent(self.ctx, message.id, self.name):
            log.warning("%s was sent after its lease ran out; another worker may send it again", about)
        return True

    def run(self) -> None:
        """Deliver until `stop` is set: a full batch is followed at once by the next, an empty one waits
        `SSO_OUTBOX_POLL_MS`, an unreachable server the backoff."""
        log.info("outbox worker %s started", self.name)
        self.mailer.announce()  # only the worker sends, so only it says where mail goes (a warning without SMTP)
        while not self.stop.is_set():
            try:
                tried = self.run_once()
                failed = self.blocked
            except Exception as exc:  # the database went away: say so and try again later, never die
                log.error("outbox worker: %s: %s", type(exc).__name__, str(exc)[:300])
                tried, failed = 0, True
            if failed:
                self.unreachable += 1
                wait = self.backoff(self.unreachable)
                log.warning("outbox worker: the SMTP server or the database is unreachable; next try in %.1f s", wait)
                self.stop.wait(wait)
                continue
            self.unreachable = 0
            if tried < self.batch:
                self.stop.wait(self.poll)
        log.info("outbox worker %s stopped", self.name)


def run_until_empty(ctx: Context, mailer: Mailer, *, timeout: float = 30.0, **options: Any) -> int:
    """Deliver everything due now (tests and `worker --once`); the number of messages tried."""
    worker = Worker(ctx, mailer, **options)
    total, deadline = 0, time.monotonic() + timeout
    while time.monotonic() < deadline:
        tried = worker.run_once()
        total += tried
        if tried == 0 or worker.blocked:
            break
    return total

"""The transactional outbox and its worker (issue 27) on both databases, delivering to a real SMTP server on loopback.

The crash, outage and slow-server cases run the real processes: tests/ops/test_outbox_delivery.py."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from webapp.db import reading, writing
from webapp.sso import Call, Code, Kind
from webapp.sso.email import outbox as outbox_service
from webapp.sso.email.mail import Mailer, Message
from webapp.sso.email.worker import Worker, run_until_empty
from webapp.sso.kernel.tables import outbox

from .helpers import ADDR, APP, CID, audit_of, frozen_clock, outbox_rows, refused


def as_caller(sso, ust: str):
    """The service on behalf of the session `ust` (the outbox's calls are the console's, not SPEC's Python API)."""
    return sso.serve(Call(cid=CID, ust=ust, current_app=APP, remote_addr=ADDR))


def address() -> str:
    return f"{uuid.uuid4().hex[:10]}@example.com"


def queue(sso, to: str, text: str = "Hello", user_id: str | None = None) -> str:
    with writing(sso.ctx.engine) as conn:
        return outbox_service.enqueue(
            sso.ctx, conn, Message(to, "A test message", text, f"<p>{text}</p>", "test"), user_id=user_id
        )


def mailer_for(mailbox) -> Mailer:
    return Mailer({"SSO_SMTP_URL": mailbox.url, "SSO_SMTP_TIMEOUT": 3})


def row(sso, message_id: str) -> dict:
    return next(r for r in outbox_rows(sso) if r["message_id"] == message_id)


def test_a_message_is_written_with_its_change_or_not_at_all(sso):
    with pytest.raises(RuntimeError), writing(sso.ctx.engine) as conn:
        outbox_service.enqueue(sso.ctx, conn, Message(address(), "Lost", "text", "<p>html</p>", "test"))
        raise RuntimeError("the change failed after the message was written")
    assert outbox_rows(sso) == []


def test_the_body_is_stored_encrypted_sent_with_its_own_message_id_and_date_then_emptied(sso, mailbox):
    to, secret = address(), "https://sso.example.test/password/reset/" + uuid.uuid4().hex
    message_id = queue(sso, to, secret)
    stored = row(sso, message_id)
    assert secret not in stored["body"] and stored["status"] == "queued" and stored["attempts"] == 0
    assert run_until_empty(sso.ctx, mailer_for(mailbox)) == 1
    received = mailbox.for_(to)
    assert received["Message-ID"] == message_id and secret in received.get_body(("plain",)).get_content()
    assert parsedate_to_datetime(received["Date"]).replace(tzinfo=None) == stored["creation_time"].replace(
        microsecond=0
    )
    sent = row(sso, message_id)
    assert (sent["status"], sent["attempts"], sent["body"], sent["claimed_by"]) == ("sent", 1, None, None)
    assert sent["sent_time"] is not None
    assert run_until_empty(sso.ctx, mailer_for(mailbox)) == 0 and len(mailbox.to(to)) == 1


def test_a_message_refused_for_now_waits_twice_as_long_each_time_then_fails(other_app, mailbox):
    sso = other_app(SSO_OUTBOX_MAX_ATTEMPTS=3, SSO_OUTBOX_BACKOFF_MS=1000)
    clock = frozen_clock(sso)
    to = address()
    mailbox.refuse[to] = "450 4.2.1 mailbox busy, try again later"
    message_id = queue(sso, to)
    created = row(sso, message_id)["creation_time"]

    assert run_until_empty(sso.ctx, mailer_for(mailbox)) == 1
    first = row(sso, message_id)
    assert (first["status"], first["attempts"], first["next_attempt_time"]) == (
        "queued",
        1,
        created + timedelta(seconds=1),
    )
    assert "450" in first["last_error"] and "try again later" in first["last_error"]
    assert run_until_empty(sso.ctx, mailer_for(mailbox)) == 0, "not due yet"
    clock(seconds=1)
    run_until_empty(sso.ctx, mailer_for(mailbox))
    assert row(sso, message_id)["next_attempt_time"] == created + timedelta(seconds=1 + 2)
    clock(seconds=2)
    run_until_empty(sso.ctx, mailer_for(mailbox))
    assert (row(sso, message_id)["status"], row(sso, message_id)["attempts"]) == ("failed", 3)
    assert mailbox.to(to) == []


def test_a_message_refused_for_good_fails_at_once(sso, mailbox):
    to = address()
    mailbox.refuse[to] = "550 5.1.1 no such mailbox here"
    message_id = queue(sso, to)
    run_until_empty(sso.ctx, mailer_for(mailbox))
    failed = row(sso, message_id)
    assert (failed["status"], failed["attempts"]) == ("failed", 1) and "550" in failed["last_error"]


def test_a_super_user_sends_a_failed_message_again_audited(sso, mailbox, admin, alice):
    to = address()
    mailbox.refuse[to] = "550 5.1.1 no such mailbox here"
    message_id = queue(sso, to, user_id=alice[0]["user_id"])
    run_until_empty(sso.ctx, mailer_for(mailbox))
    number = row(sso, message_id)["id"]

    with refused(Kind.forbidden, Code.auth_invalid):
        as_caller(sso, alice[1]).retry_outbox_message(number)
    for wrong in (number + 1000, "1", None):
        with refused(Kind.not_found if wrong == number + 1000 else Kind.invalid, Code.invalid_input) as info:
            as_caller(sso, admin[1]).retry_outbox_message(wrong)
        assert "message" in info.value.errors

    del mailbox.refuse[to]
    as_caller(sso, admin[1]).retry_outbox_message(number)
    [record] = audit_of(sso, alice[0]["user_id"], "outbox_retry")
    assert record["actor_id"] == admin[0]["user_id"]
    assert record["changes"]["outbox_status"] == {"old": "failed", "new": "queued"}
    with refused(Kind.not_found, Code.invalid_input):  # queued now, not failed
        as_caller(sso, admin[1]).retry_outbox_message(number)
    run_until_empty(sso.ctx, mailer_for(mailbox))
    assert mailbox.for_(to)["Message-ID"] == message_id and row(sso, message_id)["status"] == "sent"


def test_the_console_overview_shows_counts_and_failures_never_a_body(sso, mailbox, admin, alice):
    clock = frozen_clock(sso)
    failing = address()
    mailbox.refuse[failing] = "550 5.1.1 no such mailbox here"
    queue(sso, failing)
    run_until_empty(sso.ctx, mailer_for(mailbox))
    queue(sso, address(), "secret-body-text")
    clock(seconds=90)
    with refused(Kind.forbidden, Code.auth_invalid):
        as_caller(sso, alice[1]).outbox_overview()
    seen = as_caller(sso, admin[1]).outbox_overview()
    assert (seen["state"].queued, seen["state"].sent, seen["state"].failed) == (1, 0, 1)
    assert seen["state"].oldest_queued_age == 90.0
    assert [m["recipient"] for m in seen["failed"]] == [failing] and "550" in seen["failed"][0]["last_error"]
    assert all("body" not in m for m in seen["queued"] + seen["failed"])
    assert "secret-body-text" not in repr(seen)


def test_two_workers_at_once_deliver_every_message_exactly_once(other_app, mailbox):
    sso = other_app(SSO_OUTBOX_BATCH=4, SSO_OUTBOX_POLL_MS=10)
    ids = [queue(sso, f"pair-{n}-{uuid.uuid4().hex[:6]}@example.com") for n in range(40)]
    stop = threading.Event()
    workers = [Worker(sso.ctx, mailer_for(mailbox), stop=stop, name=f"w{n}") for n in range(2)]
    threads = [threading.Thread(target=w.run) for w in workers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    try:
        while any(r["status"] != "sent" for r in outbox_rows(sso)):
            assert time.monotonic() < deadline, "the two workers did not deliver everything in time"
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    received = [m["Message-ID"] for m in mailbox.messages if m["Message-ID"] in set(ids)]
    assert sorted(received) == sorted(ids), "each message once, none lost, none twice"


def test_the_worker_holds_nothing_a_stopped_run_did_not_try(sso, mailbox):
    """A worker that stops mid-batch gives back what it claimed and did not try: nothing waits for a lease."""
    for _ in range(3):
        queue(sso, address())
    stop = threading.Event()
    stop.set()  # stopped before its first message
    assert Worker(sso.ctx, mailer_for(mailbox), stop=stop).run_once() == 0
    assert [(r["claimed_by"], r["lease_until"]) for r in outbox_rows(sso)] == [(None, None)] * 3


def test_an_unreachable_server_keeps_every_message_in_place_and_in_order(sso, mailbox):
    from ..server import free_port

    ids = [queue(sso, address(), f"n{n}") for n in range(3)]
    down = Mailer({"SSO_SMTP_URL": f"smtp://127.0.0.1:{free_port()}", "SSO_SMTP_TIMEOUT": 2})
    worker = Worker(sso.ctx, down)
    assert worker.run_once() == 1 and worker.blocked, "the first failure stops the batch"
    rows = outbox_rows(sso)
    assert [(r["status"], r["attempts"], r["claimed_by"]) for r in rows] == [
        ("queued", 1, None),
        ("queued", 0, None),
        ("queued", 0, None),
    ]
    assert rows[0]["next_attempt_time"] == rows[0]["creation_time"], "it keeps its place: the worker waits instead"
    assert [worker.backoff(n) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    run_until_empty(sso.ctx, mailer_for(mailbox))
    assert [m["Message-ID"] for m in mailbox.messages if m["Message-ID"] in ids] == ids


def test_state_reads_the_database(sso):
    clock = frozen_clock(sso)
    assert outbox_service.state(sso.ctx) == outbox_service.OutboxState(0, 0, 0, 0.0)
    queue(sso, address())
    clock(seconds=5)
    queue(sso, address())
    assert outbox_service.state(sso.ctx) == outbox_service.OutboxState(2, 0, 0, 5.0)
    with reading(sso.ctx.engine) as conn:
        assert conn.execute(select(outbox.c.status)).scalars().all() == ["queued", "queued"]


def test_a_batch_goes_over_one_connection_and_a_refusal_does_not_break_it(sso, mailbox):
    refused_one = address()
    mailbox.refuse[refused_one] = "550 5.1.1 no such mailbox here"
    ids = [queue(sso, address()), queue(sso, refused_one), queue(sso, address()), queue(sso, address())]
    before = mailbox.connections
    assert run_until_empty(sso.ctx, mailer_for(mailbox)) == 4
    assert mailbox.connections == before + 1
    assert [row(sso, i)["status"] for i in ids] == ["sent", "failed", "sent", "sent"]


def test_a_message_no_key_can_decrypt_any_more_fails_saying_why_and_is_never_sent_empty(sso, mailbox):
    from cryptography.fernet import Fernet

    from webapp.sso.kernel.tokens import TokenCodec

    lost = queue(sso, address(), "old key")
    sso.ctx.codec = TokenCodec([Fernet.generate_key().decode()])  # the old key removed from SSO_FERNET_KEYS
    kept = queue(sso, address(), "new key")
    assert run_until_empty(sso.ctx, mailer_for(mailbox)) == 1
    failed = row(sso, lost)
    assert failed["status"] == "failed" and "SSO_FERNET_KEYS" in failed["last_error"]
    assert row(sso, kept)["status"] == "sent"
    assert [m["Message-ID"] for m in mailbox.messages if m["Message-ID"] in (lost, kept)] == [kept]


def test_each_message_of_a_batch_gets_the_whole_smtp_timeout_on_the_shared_connection(sso):
    """Three messages of 0.6 s each over one connection with SSO_SMTP_TIMEOUT=1: the deadline and its watchdog
    start again for each message, so the batch may take longer than the timeout."""
    from ..mailbox import Mailbox

    with Mailbox(delay=0.6) as slow:
        ids = [queue(sso, address()) for _ in range(3)]
        assert run_until_empty(sso.ctx, Mailer({"SSO_SMTP_URL": slow.url, "SSO_SMTP_TIMEOUT": 1})) == 3
        assert [row(sso, i)["status"] for i in ids] == ["sent"] * 3 and slow.connections == 1


def test_two_messages_get_two_ids_even_when_the_global_random_repeats_itself(sso, monkeypatch):
    """make_msgid's only random part is the global `random`, which a library or a test framework may seed: a
    hypothesis test's two notifications in one 1/100 s got one id, and the unique index refused the update."""
    import random

    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)  # make_msgid saw one 1/100 s for both
    ids = []
    for _ in range(2):
        random.seed(7)
        ids.append(queue(sso, address()))
    assert ids[0] != ids[1]

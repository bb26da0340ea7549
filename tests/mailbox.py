"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives, for the email tests."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from .server import free_port

LINK = re.compile(r"https?://\S+")


class _Keep:
    """aiosmtpd handler: parse and keep each message."""

    def __init__(self, box: Mailbox):
        self.box = box

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.box.lock:
            self.box.connections += 1  # one EHLO per SMTP connection
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self.box.refuse.get(address.lower())
        if refusal is not None:  # e.g. "450 4.2.1 try again later" or "550 5.1.1 no such mailbox"
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.box.delay:  # a slow server: it takes its time before accepting the message
            await asyncio.sleep(self.box.delay)
        if not self.box.parse:  # a bare sink (bench/outbox.py): count, do not read
            with self.box.lock:
                self.box.messages.append(None)  # type: ignore[arg-type]
            return "250 OK"
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.box.lock:
            self.box.messages.append(message)
        return "250 OK"


class Mailbox:
    """`url` is the SSO_SMTP_URL to send to; `messages` what arrived; `for_(address)` waits for one.
    With `delay`, each message is accepted only after that many seconds (a slow server); `refuse` maps a recipient
    to the reply that refuses it; `port` starts a server where an earlier one stood (a server back after an outage);
    with `parse=False` it only counts what arrives (`messages` holds None for each: a sink as cheap as it gets)."""

    def __init__(
        self,
        *,
        user: str | None = None,
        password: str | None = None,
        delay: float = 0.0,
        port: int | None = None,
        parse: bool = True,
    ):
        self.delay = delay
        self.parse = parse
        self.refuse: dict[str, str] = {}  # recipient (lower case) -> the SMTP reply that refuses it
        self.connections = 0  # SMTP sessions opened (EHLO) so far
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.port = port or free_port()
        self.user, self.password = user, password
        options: dict[str, Any] = {}
        if user is not None:
            options = {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        self.controller = Controller(
            _Keep(self), hostname="127.0.0.1", port=self.port, server_hostname="mailbox.test", **options
        )

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login.decode(), auth_data.password.decode()) == (
            self.user,
            self.password,
        )
        # handled=False: the server itself answers a failure with 535, as a real one does (with aiosmtpd's
        # default, handled=True, it answers nothing and the client waits out its timeout).
        return AuthResult(success=ok, handled=ok)

    @property
    def url(self) -> str:
        credentials = f"{self.user}:{self.password}@" if self.user is not None else ""
        return f"smtp://{credentials}127.0.0.1:{self.port}"

    def start(self) -> Mailbox:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> Mailbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def to(self, address: str) -> list[EmailMessage]:
        """Every message received for `address` so far."""
        with self.lock:
            return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def for_(self, address: str, count: int = 1, timeout: float = 10) -> EmailMessage:
        """Wait until `count` messages for `address` arrived; the newest."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = self.to(address)
            if len(received) >= count:
                return received[-1]
            time.sleep(0.05)
        raise AssertionError(
            f"no message #{count} for {address} arrived within {timeout} s "
            f"(received for: {[str(m['To']) for m in self.messages]})"
        )


def text_of(message: EmailMessage) -> str:
    """The plain-text part."""
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def html_of(message: EmailMessage) -> str:
    """The HTML part."""
    return message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def link_in(message: EmailMessage) -> str:
    """The one link of the plain-text part."""
    links = LINK.findall(text_of(message))
    assert len(links) == 1, links
    return links[0]


def token_in(message: EmailMessage) -> str:
    """The token at the end of the message's link."""
    return link_in(message).rstrip("/").rsplit("/", 1)[1]

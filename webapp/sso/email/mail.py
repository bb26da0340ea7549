"""Email delivery (SPEC §11): SMTP through the standard library, or the server log when no SMTP is set.

`SSO_SMTP_URL` is `smtp://host[:port]`, `smtps://…` (TLS from the start) or `smtp+starttls://…`, with an
optional `user:password@`. `SSO_SMTP_TIMEOUT` bounds the whole SMTP conversation of a message: every read
and write of the socket waits at most what is left of it, so a server that drips its answers a byte at a time
cannot hold the worker for longer than that. Requests never send: they write the message to the outbox
(`outbox.py`) and the worker (`worker.py`) hands it to the server here. A failed delivery is logged (never
with the message body, which holds the token) and raised as `MailNotSent`, saying whether the server could
not be reached at all (`transport`: every message waits), refused this message for now (`temporary`) or for
good (`permanent`).
"""

from __future__ import annotations

import io
import logging
import secrets
import smtplib
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formatdate, parseaddr
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from babel.dates import format_datetime as babel_datetime
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..kernel.texts import LOCALES, SOURCE_LOCALE, Text, lifetime

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"
SCHEMES = {"smtp": 25, "smtps": 465, "smtp+starttls": 587}

log = logging.getLogger("webapp.mail")


def _log_to_stderr() -> None:
    """Mail notes reach stderr when the service runs without the app (whose `configure_logging` handles all of
    `webapp.*` and takes this handler away again, so each line is written once)."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.sso_mail_fallback = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter("%(asctime)s [mail] %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


TRANSPORT, TEMPORARY, PERMANENT = "transport", "temporary", "permanent"


class MailNotSent(Exception):
    """The message could not be handed to the SMTP server; `kind` says whether trying again can help."""

    def __init__(self, reason: str, kind: str = TRANSPORT):
        super().__init__(reason)
        self.kind = kind


def _failure_kind(exc: Exception) -> str:
    """TRANSPORT: the server (or our account with it) does not work, for any message; TEMPORARY / PERMANENT: it
    refused this message with a 4xx / 5xx reply; a malformed address or header is PERMANENT."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return PERMANENT if codes and all(code >= 500 for code in codes) else TEMPORARY
    if isinstance(exc, smtplib.SMTPDataError):
        return PERMANENT if exc.smtp_code >= 500 else TEMPORARY
    if isinstance(exc, (UnicodeError, ValueError)):
        return PERMANENT
    return TRANSPORT  # refused connection, timeout, disconnect, HELO, authentication, our sender refused


@dataclass(frozen=True)
class SmtpTarget:
    """Where mail goes, parsed from SSO_SMTP_URL."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    def describe(self) -> str:
        """The target without its password, for logs."""
        user = f"{self.username}@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpTarget | None:
    """The target of an SSO_SMTP_URL (None when empty); ValueError saying what is wrong otherwise."""
    if not url:
        return None
    example = "e.g. smtp://mail.example.com:25, smtps://user:secret@mail.example.com or smtp+starttls://host:587"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"SSO_SMTP_URL is not a valid URL ({exc}); {example}") from None
    if parts.scheme not in SCHEMES:
        raise ValueError(
            f"SSO_SMTP_URL must start with smtp://, smtps:// or smtp+starttls://, got {url.split(':')[0]!r}; {example}"
        )
    if not parts.hostname:
        raise ValueError(f"SSO_SMTP_URL names no host; {example}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"SSO_SMTP_URL must be only scheme, optional user:password, host and port; {example}")
    if (parts.username is None) != (parts.password is None):
        raise ValueError(f"SSO_SMTP_URL must give both a user and a password, or neither; {example}")
    return SmtpTarget(
        parts.scheme,
        parts.hostname,
        port or SCHEMES[parts.scheme],
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password is not None else None,
    )


def check_mail_settings(config: dict[str, Any]) -> None:
    """ValueError saying what to fix for a malformed SSO_SMTP_URL, SSO_MAIL_FROM or SSO_PUBLIC_URL."""
    parse_smtp_url(config.get("SSO_SMTP_URL", ""))
    sender = config.get("SSO_MAIL_FROM", "no-reply@localhost")
    if "@" not in parseaddr(sender)[1] or "\n" in sender or "\r" in sender:
        raise ValueError(
            f"SSO_MAIL_FROM must be an email address, e.g. 'Example SSO <sso@example.com>', got {sender!r}"
        )
    public = urlsplit(config.get("SSO_PUBLIC_URL", "http://localhost:8000"))
    if public.scheme not in ("http", "https") or not public.hostname or public.query or public.fragment:
        raise ValueError(
            "SSO_PUBLIC_URL must be the http(s) address people open the console at, e.g. "
            f"https://sso.example.com, got {config.get('SSO_PUBLIC_URL')!r}"
        )


@dataclass
class Message:
    """One email: both parts come from the same wording (templates/mail/NAME.jinja)."""

    to: str
    subject: str
    text: str
    html: str
    kind: str  # the template's name, for logs


_envs: dict[str, Environment] = {}


def _environment(locale: str) -> Environment:
    """The mail templates' environment for one language (gettext bound to its catalog; made once)."""
    env = _envs.get(locale)
    if env is None:
        env = Environment(
            loader=FileSystemLoader(str(TEMPLATES)),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            extensions=["jinja2.ext.i18n"],
        )
        env.policies["ext.i18n.trimmed"] = True
        env.install_gettext_translations(_translations(locale), newstyle=True)  # type: ignore[attr-defined]
        _envs[locale] = env
    return env


@cache
def _translations(locale: str) -> NullTranslations:
    if locale == SOURCE_LOCALE:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [locale.replace("-", "_")])


def mail_language(preferred: Any, fallback: str) -> str:
    """The language of a message: the recipient's `locale` when it is a shipped one, else `fallback`
    (the language of the page that asked for the message, or SSO_DEFAULT_LOCALE)."""
    return preferred if preferred in LOCALES else fallback


def _field_of(recipient: Any, key: str) -> Any:
    if recipient is None:
        return None
    mapping = getattr(recipient, "_mapping", recipient)
    try:
        return mapping.get(key)
    except AttributeError:
        return None


def _locale_of(recipient: Any) -> str | None:
    return _field_of(recipient, "locale")


def _localised(value: Any, locale: str, translations: NullTranslations) -> Any:
    """A value as the message shows it: a service Text translated, a time in the language's own form (UTC)."""
    if isinstance(value, Text):
        if value.plural is not None and value.number is not None:
            return translations.ungettext(value.msgid, value.plural, value.number) % value.values
        return translations.ugettext(value.msgid) % value.values if value.values else translations.ugettext(value.msgid)
    if isinstance(value, datetime):
        return when(value, locale)
    return value


def render(name: str, to: str, locale: str = SOURCE_LOCALE, **values: Any) -> Message:
    """`templates/mail/NAME.jinja` sets the wording in `locale`; the text and HTML layouts lay it out."""
    env = _environment(locale if locale in LOCALES else SOURCE_LOCALE)
    translations = _translations(locale) if locale in LOCALES else NullTranslations()
    values = {key: _localised(value, locale, translations) for key, value in values.items()}
    values["lang"] = locale
    wording = env.get_template(f"mail/{name}.jinja").make_module(values)
    text = env.get_template("mail/_layout.txt").render(m=wording, **values)
    html = env.get_template("mail/_layout.html").render(m=wording, **values)
    subject = wording.subject  # type: ignore[attr-defined]  # Jinja's TemplateModule does not type a template's exports
    return Message(to=to, subject=str(subject), text=text, html=html, kind=name)


def valid_for(minutes: int) -> Text:
    """A lifetime in words ('30 minutes', '24 hours', '2 days'), translated when the message is rendered."""
    return lifetime(minutes)


def when(moment: datetime, locale: str = SOURCE_LOCALE) -> str:
    """A stored naive-UTC time as people of `locale` read it in a message ('7 Dec 2026, 14:05 UTC')."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return f"{babel_datetime(aware, 'medium', tzinfo=UTC, locale=locale.replace('-', '_'))} UTC"


def new_message_id(domain: str) -> str:
    """A Message-ID of 128 random bits. Not `email.utils.make_msgid`: its only random part is the global
    `random`, which a library or a test framework may seed, and two messages of one request then got one id
    (the outbox's unique index refused the change they belonged to)."""
    return f"<{secrets.token_hex(16)}@{domain}>"


class Mailer:
    """Sends messages through SMTP, or writes them to the log when SSO_SMTP_URL is not set."""

    def __init__(self, settings: dict[str, Any]):
        self.target = parse_smtp_url(settings.get("SSO_SMTP_URL", ""))
        self.sender = settings.get("SSO_MAIL_FROM", "no-reply@localhost")
        self.timeout = float(settings.get("SSO_SMTP_TIMEOUT", 10))
        # The name we greet the SMTP server with (smtplib's default, the machine's FQDN, can take seconds to find).
        self.helo_name = urlsplit(settings.get("SSO_PUBLIC_URL", "")).hostname or "localhost"
        self.default_locale = settings.get("SSO_DEFAULT_LOCALE") or SOURCE_LOCALE
        # The language of the page that asks for a message to the recipient of this id (the console sets it; None
        # outside a request, or when the person at the keyboard is not the recipient).
        self.page_locale: Callable[[str | None], str | None] = lambda recipient_id: None
        _log_to_stderr()

    def language(self, recipient: Any) -> str:
        """The language a message to `recipient` (a user row or None) goes out in: their `locale`, else the
        language of the page that asked for it when its reader is the recipient, else SSO_DEFAULT_LOCALE."""
        preferred = _locale_of(recipient)
        return mail_language(preferred, self.page_locale(_field_of(recipient, "user_id")) or self.default_locale)

    @property
    def configured(self) -> bool:
        return self.target is not None

    def startup_note(self) -> str:
        """What the server says at start about where mail goes."""
        if self.target is None:
            return (
                "SSO_SMTP_URL is not set: emails (sign-up confirmations, password resets) are NOT sent; "
                "each one is written to this log instead, with its link."
            )
        return f"emails go through {self.target.describe()} from {self.sender}"

    def announce(self) -> None:
        """Say where mail goes (a warning when it goes only to the log): the outbox worker does, at its start;
        the web app and the other commands only write to the outbox, so they say nothing."""
        (log.info if self.configured else log.warning)("%s", self.startup_note())

    def build(self, message: Message, *, message_id: str | None = None, date: datetime | None = None) -> EmailMessage:
        """The MIME message: plain text first, the HTML alternative second. The outbox passes the Message-ID and
        date it stored, so a message sent again is recognisably the same one."""
        mime = EmailMessage()
        mime["Subject"] = message.subject
        mime["From"] = self.sender
        mime["To"] = message.to
        # What the header shows must be the one envelope recipient: an encoded word (=?...?=) in an address
        # would be shown decoded, as other mailboxes (issue 31 #3). The value rules refuse such addresses;
        # this catches one stored before them.
        if "=?" in message.to or [address.addr_spec for address in mime["To"].addresses] != [message.to]:
            raise ValueError("the recipient's address cannot be written as it is into the To header")
        mime["Date"] = format_datetime(date.replace(tzinfo=UTC)) if date else formatdate(localtime=False, usegmt=True)
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or "localhost"
        mime["Message-ID"] = message_id or new_message_id(domain)
        mime["Auto-Submitted"] = "auto-generated"
        mime.set_content(message.text)
        mime.add_alternative(message.html, subtype="html")
        return mime

    def send(
        self, message: Message, *, about: str, message_id: str | None = None, date: datetime | None = None
    ) -> None:
        """Deliver `message` (`about` names the account in logs) on a connection of its own; MailNotSent when it
        could not be."""
        with self.batch() as batch:
            batch.send(message, about=about, message_id=message_id, date=date)

    def batch(self) -> Batch:
        """Several messages over one SMTP connection (opened at the first, closed at the end), each with the whole
        `SSO_SMTP_TIMEOUT` of its own: the worker's way (one connection per claimed batch)."""
        return Batch(self)

    def log_instead(self, message: Message, about: str) -> None:
        """No SSO_SMTP_URL: the log is the delivery."""
        log.warning(
            "email NOT sent (no SSO_SMTP_URL) to %s about %s, subject %r:\n%s",
            message.to,
            about,
            message.subject,
            message.text,
        )

    def _connection(self):
        return _Connection(self.target, self.timeout, self.helo_name)  # type: ignore[arg-type]


def _reason(exc: Exception) -> str:
    """The server's reply ("550 5.1.1 no such mailbox") where there is one, else the error's text; one line."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "; ".join(f"{code} {_decoded(reply)}" for code, reply in exc.recipients.values())
    elif isinstance(exc, smtplib.SMTPResponseException):
        text = f"{exc.smtp_code} {_decoded(exc.smtp_error)}"
    else:
        text = str(exc)
    return text.replace("\r", " ").replace("\n", " ")[:300]


def _decoded(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


class Batch:
    """Messages sent over one SMTP connection (`Mailer.batch()`); a connection that failed is dropped and the next
    message opens a new one."""

    def __init__(self, mailer: Mailer):
        self.mailer = mailer
        self.session: _Connection | None = None

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(
        self, message: Message, *, about: str, message_id: str | None = None, date: datetime | None = None
    ) -> None:
        """Deliver `message`; MailNotSent (with its kind) when it could not be."""
        mailer = self.mailer
        if mailer.target is None:
            mailer.log_instead(message, about)
            return
        try:
            mime = mailer.build(message, message_id=message_id, date=date)
            if self.session is None:
                session = mailer._connection()
                session.__enter__()  # opens, EHLO, TLS, login, within the first message's deadline
                self.session = session
            else:
                self.session.renew(mailer.timeout)  # each message gets the whole timeout, its watchdog too
            assert self.session.conn is not None
            self.session.step()
            self.session.conn.send_message(mime, to_addrs=[message.to])
        except (smtplib.SMTPException, OSError, UnicodeError, ValueError) as exc:
            kind = _failure_kind(exc)
            if kind == TRANSPORT:
                self._drop()
            # Never the message itself: it carries the token.
            log.error(
                "could not send the %s email about %s through %s: %s: %s",
                message.kind,
                about,
                mailer.target.describe(),
                type(exc).__name__,
                _reason(exc),
            )
            raise MailNotSent(f"{type(exc).__name__}: {_reason(exc)}", kind) from None
        log.info("sent the %s email about %s through %s", message.kind, about, mailer.target.describe())

    def _drop(self) -> None:
        """Close a broken connection without the QUIT it would not answer."""
        if self.session is not None:
            self.session.watchdog.cancel()
            if self.session.conn is not None:
                self.session.conn.close()
        self.session = None

    def close(self) -> None:
        """QUIT and close (a second or two at most)."""
        if self.session is not None:
            self.session.__exit__(None, None, None)
            self.session = None


class _DeadlineReader(io.RawIOBase):
    """The reading side of an SMTP socket where every read waits at most what is left of the deadline
    (a socket's own timeout restarts at every byte received)."""

    def __init__(self, sock: socket.socket, remaining):
        super().__init__()
        self.sock, self.remaining = sock, remaining

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self.sock.settimeout(self.remaining())
        return self.sock.recv_into(buffer)


class _DeadlineMixin:
    """smtplib's SMTP whose every read and write ends by one deadline (`remaining()` raises after it)."""

    remaining: Any
    sock: Any
    file: Any

    def getreply(self):
        if self.file is None and self.sock is not None:
            self.file = io.BufferedReader(_DeadlineReader(self.sock, self.remaining))
        return super().getreply()  # type: ignore[misc]

    def send(self, s):
        if self.sock is not None:
            self.sock.settimeout(self.remaining())
        return super().send(s)  # type: ignore[misc]


class _KeepsRawSocket(smtplib.SMTP):
    """Keeps the TCP socket (under TLS too), so the watchdog can end a TLS handshake that drips."""

    raw_socket: socket.socket | None = None
    _host: str  # smtplib's, unannotated there

    def _get_socket(self, host, port, timeout):
        self.raw_socket = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        return self.raw_socket


class _SMTP(_DeadlineMixin, _KeepsRawSocket):
    pass


class _SMTP_SSL(_DeadlineMixin, smtplib.SMTP_SSL, _KeepsRawSocket):
    pass


class _Connection:
    """An SMTP session with one deadline for all of its steps, each read and write included."""

    def __init__(self, target: SmtpTarget, timeout: float, helo_name: str):
        self.target, self.helo_name = target, helo_name
        self.deadline = time.monotonic() + timeout
        self.conn: smtplib.SMTP | None = None

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the SMTP server took longer than SSO_SMTP_TIMEOUT")
        return left

    def step(self) -> None:
        """Give the next step only what is left of the time."""
        if self.conn is not None and self.conn.sock is not None:
            self.conn.sock.settimeout(self.remaining())

    def renew(self, timeout: float) -> None:
        """A new deadline for the next message over this connection (the worker's batch), with its watchdog."""
        self.watchdog.cancel()
        self.deadline = time.monotonic() + timeout
        self.watchdog: threading.Timer = threading.Timer(timeout, self._abort)
        self.watchdog.daemon = True
        self.watchdog.start()

    def _abort(self) -> None:
        """The watchdog, at the deadline: end the TCP connection, so that whatever still waits on it (a TLS
        handshake reads without our per-read deadline) fails at once."""
        raw = getattr(self.conn, "raw_socket", None)
        if raw is not None:
            try:
                raw.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self):
        self.watchdog = threading.Timer(max(0.0, self.deadline - time.monotonic()), self._abort)
        self.watchdog.daemon = True
        self.watchdog.start()
        try:
            return self._open()
        except BaseException:
            self.watchdog.cancel()
            if self.conn is not None:
                self.conn.close()
            raise

    def _open(self):
        target = self.target
        # Only for TLS: loading the system's certificates takes ~20 ms, and plain SMTP never uses them.
        context = ssl.create_default_context() if target.scheme in ("smtps", "smtp+starttls") else None
        conn: _SMTP | _SMTP_SSL
        if target.scheme == "smtps":
            conn = _SMTP_SSL(local_hostname=self.helo_name, timeout=self.remaining(), context=context)
        else:
            conn = _SMTP(local_hostname=self.helo_name, timeout=self.remaining())
        conn.remaining = self.remaining
        conn._host = target.host  # what smtplib sets when given the host at once: TLS checks the certificate for it
        self.conn = conn
        code, reply = conn.connect(target.host, target.port)
        if code != 220:
            raise smtplib.SMTPConnectError(code, reply)
        self.step()
        self.conn.ehlo()
        if target.scheme == "smtp+starttls":
            self.step()
            self.conn.starttls(context=context)
            self.step()
            self.conn.ehlo()
        if target.username is not None:
            self.step()
            self.conn.login(target.username, target.password or "")
        return self.conn, self.step

    def __exit__(self, *exc) -> None:
        try:
            self._close()
        finally:
            self.watchdog.cancel()

    def _close(self) -> None:
        if self.conn is None:
            return
        try:
            if self.conn.sock is not None:
                self.conn.sock.settimeout(min(2.0, max(0.1, self.deadline - time.monotonic())))
            self.conn.quit()
        except (smtplib.SMTPException, OSError):
            self.conn.close()

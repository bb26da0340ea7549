"""Typed SQLAlchemy models: users, sessions, audit records, failed-login marks and TOTP recovery codes."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .sso.attributes import EMAIL_MAX, NAME_MAX, USERNAME_MAX


class Base(DeclarativeBase):
    """Declarative base; all datetimes are stored as naive UTC."""


class User(Base):
    """An SSO user. `*_search` columns hold the case-folded value of their attribute."""

    __tablename__ = "sso_user"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX))
    username_search: Mapped[str] = mapped_column(String(USERNAME_MAX * 3), unique=True)
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX))
    email_search: Mapped[str | None] = mapped_column(String(EMAIL_MAX * 3), index=True)
    display_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    display_name_search: Mapped[str | None] = mapped_column(String(NAME_MAX * 3), index=True)
    first_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    first_name_search: Mapped[str | None] = mapped_column(String(NAME_MAX * 3), index=True)
    middle_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    middle_name_search: Mapped[str | None] = mapped_column(String(NAME_MAX * 3), index=True)
    last_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    last_name_search: Mapped[str | None] = mapped_column(String(NAME_MAX * 3), index=True)

    password_hash: Mapped[str | None] = mapped_column(Text)
    password_is_set: Mapped[bool] = mapped_column(Boolean, default=False)
    password_last_set: Mapped[datetime | None] = mapped_column(DateTime)
    password_expiry: Mapped[datetime | None] = mapped_column(DateTime)
    password_must_change: Mapped[bool] = mapped_column(Boolean, default=False)

    is_super_user: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    is_locked: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    locked_time: Mapped[datetime | None] = mapped_column(DateTime)
    locked_by: Mapped[str | None] = mapped_column(String(64))
    creation_ctx: Mapped[dict | None] = mapped_column(JSON)
    sign_up_time: Mapped[datetime] = mapped_column(DateTime)
    sign_up_status: Mapped[str] = mapped_column(String(32))
    approval_status: Mapped[str] = mapped_column(String(32), index=True)
    approval_status_mod_time: Mapped[datetime | None] = mapped_column(DateTime)
    approval_status_mod_by: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Zato's per-user rate limit (SPEC §14): `APP=N/UNIT` lines, first match wins.
    is_rate_limit_active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    rate_limit_def: Mapped[str | None] = mapped_column(Text)

    is_totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_label: Mapped[str | None] = mapped_column(String(NAME_MAX))
    totp_key: Mapped[str | None] = mapped_column(Text)  # Fernet-encrypted (SSO_FERNET_KEYS), never output
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # the time-step of the last code accepted


class Session(Base):
    """A live session; only a hash of the secret id inside the UST is stored. `session_id` is a second,
    public random id (never the UST or its hash) by which people and clients name a session."""

    __tablename__ = "sso_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    session_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("sso_user.user_id", ondelete="CASCADE"), index=True)
    current_app: Mapped[str] = mapped_column(String(256))
    remote_addr: Mapped[str | None] = mapped_column(String(256))
    user_agent: Mapped[str | None] = mapped_column(String(1024))
    creation_time: Mapped[datetime] = mapped_column(DateTime)
    expiration_time: Mapped[datetime] = mapped_column(DateTime)
    last_use_time: Mapped[datetime] = mapped_column(DateTime)  # kept to the minute: see sessions.touch


class EndedSession(Base):
    """A session ended because its user was locked: while the lock lasts, its UST answers E005002 (so the
    client learns why); the row goes when the user is unlocked or the session would have expired."""

    __tablename__ = "sso_session_ended"

    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("sso_user.user_id", ondelete="CASCADE"), index=True)
    expiration_time: Mapped[datetime] = mapped_column(DateTime)


class AuditRecord(Base):
    """One audited change: who did what to whom, from where, with old and new values."""

    __tablename__ = "sso_audit"
    __table_args__ = (
        Index("ix_sso_audit_target_time", "target_id", "id"),
        Index("ix_sso_audit_actor_time", "actor_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(DateTime)
    cid: Mapped[str] = mapped_column(String(256))
    action: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    current_app: Mapped[str | None] = mapped_column(String(256))
    remote_addr: Mapped[str | None] = mapped_column(String(256))
    user_agent: Mapped[str | None] = mapped_column(String(1024))
    changes: Mapped[dict] = mapped_column(JSON)


class TotpRecoveryCode(Base):
    """One unused recovery code of a user's two-factor sign-in; only its SHA-256 is stored."""

    __tablename__ = "sso_totp_recovery_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("sso_user.user_id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    creation_time: Mapped[datetime] = mapped_column(DateTime)


class LoginFailure(Base):
    """A mark of the login throttle (webapp/sso/throttle.py): `p:`/`a:`/`u:` keys count attempts per
    (username, address), address and username; `k:` remembers an address a username signed in from."""

    __tablename__ = "sso_login_failure"
    __table_args__ = (Index("ix_sso_login_failure_key_time", "key", "time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(512))
    time: Mapped[datetime] = mapped_column(DateTime)


class EmailToken(Base):
    """A token sent by email (sign-up confirmation, password reset, email change); only its hash is stored."""

    __tablename__ = "sso_email_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "signup", "reset" or "email_change"
    user_id: Mapped[str] = mapped_column(ForeignKey("sso_user.user_id", ondelete="CASCADE"), index=True)
    creation_time: Mapped[datetime] = mapped_column(DateTime)
    expiration_time: Mapped[datetime] = mapped_column(DateTime)
    used_time: Mapped[datetime | None] = mapped_column(DateTime)
    reset_key_hash: Mapped[str | None] = mapped_column(String(64))
    reset_key_expiration: Mapped[datetime | None] = mapped_column(DateTime)
    new_email: Mapped[str | None] = mapped_column(String(EMAIL_MAX))  # email_change: the address being confirmed


class MailRequest(Base):
    """A request that sends email (password reset), counted per credential and per address for throttling."""

    __tablename__ = "sso_mail_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(512), index=True)
    time: Mapped[datetime] = mapped_column(DateTime)


class UserAttr(Base):
    """A free-form attribute of a user, or of one of their sessions (`scope` = the session's id), SPEC §12."""

    __tablename__ = "sso_user_attr"
    __table_args__ = (UniqueConstraint("user_id", "scope", "name", name="uq_sso_user_attr_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("sso_user.user_id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(32))  # "" for the user; the session row's id for a session
    session_pk: Mapped[int | None] = mapped_column(ForeignKey("sso_session.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    value: Mapped[str] = mapped_column(Text)  # JSON text, or a Fernet token of it when encrypted
    is_encrypted: Mapped[bool] = mapped_column(Boolean)
    creation_time: Mapped[datetime] = mapped_column(DateTime)
    last_modified: Mapped[datetime] = mapped_column(DateTime)
    expiration_time: Mapped[datetime | None] = mapped_column(DateTime, index=True)


class RateHit(Base):
    """The requests counted in the current window of one user's rate limit, shared by all workers and nodes."""

    __tablename__ = "sso_rate_hit"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime)
    count: Mapped[int] = mapped_column(Integer)


class ApiClient(Base):
    """A named HTTP Basic credential (Zato's linked auth), SPEC §13; only a hash of its secret is kept."""

    __tablename__ = "sso_api_client"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(Text)
    creation_time: Mapped[datetime] = mapped_column(DateTime)
    is_active: Mapped[bool] = mapped_column(Boolean)


class LinkedAuth(Base):
    """An API client linked to the user it acts as; `session_token` is the link's session id, Fernet-encrypted."""

    __tablename__ = "sso_linked_auth"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("sso_user.user_id", ondelete="CASCADE"), index=True)
    auth_type: Mapped[str] = mapped_column(String(64))
    auth_username: Mapped[str] = mapped_column(ForeignKey("sso_api_client.name", ondelete="CASCADE"), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean)
    creation_time: Mapped[datetime] = mapped_column(DateTime)
    session_token: Mapped[str | None] = mapped_column(Text)


class ZatoImport(Base):
    """A user brought over from a Zato ODB (SPEC §15): the version it had when the importer last wrote it."""

    __tablename__ = "sso_zato_import"

    user_id: Mapped[str] = mapped_column(ForeignKey("sso_user.user_id", ondelete="CASCADE"), primary_key=True)
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer)
    source_digest: Mapped[str] = mapped_column(String(64))


users = cast(Table, User.__table__)

# Search at scale (migration 0008): trigram indexes for *contains* searches on the folded columns.
# PostgreSQL: one pg_trgm GIN index per column (declared here, so the schema check compares them).
# SQLite: the FTS5 trigram table below, kept in step by triggers; it is not a SQLAlchemy table (a
# virtual table), so tests/core/test_schema.py leaves its name out of the comparison.
SEARCH_COLUMNS = (
    "username_search",
    "email_search",
    "display_name_search",
    "first_name_search",
    "middle_name_search",
    "last_name_search",
)
SQLITE_SEARCH_TABLE = "sso_user_fts"
for _column in SEARCH_COLUMNS:
    Index(
        f"ix_{_column}_trgm",
        users.c[_column],
        postgresql_using="gin",
        postgresql_ops={_column: "gin_trgm_ops"},
        info={"only_on": "postgresql"},
    )
sessions = cast(Table, Session.__table__)
ended_sessions = cast(Table, EndedSession.__table__)
audit = cast(Table, AuditRecord.__table__)
login_failures = cast(Table, LoginFailure.__table__)
email_tokens = cast(Table, EmailToken.__table__)
mail_requests = cast(Table, MailRequest.__table__)
recovery_codes = cast(Table, TotpRecoveryCode.__table__)
user_attrs = cast(Table, UserAttr.__table__)
rate_hits = cast(Table, RateHit.__table__)
api_clients = cast(Table, ApiClient.__table__)
linked_auths = cast(Table, LinkedAuth.__table__)
zato_imports = cast(Table, ZatoImport.__table__)

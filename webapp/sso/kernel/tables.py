"""The tables (SQLAlchemy Core): users, sessions, audit records, failed-login marks, TOTP recovery codes and the rest.

Core tables, not ORM classes: the service layer only ever runs Core statements, and not importing
`sqlalchemy.orm` keeps about 5 MiB out of every worker. All datetimes are stored as naive UTC.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from .attributes import (
    APP_MAX,
    CID_MAX,
    EMAIL_MAX,
    EXTERNAL_ID_MAX,
    KEY_MAX,
    LOCALE_MAX,
    PASSKEY_NAME_MAX,
    PERSON_NAME_MAX,
    REMOTE_ADDR_MAX,
    ROLE_DESCRIPTION_MAX,
    ROLE_NAME_COLUMN,
    USER_AGENT_MAX,
    USER_ID_MAX,
    USERNAME_MAX,
)

metadata = MetaData()


# An SSO user. `*_search` columns hold the case-folded value of their attribute.
users = Table(
    "sso_user",
    metadata,
    Column("user_id", String(USER_ID_MAX), primary_key=True),
    Column("username", String(USERNAME_MAX), nullable=False),
    Column("username_search", String(USERNAME_MAX * 3), unique=True, nullable=False),
    Column("email", String(EMAIL_MAX)),
    Column("email_search", String(EMAIL_MAX * 3), index=True),
    Column("display_name", String(PERSON_NAME_MAX)),
    Column("display_name_search", String(PERSON_NAME_MAX * 3), index=True),
    Column("first_name", String(PERSON_NAME_MAX)),
    Column("first_name_search", String(PERSON_NAME_MAX * 3), index=True),
    Column("middle_name", String(PERSON_NAME_MAX)),
    Column("middle_name_search", String(PERSON_NAME_MAX * 3), index=True),
    Column("last_name", String(PERSON_NAME_MAX)),
    Column("last_name_search", String(PERSON_NAME_MAX * 3), index=True),
    Column("locale", String(LOCALE_MAX)),  # a BCP 47 tag from LOCALES; NULL: the browser's language
    Column("password_hash", Text),
    Column("password_is_set", Boolean, default=False, nullable=False),
    Column("password_last_set", DateTime),
    Column("password_expiry", DateTime),
    Column("password_must_change", Boolean, default=False, nullable=False),
    Column("is_super_user", Boolean, default=False, nullable=False),
    Column("is_active", Boolean, default=True, nullable=False),
    Column("is_internal", Boolean, default=False, nullable=False),
    Column("is_locked", Boolean, default=False, index=True, nullable=False),
    Column("locked_time", DateTime),
    Column("locked_by", String(64)),
    Column("creation_ctx", JSON),
    Column("sign_up_time", DateTime, nullable=False),
    Column("sign_up_status", String(32), nullable=False),
    Column("approval_status", String(32), index=True, nullable=False),
    Column("approval_status_mod_time", DateTime),
    Column("approval_status_mod_by", String(64)),
    Column("version", Integer, default=1, nullable=False),
    # Zato's per-user rate limit (SPEC §14): `APP=N/UNIT` lines, first match wins.
    Column("is_rate_limit_active", Boolean, default=False, server_default=false(), nullable=False),
    Column("rate_limit_def", Text),
    Column("is_totp_enabled", Boolean, default=False, nullable=False),
    Column("totp_label", String(PERSON_NAME_MAX)),
    Column("totp_key", Text),  # Fernet-encrypted (SSO_FERNET_KEYS), never output
    Column("totp_last_step", Integer),  # the time-step of the last code accepted
    Column("deletion_time", DateTime, index=True),  # a deletion the person scheduled is due then (SPEC §20)
    Column("external_id", String(EXTERNAL_ID_MAX), index=True),  # a directory's id for the user (SCIM, SPEC §21)
    Column("last_modified", DateTime, index=True),  # the last write to the row (SCIM's meta.lastModified)
)


# A live session; only a hash of the secret id inside the UST is stored. `session_id` is a second, public random id
# (never the UST or its hash) by which people and clients name a session.
sessions = Table(
    "sso_session",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_hash", String(64), unique=True, nullable=False),
    Column("session_id", String(64), unique=True, nullable=False),
    Column(
        "user_id", String(USER_ID_MAX), ForeignKey("sso_user.user_id", ondelete="CASCADE"), index=True, nullable=False
    ),
    Column("current_app", String(APP_MAX), nullable=False),
    Column("remote_addr", String(REMOTE_ADDR_MAX)),
    Column("user_agent", String(USER_AGENT_MAX)),
    Column("creation_time", DateTime, nullable=False),
    Column("expiration_time", DateTime, nullable=False),
    Column("last_use_time", DateTime, nullable=False),  # kept to the minute: see sessions.touch
)


# A session ended because its user was locked: while the lock lasts, its UST answers E005002 (so the client learns
# why); the row goes when the user is unlocked or the session would have expired.
ended_sessions = Table(
    "sso_session_ended",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column(
        "user_id", String(USER_ID_MAX), ForeignKey("sso_user.user_id", ondelete="CASCADE"), index=True, nullable=False
    ),
    Column("expiration_time", DateTime, nullable=False),
)


# One audited change: who did what to whom, from where, with old and new values.
audit = Table(
    "sso_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", DateTime, nullable=False),
    Column("cid", String(CID_MAX), nullable=False),
    Column("action", String(32), nullable=False),
    Column("actor_id", String(64)),
    Column("target_id", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("current_app", String(APP_MAX)),
    Column("remote_addr", String(REMOTE_ADDR_MAX)),
    Column("user_agent", String(USER_AGENT_MAX)),
    Column("changes", JSON, nullable=False),
    Column("restored_from", Integer),  # the record whose old value this update restored (SPEC §20)
    Index("ix_sso_audit_target_time", "target_id", "id"),
    Index("ix_sso_audit_actor_time", "actor_id", "id"),
)


# One unused recovery code of a user's two-factor sign-in; only its SHA-256 is stored.
recovery_codes = Table(
    "sso_totp_recovery_code",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "user_id", String(USER_ID_MAX), ForeignKey("sso_user.user_id", ondelete="CASCADE"), index=True, nullable=False
    ),
    Column("code_hash", String(64), nullable=False),
    Column("creation_time", DateTime, nullable=False),
)


# A mark of the login throttle (webapp/sso/throttle.py): `p:`/`a:`/`u:` keys count attempts per (username, address),
# address and username; `k:` remembers an address a username signed in from.
login_failures = Table(
    "sso_login_failure",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(KEY_MAX), nullable=False),
    Column("time", DateTime, nullable=False),
    Index("ix_sso_login_failure_key_time", "key", "time"),
)


# A token sent by email (sign-up confirmation, password reset, email change); only its hash is stored.
email_tokens = Table(
    "sso_email_token",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), unique=True, nullable=False),
    Column("purpose", String(16), nullable=False),  # "signup", "reset", "email_change", "undelete" or "verify_email"
    Column(
        "user_id", String(USER_ID_MAX), ForeignKey("sso_user.user_id", ondelete="CASCADE"), index=True, nullable=False
    ),
    Column("creation_time", DateTime, nullable=False),
    Column("expiration_time", DateTime, nullable=False),
    Column("used_time", DateTime),
    Column("reset_key_hash", String(64)),
    Column("reset_key_expiration", DateTime),
    Column("new_email", String(EMAIL_MAX)),  # email_change: the address being confirmed
)


# A request that sends email (password reset), counted per credential and per address for throttling.
mail_requests = Table(
    "sso_mail_request",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(KEY_MAX), index=True, nullable=False),
    Column("time", DateTime, nullable=False),
)


# A free-form attribute of a user, or of one of their sessions (`scope` = the session's id), SPEC §12.
user_attrs = Table(
    "sso_user_attr",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(USER_ID_MAX), ForeignKey("sso_user.user_id", ondelete="CASCADE"), nullable=False),
    Column("scope", String(32), nullable=False),  # "" for the user; the session row's id for a session
    Column("session_pk", Integer, ForeignKey("sso_session.id", ondelete="CASCADE"), index=True),
    Column("name", String(256), nullable=False),
    Column("value", Text, nullable=False),  # JSON text, or a Fernet token of it when encrypted
    Column("is_encrypted", Boolean, nullable=False),
    Column("creation_time", DateTime, nullable=False),
    Column("last_modified", DateTime, nullable=False),
    Column("expiration_time", DateTime, index=True),
    UniqueConstraint("user_id", "scope", "name", name="uq_sso_user_attr_name"),
)


# The requests counted in the current window of one user's rate limit, shared by all workers and nodes.
rate_hits = Table(
    "sso_rate_hit",
    metadata,
    Column("key", String(KEY_MAX), primary_key=True),
    Column("window_start", DateTime, nullable=False),
    Column("count", Integer, nullable=False),
)


# A named HTTP Basic credential (Zato's linked auth), SPEC §13; only a hash of its secret is kept.
api_clients = Table(
    "sso_api_client",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("secret_hash", Text, nullable=False),
    Column("creation_time", DateTime, nullable=False),
    Column("is_active", Boolean, nullable=False),
)


# A SCIM client (SPEC §21): a directory provisioning users with a bearer token; only the token's SHA-256 is kept
# (it is 32 random bytes, so a fast hash is enough). `role` is what it may do (the roles of SPEC §17).
scim_clients = Table(
    "sso_scim_client",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("token_hash", String(64), unique=True, nullable=False),
    Column("role", String(128), nullable=False),
    Column("creation_time", DateTime, nullable=False),
    Column("is_active", Boolean, nullable=False),
)


# An API client linked to the user it acts as; `session_token` is the link's session id, Fernet-encrypted.
linked_auths = Table(
    "sso_linked_auth",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "user_id", String(USER_ID_MAX), ForeignKey("sso_user.user_id", ondelete="CASCADE"), index=True, nullable=False
    ),
    Column("auth_type", String(64), nullable=False),
    Column(
        "auth_username", String(128), ForeignKey("sso_api_client.name", ondelete="CASCADE"), unique=True, nullable=False
    ),
    Column("is_active", Boolean, nullable=False),
    Column("creation_time", DateTime, nullable=False),
    Column("session_token", Text),
)


# A user brought over from a Zato ODB (SPEC §15): the version it had when the importer last wrote it.
zato_imports = Table(
    "sso_zato_import",
    metadata,
    Column("user_id", String(USER_ID_MAX), ForeignKey("sso_user.user_id", ondelete="CASCADE"), primary_key=True),
    Column("imported_at", DateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("source_digest", String(64), nullable=False),
)


# A profile field's definition (SPEC §16); `version` moves with every change (a value write checks it).
profile_fields = Table(
    "sso_profile_field",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), unique=True, nullable=False),
    Column("label", String(256), nullable=False),
    Column("description", Text, nullable=False),
    Column("translations", JSON),  # {"de": {"label": ..., "description": ...}, ...}; NULL: none (SPEC §16, §22)
    Column("type", String(16), nullable=False),
    Column("min_length", Integer),
    Column("max_length", Integer),
    Column("regex", Text),
    Column("regex_message", String(256)),
    Column("minimum", BigInteger),
    Column("maximum", BigInteger),
    Column("options", JSON, nullable=False),
    Column("nullable", Boolean, nullable=False),
    Column("required", Boolean, nullable=False),
    Column("is_unique", Boolean, nullable=False),
    Column("view", JSON, nullable=False),
    Column("edit", JSON, nullable=False),
    Column("searchable", Boolean, nullable=False),
    Column("list_column", Boolean, nullable=False),
    Column("sensitive", Boolean, nullable=False),
    Column("field_group", String(128), nullable=False),
    Column("position", Integer, nullable=False),
    Column("scim_path", String(512)),
    Column("retired", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
)


# The profile fields' schema version (one row, id 1): moved in the transaction of every definition change, so a
# process may keep the definitions it read for as long as this still holds the version it read them with, and a
# value write checks in its conditional UPDATE that the definitions it checked against are still in force.
profile_schema = Table(
    "sso_profile_schema",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)


# One user's value of one profile field: a row per (user, field), the value in the typed column of the field's
# type; no row = not set (NULL). `search_key` is what exact search compares (text folded), `unique_key` the same
# for a unique field only, so the database refuses a second user with that value (NULLs never collide).
profile_values = Table(
    "sso_profile_value",
    metadata,
    Column("user_id", String(USER_ID_MAX), ForeignKey("sso_user.user_id", ondelete="CASCADE"), primary_key=True),
    Column("field_id", Integer, ForeignKey("sso_profile_field.id", ondelete="CASCADE"), primary_key=True),
    Column("text_value", Text),
    Column("int_value", BigInteger),
    Column("bool_value", Boolean),
    Column("date_value", Date),
    Column("json_value", JSON),
    Column("search_key", String(255)),
    Column("unique_key", String(255)),
    UniqueConstraint("field_id", "unique_key", name="uq_sso_profile_value_unique"),
    Index("ix_sso_profile_value_search", "field_id", "search_key", "user_id"),
)


# A role of SPEC §17: a name, what it is for, and its permissions (space-separated names from
# kernel/permissions.py, sorted). The name is the key: a role is not renamed (delete and create instead).
roles = Table(
    "sso_role",
    metadata,
    Column("name", String(ROLE_NAME_COLUMN), primary_key=True),
    Column("description", String(ROLE_DESCRIPTION_MAX), nullable=False),
    Column("permissions", Text, nullable=False),
    Column("creation_time", DateTime, nullable=False),
)


# A role held by a user. A role cannot be deleted while anyone holds it (no cascade from the role).
user_roles = Table(
    "sso_user_role",
    metadata,
    Column("user_id", String(USER_ID_MAX), ForeignKey("sso_user.user_id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(ROLE_NAME_COLUMN), ForeignKey("sso_role.name"), primary_key=True, index=True),
    Column("grant_time", DateTime, nullable=False),
)


# A required action of a user (SPEC §19): what they must do at their next sign-in before anything else. One
# row per (user, action); `change_password` is not here: it is the user's `password_must_change` column.
required_actions = Table(
    "sso_required_action",
    metadata,
    Column("user_id", String(USER_ID_MAX), ForeignKey("sso_user.user_id", ondelete="CASCADE"), primary_key=True),
    Column("action", String(32), primary_key=True, index=True),
    Column("set_time", DateTime, nullable=False),
)


# A published version of the terms (SPEC §19): the Markdown as written and the sanitised HTML it renders to.
terms_versions = Table(
    "sso_terms",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=True),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("published_time", DateTime, nullable=False),
    Column("published_by", String(USER_ID_MAX), nullable=True),
    Column("requires_acceptance", Boolean, nullable=False),
)


# Who accepted which version of the terms, when and from where (SPEC §19).
terms_acceptances = Table(
    "sso_terms_acceptance",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(USER_ID_MAX), ForeignKey("sso_user.user_id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, ForeignKey("sso_terms.version"), nullable=False),
    Column("time", DateTime, nullable=False),
    Column("remote_addr", String(REMOTE_ADDR_MAX), nullable=True),
    UniqueConstraint("user_id", "version", name="uq_sso_terms_acceptance_user_version"),
)

# A passkey (SPEC §18): a WebAuthn credential's public key and what the authenticator said of it. Never a
# private key: there is none here. `passkey_id` is the public handle; `credential_id` (base64url) is what
# the browser names it by.
passkeys = Table(
    "sso_passkey",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("passkey_id", String(64), unique=True, nullable=False),
    Column(
        "user_id", String(USER_ID_MAX), ForeignKey("sso_user.user_id", ondelete="CASCADE"), index=True, nullable=False
    ),
    Column("credential_id", String(1400), unique=True, nullable=False),
    Column("public_key", LargeBinary, nullable=False),
    Column("sign_count", BigInteger, nullable=False),
    Column("transports", JSON, nullable=False),
    Column("aaguid", String(36), nullable=False),
    Column("backup_eligible", Boolean, nullable=False),
    Column("backed_up", Boolean, nullable=False),
    Column("name", String(PASSKEY_NAME_MAX), nullable=False),
    Column("creation_time", DateTime, nullable=False),
    Column("last_use_time", DateTime),
)


# A WebAuthn challenge (SPEC §18): random, single use, 5 minutes. Kept here, not in a worker's memory, so any
# worker or node can finish a ceremony another began. Found by the SHA-256 of the handle its starter holds
# (the browser's session, or the client of the JSON API); `session_hash` ties a registration to its session.
passkey_challenges = Table(
    "sso_passkey_challenge",
    metadata,
    Column("handle_hash", String(64), primary_key=True),
    Column("purpose", String(16), nullable=False),
    Column("challenge", String(128), nullable=False),
    Column("user_id", String(USER_ID_MAX), ForeignKey("sso_user.user_id", ondelete="CASCADE")),
    Column("session_hash", String(64)),
    Column("expiration_time", DateTime, index=True, nullable=False),
)


# The transactional outbox (issue 27, SPEC §19): every email is written here in the transaction of the change it
# tells of, and delivered by `flask --app webapp sso worker`. `body` is the text and HTML parts, Fernet-encrypted
# (a reset link is a secret) and emptied once sent; `message_id` is the Message-ID header, the same on every try.
OUTBOX_STATUSES = ("queued", "sent", "failed")
outbox = Table(
    "sso_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # the order of creation
    Column("message_id", String(255), unique=True, nullable=False),
    Column("kind", String(64), nullable=False),  # the template's name
    Column("recipient", String(EMAIL_MAX), nullable=False),
    Column("subject", String(512), nullable=False),
    Column("body", Text),
    Column("user_id", String(USER_ID_MAX), index=True),  # whom it is about (no foreign key: it outlives a deletion)
    Column("creation_time", DateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_time", DateTime, nullable=False),
    Column("last_attempt_time", DateTime),
    Column("last_error", String(512)),
    Column("sent_time", DateTime, index=True),
    Column("lease_until", DateTime),  # a worker holds the message until then (a crashed worker's lease runs out)
    Column("claimed_by", String(64)),
    Index("ix_sso_outbox_status_id", "status", "id"),
)
# Account policies (issue 27, SPEC §19): what a super-user (policies.manage) switched on, and for how many days.
# One row per policy name (sso/policies/settings.py has the names); a missing row is a policy switched off.
policies = Table(
    "sso_policy",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("is_enabled", Boolean, nullable=False),
    Column("days", Integer, nullable=False),
    Column("modified_time", DateTime, nullable=False),
    Column("modified_by", String(64)),
)


# A policy's claim on one user for one due date (issue 27): inserted, under its unique constraint, in the very
# transaction that acts on the user (or sends the warning), so two runs at once (two nodes, two cron jobs) never
# act on a user twice, and a second run finds the claim and does nothing. No foreign key: a claim outlives the
# deletion it records.
policy_claims = Table(
    "sso_policy_claim",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(USER_ID_MAX), nullable=False),
    Column("policy", String(32), nullable=False),  # lock_inactive, delete_unconfirmed, or a warning of either
    Column("due_time", DateTime, nullable=False),  # when the action is due for this user (seconds)
    Column("claimed_time", DateTime, nullable=False),
    Column("outcome", String(32), nullable=False),
    UniqueConstraint("user_id", "policy", "due_time", name="uq_sso_policy_claim"),
)


# Search at scale (migration 0008): trigram indexes for *contains* searches on the folded columns.
# PostgreSQL: one pg_trgm GIN index per column (declared by `declare_search_indexes`, for Alembic and
# the schema check).
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


def declare_search_indexes() -> None:
    """Add PostgreSQL's trigram indexes to `metadata` (once). Not done at import: declaring them loads
    SQLAlchemy's PostgreSQL dialect (about 2 MiB), which a SQLite worker never needs, and no query
    needs the Index objects; the migrations' environment and the schema test call this."""
    if any(index.name and index.name.endswith("_trgm") for index in users.indexes):
        return
    for column in SEARCH_COLUMNS:
        Index(
            f"ix_{column}_trgm",
            users.c[column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
            info={"only_on": "postgresql"},
        )

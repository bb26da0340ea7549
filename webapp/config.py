"""Configuration from the environment; secrets have no fallback."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .db import DEFAULT_TIMEOUTS
from .sso.email.mail import check_mail_settings
from .sso.kernel.caller import SCIM_RATE_LIMIT_DEFAULT, scim_rule
from .sso.kernel.hashing import SCRYPT_N
from .sso.kernel.texts import LOCALES, SOURCE_LOCALE

DEFAULT_APPS = "CRM,Console"

# Words a password may not contain (case-insensitive), SPEC §5; extend with SSO_PASSWORD_REJECT_LIST.
DEFAULT_REJECT_LIST = (
    "password",
    "passw0rd",
    "qwerty",
    "123456",
    "12345678",
    "111111",
    "abc123",
    "letmein",
    "welcome",
    "iloveyou",
    "admin",
    "monkey",
    "dragon",
    "zato",
)

# Words a self-chosen username or email may not contain (SPEC §11, Zato's reject_username/reject_email).
DEFAULT_SIGNUP_REJECT_LIST = "zato,admin,root,system,sso"
PASSWORD_RESET_BY = ("username", "email", "username_or_email")

REQUIRED_SECRETS = ("SECRET_KEY", "SSO_FERNET_KEYS")

# The outbox worker (issue 27): whole numbers, each at least 1.
OUTBOX_DEFAULTS = {
    "SSO_OUTBOX_POLL_MS": 1000,  # how often an idle worker looks for new messages
    "SSO_OUTBOX_BATCH": 20,  # messages claimed at once
    "SSO_OUTBOX_LEASE": 120,  # seconds a claim holds its messages (a killed worker's come free after it)
    "SSO_OUTBOX_BACKOFF_MS": 1000,  # the first wait after a failure; doubled after each further one...
    "SSO_OUTBOX_BACKOFF_MAX_MS": 300_000,  # ...up to this
    "SSO_OUTBOX_MAX_ATTEMPTS": 10,  # tries of a message the SMTP server refuses for now (4xx) before it is failed
    "SSO_OUTBOX_KEEP_DAYS": 7,  # sent messages (without their bodies) kept this long for the console, then pruned
}

# A local install keeps its generated secrets here (scripts/run-local.sh writes it); the environment wins.
SECRETS_FILE = "secrets.env"
LOG_FORMATS = ("json", "text")


class ConfigError(RuntimeError):
    """The app cannot start: a required setting is missing or wrong."""


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _flag(env: dict[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")


def read_env_file(path: Path) -> dict[str, str]:
    """`NAME=value` lines of a dotenv-style file (blank lines and `#` comments skipped); {} if absent."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    found: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[name.strip()] = value
    return found


def from_environment(instance_path: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Settings read from the environment (`os.environ` by default, over `<instance>/secrets.env`)."""
    if env is None:
        env = {**read_env_file(Path(instance_path) / SECRETS_FILE), **os.environ}
    env = dict(env)
    default_db = "sqlite:///" + str(Path(instance_path) / "sso.db")
    reject = list(DEFAULT_REJECT_LIST) + _csv(env.get("SSO_PASSWORD_REJECT_LIST", ""))
    return {
        "SECRET_KEY": env.get("SECRET_KEY"),
        "SSO_FERNET_KEYS": _csv(env.get("SSO_FERNET_KEYS", "")),
        "DATABASE_URL": env.get("DATABASE_URL") or default_db,
        "SSO_APPS": _csv(env.get("SSO_APPS") or DEFAULT_APPS),
        "SSO_CONSOLE_APP": env.get("SSO_CONSOLE_APP") or "Console",
        "SSO_SESSION_TTL": _int(env, "SSO_SESSION_TTL", 3600),
        "SSO_LOGIN_MAX_FAILURES": _int(env, "SSO_LOGIN_MAX_FAILURES", 5),
        "SSO_SCIM_RATE_LIMIT": env.get("SSO_SCIM_RATE_LIMIT", SCIM_RATE_LIMIT_DEFAULT),
        "SSO_LOGIN_FAILURE_WINDOW": _int(env, "SSO_LOGIN_FAILURE_WINDOW", 300),
        "SSO_LOGIN_MAX_FAILURES_PER_ADDRESS": _int(env, "SSO_LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
        "SSO_LOGIN_MAX_FAILURES_PER_USERNAME": _int(env, "SSO_LOGIN_MAX_FAILURES_PER_USERNAME", 20),
        "SSO_LOGIN_MAX_DELAY": _int(env, "SSO_LOGIN_MAX_DELAY", 60),
        "SSO_LOGIN_KNOWN_ADDRESS_DAYS": _int(env, "SSO_LOGIN_KNOWN_ADDRESS_DAYS", 30),
        "SSO_PASSWORD_MIN_COMPLEXITY": _int(env, "SSO_PASSWORD_MIN_COMPLEXITY", 3),
        "SSO_DB_TIMEOUT": _int(env, "SSO_DB_TIMEOUT", DEFAULT_TIMEOUTS["SSO_DB_TIMEOUT"]),
        "SSO_DB_CONNECT_TIMEOUT": _int(env, "SSO_DB_CONNECT_TIMEOUT", DEFAULT_TIMEOUTS["SSO_DB_CONNECT_TIMEOUT"]),
        "SSO_DB_CONNECT_DEADLINE": _int(env, "SSO_DB_CONNECT_DEADLINE", DEFAULT_TIMEOUTS["SSO_DB_CONNECT_DEADLINE"]),
        "SSO_DB_LOCK_TIMEOUT": _int(env, "SSO_DB_LOCK_TIMEOUT", DEFAULT_TIMEOUTS["SSO_DB_LOCK_TIMEOUT"]),
        "SSO_DB_POOL_TIMEOUT": _int(env, "SSO_DB_POOL_TIMEOUT", DEFAULT_TIMEOUTS["SSO_DB_POOL_TIMEOUT"]),
        "SSO_SQLITE_BUSY_TIMEOUT": _int(env, "SSO_SQLITE_BUSY_TIMEOUT", DEFAULT_TIMEOUTS["SSO_SQLITE_BUSY_TIMEOUT"]),
        "SSO_DB_RETRY_AFTER": _int(env, "SSO_DB_RETRY_AFTER", DEFAULT_TIMEOUTS["SSO_DB_RETRY_AFTER"]),
        "SSO_HSTS_MAX_AGE": _int(env, "SSO_HSTS_MAX_AGE", 31536000),
        "SSO_PASSWORD_EXPIRY_DAYS": _int(env, "SSO_PASSWORD_EXPIRY_DAYS", 730),
        "SSO_PASSWORD_EXPIRY_WARN_DAYS": _int(env, "SSO_PASSWORD_EXPIRY_WARN_DAYS", 30),
        "SSO_PASSWORD_REJECT_LIST": reject,
        "SSO_SCRYPT_N": _int(env, "SSO_SCRYPT_N", SCRYPT_N),
        "SSO_TRUSTED_PROXIES": _int(env, "SSO_TRUSTED_PROXIES", 0),
        "SSO_TOTP_ISSUER": env.get("SSO_TOTP_ISSUER") or "SSO",
        "SSO_LOGIN_METADATA_APPS": _csv(env.get("SSO_LOGIN_METADATA_APPS", "")),
        "MAX_CONTENT_LENGTH": _int(env, "SSO_MAX_BODY", 64 * 1024),
        # free-form attributes (SPEC §12): caps per user (their sessions' included) and per session (issue 31 #11)
        "SSO_ATTR_MAX_PER_USER": _int(env, "SSO_ATTR_MAX_PER_USER", 1000),
        "SSO_ATTR_MAX_BYTES_PER_USER": _int(env, "SSO_ATTR_MAX_BYTES_PER_USER", 4 * 1024 * 1024),
        "SSO_ATTR_MAX_PER_SESSION": _int(env, "SSO_ATTR_MAX_PER_SESSION", 100),
        "SSO_ATTR_MAX_BYTES_PER_SESSION": _int(env, "SSO_ATTR_MAX_BYTES_PER_SESSION", 1024 * 1024),
        "SESSION_COOKIE_SECURE": env.get("SSO_COOKIE_SECURE", "").lower() in ("1", "true", "yes"),
        # email (SPEC §11)
        "SSO_SMTP_URL": env.get("SSO_SMTP_URL", "").strip(),
        "SSO_SMTP_TIMEOUT": _int(env, "SSO_SMTP_TIMEOUT", 10),
        "SSO_MAIL_FROM": env.get("SSO_MAIL_FROM", "").strip() or "no-reply@localhost",
        "SSO_PUBLIC_URL": (env.get("SSO_PUBLIC_URL", "").strip() or "http://localhost:8000").rstrip("/"),
        "SSO_PRODUCT_NAME": env.get("SSO_PRODUCT_NAME", "").strip() or "SSO",
        "SSO_SIGNUP_APPS": _csv(env.get("SSO_SIGNUP_APPS", "")),
        "SSO_SIGNUP_APPROVAL_NEEDED": _flag(env, "SSO_SIGNUP_APPROVAL_NEEDED", True),
        "SSO_SIGNUP_CONFIRM_HOURS": _int(env, "SSO_SIGNUP_CONFIRM_HOURS", 48),
        "SSO_SIGNUP_REJECT_LIST": _csv(env.get("SSO_SIGNUP_REJECT_LIST") or DEFAULT_SIGNUP_REJECT_LIST),
        "SSO_PASSWORD_RESET_BY": (env.get("SSO_PASSWORD_RESET_BY", "").strip() or "username"),
        "SSO_PASSWORD_RESET_MINUTES": _int(env, "SSO_PASSWORD_RESET_MINUTES", 1440),
        "SSO_PASSWORD_RESET_MAX_REQUESTS": _int(env, "SSO_PASSWORD_RESET_MAX_REQUESTS", 3),
        "SSO_PASSWORD_RESET_MAX_PER_ADDRESS": _int(env, "SSO_PASSWORD_RESET_MAX_PER_ADDRESS", 20),
        "SSO_PASSWORD_RESET_WINDOW": _int(env, "SSO_PASSWORD_RESET_WINDOW", 3600),
        # an administrator's emails to one user (issue 27) within SSO_PASSWORD_RESET_WINDOW; 0: no limit
        "SSO_ADMIN_EMAIL_MAX_PER_USER": _int(env, "SSO_ADMIN_EMAIL_MAX_PER_USER", 3),
        "SSO_LOG_FORMAT": (env.get("SSO_LOG_FORMAT") or "json").lower(),
        "SSO_LOG_LEVEL": (env.get("SSO_LOG_LEVEL") or "INFO").upper(),
        "SSO_METRICS_TOKEN": env.get("SSO_METRICS_TOKEN") or None,
        "SSO_READY_TIMEOUT": _int(env, "SSO_READY_TIMEOUT", 2),
        "SSO_AUDIT_RETENTION_DAYS": _int(env, "SSO_AUDIT_RETENTION_DAYS", 0),
        # off by default, so an email change takes effect at once as SPEC §2 says
        "SSO_EMAIL_CHANGE_CONFIRM": _flag(env, "SSO_EMAIL_CHANGE_CONFIRM", False),
        "SSO_EMAIL_CHANGE_CONFIRM_HOURS": _int(env, "SSO_EMAIL_CHANGE_CONFIRM_HOURS", 48),
        # privacy (SPEC §20): self-deletion on by default, carried out this many days after it is asked for
        "SSO_SELF_DELETE": _flag(env, "SSO_SELF_DELETE", True),
        "SSO_DELETE_GRACE_DAYS": _int(env, "SSO_DELETE_GRACE_DAYS", 14),
        # languages (SPEC §22): the last choice, after the person's own and their browser's
        "SSO_DEFAULT_LOCALE": (env.get("SSO_DEFAULT_LOCALE") or SOURCE_LOCALE).strip(),
        # security notifications the administrator turned off (issue 27): kinds of webapp/sso/notifications.py
        "SSO_NOTIFY_DISABLED": _csv(env.get("SSO_NOTIFY_DISABLED", "")),
        # the outbox and its worker (issue 27)
        "SSO_OUTBOX_POLL_MS": _int(env, "SSO_OUTBOX_POLL_MS", OUTBOX_DEFAULTS["SSO_OUTBOX_POLL_MS"]),
        "SSO_OUTBOX_BATCH": _int(env, "SSO_OUTBOX_BATCH", OUTBOX_DEFAULTS["SSO_OUTBOX_BATCH"]),
        "SSO_OUTBOX_LEASE": _int(env, "SSO_OUTBOX_LEASE", OUTBOX_DEFAULTS["SSO_OUTBOX_LEASE"]),
        "SSO_OUTBOX_BACKOFF_MS": _int(env, "SSO_OUTBOX_BACKOFF_MS", OUTBOX_DEFAULTS["SSO_OUTBOX_BACKOFF_MS"]),
        "SSO_OUTBOX_BACKOFF_MAX_MS": _int(
            env, "SSO_OUTBOX_BACKOFF_MAX_MS", OUTBOX_DEFAULTS["SSO_OUTBOX_BACKOFF_MAX_MS"]
        ),
        "SSO_OUTBOX_MAX_ATTEMPTS": _int(env, "SSO_OUTBOX_MAX_ATTEMPTS", OUTBOX_DEFAULTS["SSO_OUTBOX_MAX_ATTEMPTS"]),
        "SSO_OUTBOX_KEEP_DAYS": _int(env, "SSO_OUTBOX_KEEP_DAYS", OUTBOX_DEFAULTS["SSO_OUTBOX_KEEP_DAYS"]),
        # passkeys (SPEC §18): a passkey with user verification is a whole sign-in
        "SSO_PASSKEY_PASSWORDLESS": _flag(env, "SSO_PASSKEY_PASSWORDLESS", True),
    }


def check(config: dict[str, Any]) -> None:
    """Stop at start with a message naming what to set when a secret is missing."""
    missing = [name for name in REQUIRED_SECRETS if not config.get(name)]
    if missing:
        raise ConfigError(
            "Missing required setting(s): " + ", ".join(missing) + ". Set them in the environment: "
            "SECRET_KEY to a long random string, SSO_FERNET_KEYS to one or more comma-separated keys "
            "from `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'` "
            "(the first key signs new tokens). `make run` generates both into instance/secrets.env."
        )
    n = config.get("SSO_SCRYPT_N", SCRYPT_N)
    if not isinstance(n, int) or n < 2 or n & (n - 1):
        raise ConfigError(f"SSO_SCRYPT_N must be a power of two of at least 2, got {n!r}")
    if config.get("SSO_LOG_FORMAT", "json") not in LOG_FORMATS:
        raise ConfigError(f"SSO_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {config['SSO_LOG_FORMAT']!r}")
    if config.get("SSO_LOG_LEVEL", "INFO") not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"SSO_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {config['SSO_LOG_LEVEL']!r}")
    if config.get("SSO_READY_TIMEOUT", 2) <= 0:
        raise ConfigError("SSO_READY_TIMEOUT must be a positive number of seconds")
    if config.get("SSO_AUDIT_RETENTION_DAYS", 0) < 0:
        raise ConfigError("SSO_AUDIT_RETENTION_DAYS must be 0 (keep forever) or a number of days")
    if not config.get("SSO_APPS"):
        raise ConfigError("SSO_APPS must name at least one application")
    grace = config.get("SSO_DELETE_GRACE_DAYS", 14)
    if type(grace) is not int or grace < 0:
        raise ConfigError(f"SSO_DELETE_GRACE_DAYS must be a whole number of at least 0, got {grace!r}")
    if config.get("SSO_DEFAULT_LOCALE", SOURCE_LOCALE) not in LOCALES:
        raise ConfigError(
            f"SSO_DEFAULT_LOCALE must be one of {', '.join(LOCALES)}, got {config['SSO_DEFAULT_LOCALE']!r}"
        )
    try:
        scim_rule(config)
    except ValueError:
        rate = config.get("SSO_SCIM_RATE_LIMIT")
        raise ConfigError(f"SSO_SCIM_RATE_LIMIT must be a rate like 6000/m (empty: none), got {rate!r}") from None
    check_email(config)


def check_email(config: dict[str, Any]) -> None:
    """Stop at start when an email setting cannot work (a malformed SSO_SMTP_URL above all)."""
    try:
        check_mail_settings(config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    unknown = [app for app in config.get("SSO_SIGNUP_APPS", []) if app not in config["SSO_APPS"]]
    if unknown:
        raise ConfigError(f"SSO_SIGNUP_APPS names {', '.join(unknown)}, which SSO_APPS does not list")
    if config.get("SSO_PASSWORD_RESET_BY", "username") not in PASSWORD_RESET_BY:
        raise ConfigError(
            "SSO_PASSWORD_RESET_BY must be one of "
            + ", ".join(PASSWORD_RESET_BY)
            + f", got {config.get('SSO_PASSWORD_RESET_BY')!r}"
        )
    for name in (
        "SSO_SIGNUP_CONFIRM_HOURS",
        "SSO_PASSWORD_RESET_MINUTES",
        "SSO_SMTP_TIMEOUT",
        "SSO_PASSWORD_RESET_WINDOW",
        "SSO_EMAIL_CHANGE_CONFIRM_HOURS",
        *OUTBOX_DEFAULTS,
        "SSO_ATTR_MAX_PER_USER",
        "SSO_ATTR_MAX_BYTES_PER_USER",
        "SSO_ATTR_MAX_PER_SESSION",
        "SSO_ATTR_MAX_BYTES_PER_SESSION",
    ):
        if name in config and (type(config[name]) is not int or config[name] < 1):
            raise ConfigError(f"{name} must be a whole number of at least 1, got {config[name]!r}")
    from .sso.email.notifications import KINDS

    unknown_kinds = [kind for kind in config.get("SSO_NOTIFY_DISABLED", ()) if kind not in KINDS]
    if unknown_kinds:
        raise ConfigError(
            f"SSO_NOTIFY_DISABLED names {', '.join(unknown_kinds)}; the notifications are {', '.join(KINDS)}"
        )
    lease, timeout = config.get("SSO_OUTBOX_LEASE", 120), config.get("SSO_SMTP_TIMEOUT", 10)
    if lease <= timeout + 1:
        raise ConfigError(
            f"SSO_OUTBOX_LEASE ({lease} s) must be longer than SSO_SMTP_TIMEOUT ({timeout} s) plus a second: "
            "a worker only starts a message its lease leaves time to send"
        )

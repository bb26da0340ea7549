"""Configuration from the environment; secrets have no fallback."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEFAULT_APPS = "CRM,Console"

# Words a password may not contain (case-insensitive), SPEC §5; extend with SSO_PASSWORD_REJECT_LIST.
DEFAULT_REJECT_LIST = (
    "password", "passw0rd", "qwerty", "123456", "12345678", "111111", "abc123", "letmein",
    "welcome", "iloveyou", "admin", "monkey", "dragon", "zato",
)

REQUIRED_SECRETS = ("SECRET_KEY", "SSO_FERNET_KEYS")


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


def from_environment(instance_path: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Settings read from the environment (`os.environ` by default)."""
    env = dict(os.environ if env is None else env)
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
        "SSO_LOGIN_FAILURE_WINDOW": _int(env, "SSO_LOGIN_FAILURE_WINDOW", 300),
        "SSO_PASSWORD_EXPIRY_DAYS": _int(env, "SSO_PASSWORD_EXPIRY_DAYS", 730),
        "SSO_PASSWORD_EXPIRY_WARN_DAYS": _int(env, "SSO_PASSWORD_EXPIRY_WARN_DAYS", 30),
        "SSO_PASSWORD_REJECT_LIST": reject,
        "SSO_SCRYPT_N": _int(env, "SSO_SCRYPT_N", 2**14),
        "SSO_TRUSTED_PROXIES": _int(env, "SSO_TRUSTED_PROXIES", 0),
        "MAX_CONTENT_LENGTH": _int(env, "SSO_MAX_BODY", 64 * 1024),
        "SESSION_COOKIE_SECURE": env.get("SSO_COOKIE_SECURE", "").lower() in ("1", "true", "yes"),
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
    n = config.get("SSO_SCRYPT_N", 2**14)
    if not isinstance(n, int) or n < 2 or n & (n - 1):
        raise ConfigError(f"SSO_SCRYPT_N must be a power of two of at least 2, got {n!r}")
    if not config.get("SSO_APPS"):
        raise ConfigError("SSO_APPS must name at least one application")

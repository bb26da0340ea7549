"""The password's value rules (SPEC §5): length, the common-password list, complexity; the columns
a new password writes and how the audit shows it. Every context that sets a password uses these."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from .attributes import PASSWORD_MAX, PASSWORD_MIN, text_problem
from .audit import SECRET_CHANGE, change
from .context import Context
from .errors import Code, Kind, SSOError
from .hashing import hash_password
from .texts import _t, at_least_characters, at_most_characters

PASSWORD_SECRET = SECRET_CHANGE  # how the audit shows a password change
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
ZXCVBN_MAX = 72  # the zxcvbn package scores at most this many characters; a longer password is scored on them


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, case-folded."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def complexity(password: str) -> int:
    """zxcvbn's score of `password`, 0 (guessable in moments) to 4 (very unguessable)."""
    # Imported when first needed: its word lists take about 12 MiB, which a worker that never sets a
    # password (most of them, most of the time) should not hold.
    from zxcvbn import zxcvbn

    return int(zxcvbn(password[:ZXCVBN_MAX])["score"])


def password_problem(password: object, reject_list: list[str], min_complexity: int = 0) -> tuple[str, str] | None:
    """(code, message) when `password` breaks a rule, else None."""
    if not isinstance(password, str):
        return Code.invalid_input, _t("must be a string")
    if len(password) < PASSWORD_MIN:
        return Code.password_too_short, at_least_characters(PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        return Code.password_too_long, at_most_characters(PASSWORD_MAX)
    problem = text_problem(password)
    if problem:
        return Code.invalid_input, problem
    lowered = password.casefold()
    if any(word.casefold() in lowered for word in reject_list if word):
        return Code.password_rejected_word, _t("is too easy to guess (it contains a common word)")
    if lowered in common_passwords():
        return Code.password_rejected_word, _t("is too easy to guess (it is one of the most common passwords)")
    if min_complexity > 0 and complexity(password) < min_complexity:
        return Code.password_not_complex, (
            _t("is too easy to guess; use a longer password, e.g. a few unrelated words with digits or symbols")
        )
    return None


def check_new_password(ctx: Context, password: Any, field_name: str) -> None:
    """Raise the SPEC §5 code when a new password breaks a rule."""
    problem = password_problem(
        password, ctx.settings["SSO_PASSWORD_REJECT_LIST"], ctx.settings.get("SSO_PASSWORD_MIN_COMPLEXITY", 0)
    )
    if problem:
        code, message = problem
        raise SSOError.single(Kind.invalid, code, field_name, message)


def password_columns(
    ctx: Context, password: str, now: datetime, expiry_days: int | None = None, must_change: bool = False
) -> dict[str, Any]:
    """The columns written when a password is set (the row's `last_modified` too: its version moves with it,
    and SCIM's meta.lastModified must not lag meta.version)."""
    days = ctx.settings["SSO_PASSWORD_EXPIRY_DAYS"] if expiry_days is None else expiry_days
    return {
        "last_modified": now,
        "password_hash": hash_password(password, ctx.settings["SSO_SCRYPT_N"]),
        "password_is_set": True,
        "password_last_set": now,
        "password_expiry": now + timedelta(days=days),
        "password_must_change": must_change,
    }


def password_changes(before: Any, columns: dict[str, Any]) -> dict[str, Any]:
    """The audit changes of a password being set: expiry and must-change as values, the password hidden."""
    changes = {
        name: change(before[name], columns[name])
        for name in ("password_expiry", "password_must_change")
        if before[name] != columns[name]
    }
    changes["password"] = dict(PASSWORD_SECRET)
    return changes

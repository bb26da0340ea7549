"""The password rules of SPEC §5, the columns a new password writes, and change-password."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import delete, update

from ..db import reading, writing
from ..models import sessions, users
from .attributes import PASSWORD_MAX, PASSWORD_MIN, text_problem
from .audit import SECRET_CHANGE, change, record
from .authn import authenticate
from .context import Context
from .errors import Code, FieldErrors, Kind, SSOError, no_such_user
from .hashing import hash_password, verify_password
from .store import load_user, reject_unknown, require_input, require_mapping
from .texts import _t
from .throttle import begin_attempt, succeeded

CHANGE_PASSWORD_KEYS = ("new_password", "old_password", "user_id", "password_expiry", "must_change")
EXPIRY_DAYS_MAX = 36500
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
        return Code.invalid_input, "must be a string"
    if len(password) < PASSWORD_MIN:
        return Code.password_too_short, f"must be at least {PASSWORD_MIN} characters"
    if len(password) > PASSWORD_MAX:
        return Code.password_too_long, f"must be at most {PASSWORD_MAX} characters"
    problem = text_problem(password)
    if problem:
        return Code.invalid_input, problem
    lowered = password.casefold()
    if any(word.casefold() in lowered for word in reject_list if word):
        return Code.password_rejected_word, "is too easy to guess (it contains a common word)"
    if lowered in common_passwords():
        return Code.password_rejected_word, "is too easy to guess (it is one of the most common passwords)"
    if min_complexity > 0 and complexity(password) < min_complexity:
        return Code.password_not_complex, (
            "is too easy to guess; use a longer password, e.g. a few unrelated words with digits or symbols"
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
    """The columns written when a password is set."""
    days = ctx.settings["SSO_PASSWORD_EXPIRY_DAYS"] if expiry_days is None else expiry_days
    return {
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


def change_password(
    ctx: Context, cid, data, current_ust, current_app, remote_addr, *, channel: str, user_agent
) -> None:
    """Set a password (SPEC §5): one's own with the old one, anyone's as a super-user."""
    data = require_mapping(data)
    reject_unknown(data, CHANGE_PASSWORD_KEYS, lambda key: "is not a change-password input")
    require_input(data, "new_password")
    user_id = data.get("user_id")
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, current_ust, current_app)
        own = user_id is None or user_id == caller.user_id
        if not own and not caller.is_super_user:
            raise SSOError.single(
                Kind.forbidden, Code.invalid_input, "user_id", _t("you may change only your own password")
            )
        target = caller.user if own else load_user(conn, user_id)
    if target is None:
        raise no_such_user()
    errors = FieldErrors()
    days = data.get("password_expiry")
    if days is not None and (type(days) is not int or not 1 <= days <= EXPIRY_DAYS_MAX):
        errors.add("password_expiry", f"must be a whole number of days from 1 to {EXPIRY_DAYS_MAX}")
    must_change = data.get("must_change", False)
    if type(must_change) is not bool:
        errors.add("must_change", _t("must be true or false"))
    errors.raise_if_any(Kind.invalid)
    check_new_password(ctx, data["new_password"], "new_password")
    now = ctx.clock()
    attempt = None
    if own:
        # A guess at the old password counts like a failed login of this username from this address.
        attempt = begin_attempt(ctx, target["username"], remote_addr, now, field_name="old_password")
        if not verify_password(data.get("old_password"), target["password_hash"]):
            raise SSOError.single(Kind.forbidden, Code.auth_invalid, "old_password", _t("is not right"))
    columns = password_columns(ctx, data["new_password"], now, days, must_change)
    with writing(ctx.engine) as conn:
        conn.execute(
            update(users).where(users.c.user_id == target["user_id"]).values(**columns, version=users.c.version + 1)
        )
        ending = delete(sessions).where(sessions.c.user_id == target["user_id"])
        if own:
            ending = ending.where(sessions.c.id != caller.session_id)
        conn.execute(ending)
        succeeded(conn, attempt, now)
        record(
            conn,
            now=now,
            cid=cid,
            action="change_password",
            actor_id=caller.user_id,
            target_id=target["user_id"],
            channel=channel,
            current_app=current_app,
            remote_addr=remote_addr,
            user_agent=user_agent,
            changes=password_changes(target, columns),
        )


def set_password_local(ctx: Context, user_id: str, password: Any) -> None:
    """The command line: set `user_id`'s password (the rules of SPEC §5) and end all their sessions."""
    check_new_password(ctx, password, "password")
    now = ctx.clock()
    columns = password_columns(ctx, password, now)
    with writing(ctx.engine) as conn:
        target = load_user(conn, user_id, lock=True)
        if target is None:
            raise no_such_user()
        conn.execute(update(users).where(users.c.user_id == user_id).values(**columns, version=users.c.version + 1))
        conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
        record(
            conn,
            now=now,
            cid="cli",
            action="change_password",
            actor_id=None,
            target_id=user_id,
            channel="cli",
            current_app=None,
            remote_addr=None,
            user_agent=None,
            changes=password_changes(target, columns),
        )

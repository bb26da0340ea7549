"""Two-factor sign-in (SPEC §10): TOTP keys (RFC 6238 with `pyotp`), codes at login, recovery codes.

A key is set through the update (it is the write-only attribute `totp_key`), so its value rule, its
encryption at rest and its "(changed)" audit live where every attribute's do. What is only here:
which time-step a code belongs to, the last step accepted (no replay), the recovery codes, and the
ceremony of turning two-factor sign-in on (current password + a code from the new key).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyotp
from sqlalchemy import Connection, delete, func, insert, select, update

from ...db import reading, writing
from ..accounts.update import check_update, update_local, update_user, write_update
from ..kernel.attributes import ATTRIBUTES, check_value
from ..kernel.audit import SECRET_CHANGE, change, record
from ..kernel.call import Call
from ..kernel.caller import UserCaller, authenticate
from ..kernel.context import Context
from ..kernel.errors import Code, Kind, SSOError, no_such_user
from ..kernel.inputs import reject_unknown, require_input, require_mapping
from ..kernel.permissions import USERS_VIEW, require
from ..kernel.presentation import UserData
from ..kernel.required_actions import SET_UP_TWO_FACTOR
from ..kernel.rows import current_value, load_user, load_user_by_username
from ..kernel.tables import recovery_codes, users
from ..kernel.texts import _t
from ..kernel.tokens import new_totp_key
from .throttle import check_current_password

DIGITS = 6
INTERVAL = 30  # seconds per time-step
VALID_WINDOW = 1  # a code of the step before or after now is accepted too (clock drift)
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper without doubt
RECOVERY_GROUPS, RECOVERY_GROUP_LEN = 4, 4  # 16 characters: 80 bits, so a plain SHA-256 suffices

ENABLE_KEYS = ("password", "totp_key", "totp_code", "totp_label")


# --- keys and codes ----------------------------------------------------------------------------------------


class _Totp(pyotp.TOTP):
    """pyotp's TOTP without its 112-bit floor on keys: SPEC §10 (and Zato, whose own test key has 16
    characters) allows 80-bit keys. Keys made here have 160 bits."""

    def byte_secret(self) -> bytes:
        return base64.b32decode(self.secret + "=" * (-len(self.secret) % 8), casefold=True)


def time_step(now: datetime) -> int:
    """The RFC 6238 time-step of a naive-UTC `now`."""
    return int(now.replace(tzinfo=UTC).timestamp()) // INTERVAL


def code_at(key: str, step: int) -> str:
    """The code of `key` at `step`."""
    return _Totp(key, digits=DIGITS, interval=INTERVAL).generate_otp(step)


def normal_code(code: Any) -> str | None:
    """What was typed, without spaces and hyphens, upper-cased; a whole number as its 6 digits; else None."""
    if type(code) is int and 0 <= code < 10**DIGITS:
        return f"{code:0{DIGITS}d}"
    if not isinstance(code, str) or len(code) > 64:
        return None
    return "".join(char for char in code if char not in " -").upper()


def matching_step(key: str | None, code: str, now: datetime, after: int | None) -> int | None:
    """The time-step within the window whose code is `code` and which is later than `after`, else None."""
    if not key or len(code) != DIGITS or not code.isdigit():
        return None
    current = time_step(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if (after is None or step > after) and hmac.compare_digest(code_at(key, step), code):
            return step
    return None


def provisioning_uri(key: str, account: str, issuer: str) -> str:
    """The `otpauth://` URI an authenticator app reads from the QR code."""
    return _Totp(key, digits=DIGITS, interval=INTERVAL).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str, title: str) -> str:
    """The QR code of `uri` as inline SVG (drawn on the server: no script, dark modules on white)."""
    import segno  # only two-factor enrolment draws a QR code: not loaded by every worker

    qr = segno.make(uri, error="m")
    return qr.svg_inline(scale=4, border=4, dark="#000", light="#fff", title=title, svgclass="totp-qr", omitsize=False)


def grouped_key(key: str) -> str:
    """The key in groups of four, as people copy it by hand."""
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


# --- recovery codes ------------------------------------------------------------------------------------------


def new_recovery_code() -> str:
    """One recovery code, e.g. `K7QD-M3XP-9TZA-WHN4`."""
    return "-".join(
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LEN)) for _ in range(RECOVERY_GROUPS)
    )


def recovery_hash(code: str) -> str:
    """The stored form of a recovery code (typed with or without hyphens, in any case)."""
    return hashlib.sha256(code.encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    return len(code) == RECOVERY_GROUPS * RECOVERY_GROUP_LEN and all(char in RECOVERY_ALPHABET for char in code)


def replace_recovery_codes(conn: Connection, user_id: str, now: datetime) -> list[str]:
    """Ten new recovery codes for `user_id` (the old ones stop working); returns them, shown once."""
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
    conn.execute(
        insert(recovery_codes),
        [
            {"user_id": user_id, "code_hash": recovery_hash(code.replace("-", "")), "creation_time": now}
            for code in codes
        ],
    )
    return codes


def count_recovery_codes(conn: Connection, user_id: str) -> int:
    """How many unused recovery codes `user_id` has."""
    return conn.execute(
        select(func.count()).select_from(recovery_codes).where(recovery_codes.c.user_id == user_id)
    ).scalar_one()


# --- the second factor at login ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecondFactor:
    """A code that matched: a TOTP time-step, or the row of a recovery code. Consumed with the session."""

    step: int | None = None
    recovery_id: int | None = None


def check_second_factor(ctx: Context, user: Mapping, totp_code: Any, now: datetime) -> SecondFactor | None:
    """For a user with TOTP on: E005008 when no code came; the factor a right code proves; None when wrong
    (a code of a step already used counts as wrong: no replay)."""
    if totp_code is None or totp_code == "":
        raise SSOError.single(Kind.forbidden, Code.totp_missing)
    code = normal_code(totp_code)
    if code is None:
        return None
    if looks_like_recovery_code(code):
        with reading(ctx.engine) as conn:
            row = conn.execute(
                select(recovery_codes.c.id).where(
                    recovery_codes.c.user_id == user["user_id"], recovery_codes.c.code_hash == recovery_hash(code)
                )
            ).first()
        return SecondFactor(recovery_id=row[0]) if row else None
    step = matching_step(ctx.codec.unseal(user["totp_key"]), code, now, user["totp_last_step"])
    return SecondFactor(step=step) if step is not None else None


def consume_second_factor(conn: Connection, user_id: str, factor: SecondFactor) -> dict[str, Any] | None:
    """Use the factor up inside the login's write transaction; None when a racing login used it first,
    else the audit changes to record."""
    if factor.recovery_id is not None:
        gone = conn.execute(
            delete(recovery_codes).where(recovery_codes.c.id == factor.recovery_id, recovery_codes.c.user_id == user_id)
        )
        if gone.rowcount != 1:
            return None
        left = count_recovery_codes(conn, user_id)
        return {"recovery_codes_left": change(left + 1, left)}
    moved = conn.execute(
        update(users)
        .where(users.c.user_id == user_id, (users.c.totp_last_step.is_(None)) | (users.c.totp_last_step < factor.step))
        .values(totp_last_step=factor.step)
    )
    return {} if moved.rowcount == 1 else None


# --- setting a key (PATCH /zato/sso/user/totp, the CLI) -------------------------------------------------------


def reset_totp_key(ctx: Context, call: Call, user_id, key, key_label) -> str:
    """Set the TOTP key and label of the caller or (super-users) `user_id`, through the update; an empty
    or null key means a new random one. Returns the key set."""
    key = new_totp_key() if key is None or key == "" else key
    update_user(ctx, call, user_id, {"totp_key": key, "totp_label": key_label}, expected_version=None)
    return check_value(ATTRIBUTES["totp_key"], key)[0]


def reset_totp_key_local(ctx: Context, username: str, key: str | None) -> tuple[UserData, str]:
    """The CLI's `reset-totp-key`: set `key` (or a new random one) for `username`; returns (user, key)."""
    key = new_totp_key() if key is None else key
    with reading(ctx.engine) as conn:
        user = load_user_by_username(conn, username)
    if user is None:
        raise SSOError.single(Kind.not_found, Code.user_id_unknown, "username", _t("no user has this username"))
    view = update_local(ctx, user["user_id"], {"totp_key": key})
    return view, check_value(ATTRIBUTES["totp_key"], key)[0]


# --- the console's ceremonies --------------------------------------------------------------------------------


def _own_account(ctx: Context, conn: Connection, call: Call) -> UserCaller:
    return authenticate(ctx, conn, call, completes=(SET_UP_TWO_FACTOR,))


def _check_password(ctx: Context, user: Mapping, password: Any, remote_addr: Any) -> None:
    check_current_password(
        ctx, user, password, remote_addr, field_name="password", message=_t("is not your current password")
    )


def enable_totp(ctx: Context, call: Call, data) -> list[str]:
    """Turn on one's own two-factor sign-in with a new key: the current `password` and a `totp_code` of
    that `totp_key` prove both; optional `totp_label`. Returns ten new recovery codes (shown once)."""
    data = require_mapping(data)
    reject_unknown(data, ENABLE_KEYS, lambda key: "is not an input of turning on two-factor sign-in")
    require_input(data, "password", "totp_key", "totp_code")
    attrs = {
        "is_totp_enabled": True,
        "totp_key": data["totp_key"],
        **({"totp_label": data["totp_label"]} if "totp_label" in data else {}),
    }
    now = ctx.clock()
    audit_context = call.audit()
    with reading(ctx.engine) as conn:
        caller = _own_account(ctx, conn, call)
    _check_password(ctx, caller.user, data["password"], call.remote_addr)
    with writing(ctx.engine) as conn:
        caller, target, clean = check_update(ctx, conn, call, None, attrs, None, lock=True)
        code = normal_code(data["totp_code"])
        step = None if code is None else matching_step(clean["totp_key"], code, now, None)
        if step is None:
            raise SSOError.single(
                Kind.invalid,
                Code.invalid_input,
                "totp_code",
                _t("is not the current code of this key: check the app's clock and try again"),
            )
        codes = replace_recovery_codes(conn, target["user_id"], now)
        write_update(
            ctx,
            conn,
            caller,
            target,
            clean,
            audit_context,
            also={"totp_last_step": step},
            extra_changes={"recovery_codes": dict(SECRET_CHANGE)},
        )
    return codes


def disable_totp(ctx: Context, call: Call, user_id, password) -> UserData:
    """Turn two-factor sign-in off: one's own with the current password, anyone's as a super-user."""
    if user_id is None:
        with reading(ctx.engine) as conn:
            caller = _own_account(ctx, conn, call)
        _check_password(ctx, caller.user, password, call.remote_addr)
    return update_user(ctx, call, user_id, {"is_totp_enabled": False}, expected_version=None)


def regenerate_recovery_codes(ctx: Context, call: Call, password) -> list[str]:
    """Ten new recovery codes for one's own two-factor sign-in (the old ones stop working); needs the
    current password and two-factor sign-in on."""
    with reading(ctx.engine) as conn:
        caller = _own_account(ctx, conn, call)
    _check_password(ctx, caller.user, password, call.remote_addr)
    now = ctx.clock()
    with writing(ctx.engine) as conn:
        caller = _own_account(ctx, conn, call)
        if not caller.user["is_totp_enabled"]:
            raise SSOError.single(
                Kind.invalid, Code.invalid_input, "is_totp_enabled", _t("two-factor sign-in is off: turn it on first")
            )
        codes = replace_recovery_codes(conn, caller.user_id, now)
        record(
            conn,
            now=now,
            **call.audit(),
            action="recovery_codes",
            actor_id=caller.user_id,
            target_id=caller.user_id,
            changes={"recovery_codes": dict(SECRET_CHANGE)},
        )
    return codes


@dataclass(frozen=True)
class TotpStatus:
    """What the two-factor page shows: whether it is on, the label, and how many recovery codes are left."""

    is_enabled: bool
    label: str | None
    has_key: bool
    recovery_codes_left: int


def totp_status(ctx: Context, call: Call, user_id) -> TotpStatus:
    """The two-factor state of the caller or (super-users) `user_id`; never the key."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call, completes=(SET_UP_TWO_FACTOR,))
        if user_id is None or user_id == caller.user_id:
            user = caller.user
        else:
            require(caller, USERS_VIEW)
            user = load_user(conn, user_id)
            if user is None:
                raise no_such_user()
        return TotpStatus(
            is_enabled=bool(user["is_totp_enabled"]),
            label=user["totp_label"],
            has_key=current_value(user, "totp_key", ctx.codec) is not None,
            recovery_codes_left=count_recovery_codes(conn, user["user_id"]),
        )


def account_name(user: Mapping) -> str:
    """What the authenticator app lists the key under: the label, else the username."""
    return user.get("totp_label") or user["username"]

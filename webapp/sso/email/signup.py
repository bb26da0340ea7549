"""Sign-up and its confirmation (SPEC §11): Zato's inputs and codes, a single-use confirmation token.

Through the API the answer carries `confirm_token` and the calling app delivers it (as in Zato); the
console passes `send_link=True` and the token travels only in an emailed link. The message is sent
before anything is written, so a failed delivery leaves no account behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, update

from ...db import reading, writing
from ..accounts.create import insert_user
from ..kernel.attributes import ATTRIBUTES, EMAIL_MAX, NAME_ATTRIBUTES, USERNAME_MAX, check_value, fold
from ..kernel.audit import change, record
from ..kernel.call import Call
from ..kernel.caller import check_app
from ..kernel.context import Context
from ..kernel.errors import Code, FieldErrors, Kind, SSOError
from ..kernel.inputs import reject_unknown, require_input
from ..kernel.password_rules import password_problem
from ..kernel.profile_fields import SELF, ProfileField, ProfileSchema, check_profile_values
from ..kernel.profile_rows import load_schema
from ..kernel.rows import is_username_taken
from ..kernel.tables import email_tokens, users
from ..kernel.texts import _t, at_most_characters
from . import tokens
from .mail import render, valid_for
from .outbox import enqueue

SIGNUP_KEYS = ("username", "password", "email", *NAME_ATTRIBUTES, "app_list")
CONFIRM_PATH = "/signup/confirm/"  # the console page a confirmation link opens


@dataclass
class SignupResult:
    """A new account waiting for confirmation."""

    user_id: str
    confirm_token: str


@dataclass
class Confirmed:
    """A confirmed account: may it log in now, or does it wait for an administrator's approval?"""

    user_id: str
    username: str
    approval_status: str


def _words(value: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", fold(value) or "")


def rejected_word(ctx: Context, value: str) -> str | None:
    """The reject-list word (SSO_SIGNUP_REJECT_LIST) that `value` contains as a word of its own, if any."""
    reject = {fold(word) for word in ctx.settings["SSO_SIGNUP_REJECT_LIST"]}
    return next((word for word in _words(value) if word in reject), None)


def check_username(ctx: Context, value: Any, errors: FieldErrors) -> str | None:
    """Zato's sign-up username codes: E001001 invalid, E001003 too long, E001004 whitespace."""
    if not isinstance(value, str) or not value:
        errors.add("username", _t("is required") if value in ("", None) else "must be a string", Code.username_invalid)
        return None
    if len(value) > USERNAME_MAX:
        errors.add("username", at_most_characters(USERNAME_MAX), Code.username_too_long)
        return None
    if any(char.isspace() for char in value):
        errors.add("username", _t("must not contain whitespace"), Code.username_has_whitespace)
        return None
    word = rejected_word(ctx, value)
    if word:
        errors.add("username", _t("may not contain the word “%(word)s”", word=word), Code.username_invalid)
        return None
    clean, message = check_value(ATTRIBUTES["username"], value)
    if message:
        errors.add("username", message, Code.username_invalid)
        return None
    return clean


def check_email(ctx: Context, value: Any, errors: FieldErrors, *, required: bool) -> str | None:
    """Zato's sign-up email codes: E002001 invalid, E002003 too long, E002004 whitespace, E002005 missing."""
    if value is None or (value == "" and required):
        if required:
            errors.add("email", _t("is required: the confirmation link is sent there"), Code.email_missing)
        return None
    if not isinstance(value, str):
        errors.add("email", _t("must be a string"), Code.email_invalid)
        return None
    if len(value) > EMAIL_MAX:
        errors.add("email", at_most_characters(EMAIL_MAX), Code.email_too_long)
        return None
    if any(char.isspace() for char in value):
        errors.add("email", _t("must not contain whitespace"), Code.email_has_whitespace)
        return None
    clean, message = check_value(ATTRIBUTES["email"], value)
    if message:
        errors.add("email", _t("must be a valid email address"), Code.email_invalid)
        return None
    word = rejected_word(ctx, value.rpartition("@")[0])
    if word:
        errors.add("email", _t("may not contain the word “%(word)s”", word=word), Code.email_invalid)
        return None
    return clean


def check_apps(ctx: Context, current_app: Any, app_list: Any) -> None:
    """E004001 for an app that is not configured; E004002 unless every app allows sign-up (SSO_SIGNUP_APPS)."""
    check_app(ctx, current_app)
    if not isinstance(app_list, (list, tuple)) or not app_list or not all(isinstance(a, str) for a in app_list):
        raise SSOError.single(Kind.invalid, Code.invalid_input, "app_list", _t("must be a list of application names"))
    unknown = [app for app in app_list if app not in ctx.apps]
    if unknown:
        raise SSOError.single(
            Kind.forbidden, Code.app_not_allowed, "app_list", _t("names an application that is not configured")
        )
    allowed = ctx.settings["SSO_SIGNUP_APPS"]
    if current_app not in allowed or any(app not in allowed for app in app_list):
        raise SSOError.single(
            Kind.forbidden, Code.no_signup, "app_list", _t("sign-up is not open for this application")
        )


def email_taken(conn, email: str) -> bool:
    """Whether any user has this email (case-insensitively)."""
    query = select(users.c.user_id).where(users.c.email_search == fold(email)).limit(1)
    return conn.execute(query).first() is not None


def may_sign_up(ctx: Context, app: str) -> bool:
    """Whether `app` is a sign-up application (the console shows "Create an account" only then)."""
    return app in ctx.settings["SSO_SIGNUP_APPS"]


def signup(ctx: Context, call: Call, data, *, send_link: bool = False, check_only: bool = False) -> SignupResult | None:
    """Create a user waiting for confirmation; returns the confirmation token (or emails it as a link).

    With `check_only`, every check runs (values, password rules, a taken username or email) and every problem
    is raised at once (E008002 first when a value is refused), but nothing is written or sent and None is
    returned: a form can report all mistakes together, its own included (two password boxes that differ)."""
    if not isinstance(data, dict):
        raise SSOError.single(Kind.malformed, Code.invalid_input, "data", _t("must be an object"))
    with reading(ctx.engine) as conn:
        own_fields = self_editable(load_schema(conn))
    reject_unknown(data, frozenset(SIGNUP_KEYS) | own_fields.names(), lambda key: "is not a sign-up input")
    require_input(data, "username", "password", "app_list")
    check_apps(ctx, call.current_app, data["app_list"])

    errors = FieldErrors()
    username = check_username(ctx, data["username"], errors)
    email = check_email(ctx, data.get("email"), errors, required=send_link)
    problem = password_problem(data["password"], ctx.settings["SSO_PASSWORD_REJECT_LIST"])
    if problem:
        errors.add("password", problem[1], problem[0])
    for name in NAME_ATTRIBUTES:
        if name in data:
            _, message = check_value(ATTRIBUTES[name], data[name])
            if message:
                errors.add(name, message)
    check_profile_values(own_fields, {k: v for k, v in data.items() if k in own_fields.names()}, errors)
    for f in own_fields.active:
        if f.required and f.name not in data:
            errors.add(f.name, _t("is required"))
    if check_only:
        with reading(ctx.engine) as conn:
            for name, (code, message) in _taken(conn, username, email).items():
                errors.add(name, message, code)
        errors.raise_if_any(Kind.invalid)
        return None
    errors.raise_if_any(Kind.invalid)
    assert username is not None

    with reading(ctx.engine) as conn:
        taken = _taken(conn, username, email)
    if taken:
        raise SSOError(Kind.conflict, [code for code, _ in taken.values()], {k: m for k, (_, m) in taken.items()})

    token, digest = tokens.new_token()
    now = ctx.clock()
    expires = now + timedelta(hours=ctx.settings["SSO_SIGNUP_CONFIRM_HOURS"])

    def with_token(conn, row: dict) -> None:
        if email is not None and email_taken_by_other(conn, email, row["user_id"]):
            raise SSOError(Kind.conflict, [Code.email_exists], {"email": EMAIL_TAKEN})
        if send_link:
            assert email is not None
            _send_confirmation(ctx, conn, row["user_id"], email, username, token, expires)
        conn.execute(
            insert(email_tokens).values(
                token_hash=digest,
                purpose=tokens.SIGNUP,
                user_id=row["user_id"],
                creation_time=now,
                expiration_time=expires,
            )
        )

    approval_needed = ctx.settings["SSO_SIGNUP_APPROVAL_NEEDED"]
    fields = {name: data[name] for name in ("username", "password", "email", *NAME_ATTRIBUTES) if name in data}
    fields.update({name: data[name] for name in own_fields.names() if name in data})
    fields.update(username=username, email=email, auto_approve=not approval_needed)
    user = insert_user(
        ctx,
        call,
        fields,
        actor_id=None,
        super_user=False,
        sign_up_status="before_confirmation",
        approved_by="auto",
        action="signup",
        within=with_token,
        schema=own_fields,
    )
    return SignupResult(user_id=user["user_id"], confirm_token=token)


def self_editable(schema: ProfileSchema) -> ProfileSchema:
    """The profile fields a person gives at sign-up: those they may edit themselves (SPEC §16). A required
    field only administrators edit is not asked for there (the person could not give it)."""
    return ProfileSchema.of(f for f in schema.active if SELF in f.edit)


def signup_fields(ctx: Context) -> tuple[ProfileField, ...]:
    """The profile fields a sign-up form asks for: the required ones a person may edit themselves (no caller:
    a sign-up page is read by someone without an account; definitions are no secret of anyone's)."""
    with reading(ctx.engine) as conn:
        return tuple(f for f in self_editable(load_schema(conn)).active if f.required)


def email_taken_by_other(conn, email: str, own_id: str) -> bool:
    query = select(users.c.user_id).where(users.c.email_search == fold(email), users.c.user_id != own_id).limit(1)
    return conn.execute(query).first() is not None


EMAIL_TAKEN = "is already used by another account"


def _taken(conn, username: str | None, email: str | None) -> dict[str, tuple[str, str]]:
    """{field: (code, message)} for a username or an email (each valid, else None) another account has."""
    taken = {}
    if username is not None and is_username_taken(conn, username, None):
        taken["username"] = (Code.username_exists, "is already taken")
    if email is not None and email_taken(conn, email):
        taken["email"] = (Code.email_exists, EMAIL_TAKEN)
    return taken


def _send_confirmation(ctx: Context, conn, user_id: str, email: str, username: str, token: str, expires) -> None:
    """The confirmation link, into the outbox in the sign-up's own transaction."""
    settings = ctx.settings
    message = render(
        "signup_confirm",
        email,
        product=settings["SSO_PRODUCT_NAME"],
        username=username,
        link=settings["SSO_PUBLIC_URL"] + CONFIRM_PATH + token,
        valid_for=valid_for(settings["SSO_SIGNUP_CONFIRM_HOURS"] * 60),
        expires_at=expires,
        locale=ctx.mailer.language(None) if ctx.mailer is not None else ctx.settings.get("SSO_DEFAULT_LOCALE", "en"),
    )
    enqueue(ctx, conn, message, user_id=user_id)


def _token_state(ctx: Context, conn, confirm_token: Any):
    """The token's row and its user, or E005006 (unknown or expired) / E005007 (already confirmed)."""
    row = tokens.find(conn, tokens.SIGNUP, confirm_token)
    if row is None:
        raise SSOError.single(Kind.not_found, Code.no_such_signup_token, "confirm_token", _t("no such sign-up token"))
    user = conn.execute(select(users).where(users.c.user_id == row["user_id"])).mappings().one()
    if row["used_time"] is not None or user["sign_up_status"] == "final":
        raise SSOError.single(
            Kind.conflict, Code.signup_confirmed, "confirm_token", _t("this sign-up is already confirmed")
        )
    if row["expiration_time"] <= ctx.clock():
        raise SSOError.single(
            Kind.not_found, Code.no_such_signup_token, "confirm_token", _t("this sign-up token has expired")
        )
    return row, user


def check_confirmation(ctx: Context, confirm_token: Any) -> str:
    """The username a confirmation link is for, or its E005006 / E005007 (reads only)."""
    with reading(ctx.engine) as conn:
        _, user = _token_state(ctx, conn, confirm_token)
    return user["username"]


def confirm_signup(ctx: Context, call: Call, confirm_token) -> Confirmed:
    """Confirm a sign-up (PATCH user/signup): unknown or expired token E005006, already confirmed E005007."""
    check_app(ctx, call.current_app)
    now = ctx.clock()
    with writing(ctx.engine) as conn:
        row, user = _token_state(ctx, conn, confirm_token)
        used = conn.execute(
            update(email_tokens)
            .where(email_tokens.c.id == row["id"], email_tokens.c.used_time.is_(None))
            .values(used_time=now)
        )
        moved = conn.execute(
            update(users)
            .where(users.c.user_id == user["user_id"], users.c.sign_up_status == "before_confirmation")
            .values(sign_up_status="final", version=users.c.version + 1, last_modified=now)
        )
        if used.rowcount != 1 or moved.rowcount != 1:  # a racing confirmation won
            raise SSOError.single(
                Kind.conflict, Code.signup_confirmed, "confirm_token", _t("this sign-up is already confirmed")
            )
        record(
            conn,
            now=now,
            **call.audit(),
            action="confirm_signup",
            actor_id=user["user_id"],
            target_id=user["user_id"],
            changes={"sign_up_status": change("before_confirmation", "final")},
        )
    return Confirmed(user_id=user["user_id"], username=user["username"], approval_status=user["approval_status"])

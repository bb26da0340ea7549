"""Passkeys (SPEC §18): WebAuthn credentials, checked with py_webauthn (`webauthn`).

The relying party is the host of `SSO_PUBLIC_URL` (its RP ID) and that URL's origin. A ceremony begins
with options holding a random challenge kept in the database (5 minutes, single use) under the hash of a
handle only its starter holds; it ends when the browser's answer is verified against that challenge.
Only public keys are stored, with the sign count, transports, the backup flags, the AAGUID, the person's
name for the passkey and its dates. Sign-in with a passkey is in passkey_login.py.

`webauthn` (with pyOpenSSL and the attestation formats: ~7 MiB) is imported by the ceremonies only, so a
worker that never sees a passkey does not carry it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...db import reading, writing
from ..kernel import events
from ..kernel.attributes import PASSKEY_NAME_MAX, text_problem
from ..kernel.audit import change, record
from ..kernel.call import Call
from ..kernel.caller import UserCaller, authenticate
from ..kernel.context import Context
from ..kernel.errors import Code, Kind, SSOError, no_such_user
from ..kernel.hashing import verify_password
from ..kernel.permissions import USERS_CREDENTIALS, require, require_over
from ..kernel.required_actions import KEY as ACTIONS_KEY
from ..kernel.required_actions import SET_UP_TWO_FACTOR, STORED_COLUMN, clear_stored, of_row
from ..kernel.rows import load_user
from ..kernel.tables import passkey_challenges, passkeys, sessions, users
from ..kernel.texts import _t
from .throttle import begin_attempt, succeeded

CHALLENGE_TTL = timedelta(minutes=5)
RECENT_SIGN_IN = timedelta(minutes=5)  # adding or removing a passkey needs a sign-in this recent, or the password
CEREMONY_TIMEOUT_MS = 300_000  # what the browser is told: the challenge's own lifetime
CREDENTIAL_MAX = 32 * 1024  # characters of a browser's answer as JSON (a "none" attestation is well under 1 KiB)
CREDENTIAL_ID_MAX = 1400  # base64url characters: WebAuthn allows credential ids of up to 1023 bytes
PASSKEYS_MAX = 20  # per user
REGISTER, LOGIN, FACTOR, REAUTH = "register", "login", "factor", "reauth"
REAUTHENTICATE = "enter your current password: adding or removing a passkey needs a sign-in within the last 5 minutes"


# --- the relying party ------------------------------------------------------------------------------------


def relying_party(settings: Mapping[str, Any]) -> tuple[str, str]:
    """(RP ID, origin) from SSO_PUBLIC_URL: e.g. ("sso.example.com", "https://sso.example.com")."""
    parts = urlsplit(settings["SSO_PUBLIC_URL"])
    host = (parts.hostname or "localhost").lower()
    port = f":{parts.port}" if parts.port else ""
    return host, f"{parts.scheme}://{host}{port}"


def relying_party_problem(settings: Mapping[str, Any]) -> str | None:
    """Why browsers will refuse passkeys at SSO_PUBLIC_URL (an IP address, or plain HTTP off localhost), or None."""
    import ipaddress

    rp_id, origin = relying_party(settings)
    try:
        ipaddress.ip_address(rp_id.strip("[]"))
    except ValueError:
        pass
    else:
        return f"SSO_PUBLIC_URL ({origin}) is an IP address: browsers refuse passkeys there; use a host name"
    if origin.startswith("http://") and rp_id != "localhost" and not rp_id.endswith(".localhost"):
        return f"SSO_PUBLIC_URL ({origin}) is not HTTPS: browsers allow passkeys only over HTTPS (or on localhost)"
    return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- what a passkey looks like to people --------------------------------------------------------------------


@dataclass(frozen=True)
class PasskeyData:
    """One passkey as shown: never its key."""

    passkey_id: str
    user_id: str
    name: str
    creation_time: datetime
    last_use_time: datetime | None
    is_synced: bool  # backup eligible: the provider syncs it between devices; else bound to one device
    is_backed_up: bool
    aaguid: str
    transports: list[str]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (times as ISO 8601 UTC)."""
        return {
            "passkey_id": self.passkey_id,
            "user_id": self.user_id,
            "name": self.name,
            "creation_time": self.creation_time.isoformat(),
            "last_use_time": self.last_use_time.isoformat() if self.last_use_time else None,
            "is_synced": self.is_synced,
            "is_backed_up": self.is_backed_up,
            "aaguid": self.aaguid,
            "transports": list(self.transports),
        }


def _data(row: Mapping) -> PasskeyData:
    return PasskeyData(
        passkey_id=row["passkey_id"],
        user_id=row["user_id"],
        name=row["name"],
        creation_time=row["creation_time"],
        last_use_time=row["last_use_time"],
        is_synced=bool(row["backup_eligible"]),
        is_backed_up=bool(row["backed_up"]),
        aaguid=row["aaguid"],
        transports=list(row["transports"] or []),
    )


def passkeys_of(conn: Connection, user_id: str) -> list[PasskeyData]:
    """A user's passkeys, oldest first."""
    rows = conn.execute(
        select(passkeys).where(passkeys.c.user_id == user_id).order_by(passkeys.c.creation_time, passkeys.c.id)
    ).mappings()
    return [_data(row) for row in rows]


def has_passkeys(conn: Connection, user_id: str) -> bool:
    """Whether the user has a passkey (a second factor for SPEC §19's `set_up_two_factor`)."""
    return conn.execute(select(passkeys.c.id).where(passkeys.c.user_id == user_id).limit(1)).first() is not None


# --- refusals -------------------------------------------------------------------------------------------------


def challenge_gone() -> SSOError:
    """The ceremony's challenge is unknown, used, of another ceremony or session, or expired."""
    return SSOError.single(
        Kind.invalid, Code.invalid_input, "challenge_id", _t("has expired or was used already: start again")
    )


def bad_credential(message: str) -> SSOError:
    """The browser's answer cannot be used: nothing is stored."""
    return SSOError.single(Kind.invalid, Code.invalid_input, "credential", message)


def no_such_passkey() -> SSOError:
    return SSOError.single(Kind.not_found, Code.invalid_input, "passkey_id", _t("no such passkey"))


def credential_json(credential: Any) -> dict[str, Any]:
    """The browser's answer (a JSON object, or its text) within CREDENTIAL_MAX characters, else a refusal."""
    if credential is None or credential == "":
        raise bad_credential("is required: your browser's answer to the passkey request")
    if isinstance(credential, str):
        if len(credential) > CREDENTIAL_MAX:
            raise bad_credential(f"is larger than {CREDENTIAL_MAX // 1024} KiB")
        try:
            credential = json.loads(credential)
        except ValueError:
            raise bad_credential("is not JSON") from None
    if not isinstance(credential, dict):
        raise bad_credential("is not a WebAuthn credential (a JSON object)")
    try:
        size = len(json.dumps(credential))
    except (TypeError, ValueError):
        raise bad_credential("is not a WebAuthn credential (a JSON object)") from None
    if size > CREDENTIAL_MAX:
        raise bad_credential(f"is larger than {CREDENTIAL_MAX // 1024} KiB")
    return credential


def credential_id_of(credential: dict[str, Any]) -> str:
    """The credential id the answer names (base64url), checked for shape only."""
    raw = credential.get("rawId", credential.get("id"))
    if (
        not isinstance(raw, str)
        or not raw
        or len(raw) > CREDENTIAL_ID_MAX
        or raw != credential.get("id")
        or not all(c.isascii() and (c.isalnum() or c in "-_") for c in raw)
    ):
        raise bad_credential("does not name a passkey (id and rawId, base64url)")
    return raw


def _why(error: Exception) -> str:
    """What the library found wrong, for the person or client (short, one line)."""
    text = " ".join(str(error).split())[:200]
    return "is not a valid passkey answer" + (f": {text}" if text else "")


def check_name(name: Any) -> str:
    """A passkey's name: 1 to 64 characters of text, trimmed."""
    if not isinstance(name, str) or not name.strip():
        raise SSOError.single(Kind.invalid, Code.invalid_input, "name", _t("is required: what you call this passkey"))
    name = " ".join(name.split())
    if len(name) > PASSKEY_NAME_MAX:
        raise SSOError.single(
            Kind.invalid, Code.invalid_input, "name", _t("is longer than %(num)d characters", num=PASSKEY_NAME_MAX)
        )
    problem = text_problem(name)
    if problem:
        raise SSOError.single(Kind.invalid, Code.invalid_input, "name", problem)
    return name


# --- challenges ----------------------------------------------------------------------------------------------


def _handle_hash(handle: str) -> str:
    return hashlib.sha256(handle.encode()).hexdigest()


def new_challenge(
    conn: Connection, purpose: str, now: datetime, *, user_id: str | None = None, session_hash: str | None = None
) -> tuple[str, bytes]:
    """A new random challenge kept for 5 minutes: returns (the handle its starter keeps, the challenge)."""
    conn.execute(delete(passkey_challenges).where(passkey_challenges.c.expiration_time <= now))
    handle, challenge = secrets.token_urlsafe(32), secrets.token_bytes(32)
    conn.execute(
        insert(passkey_challenges).values(
            handle_hash=_handle_hash(handle),
            purpose=purpose,
            challenge=_b64(challenge),
            user_id=user_id,
            session_hash=session_hash,
            expiration_time=now + CHALLENGE_TTL,
        )
    )
    return handle, challenge


@dataclass(frozen=True)
class Challenge:
    """A challenge taken (deleted) for the ceremony that verifies against it."""

    challenge: bytes
    user_id: str | None
    session_hash: str | None


def take_challenge(ctx: Context, handle: Any, purpose: str, now: datetime) -> Challenge:
    """Use the challenge up (whatever the answer's fate: single use); `challenge_gone()` when it cannot be."""
    if not isinstance(handle, str) or not handle or len(handle) > 128 or text_problem(handle):
        raise challenge_gone()
    with writing(ctx.engine) as conn:
        row = (
            conn.execute(
                delete(passkey_challenges)
                .where(passkey_challenges.c.handle_hash == _handle_hash(handle))
                .returning(
                    passkey_challenges.c.purpose,
                    passkey_challenges.c.challenge,
                    passkey_challenges.c.user_id,
                    passkey_challenges.c.session_hash,
                    passkey_challenges.c.expiration_time,
                )
            )
            .mappings()
            .first()
        )
    if row is None or row["purpose"] != purpose or row["expiration_time"] <= now:
        raise challenge_gone()
    return Challenge(_unb64(row["challenge"]), row["user_id"], row["session_hash"])


@dataclass(frozen=True)
class Ceremony:
    """The start of a ceremony: the handle to send back with the answer, and the options for the browser
    (WebAuthn's JSON form: what `PublicKeyCredential.parseCreationOptionsFromJSON` and
    `parseRequestOptionsFromJSON` take)."""

    challenge_id: str
    options: dict[str, Any]


# --- a recent sign-in, or the password again ----------------------------------------------------------------


def signed_in_at(conn: Connection, caller: UserCaller) -> datetime | None:
    """When the caller's session began (what a recent sign-in is measured from)."""
    return conn.execute(select(sessions.c.creation_time).where(sessions.c.id == caller.session_id)).scalar()


def confirm_recent_sign_in(
    ctx: Context, call: Call, user: Mapping, signed_in: datetime | None, password: Any, now: datetime, reauth=None
) -> None:
    """Pass when the session began within 5 minutes, or `password` is the user's, or `reauth` ({challenge_id,
    credential} of `reauth_options`) is an answer of one of the user's passkeys (a wrong password or passkey
    counts like a failed sign-in); else E005001 naming `password`."""
    if password is not None and not isinstance(password, str):
        raise SSOError.single(Kind.invalid, Code.invalid_input, "password", _t("must be a string"))
    if reauth is not None and not isinstance(reauth, Mapping):
        raise SSOError.single(
            Kind.malformed, Code.invalid_input, "passkey", _t("must be an object with challenge_id and credential")
        )
    if signed_in is not None and now - signed_in <= RECENT_SIGN_IN:
        return
    if reauth is not None:
        _reauthenticate(ctx, call, user, reauth, now)
        return
    if not isinstance(password, str) or not password:
        raise SSOError.single(Kind.forbidden, Code.auth_invalid, "password", REAUTHENTICATE)
    attempt = begin_attempt(ctx, user["username"], call.remote_addr, now)
    if user["password_hash"] is None or not verify_password(password, user["password_hash"]):
        raise SSOError.single(Kind.forbidden, Code.auth_invalid, "password", _t("is not your current password"))
    with writing(ctx.engine) as conn:
        succeeded(conn, attempt, now)


def _reauthenticate(ctx: Context, call: Call, user: Mapping, reauth: Mapping, now: datetime) -> None:
    credential = credential_json(reauth.get("credential"))
    passkey = find_passkey(ctx, credential_id_of(credential))
    taken = take_challenge(ctx, reauth.get("challenge_id"), REAUTH, now)
    if taken.user_id != user["user_id"] or taken.session_hash != ctx.codec.session_hash_of(call.ust):
        raise challenge_gone()
    attempt = begin_attempt(ctx, user["username"], call.remote_addr, now, field_name="passkey")
    use = None
    if passkey is not None and passkey["user_id"] == user["user_id"]:
        try:
            use = verify_assertion(ctx, credential, passkey, taken, require_uv=False)
        except Cloned as cloned:
            record_cloned(ctx, call, cloned)
    with writing(ctx.engine) as conn:
        if use is not None and consume_use(conn, use, now) is not None:
            succeeded(conn, attempt, now)
            return
    raise SSOError.single(Kind.forbidden, Code.auth_invalid, "passkey", _t("did not confirm it is you: try again"))


def reauth_options(ctx: Context, call: Call) -> Ceremony:
    """Options to confirm it is you with one of your own passkeys (instead of the password, after 5 minutes)."""
    from webauthn import generate_authentication_options
    from webauthn.helpers import options_to_json_dict
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

    now = ctx.clock()
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call, completes=(SET_UP_TWO_FACTOR,))
        own = conn.execute(
            select(passkeys.c.credential_id, passkeys.c.transports).where(passkeys.c.user_id == caller.user_id)
        ).all()
    if not own:
        raise SSOError.single(
            Kind.invalid, Code.invalid_input, "passkey", _t("you have no passkey: enter your password")
        )
    rp_id, _origin = relying_party(ctx.settings)
    with writing(ctx.engine) as conn:
        handle, challenge = new_challenge(
            conn, REAUTH, now, user_id=caller.user_id, session_hash=ctx.codec.session_hash_of(call.ust)
        )
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=challenge,
        timeout=CEREMONY_TIMEOUT_MS,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=_unb64(credential_id), transports=_transports(transports))
            for credential_id, transports in own
        ],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return Ceremony(handle, options_to_json_dict(options))


def sign_in_is_recent(ctx: Context, call: Call) -> bool:
    """Whether the caller signed in within 5 minutes (else adding or removing a passkey asks for the password)."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call, completes=(SET_UP_TWO_FACTOR,))
        signed_in = signed_in_at(conn, caller)
    return signed_in is not None and ctx.clock() - signed_in <= RECENT_SIGN_IN


# --- registration --------------------------------------------------------------------------------------------


def register_options(ctx: Context, call: Call, password, reauth=None) -> Ceremony:
    """Begin adding a passkey to one's own account: a recent sign-in or the current `password`."""
    now = ctx.clock()
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call, completes=(SET_UP_TWO_FACTOR,))
        existing = conn.execute(
            select(passkeys.c.credential_id, passkeys.c.transports).where(passkeys.c.user_id == caller.user_id)
        ).all()
        signed_in = signed_in_at(conn, caller)
    confirm_recent_sign_in(ctx, call, caller.user, signed_in, password, now, reauth)
    if len(existing) >= PASSKEYS_MAX:
        raise SSOError.single(
            Kind.invalid, Code.invalid_input, "passkey", f"you have {PASSKEYS_MAX} passkeys: remove one first"
        )
    from webauthn import generate_registration_options
    from webauthn.helpers import options_to_json_dict
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    rp_id, _origin = relying_party(ctx.settings)
    with writing(ctx.engine) as conn:
        handle, challenge = new_challenge(
            conn, REGISTER, now, user_id=caller.user_id, session_hash=ctx.codec.session_hash_of(call.ust)
        )
    user = caller.user
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=ctx.settings["SSO_PRODUCT_NAME"],
        user_id=user["user_id"].encode(),
        user_name=user["username"],
        user_display_name=user["display_name"] or user["username"],
        challenge=challenge,
        timeout=CEREMONY_TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.PREFERRED
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=_unb64(credential_id), transports=_transports(transports))
            for credential_id, transports in existing
        ],
    )
    return Ceremony(handle, options_to_json_dict(options))


def _transports(values: Any) -> list:
    from webauthn.helpers.structs import AuthenticatorTransport

    known = {transport.value: transport for transport in AuthenticatorTransport}
    return [known[value] for value in values or [] if isinstance(value, str) and value in known]


def new_passkey_id() -> str:
    """A passkey's public id: `zpk` + random base32."""
    return "zpk" + base64.b32encode(os.urandom(15)).decode().lower()


def register_verify(ctx: Context, call: Call, challenge_id, credential, name) -> PasskeyData:
    """Finish adding a passkey: the browser's answer to the challenge of `register_options`, and its name."""
    name = check_name(name)
    credential = credential_json(credential)
    now = ctx.clock()
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call, completes=(SET_UP_TWO_FACTOR,))
    taken = take_challenge(ctx, challenge_id, REGISTER, now)
    if taken.user_id != caller.user_id or taken.session_hash != ctx.codec.session_hash_of(call.ust):
        raise challenge_gone()
    from webauthn import verify_registration_response
    from webauthn.helpers import parse_registration_credential_json

    rp_id, origin = relying_party(ctx.settings)
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=taken.challenge, expected_rp_id=rp_id, expected_origin=origin
        )
        transports = [t.value for t in parse_registration_credential_json(credential).response.transports or []]
    except Exception as error:  # hostile input may fail anywhere in parsing: each is a refusal, never a 5xx
        raise bad_credential(_why(error)) from None
    row = {
        "passkey_id": new_passkey_id(),
        "user_id": caller.user_id,
        "credential_id": _b64(verified.credential_id),
        "public_key": verified.credential_public_key,
        "sign_count": verified.sign_count,
        "transports": transports,
        "aaguid": str(verified.aaguid),
        "backup_eligible": verified.credential_device_type == "multi_device",
        "backed_up": bool(verified.credential_backed_up),
        "name": name,
        "creation_time": now,
        "last_use_time": None,
    }
    if len(row["credential_id"]) > CREDENTIAL_ID_MAX:
        raise bad_credential("names a passkey with too long an id")
    try:
        with writing(ctx.engine) as conn:
            count = conn.execute(
                select(func.count()).select_from(passkeys).where(passkeys.c.user_id == caller.user_id)
            ).scalar_one()
            if count >= PASSKEYS_MAX:
                raise SSOError.single(
                    Kind.invalid, Code.invalid_input, "passkey", f"you have {PASSKEYS_MAX} passkeys: remove one first"
                )
            taken_id = conn.execute(
                select(passkeys.c.id).where(passkeys.c.credential_id == row["credential_id"])
            ).first()
            if taken_id is not None:
                raise _registered_already()
            conn.execute(insert(passkeys).values(**row))
            cleared = clear_stored(conn, caller.user_id, SET_UP_TWO_FACTOR)  # a passkey is a second factor (§18)
            record(
                conn,
                now=now,
                **call.audit(),
                action="passkey_add",
                actor_id=caller.user_id,
                target_id=caller.user_id,
                changes={"passkey": change(None, name), **_cleared(caller, cleared)},
            )
            if ctx.notify is not None:  # SPEC §19: told in the same transaction
                ctx.notify.passkey_changed(conn, caller.user, added=True, name=name)
    except IntegrityError:  # the same authenticator answered twice at once: one of them is stored
        raise _registered_already() from None
    return _data(row)


def _cleared(caller: UserCaller, cleared: bool) -> dict[str, Any]:
    """The audit line of the required action a new passkey completed (SPEC §19), if it did."""
    if not cleared:
        return {}
    before = of_row(caller.user, caller.user.get(STORED_COLUMN))
    return {ACTIONS_KEY: change(before, [a for a in before if a != SET_UP_TWO_FACTOR])}


def _registered_already() -> SSOError:
    return SSOError.single(Kind.conflict, Code.invalid_input, "credential", _t("this passkey is registered already"))


# --- the list, rename, remove --------------------------------------------------------------------------------


def _whose(ctx: Context, conn: Connection, caller: UserCaller, user_id: Any) -> str:
    """The user whose passkeys the caller asks about: their own, or (`users.credentials`, SPEC §18) anyone's."""
    if user_id is None or user_id == caller.user_id:
        return caller.user_id
    require(caller, USERS_CREDENTIALS)
    if not isinstance(user_id, str) or load_user(conn, user_id) is None:
        raise no_such_user()
    return user_id


def list_passkeys(ctx: Context, call: Call, user_id) -> list[PasskeyData]:
    """The passkeys of the caller or (`users.credentials`) of `user_id`."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call, completes=(SET_UP_TWO_FACTOR,))
        return passkeys_of(conn, _whose(ctx, conn, caller, user_id))


def _own_passkey(conn: Connection, passkey_id: Any) -> Mapping | None:
    if not isinstance(passkey_id, str) or len(passkey_id) > 64 or text_problem(passkey_id):
        return None
    return conn.execute(select(passkeys).where(passkeys.c.passkey_id == passkey_id)).mappings().first()


def rename_passkey(ctx: Context, call: Call, passkey_id, name) -> PasskeyData:
    """Rename one of one's own passkeys (audited old → new; the same name writes nothing)."""
    name = check_name(name)
    now = ctx.clock()
    with writing(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call, completes=(SET_UP_TWO_FACTOR,))
        row = _own_passkey(conn, passkey_id)
        if row is None or row["user_id"] != caller.user_id:
            raise no_such_passkey()
        if row["name"] == name:
            return _data(row)
        conn.execute(update(passkeys).where(passkeys.c.id == row["id"]).values(name=name))
        record(
            conn,
            now=now,
            **call.audit(),
            action="passkey_rename",
            actor_id=caller.user_id,
            target_id=caller.user_id,
            changes={"passkey": change(row["name"], name)},
        )
    return _data({**row, "name": name})


def remove_passkey(ctx: Context, call: Call, passkey_id, *, user_id=None, password=None, reauth=None) -> None:
    """Remove a passkey: one's own after a recent sign-in or with the `password`; with `users.credentials`
    anyone's who holds no more than the caller (SPEC §17)."""
    now = ctx.clock()
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call, completes=(SET_UP_TWO_FACTOR,))
        if user_id is not None:
            _whose(ctx, conn, caller, user_id)  # a regular user asking about another: refused as for the list
        row = _own_passkey(conn, passkey_id)
        if (
            row is None
            or (user_id is not None and row["user_id"] != user_id)
            or (row["user_id"] != caller.user_id and not caller.holds(USERS_CREDENTIALS))
        ):
            raise no_such_passkey()
        if row["user_id"] != caller.user_id:
            owner = load_user(conn, row["user_id"])
            if owner is not None:
                require_over(conn, caller, owner, "passkey_id")
        signed_in = signed_in_at(conn, caller)
    if row["user_id"] == caller.user_id:
        confirm_recent_sign_in(ctx, call, caller.user, signed_in, password, now, reauth)
    with writing(ctx.engine) as conn:
        gone = conn.execute(delete(passkeys).where(passkeys.c.id == row["id"]))
        if gone.rowcount != 1:
            raise no_such_passkey()
        record(
            conn,
            now=now,
            **call.audit(),
            action="passkey_remove",
            actor_id=caller.user_id,
            target_id=row["user_id"],
            changes={"passkey": change(row["name"], None)},
        )
        if ctx.notify is not None:  # SPEC §19: told in the same transaction (to the owner, whoever removed it)
            owner = caller.user if row["user_id"] == caller.user_id else load_user(conn, row["user_id"])
            if owner is not None:
                ctx.notify.passkey_changed(conn, owner, added=False, name=row["name"])


# --- an assertion (sign-in, or the second factor) ------------------------------------------------------------


def login_options(ctx: Context, purpose: str, now: datetime) -> Ceremony:
    """Options for `navigator.credentials.get`: discoverable credentials (no list of ids, so nothing about
    any account is said), user verification required for a whole sign-in, preferred as a second factor."""
    from webauthn import generate_authentication_options
    from webauthn.helpers import options_to_json_dict
    from webauthn.helpers.structs import UserVerificationRequirement

    rp_id, _origin = relying_party(ctx.settings)
    with writing(ctx.engine) as conn:
        handle, challenge = new_challenge(conn, purpose, now)
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=challenge,
        timeout=CEREMONY_TIMEOUT_MS,
        user_verification=(
            UserVerificationRequirement.REQUIRED if purpose == LOGIN else UserVerificationRequirement.PREFERRED
        ),
    )
    return Ceremony(handle, options_to_json_dict(options))


@dataclass(frozen=True)
class PasskeyUse:
    """A verified assertion: the passkey's row and what the authenticator said now. Consumed with the session."""

    passkey: Mapping
    sign_count: int
    backed_up: bool


class Cloned(Exception):
    """The sign count went backwards (or stood still): two authenticators hold this credential."""

    def __init__(self, passkey: Mapping, sign_count: int):
        super().__init__("sign count went backwards")
        self.passkey, self.sign_count = passkey, sign_count


def find_passkey(ctx: Context, credential_id: str) -> Mapping | None:
    """The passkey with this credential id, joined to its user's username, or None."""
    with reading(ctx.engine) as conn:
        return (
            conn.execute(
                select(passkeys, users.c.username)
                .join(users, users.c.user_id == passkeys.c.user_id)
                .where(passkeys.c.credential_id == credential_id)
            )
            .mappings()
            .first()
        )


def verify_assertion(
    ctx: Context, credential: dict[str, Any], passkey: Mapping, taken: Challenge, *, require_uv: bool
) -> PasskeyUse | None:
    """The assertion checked against the stored public key and the challenge: the use, or None when it is not
    valid (wrong signature, origin, RP ID, challenge, user, or no user verification where it is required).
    Raises Cloned when it is valid but its sign count did not move forward."""
    from webauthn import verify_authentication_response

    rp_id, origin = relying_party(ctx.settings)
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=taken.challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=passkey["public_key"],
            credential_current_sign_count=0,  # compared below, once the signature is known to be good
            require_user_verification=require_uv,
        )
        handle = credential.get("response", {}).get("userHandle")
        if handle and _unb64(handle) != passkey["user_id"].encode():
            return None
    except Exception:  # hostile input may fail anywhere in parsing: a refusal, never a 5xx
        return None
    stored = passkey["sign_count"]
    if (verified.new_sign_count > 0 or stored > 0) and verified.new_sign_count <= stored:
        raise Cloned(passkey, verified.new_sign_count)
    return PasskeyUse(passkey, verified.new_sign_count, verified.credential_backed_up)


def consume_use(conn: Connection, use: PasskeyUse, now: datetime) -> dict[str, Any] | None:
    """Record the use inside the sign-in's write transaction (the sign count only moves forward: a racing
    replay of the same answer finds it moved and gets None); else the audit changes."""
    moved = conn.execute(
        update(passkeys)
        .where(passkeys.c.id == use.passkey["id"], passkeys.c.sign_count == use.passkey["sign_count"])
        .values(sign_count=use.sign_count, backed_up=use.backed_up, last_use_time=now)
    )
    if moved.rowcount != 1:
        return None
    return {"passkey": change(None, use.passkey["name"])}


def record_cloned(ctx: Context, call: Call, cloned: Cloned) -> None:
    """Audit a refused sign-in whose sign count went backwards (a cloned authenticator)."""
    with writing(ctx.engine) as conn:
        record(
            conn,
            now=ctx.clock(),
            **call.audit(),
            action="passkey_cloned",
            actor_id=cloned.passkey["user_id"],
            target_id=cloned.passkey["user_id"],
            changes={
                "passkey": change(cloned.passkey["name"], cloned.passkey["name"]),
                "sign_count": change(cloned.passkey["sign_count"], cloned.sign_count),
            },
        )


def checked_use(
    ctx: Context,
    call: Call,
    credential: dict[str, Any],
    passkey: Mapping | None,
    taken: Challenge,
    *,
    require_uv: bool,
    user_id: str | None = None,
) -> PasskeyUse:
    """The verified use of `passkey`, else E005001 (the attempt stays counted); a cloned one is audited."""
    use = None
    if passkey is not None and (user_id is None or passkey["user_id"] == user_id):
        try:
            use = verify_assertion(ctx, credential, passkey, taken, require_uv=require_uv)
        except Cloned as cloned:
            record_cloned(ctx, call, cloned)
    if use is None:
        events.emit(events.LOGIN, result="failed")
        raise SSOError.single(Kind.forbidden, Code.auth_invalid)
    return use


def passkey_factor(ctx: Context, call: Call, user: Mapping, passkey_answer: Any, now: datetime) -> PasskeyUse:
    """At the two-factor step: `passkey_answer` = {challenge_id, credential} from a passkey of this user.
    E008002 for a stale challenge or a malformed answer; E005001 (counted by the caller) when it is not valid."""
    if not isinstance(passkey_answer, Mapping):
        raise SSOError.single(
            Kind.malformed, Code.invalid_input, "passkey", _t("must be an object with challenge_id and credential")
        )
    credential = credential_json(passkey_answer.get("credential"))
    passkey = find_passkey(ctx, credential_id_of(credential))
    taken = take_challenge(ctx, passkey_answer.get("challenge_id"), FACTOR, now)
    return checked_use(ctx, call, credential, passkey, taken, require_uv=False, user_id=user["user_id"])

"""The Python API of SPEC §1 and Part II (`app.extensions["sso"].user`): Zato's positional signatures
`(cid, ..., current_ust, current_app, remote_addr, *, channel="python", user_agent=None)`. Each method
builds the call's `Call` and hands it to the service (`service.Service`); no rule lives here."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from .bulk import BulkOutcome
from .credentials.passkeys import Ceremony, PasskeyData
from .credentials.two_factor import TotpStatus
from .email.signup import Confirmed, SignupResult
from .kernel.call import Call
from .kernel.context import Context
from .kernel.presentation import UserData
from .service import Service
from .sessions.login import LoginResult

PY = "python"


class Users:
    """The SSO `user` facade: `app.extensions["sso"].user`."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def _as(self, cid, current_ust, current_app, remote_addr, channel: str = PY, user_agent=None) -> Service:
        return Service(self.ctx, Call(cid, current_ust, current_app, remote_addr, channel, user_agent))

    # --- sessions ---
    def login(
        self,
        cid,
        username,
        password,
        current_app,
        remote_addr,
        user_agent=None,
        new_password=None,
        totp_code=None,
        *,
        channel: str = PY,
        claimed_metadata=None,
        passkey=None,
    ) -> LoginResult:
        """Log a user in (with `totp_code`, or a `passkey` answer, when two-factor sign-in is on); returns the UST
        and its expiry."""
        return self._as(cid, None, current_app, remote_addr, channel, user_agent).login(
            username, password, new_password, totp_code, claimed_metadata=claimed_metadata, passkey=passkey
        )

    def logout(self, cid, current_ust, current_app, remote_addr) -> None:
        """End a session (always succeeds)."""
        self._as(cid, current_ust, current_app, remote_addr).logout()

    def renew(self, cid, current_ust, current_app, remote_addr) -> datetime:
        """Extend a live session; returns its new expiration time."""
        return self._as(cid, current_ust, current_app, remote_addr).renew()

    def verify_session(self, cid, target_ust, current_ust, current_app, remote_addr) -> bool:
        """Whether `target_ust` is usable now (super-users: anyone's; others: their own); never renews it."""
        return self._as(cid, current_ust, current_app, remote_addr).verify_session(target_ust)

    def get_session(self, cid, target_ust, current_ust, current_app, remote_addr) -> dict[str, Any]:
        """The details of the live session behind `target_ust` (super-users: anyone's; others: their own)."""
        return self._as(cid, current_ust, current_app, remote_addr).get_session(target_ust)

    def list_sessions(self, cid, user_id, current_ust, current_app, remote_addr, *, target_ust=None) -> list[dict]:
        """Live sessions, newest first: the caller's, or (super-users) `user_id`'s or `target_ust`'s owner's."""
        return self._as(cid, current_ust, current_app, remote_addr).list_sessions(user_id, target_ust=target_ust)

    def end_session(self, cid, session_id, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None):
        """End one session by its public `session_id`: one's own, or anyone's as a super-user."""
        self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).end_session(session_id)

    def end_sessions(self, cid, user_id, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None) -> int:
        """End all of `user_id`'s sessions (super-users); one's own (None): all but the current one."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).end_sessions(user_id)

    # --- the lifecycle ---
    def approve_user(self, cid, user_id, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None):
        """Approve `user_id` (super-users)."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).approve_user(user_id)

    def reject_user(self, cid, user_id, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None):
        """Reject `user_id` (super-users)."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).reject_user(user_id)

    def lock_user(self, cid, user_id, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None):
        """Lock `user_id` (super-users): they cannot log in, and their sessions end."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).lock_user(user_id)

    def unlock_user(self, cid, user_id, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None):
        """Unlock `user_id` (super-users)."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).unlock_user(user_id)

    def delete_user(self, cid, user_id, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None) -> None:
        """Delete `user_id` (super-users); the audit keeps its record."""
        self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).delete_user(user_id)

    def bulk_action(
        self, cid, action, user_ids, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None
    ) -> list[BulkOutcome]:
        """One lifecycle action (or sign-out) on many users; an outcome per user."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).bulk_action(action, user_ids)

    # --- reading ---
    def get_current_user(self, cid, current_ust, current_app, remote_addr) -> UserData:
        """The caller's own record."""
        return self._as(cid, current_ust, current_app, remote_addr).get_current_user()

    def get_user_by_id(self, cid, user_id, current_ust, current_app, remote_addr) -> UserData:
        """Anyone's record (super-users)."""
        return self._as(cid, current_ust, current_app, remote_addr).get_user_by_id(user_id)

    def search(self, cid, criteria, current_ust, current_app, remote_addr) -> dict[str, Any]:
        """Users matching `criteria` (super-users), paginated."""
        return self._as(cid, current_ust, current_app, remote_addr).search(criteria)

    def history(self, cid, user_id, current_ust, current_app, remote_addr, *, limit: int = 50) -> list[dict]:
        """Audit records: one's own activity (None), or the changes made to `user_id` (super-users)."""
        return self._as(cid, current_ust, current_app, remote_addr).history(user_id, limit=limit)

    def export_user(
        self,
        cid,
        current_ust,
        current_app,
        remote_addr,
        *,
        user_id=None,
        password=None,
        reauth=None,
        channel=PY,
        user_agent=None,
    ) -> Iterator[str]:
        """Everything held about the caller (or `user_id`, super-users) as JSON text chunks (SPEC §20): join
        them for the document (docs/export-schema-v1.json). A sign-in older than 5 minutes needs `password`,
        or `reauth` ({challenge_id, credential}: one's own passkey answering `passkey_reauth_options`)."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).export_user(
            user_id, password=password, reauth=reauth
        )

    def schedule_deletion(self, cid, password, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None):
        """Schedule the deletion of the caller's own account SSO_DELETE_GRACE_DAYS ahead (SPEC §20): locked at
        once, sessions ended, a keep-my-account link emailed; returns when it is due."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).schedule_deletion(password)

    def cancel_deletion(self, cid, user_id, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None):
        """Cancel the scheduled deletion of `user_id` (super-users)."""
        self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).cancel_deletion(user_id)

    def keep_account(self, cid, token, password, current_app, remote_addr, *, channel=PY, user_agent=None) -> str:
        """The emailed link's token with the password: cancel one's scheduled deletion; returns the username."""
        return self._as(cid, None, current_app, remote_addr, channel, user_agent).keep_account(token, password)

    # --- the update ---
    def restore_value(
        self,
        cid,
        record_id,
        attribute,
        current_ust,
        current_app,
        remote_addr,
        *,
        user_id=None,
        force=False,
        channel=PY,
        user_agent=None,
    ) -> UserData:
        """Set `attribute` back to the old value of audit record `record_id` (SPEC §20): of the caller, or of
        `user_id` (super-users); E011001 when the field changed since that record, unless `force`."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).restore_value(
            record_id, attribute, user_id=user_id, force=force
        )

    def update_current_user(
        self,
        cid,
        data,
        current_ust,
        current_app,
        remote_addr,
        *,
        expected_version=None,
        channel=PY,
        user_agent=None,
        unchanged=None,
    ) -> UserData:
        """Update the caller's own record with the partial `data` (SPEC §2–§4)."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).update_user(
            None, data, expected_version=expected_version, unchanged=unchanged
        )

    def update_user_by_id(
        self,
        cid,
        user_id,
        data,
        current_ust,
        current_app,
        remote_addr,
        *,
        expected_version=None,
        channel=PY,
        user_agent=None,
        unchanged=None,
    ) -> UserData:
        """Update `user_id`'s record with the partial `data` (SPEC §2–§4)."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).update_user(
            user_id, data, expected_version=expected_version, unchanged=unchanged
        )

    # --- creating and passwords ---
    def create_user(
        self, cid, data, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None, check_only=False
    ) -> UserData | None:
        """Create a user (super-users); with `check_only`, check everything and create nothing."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).create_user(
            data, check_only=check_only
        )

    def change_password(self, cid, data, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None):
        """Change one's own password (with the old one), or anyone's as a super-user."""
        self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).change_password(data)

    # --- email: sign-up and password reset ---
    def signup(
        self, cid, data, current_app, remote_addr, *, channel=PY, user_agent=None, send_link=False, check_only=False
    ) -> SignupResult | None:
        """Sign up (SPEC §11): the new user waits for their confirmation link (`check_only`: check, write nothing)."""
        return self._as(cid, None, current_app, remote_addr, channel, user_agent).signup(
            data, send_link=send_link, check_only=check_only
        )

    def confirm_signup(self, cid, confirm_token, current_app, remote_addr, *, channel=PY, user_agent=None):
        """Confirm a sign-up with the emailed token."""
        confirmed: Confirmed = self._as(cid, None, current_app, remote_addr, channel, user_agent).confirm_signup(
            confirm_token
        )
        return confirmed

    def request_password_reset(self, cid, credential, current_app, remote_addr, *, channel=PY, user_agent=None):
        """Email a reset link to the user named by `credential` (always succeeds, whoever it names)."""
        self._as(cid, None, current_app, remote_addr, channel, user_agent).request_password_reset(credential)

    def access_password_reset(self, cid, token, current_app, remote_addr, *, channel=PY, user_agent=None) -> str:
        """Trade the emailed token for a reset key."""
        return self._as(cid, None, current_app, remote_addr, channel, user_agent).access_password_reset(token)

    def complete_password_reset(
        self, cid, token, reset_key, password, current_app, remote_addr, *, channel=PY, user_agent=None
    ) -> None:
        """Set the new password with the token and its reset key."""
        self._as(cid, None, current_app, remote_addr, channel, user_agent).complete_password_reset(
            token, reset_key, password
        )

    # --- two-factor sign-in ---
    def reset_totp_key(
        self, cid, user_id, key, key_label, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None
    ) -> str:
        """Set (or generate) a user's TOTP key; returns it."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).reset_totp_key(
            user_id, key, key_label
        )

    def enable_totp(self, cid, data, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None):
        """Turn two-factor sign-in on for oneself; returns ten recovery codes."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).enable_totp(data)

    def disable_totp(
        self, cid, user_id, password, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None
    ):
        """Turn two-factor sign-in off: one's own (with the password) or anyone's as a super-user."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).disable_totp(user_id, password)

    def regenerate_recovery_codes(
        self, cid, password, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None
    ):
        """New recovery codes for oneself (the old ones stop working)."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).regenerate_recovery_codes(
            password
        )

    def totp_status(self, cid, user_id, current_ust, current_app, remote_addr) -> TotpStatus:
        """Whether two-factor sign-in is on, and how many recovery codes are left."""
        return self._as(cid, current_ust, current_app, remote_addr).totp_status(user_id)

    # --- passkeys (SPEC §18) ---
    def passkey_register_options(
        self, cid, password, current_ust, current_app, remote_addr, *, reauth=None
    ) -> Ceremony:
        """Begin adding a passkey to one's own account (a sign-in within 5 minutes, else the `password` or a
        `reauth` answer of one's own passkey to `passkey_reauth_options`)."""
        return self._as(cid, current_ust, current_app, remote_addr).passkey_register_options(password, reauth=reauth)

    def passkey_reauth_options(self, cid, current_ust, current_app, remote_addr) -> Ceremony:
        """Options to confirm it is you with one of your own passkeys instead of the password."""
        return self._as(cid, current_ust, current_app, remote_addr).passkey_reauth_options()

    def passkey_register_verify(
        self, cid, challenge_id, credential, name, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None
    ) -> PasskeyData:
        """Finish adding a passkey: the browser's answer to the challenge, and the passkey's name."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).passkey_register_verify(
            challenge_id, credential, name
        )

    def list_passkeys(self, cid, user_id, current_ust, current_app, remote_addr) -> list[PasskeyData]:
        """The passkeys of the caller, or (`users.credentials`) of `user_id`; never a key."""
        return self._as(cid, current_ust, current_app, remote_addr).list_passkeys(user_id)

    def rename_passkey(
        self, cid, passkey_id, name, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None
    ) -> PasskeyData:
        """Rename one of one's own passkeys."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).rename_passkey(
            passkey_id, name
        )

    def remove_passkey(
        self,
        cid,
        passkey_id,
        current_ust,
        current_app,
        remote_addr,
        *,
        user_id=None,
        password=None,
        reauth=None,
        channel=PY,
        user_agent=None,
    ) -> None:
        """Remove a passkey: one's own (a recent sign-in, else the `password` or a `reauth` passkey answer), or
        (super-users) anyone's."""
        self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).remove_passkey(
            passkey_id, user_id=user_id, password=password, reauth=reauth
        )

    def sign_in_is_recent(self, cid, current_ust, current_app, remote_addr) -> bool:
        """Whether the caller signed in within 5 minutes (adding or removing a passkey needs no password then)."""
        return self._as(cid, current_ust, current_app, remote_addr).sign_in_is_recent()

    def passkey_login_options(self, cid, current_app, remote_addr, *, second_factor=False) -> Ceremony:
        """Begin signing in with a passkey (or, with `second_factor`, a passkey in place of the TOTP code)."""
        return self._as(cid, None, current_app, remote_addr).passkey_login_options(second_factor=second_factor)

    def login_with_passkey(
        self,
        cid,
        challenge_id,
        credential,
        current_app,
        remote_addr,
        user_agent=None,
        *,
        channel=PY,
        claimed_metadata=None,
    ) -> LoginResult:
        """Sign in with a passkey alone (usernameless, user verification required)."""
        return self._as(cid, None, current_app, remote_addr, channel, user_agent).login_with_passkey(
            challenge_id, credential, claimed_metadata=claimed_metadata
        )

    # --- Zato's user and session attributes ---
    def user_attr(
        self, cid, op, user_id, inputs, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None
    ):
        """One operation of Zato's `user.attr` on `user_id` (None: the caller)."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).user_attr(op, user_id, inputs)

    def session_attr(
        self,
        cid,
        op,
        target_ust,
        inputs,
        current_ust,
        current_app,
        remote_addr,
        *,
        user_id=None,
        channel=PY,
        user_agent=None,
    ) -> dict[str, Any]:
        """One operation of Zato's `session.attr` on the session behind `target_ust`."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).session_attr(
            op, target_ust, inputs, user_id=user_id
        )

    # --- linked credentials ---
    def link(self, cid, user_id, data, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None) -> None:
        """Link an API client to `user_id` (super-users)."""
        self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).link(user_id, data)

    def links(self, cid, user_id, current_ust, current_app, remote_addr) -> list[dict[str, Any]]:
        """The API clients linked to `user_id` (super-users)."""
        return self._as(cid, current_ust, current_app, remote_addr).links(user_id)

    def unlink(self, cid, user_id, data, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None) -> None:
        """Unlink an API client from `user_id` (super-users)."""
        self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).unlink(user_id, data)

    # --- roles (SPEC §17) ---
    def list_roles(self, cid, current_ust, current_app, remote_addr) -> list[dict[str, Any]]:
        """Every role with its permissions and how many hold it (`roles.manage` or `users.view`)."""
        return self._as(cid, current_ust, current_app, remote_addr).list_roles()

    def get_role(self, cid, name, current_ust, current_app, remote_addr) -> dict[str, Any]:
        """One role with the users holding it (`roles.manage` or `users.view`)."""
        return self._as(cid, current_ust, current_app, remote_addr).get_role(name)

    def create_role(self, cid, data, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None) -> dict:
        """Create a role from `data` (`name`, `description`, `permissions`): `roles.manage`."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).create_role(data)

    def update_role(
        self, cid, name, data, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None
    ) -> dict[str, Any]:
        """Change a role's `description` and/or `permissions`: `roles.manage`."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).update_role(name, data)

    def delete_role(self, cid, name, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None) -> None:
        """Delete a role nobody holds: `roles.manage`."""
        self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).delete_role(name)

    def list_user_roles(self, cid, user_id, current_ust, current_app, remote_addr) -> list[str]:
        """The roles `user_id` holds (None: the caller's own; others: `users.view`)."""
        return self._as(cid, current_ust, current_app, remote_addr).list_user_roles(user_id)

    def grant_role(
        self, cid, user_id, role, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None
    ) -> list[str]:
        """Give `user_id` a role (`roles.manage`, holding all it carries); their roles after."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).grant_role(user_id, role)

    def revoke_role(
        self, cid, user_id, role, current_ust, current_app, remote_addr, *, channel=PY, user_agent=None
    ) -> list[str]:
        """Take a role from `user_id` (`roles.manage`, holding all it carries); their roles after."""
        return self._as(cid, current_ust, current_app, remote_addr, channel, user_agent).revoke_role(user_id, role)

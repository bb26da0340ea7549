"""The SSO `user` facade (`app.extensions["sso"].user`): the seed's signatures, each delegating to one
use-case module. No rule lives here."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from . import bulk
from .accounts import create, export, history, lifecycle, lookup, search, update
from .credentials import api_clients as linked
from .credentials import passwords
from .credentials import two_factor as totp
from .email import email_change, reset, signup
from .email.signup import Confirmed, SignupResult  # by name: the method `signup` hides the module in the class body
from .kernel.context import Context
from .kernel.presentation import UserData
from .sessions import login
from .sessions import session_calls as sessions
from .zato import attributes as user_attrs
from .zato import importer as zato_import


class Users:
    """The SSO `user` facade: `app.extensions["sso"].user`."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    # --- sessions (login.py, sessions.py) ---

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
        channel: str = "python",
        claimed_metadata=None,
    ) -> login.LoginResult:
        """Log a user in (with `totp_code` when two-factor sign-in is on); returns the UST and its expiry."""
        return login.login(
            self.ctx,
            cid,
            username,
            password,
            current_app,
            remote_addr,
            user_agent,
            new_password,
            totp_code,
            channel=channel,
            claimed_metadata=claimed_metadata,
        )

    def logout(self, cid, current_ust, current_app, remote_addr) -> None:
        """End a session (always succeeds)."""
        sessions.logout(self.ctx, cid, current_ust, current_app, remote_addr)

    def renew(self, cid, current_ust, current_app, remote_addr) -> datetime:
        """Extend a live session; returns its new expiration time."""
        return sessions.renew(self.ctx, cid, current_ust, current_app, remote_addr)

    def verify_session(self, cid, target_ust, current_ust, current_app, remote_addr) -> bool:
        """Whether `target_ust` is usable now (super-users: anyone's; others: their own); never renews it."""
        return sessions.verify_session(self.ctx, cid, target_ust, current_ust, current_app, remote_addr)

    def get_session(self, cid, target_ust, current_ust, current_app, remote_addr) -> dict[str, Any]:
        """The details of the live session behind `target_ust` (super-users: anyone's; others: their own)."""
        return sessions.get_session(self.ctx, cid, target_ust, current_ust, current_app, remote_addr)

    def list_sessions(
        self, cid, user_id, current_ust, current_app, remote_addr, *, target_ust=None
    ) -> list[dict[str, Any]]:
        """Live sessions, newest first: the caller's, or (super-users) `user_id`'s or `target_ust`'s owner's."""
        return sessions.list_sessions(
            self.ctx, cid, user_id, current_ust, current_app, remote_addr, target_ust=target_ust
        )

    def end_session(
        self, cid, session_id, current_ust, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> None:
        """End one session by its public `session_id`: one's own, or anyone's as a super-user."""
        sessions.end_session(
            self.ctx, cid, session_id, current_ust, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    def end_sessions(
        self, cid, user_id, current_ust, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> int:
        """End all of `user_id`'s sessions (super-users); one's own (None): all but the current one."""
        return sessions.end_sessions(
            self.ctx, cid, user_id, current_ust, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    def end_sessions_local(self, username: str) -> int:
        """The command line: end every session of `username`."""
        return sessions.end_sessions_local(self.ctx, username)

    # --- the lifecycle (lifecycle.py) ---

    def approve_user(
        self, cid, user_id, current_ust, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> UserData:
        """Approve `user_id` (super-users)."""
        return lifecycle.approve_user(
            self.ctx, cid, user_id, current_ust, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    def reject_user(
        self, cid, user_id, current_ust, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> UserData:
        """Reject `user_id` (super-users; never oneself)."""
        return lifecycle.reject_user(
            self.ctx, cid, user_id, current_ust, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    def lock_user(
        self, cid, user_id, current_ust, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> UserData:
        """Lock `user_id` (super-users; never oneself): their sessions end."""
        return lifecycle.lock_user(
            self.ctx, cid, user_id, current_ust, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    def unlock_user(
        self, cid, user_id, current_ust, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> UserData:
        """Unlock `user_id` (super-users)."""
        return lifecycle.unlock_user(
            self.ctx, cid, user_id, current_ust, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    def delete_user(
        self, cid, user_id, current_ust, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> None:
        """Delete `user_id` and everything of theirs (super-users; never oneself); the audit keeps the record."""
        lifecycle.delete_user(
            self.ctx, cid, user_id, current_ust, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    def bulk_action(
        self, cid, action, user_ids, current_ust, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> list[bulk.BulkOutcome]:
        """Approve, reject, lock, unlock, sign out or delete each of `user_ids` (super-users); each user's outcome."""
        return bulk.bulk_action(
            self.ctx,
            cid,
            action,
            user_ids,
            current_ust,
            current_app,
            remote_addr,
            channel=channel,
            user_agent=user_agent,
        )

    def bulk_selection(self, cid, user_ids, current_ust, current_app, remote_addr) -> list[bulk.BulkTarget]:
        """The selected users as a bulk confirmation shows them (super-users): username and live sessions."""
        return bulk.selection(self.ctx, cid, user_ids, current_ust, current_app, remote_addr)

    def unlock_local(self, username: str) -> UserData:
        """The command line: unlock `username`."""
        return lifecycle.unlock_local(self.ctx, username)

    def user_id_of(self, username: str) -> str:
        """The command line: the id of `username`, or E001100."""
        return lifecycle.user_id_of(self.ctx, username)

    def set_password_local(self, username: str, password: str) -> None:
        """The command line: set `username`'s password; all their sessions end."""
        passwords.set_password_local(self.ctx, lifecycle.user_id_of(self.ctx, username), password)

    def list_local(self) -> list[dict[str, Any]]:
        """The command line: every user, by username."""
        return lifecycle.list_local(self.ctx)

    # --- reading (lookup.py, search.py, history.py) ---

    def get_current_user(self, cid, current_ust, current_app, remote_addr) -> UserData:
        """The caller's own account, as their role may see it."""
        return lookup.get_current_user(self.ctx, cid, current_ust, current_app, remote_addr)

    def get_user_by_id(self, cid, user_id, current_ust, current_app, remote_addr) -> UserData:
        """A user by id: super-users any user, regular users only themselves."""
        return lookup.get_user_by_id(self.ctx, cid, user_id, current_ust, current_app, remote_addr)

    def search(self, cid, criteria, current_ust, current_app, remote_addr) -> dict[str, Any]:
        """Search users (super-users only), in Zato's result shape."""
        return search.search(self.ctx, cid, criteria, current_ust, current_app, remote_addr)

    def history(self, cid, user_id, current_ust, current_app, remote_addr, *, limit: int = 50) -> list[dict]:
        """Audit records, newest first (see `history.history`)."""
        return history.history(self.ctx, cid, user_id, current_ust, current_app, remote_addr, limit=limit)

    def export_history(
        self, cid, user_id, current_ust, current_app, remote_addr, *, fmt: str = "jsonl"
    ) -> Iterator[str]:
        """Every change made to `user_id`, oldest first, as text chunks (see `export.export_history`)."""
        return export.export_history(self.ctx, cid, user_id, current_ust, current_app, remote_addr, fmt=fmt)

    def history_page(
        self,
        cid,
        user_id,
        current_ust,
        current_app,
        remote_addr,
        *,
        limit: int = 50,
        before: int | None = None,
        after: int | None = None,
        kind: str | None = None,
        changes_only: bool = False,
    ) -> dict[str, Any]:
        """One page of audit records with its neighbours' cursors (see `history.history_page`)."""
        return history.history_page(
            self.ctx,
            cid,
            user_id,
            current_ust,
            current_app,
            remote_addr,
            limit=limit,
            before=before,
            after=after,
            kind=kind,
            changes_only=changes_only,
        )

    # --- the update (update.py) ---

    def update_current_user(
        self,
        cid,
        data,
        current_ust,
        current_app,
        remote_addr,
        *,
        expected_version=None,
        channel: str = "python",
        user_agent=None,
        unchanged=None,
    ) -> UserData:
        """Update the caller's own account with the partial `data`."""
        return update.update_user(
            self.ctx,
            cid,
            None,
            data,
            current_ust,
            current_app,
            remote_addr,
            expected_version=expected_version,
            channel=channel,
            user_agent=user_agent,
            unchanged=unchanged,
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
        channel: str = "python",
        user_agent=None,
        unchanged=None,
    ) -> UserData:
        """Update the user `user_id` with the partial `data` (a regular user may name only themselves)."""
        return update.update_user(
            self.ctx,
            cid,
            user_id,
            data,
            current_ust,
            current_app,
            remote_addr,
            expected_version=expected_version,
            channel=channel,
            user_agent=user_agent,
            unchanged=unchanged,
        )

    # --- creating and passwords (create.py, passwords.py) ---

    def create_user(
        self,
        cid,
        data,
        current_ust,
        current_app,
        remote_addr,
        *,
        channel: str = "python",
        user_agent=None,
        check_only: bool = False,
    ) -> UserData | None:
        """Create a user (super-users only); returns the new user with its `user_id` (None: `check_only`)."""
        return create.create_user(
            self.ctx,
            cid,
            data,
            current_ust,
            current_app,
            remote_addr,
            channel=channel,
            user_agent=user_agent,
            check_only=check_only,
        )

    def create_local(
        self, username: str, password: str | None, *, super_user: bool, email: str | None = None
    ) -> UserData:
        """Create an approved, sign-up-final user from the command line (the only way to a super-user)."""
        return create.create_local(self.ctx, username, password, super_user=super_user, email=email)

    def change_password(
        self, cid, data, current_ust, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> None:
        """Set a password (SPEC §5): one's own with the old one, anyone's as a super-user."""
        passwords.change_password(
            self.ctx, cid, data, current_ust, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    # --- email: sign-up and password reset (signup.py, reset.py) ---

    def signup(
        self, cid, data, current_app, remote_addr, *, channel: str = "python", user_agent=None, send_link: bool = False
    ) -> SignupResult:
        """Sign up (SPEC §11): a user waiting for confirmation; its token is returned, or emailed as a link."""
        return signup.signup(
            self.ctx, cid, data, current_app, remote_addr, channel=channel, user_agent=user_agent, send_link=send_link
        )

    def confirm_signup(
        self, cid, confirm_token, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> Confirmed:
        """Confirm a sign-up with its token (E005006 unknown or expired, E005007 already confirmed)."""
        return signup.confirm_signup(
            self.ctx, cid, confirm_token, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    def check_signup_link(self, confirm_token) -> str:
        """The username a confirmation link is for, or why it cannot be used (reads only)."""
        return signup.check_confirmation(self.ctx, confirm_token)

    def request_password_reset(
        self, cid, credential, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> None:
        """Email a password-reset link to the account `credential` names; answers alike for any credential."""
        reset.request_password_reset(
            self.ctx, cid, credential, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    def access_password_reset(
        self, cid, token, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> str:
        """Trade a password-reset token for a reset key (valid 30 minutes)."""
        return reset.access_password_reset(
            self.ctx, cid, token, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    def complete_password_reset(
        self, cid, token, reset_key, password, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> None:
        """Set the new password with the token and its reset key; every session of the user ends."""
        reset.complete_password_reset(
            self.ctx, cid, token, reset_key, password, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    def check_password_reset_link(self, token) -> str:
        """The username a reset link is for, while it can still be used (reads only); else E010001."""
        return reset.check_link(self.ctx, token)

    def reset_password_from_link(
        self, cid, token, password, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> str:
        """The console's reset: the link's token and the new password in one step; returns the username."""
        return reset.reset_password_from_link(
            self.ctx, cid, token, password, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    # --- two-factor sign-in (totp.py) ---

    def reset_totp_key(
        self,
        cid,
        user_id,
        key,
        key_label,
        current_ust,
        current_app,
        remote_addr,
        *,
        channel: str = "python",
        user_agent=None,
    ) -> str:
        """Set the TOTP key (None or "": a new random one) and label of the caller or `user_id`; returns the key."""
        return totp.reset_totp_key(
            self.ctx,
            cid,
            user_id,
            key,
            key_label,
            current_ust,
            current_app,
            remote_addr,
            channel=channel,
            user_agent=user_agent,
        )

    def reset_totp_key_local(self, username: str, key: str | None = None) -> tuple[UserData, str]:
        """From the command line: set `key` (or a new random one) for `username`; returns (user, key)."""
        return totp.reset_totp_key_local(self.ctx, username, key)

    def enable_totp(
        self, cid, data, current_ust, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> list[str]:
        """Turn on one's own two-factor sign-in (`password`, `totp_key`, `totp_code`); returns recovery codes."""
        return totp.enable_totp(
            self.ctx, cid, data, current_ust, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    def disable_totp(
        self, cid, user_id, password, current_ust, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> UserData:
        """Turn two-factor sign-in off: one's own (user_id None) with the password, anyone's as a super-user."""
        return totp.disable_totp(
            self.ctx,
            cid,
            user_id,
            password,
            current_ust,
            current_app,
            remote_addr,
            channel=channel,
            user_agent=user_agent,
        )

    def regenerate_recovery_codes(
        self, cid, password, current_ust, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> list[str]:
        """Ten new recovery codes for one's own two-factor sign-in (the old ones stop working)."""
        return totp.regenerate_recovery_codes(
            self.ctx, cid, password, current_ust, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    def totp_status(self, cid, user_id, current_ust, current_app, remote_addr) -> totp.TotpStatus:
        """Whether two-factor sign-in is on, its label and the recovery codes left (never the key)."""
        return totp.totp_status(self.ctx, cid, user_id, current_ust, current_app, remote_addr)

    # --- email: a change of one's own address confirmed at the new one (email_change.py) ---

    def save_own_account(
        self,
        cid,
        data,
        current_ust,
        current_app,
        remote_addr,
        *,
        expected_version=None,
        channel: str = "python",
        user_agent=None,
        unchanged=None,
    ) -> email_change.AccountSaved:
        """My account's save: `update_current_user`, except that with SSO_EMAIL_CHANGE_CONFIRM=1 a new email
        waits for the link emailed to it (the other fields are saved at once)."""
        return email_change.save_own_account(
            self.ctx,
            cid,
            data,
            current_ust,
            current_app,
            remote_addr,
            expected_version=expected_version,
            channel=channel,
            user_agent=user_agent,
            unchanged=unchanged,
        )

    def check_email_change_link(self, token) -> tuple[str, str]:
        """(username, new address) of an email-change link that can still be used (reads only)."""
        return email_change.check_link(self.ctx, token)

    def confirm_email_change(
        self, cid, token, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> email_change.EmailChanged:
        """Write the address an email-change link confirms (through the normal update and its audit record)."""
        return email_change.confirm_email_change(
            self.ctx, cid, token, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    # --- free-form attributes (user_attrs.py) ---

    def user_attr(
        self,
        cid,
        op,
        user_id,
        inputs,
        current_ust,
        current_app,
        remote_addr,
        *,
        channel: str = "python",
        user_agent=None,
    ) -> dict[str, Any]:
        """Zato's `user.attr`: `op` is create/update/set/delete/get/exists/names (SPEC §12)."""
        return user_attrs.user_attr(
            self.ctx,
            cid,
            op,
            user_id,
            inputs,
            current_ust,
            current_app,
            remote_addr,
            channel=channel,
            user_agent=user_agent,
        )

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
        channel: str = "python",
        user_agent=None,
    ) -> dict[str, Any]:
        """Zato's `session.attr`: the same operations on the session behind `target_ust`."""
        return user_attrs.session_attr(
            self.ctx,
            cid,
            op,
            target_ust,
            inputs,
            current_ust,
            current_app,
            remote_addr,
            user_id=user_id,
            channel=channel,
            user_agent=user_agent,
        )

    # --- API clients and linked credentials (linked.py) ---

    def create_api_client(self, name: str, secret: str | None = None) -> str:
        """Create an API client (command line); returns its secret, shown once."""
        return linked.create_api_client(self.ctx, name, secret)

    def revoke_api_client(
        self, name: str, *, actor_id: str | None = None, channel: str = "cli", remote_addr=None
    ) -> None:
        """Delete an API client, its link and the link's session."""
        linked.revoke_api_client(self.ctx, name, actor_id=actor_id, channel=channel, remote_addr=remote_addr)

    def list_api_clients(self) -> list[dict[str, Any]]:
        """Every API client and the user it acts as."""
        return linked.list_api_clients(self.ctx)

    def link(
        self, cid, user_id, data, current_ust, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> None:
        """Link an API client to `user_id` (super-users)."""
        linked.link(
            self.ctx, cid, user_id, data, current_ust, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    def links(self, cid, user_id, current_ust, current_app, remote_addr) -> list[dict[str, Any]]:
        """The credentials linked to `user_id` (super-users)."""
        return linked.links(self.ctx, cid, user_id, current_ust, current_app, remote_addr)

    def unlink(
        self, cid, user_id, data, current_ust, current_app, remote_addr, *, channel: str = "python", user_agent=None
    ) -> None:
        """Remove a link (super-users)."""
        linked.unlink(
            self.ctx, cid, user_id, data, current_ust, current_app, remote_addr, channel=channel, user_agent=user_agent
        )

    def basic_session(self, cid, name, secret, current_app, remote_addr, *, user_agent=None) -> str:
        """The UST a linked API client's Basic credential acts with (SPEC §13)."""
        return linked.basic_session(self.ctx, cid, name, secret, current_app, remote_addr, user_agent=user_agent)

    # --- coming from Zato (zato_import.py) ---

    def import_zato(self, source_url: str, *, zato_secret_key: str | None = None, dry_run: bool = False):
        """Import the users of a Zato 3.x ODB (command line); returns the summary."""
        return zato_import.import_zato(self.ctx, source_url, zato_secret_key=zato_secret_key, dry_run=dry_run)

    # --- console views of the Zato drop-in (user_attrs.py, linked.py) ---

    def list_attributes(self, cid, user_id, current_ust, current_app, remote_addr) -> list[dict[str, Any]]:
        """A user's live attribute names with their expiry (no values)."""
        return user_attrs.list_attributes(self.ctx, cid, user_id, current_ust, current_app, remote_addr)

    def api_clients(self, cid, current_ust, current_app, remote_addr) -> list[dict[str, Any]]:
        """Every API client and the user it acts as (super-users)."""
        return linked.console_clients(self.ctx, cid, current_ust, current_app, remote_addr)

    def revoke_api_client_as(self, cid, name, current_ust, current_app, remote_addr) -> None:
        """Revoke an API client (super-users)."""
        linked.console_revoke(self.ctx, cid, name, current_ust, current_app, remote_addr)

"""The SSO `user` facade (`app.extensions["sso"].user`): the seed's signatures, each delegating to one
use-case module. No rule lives here."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from . import create, email_change, history, login, lookup, passwords, reset, search, sessions, signup, totp, update
from .context import Context
from .presentation import UserData


class Users:
    """The SSO `user` facade: `app.extensions["sso"].user`."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    # --- sessions (login.py, sessions.py) ---

    def login(self, cid, username, password, current_app, remote_addr, user_agent=None, new_password=None,
              totp_code=None, *, channel: str = "python") -> login.LoginResult:
        """Log a user in (with `totp_code` when two-factor sign-in is on); returns the UST and its expiry."""
        return login.login(self.ctx, cid, username, password, current_app, remote_addr, user_agent, new_password,
                           totp_code, channel=channel)

    def logout(self, cid, current_ust, current_app, remote_addr) -> None:
        """End a session (always succeeds)."""
        sessions.logout(self.ctx, cid, current_ust, current_app, remote_addr)

    def renew(self, cid, current_ust, current_app, remote_addr) -> datetime:
        """Extend a live session; returns its new expiration time."""
        return sessions.renew(self.ctx, cid, current_ust, current_app, remote_addr)

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

    # --- the update (update.py) ---

    def update_current_user(self, cid, data, current_ust, current_app, remote_addr, *, expected_version=None,
                            channel: str = "python", user_agent=None) -> UserData:
        """Update the caller's own account with the partial `data`."""
        return update.update_user(self.ctx, cid, None, data, current_ust, current_app, remote_addr,
                                  expected_version=expected_version, channel=channel, user_agent=user_agent)

    def update_user_by_id(self, cid, user_id, data, current_ust, current_app, remote_addr, *,
                          expected_version=None, channel: str = "python", user_agent=None) -> UserData:
        """Update the user `user_id` with the partial `data` (a regular user may name only themselves)."""
        return update.update_user(self.ctx, cid, user_id, data, current_ust, current_app, remote_addr,
                                  expected_version=expected_version, channel=channel, user_agent=user_agent)

    # --- creating and passwords (create.py, passwords.py) ---

    def create_user(self, cid, data, current_ust, current_app, remote_addr, *, channel: str = "python",
                    user_agent=None) -> UserData:
        """Create a user (super-users only); returns the new user with its `user_id`."""
        return create.create_user(self.ctx, cid, data, current_ust, current_app, remote_addr, channel=channel,
                                  user_agent=user_agent)

    def create_local(self, username: str, password: str | None, *, super_user: bool) -> UserData:
        """Create an approved, sign-up-final user from the command line (the only way to a super-user)."""
        return create.create_local(self.ctx, username, password, super_user=super_user)

    def change_password(self, cid, data, current_ust, current_app, remote_addr, *, channel: str = "python",
                        user_agent=None) -> None:
        """Set a password (SPEC §5): one's own with the old one, anyone's as a super-user."""
        passwords.change_password(self.ctx, cid, data, current_ust, current_app, remote_addr, channel=channel,
                                  user_agent=user_agent)

    # --- email: sign-up and password reset (signup.py, reset.py) ---

    def signup(self, cid, data, current_app, remote_addr, *, channel: str = "python", user_agent=None,
               send_link: bool = False) -> signup.SignupResult:
        """Sign up (SPEC §11): a user waiting for confirmation; its token is returned, or emailed as a link."""
        return signup.signup(self.ctx, cid, data, current_app, remote_addr, channel=channel, user_agent=user_agent,
                             send_link=send_link)

    def confirm_signup(self, cid, confirm_token, current_app, remote_addr, *, channel: str = "python",
                       user_agent=None) -> signup.Confirmed:
        """Confirm a sign-up with its token (E005006 unknown or expired, E005007 already confirmed)."""
        return signup.confirm_signup(self.ctx, cid, confirm_token, current_app, remote_addr, channel=channel,
                                     user_agent=user_agent)

    def check_signup_link(self, confirm_token) -> str:
        """The username a confirmation link is for, or why it cannot be used (reads only)."""
        return signup.check_confirmation(self.ctx, confirm_token)

    def request_password_reset(self, cid, credential, current_app, remote_addr, *, channel: str = "python",
                               user_agent=None) -> None:
        """Email a password-reset link to the account `credential` names; answers alike for any credential."""
        reset.request_password_reset(self.ctx, cid, credential, current_app, remote_addr, channel=channel,
                                     user_agent=user_agent)

    def access_password_reset(self, cid, token, current_app, remote_addr, *, channel: str = "python",
                              user_agent=None) -> str:
        """Trade a password-reset token for a reset key (valid 30 minutes)."""
        return reset.access_password_reset(self.ctx, cid, token, current_app, remote_addr, channel=channel,
                                           user_agent=user_agent)

    def complete_password_reset(self, cid, token, reset_key, password, current_app, remote_addr, *,
                                channel: str = "python", user_agent=None) -> None:
        """Set the new password with the token and its reset key; every session of the user ends."""
        reset.complete_password_reset(self.ctx, cid, token, reset_key, password, current_app, remote_addr,
                                      channel=channel, user_agent=user_agent)

    def check_password_reset_link(self, token) -> str:
        """The username a reset link is for, while it can still be used (reads only); else E010001."""
        return reset.check_link(self.ctx, token)

    def reset_password_from_link(self, cid, token, password, current_app, remote_addr, *, channel: str = "python",
                                 user_agent=None) -> str:
        """The console's reset: the link's token and the new password in one step; returns the username."""
        return reset.reset_password_from_link(self.ctx, cid, token, password, current_app, remote_addr,
                                              channel=channel, user_agent=user_agent)

    # --- two-factor sign-in (totp.py) ---

    def reset_totp_key(self, cid, user_id, key, key_label, current_ust, current_app, remote_addr, *,
                       channel: str = "python", user_agent=None) -> str:
        """Set the TOTP key (None or "": a new random one) and label of the caller or `user_id`; returns the key."""
        return totp.reset_totp_key(self.ctx, cid, user_id, key, key_label, current_ust, current_app, remote_addr,
                                   channel=channel, user_agent=user_agent)

    def reset_totp_key_local(self, username: str, key: str | None = None) -> tuple[UserData, str]:
        """From the command line: set `key` (or a new random one) for `username`; returns (user, key)."""
        return totp.reset_totp_key_local(self.ctx, username, key)

    def enable_totp(self, cid, data, current_ust, current_app, remote_addr, *, channel: str = "python",
                    user_agent=None) -> list[str]:
        """Turn on one's own two-factor sign-in (`password`, `totp_key`, `totp_code`); returns recovery codes."""
        return totp.enable_totp(self.ctx, cid, data, current_ust, current_app, remote_addr, channel=channel,
                                user_agent=user_agent)

    def disable_totp(self, cid, user_id, password, current_ust, current_app, remote_addr, *,
                     channel: str = "python", user_agent=None) -> UserData:
        """Turn two-factor sign-in off: one's own (user_id None) with the password, anyone's as a super-user."""
        return totp.disable_totp(self.ctx, cid, user_id, password, current_ust, current_app, remote_addr,
                                 channel=channel, user_agent=user_agent)

    def regenerate_recovery_codes(self, cid, password, current_ust, current_app, remote_addr, *,
                                  channel: str = "python", user_agent=None) -> list[str]:
        """Ten new recovery codes for one's own two-factor sign-in (the old ones stop working)."""
        return totp.regenerate_recovery_codes(self.ctx, cid, password, current_ust, current_app, remote_addr,
                                              channel=channel, user_agent=user_agent)

    def totp_status(self, cid, user_id, current_ust, current_app, remote_addr) -> totp.TotpStatus:
        """Whether two-factor sign-in is on, its label and the recovery codes left (never the key)."""
        return totp.totp_status(self.ctx, cid, user_id, current_ust, current_app, remote_addr)

    # --- email: a change of one's own address confirmed at the new one (email_change.py) ---

    def save_own_account(self, cid, data, current_ust, current_app, remote_addr, *, expected_version=None,
                         channel: str = "python", user_agent=None) -> email_change.AccountSaved:
        """My account's save: `update_current_user`, except that with SSO_EMAIL_CHANGE_CONFIRM=1 a new email
        waits for the link emailed to it (the other fields are saved at once)."""
        return email_change.save_own_account(self.ctx, cid, data, current_ust, current_app, remote_addr,
                                             expected_version=expected_version, channel=channel,
                                             user_agent=user_agent)

    def check_email_change_link(self, token) -> tuple[str, str]:
        """(username, new address) of an email-change link that can still be used (reads only)."""
        return email_change.check_link(self.ctx, token)

    def confirm_email_change(self, cid, token, current_app, remote_addr, *, channel: str = "python",
                             user_agent=None) -> email_change.EmailChanged:
        """Write the address an email-change link confirms (through the normal update and its audit record)."""
        return email_change.confirm_email_change(self.ctx, cid, token, current_app, remote_addr, channel=channel,
                                                 user_agent=user_agent)

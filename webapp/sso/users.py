"""The SSO `user` facade (`app.extensions["sso"].user`): the seed's signatures, each delegating to one
use-case module. No rule lives here."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from . import (create, history, linked, login, lookup, passwords, reset, search, sessions, signup, update,
               user_attrs, zato_import)
from .context import Context
from .presentation import UserData


class Users:
    """The SSO `user` facade: `app.extensions["sso"].user`."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    # --- sessions (login.py, sessions.py) ---

    def login(self, cid, username, password, current_app, remote_addr, user_agent=None, new_password=None,
              *, channel: str = "python", claimed_metadata=None) -> login.LoginResult:
        """Log a user in; returns the UST and its expiry (SPEC §5)."""
        return login.login(self.ctx, cid, username, password, current_app, remote_addr, user_agent, new_password,
                           channel=channel, claimed_metadata=claimed_metadata)

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
    # --- free-form attributes (user_attrs.py) ---

    def user_attr(self, cid, op, user_id, inputs, current_ust, current_app, remote_addr, *, channel: str = "python",
                  user_agent=None) -> dict[str, Any]:
        """Zato's `user.attr`: `op` is create/update/set/delete/get/exists/names (SPEC §12)."""
        return user_attrs.user_attr(self.ctx, cid, op, user_id, inputs, current_ust, current_app, remote_addr,
                                    channel=channel, user_agent=user_agent)

    def session_attr(self, cid, op, target_ust, inputs, current_ust, current_app, remote_addr, *, user_id=None,
                     channel: str = "python", user_agent=None) -> dict[str, Any]:
        """Zato's `session.attr`: the same operations on the session behind `target_ust`."""
        return user_attrs.session_attr(self.ctx, cid, op, target_ust, inputs, current_ust, current_app,
                                       remote_addr, user_id=user_id, channel=channel, user_agent=user_agent)

    # --- API clients and linked credentials (linked.py) ---

    def create_api_client(self, name: str, secret: str | None = None) -> str:
        """Create an API client (command line); returns its secret, shown once."""
        return linked.create_api_client(self.ctx, name, secret)

    def revoke_api_client(self, name: str, *, actor_id: str | None = None, channel: str = "cli",
                          remote_addr=None) -> None:
        """Delete an API client, its link and the link's session."""
        linked.revoke_api_client(self.ctx, name, actor_id=actor_id, channel=channel, remote_addr=remote_addr)

    def list_api_clients(self) -> list[dict[str, Any]]:
        """Every API client and the user it acts as."""
        return linked.list_api_clients(self.ctx)

    def link(self, cid, user_id, data, current_ust, current_app, remote_addr, *, channel: str = "python",
             user_agent=None) -> None:
        """Link an API client to `user_id` (super-users)."""
        linked.link(self.ctx, cid, user_id, data, current_ust, current_app, remote_addr, channel=channel,
                    user_agent=user_agent)

    def links(self, cid, user_id, current_ust, current_app, remote_addr) -> list[dict[str, Any]]:
        """The credentials linked to `user_id` (super-users)."""
        return linked.links(self.ctx, cid, user_id, current_ust, current_app, remote_addr)

    def unlink(self, cid, user_id, data, current_ust, current_app, remote_addr, *, channel: str = "python",
               user_agent=None) -> None:
        """Remove a link (super-users)."""
        linked.unlink(self.ctx, cid, user_id, data, current_ust, current_app, remote_addr, channel=channel,
                      user_agent=user_agent)

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

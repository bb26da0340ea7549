"""The service as the faces use it: `sso.serve(call)` is one request's view of every operation, each a
line that hands the use case its `(ctx, call, ...)`; `sso.operator` is the command line's, acting as
nobody's account. Rules live in the contexts, never here."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from . import bulk
from .accounts import (
    create,
    export,
    history,
    lifecycle,
    list_export,
    lookup,
    profile_schema,
    restore,
    roles,
    search,
    terms,
    update,
)
from .credentials import api_clients, passkeys, passwords, scim_clients, two_factor
from .email import admin_emails, email_change, outbox, reset, signup, verify_email
from .email.signup import Confirmed, SignupResult  # by name: the method `signup` hides the module in the class body
from .kernel.call import Call, local
from .kernel.context import Context
from .kernel.presentation import UserData
from .kernel.profile_fields import ProfileField
from .policies import run as policy_run
from .policies import settings as policy_settings
from .privacy import deletion
from .privacy import export as privacy_export
from .sessions import login, passkey_login, session_calls
from .sessions.login import LoginResult
from .zato import attributes, importer


class Service:
    """Every operation on behalf of one call's caller (built per request by a face, or by the facade)."""

    def __init__(self, ctx: Context, call: Call):
        self.ctx = ctx
        self.call = call

    # --- sessions ---
    def login(self, username, password, new_password=None, totp_code=None, *, claimed_metadata=None, passkey=None):
        return login.login(
            self.ctx,
            self.call,
            username,
            password,
            new_password,
            totp_code,
            claimed_metadata=claimed_metadata,
            passkey=passkey,
        )

    def passkey_login_options(self, *, second_factor: bool = False) -> passkeys.Ceremony:
        return passkey_login.sign_in_options(self.ctx, self.call, second_factor=second_factor)

    def login_with_passkey(self, challenge_id, credential, *, claimed_metadata=None) -> LoginResult:
        return passkey_login.login_with_passkey(
            self.ctx, self.call, challenge_id, credential, claimed_metadata=claimed_metadata
        )

    def logout(self) -> None:
        session_calls.logout(self.ctx, self.call)

    def renew(self) -> datetime:
        return session_calls.renew(self.ctx, self.call)

    def verify_session(self, target_ust) -> bool:
        return session_calls.verify_session(self.ctx, self.call, target_ust)

    def get_session(self, target_ust) -> dict[str, Any]:
        return session_calls.get_session(self.ctx, self.call, target_ust)

    def list_sessions(self, user_id, *, target_ust=None) -> list[dict[str, Any]]:
        return session_calls.list_sessions(self.ctx, self.call, user_id, target_ust=target_ust)

    def end_session(self, session_id) -> None:
        session_calls.end_session(self.ctx, self.call, session_id)

    def end_sessions(self, user_id) -> int:
        return session_calls.end_sessions(self.ctx, self.call, user_id)

    # --- accounts: reading ---
    def get_current_user(self) -> UserData:
        return lookup.get_current_user(self.ctx, self.call)

    def get_user_by_id(self, user_id) -> UserData:
        return lookup.get_user_by_id(self.ctx, self.call, user_id)

    def search(self, criteria) -> dict[str, Any]:
        return search.search(self.ctx, self.call, criteria)

    def export_users(self, criteria) -> Iterator[str]:
        """The users `criteria` match as CSV text chunks (the user list's download)."""
        return list_export.export_users(self.ctx, self.call, criteria)

    def history(self, user_id, *, limit: int = 50) -> list[dict]:
        return history.history(self.ctx, self.call, user_id, limit=limit)

    def history_page(self, user_id, **page: Any) -> dict[str, Any]:
        return history.history_page(self.ctx, self.call, user_id, **page)

    def export_history(self, user_id, *, fmt: str = "jsonl") -> Iterator[str]:
        return export.export_history(self.ctx, self.call, user_id, fmt=fmt)

    # --- privacy ---
    def export_user(self, user_id=None, *, password=None, reauth=None) -> Iterator[str]:
        return privacy_export.export_user(self.ctx, self.call, user_id, password=password, reauth=reauth)

    def schedule_deletion(self, password) -> datetime:
        return deletion.schedule_deletion(self.ctx, self.call, password)

    def cancel_deletion(self, user_id) -> None:
        deletion.cancel_deletion(self.ctx, self.call, user_id)

    def check_keep_link(self, token) -> str:
        return deletion.check_keep_link(self.ctx, token)

    def keep_account(self, token, password) -> str:
        return deletion.keep_account(self.ctx, self.call, token, password)

    # --- accounts: writing ---
    def restore_value(self, record_id, attribute, *, user_id=None, force: bool = False) -> UserData:
        return restore.restore_value(self.ctx, self.call, record_id, attribute, user_id=user_id, force=force)

    def restore_preview(self, record_id, attribute, *, user_id=None) -> dict[str, Any]:
        return restore.restore_preview(self.ctx, self.call, record_id, attribute, user_id=user_id)

    def update_user(
        self, user_id, data, *, expected_version=None, unchanged: Mapping[str, Any] | None = None
    ) -> UserData:
        """`user_id` None is the caller (`update_current_user`)."""
        return update.update_user(
            self.ctx, self.call, user_id, data, expected_version=expected_version, unchanged=unchanged
        )

    def update_user_from(
        self, user_id, compute: Callable[[UserData], Mapping[str, Any]], *, expected_version=None
    ) -> UserData:
        """The update of what `compute` makes of the user as this update reads them (SCIM's PATCH)."""
        return update.update_user(
            self.ctx, self.call, user_id, update.Computed(compute), expected_version=expected_version
        )

    def create_user(self, data, *, check_only: bool = False) -> UserData | None:
        return create.create_user(self.ctx, self.call, data, check_only=check_only)

    def approve_user(self, user_id) -> UserData:
        return lifecycle.approve_user(self.ctx, self.call, user_id)

    def reject_user(self, user_id) -> UserData:
        return lifecycle.reject_user(self.ctx, self.call, user_id)

    def lock_user(self, user_id) -> UserData:
        return lifecycle.lock_user(self.ctx, self.call, user_id)

    def unlock_user(self, user_id) -> UserData:
        return lifecycle.unlock_user(self.ctx, self.call, user_id)

    def delete_user(self, user_id) -> None:
        lifecycle.delete_user(self.ctx, self.call, user_id)

    def bulk_action(self, action, user_ids) -> list[bulk.BulkOutcome]:
        return bulk.bulk_action(self.ctx, self.call, action, user_ids)

    def bulk_selection(self, user_ids) -> list[bulk.BulkTarget]:
        return bulk.selection(self.ctx, self.call, user_ids)

    def bulk_required_action(self, action, user_ids, *, clear=False) -> list[bulk.BulkOutcome]:
        return bulk.required_action(self.ctx, self.call, action, user_ids, clear=clear)

    def filter_count(self, criteria) -> int:
        return bulk.filter_count(self.ctx, self.call, criteria)

    def required_action_by_filter(self, action, criteria, *, clear=False) -> int:
        return bulk.required_action_by_filter(self.ctx, self.call, action, criteria, clear=clear)

    def send_email_verification(self) -> str:
        return verify_email.send_verification(self.ctx, self.call)

    def confirm_email_verification(self, token) -> str:
        return verify_email.confirm_verification(self.ctx, self.call, token)

    # --- terms (SPEC §19) ---
    def publish_terms(self, text, require_acceptance=False) -> terms.TermsVersion:
        return terms.publish_terms(self.ctx, self.call, text, require_acceptance)

    def current_terms(self, version=None) -> terms.TermsVersion | None:
        return terms.current_terms(self.ctx, self.call, version)

    def list_terms(self) -> list[tuple[terms.TermsVersion, int]]:
        return terms.list_terms(self.ctx, self.call)

    def accept_terms(self, version) -> bool:
        return terms.accept_terms(self.ctx, self.call, version)

    def terms_acceptances(self, user_id=None) -> list[terms.Acceptance]:
        return terms.user_acceptances(self.ctx, self.call, user_id)

    def save_own_account(
        self, data, *, expected_version=None, unchanged: Mapping[str, Any] | None = None
    ) -> email_change.AccountSaved:
        return email_change.save_own_account(
            self.ctx, self.call, data, expected_version=expected_version, unchanged=unchanged
        )

    # --- accounts: profile fields (SPEC §16) ---
    def profile_fields(self) -> list[ProfileField]:
        return profile_schema.list_fields(self.ctx, self.call)

    def viewable_profile_fields(self) -> tuple[ProfileField, ...]:
        return profile_schema.viewable_fields(self.ctx, self.call)

    def readable_profile_fields(self, user_id=None) -> tuple[ProfileField, ...]:
        """The profile fields the caller may view on `user_id`'s record (None: their own)."""
        return profile_schema.readable_fields(self.ctx, self.call, user_id)

    def editable_profile_fields(self, user_id=None) -> tuple[ProfileField, ...]:
        return profile_schema.editable_fields(self.ctx, self.call, user_id)

    def define_profile_field(self, data) -> ProfileField:
        return profile_schema.define_field(self.ctx, self.call, data)

    def profile_field_dry_run(self, name, data) -> profile_schema.DryRun:
        return profile_schema.dry_run(self.ctx, self.call, name, data)

    def change_profile_field(self, name, data, *, clear_violations: bool = False) -> ProfileField:
        return profile_schema.change_field(self.ctx, self.call, name, data, clear_violations=clear_violations)

    def reorder_profile_fields(self, names) -> list[ProfileField]:
        return profile_schema.reorder(self.ctx, self.call, names)

    def retire_profile_field(self, name, *, retired: bool = True) -> ProfileField:
        return profile_schema.retire_field(self.ctx, self.call, name, retired=retired)

    def delete_profile_field(self, name, confirm) -> None:
        profile_schema.delete_field(self.ctx, self.call, name, confirm)

    # --- credentials ---
    def change_password(self, data) -> None:
        passwords.change_password(self.ctx, self.call, data)

    def reset_totp_key(self, user_id, key, key_label) -> str:
        return two_factor.reset_totp_key(self.ctx, self.call, user_id, key, key_label)

    def enable_totp(self, data) -> list[str]:
        return two_factor.enable_totp(self.ctx, self.call, data)

    def disable_totp(self, user_id, password) -> UserData:
        return two_factor.disable_totp(self.ctx, self.call, user_id, password)

    def regenerate_recovery_codes(self, password) -> list[str]:
        return two_factor.regenerate_recovery_codes(self.ctx, self.call, password)

    def totp_status(self, user_id) -> two_factor.TotpStatus:
        return two_factor.totp_status(self.ctx, self.call, user_id)

    def link(self, user_id, data) -> None:
        api_clients.link(self.ctx, self.call, user_id, data)

    def links(self, user_id) -> list[dict[str, Any]]:
        return api_clients.links(self.ctx, self.call, user_id)

    def unlink(self, user_id, data) -> None:
        api_clients.unlink(self.ctx, self.call, user_id, data)

    def basic_session(self, name, secret) -> str:
        return api_clients.basic_session(self.ctx, self.call, name, secret)

    def api_clients(self) -> list[dict[str, Any]]:
        return api_clients.console_clients(self.ctx, self.call)

    def revoke_api_client(self, name) -> None:
        api_clients.console_revoke(self.ctx, self.call, name)

    def scim_clients(self) -> list[dict[str, Any]]:
        return scim_clients.console_scim_clients(self.ctx, self.call)

    def revoke_scim_client(self, name) -> None:
        scim_clients.console_revoke(self.ctx, self.call, name)

    # --- email ---
    def signup(self, data, *, send_link: bool = False, check_only: bool = False) -> SignupResult | None:
        return signup.signup(self.ctx, self.call, data, send_link=send_link, check_only=check_only)

    def signup_profile_fields(self) -> tuple[ProfileField, ...]:
        """The profile fields a sign-up form asks for (the required ones a person may edit themselves)."""
        return signup.signup_fields(self.ctx)

    def confirm_signup(self, confirm_token) -> Confirmed:
        return signup.confirm_signup(self.ctx, self.call, confirm_token)

    def check_signup_link(self, confirm_token) -> str:
        return signup.check_confirmation(self.ctx, confirm_token)

    def request_password_reset(self, credential) -> None:
        reset.request_password_reset(self.ctx, self.call, credential)

    # --- the outbox (issue 27; super-users) ---
    def outbox_overview(self) -> dict[str, Any]:
        return outbox.overview(self.ctx, self.call)

    def retry_outbox_message(self, message_id) -> None:
        outbox.retry(self.ctx, self.call, message_id)

    def send_admin_email(self, user_id, kind) -> admin_emails.Sent:
        return admin_emails.send_admin_email(self.ctx, self.call, user_id, kind)

    # --- account policies (issue 27) ---
    def policies(self) -> dict[str, policy_settings.Policy]:
        return policy_settings.get_policies(self.ctx, self.call)

    def set_policy(self, name, *, enabled, days) -> policy_settings.Policy:
        return policy_settings.set_policy(self.ctx, self.call, name, enabled=enabled, days=days)

    def policy_dry_run(self, changes=None) -> policy_run.DryRun:
        return policy_run.dry_run(self.ctx, self.call, changes)

    def run_policies(self) -> policy_run.RunReport:
        return policy_run.run_policies(self.ctx, self.call)

    def access_password_reset(self, token) -> str:
        return reset.access_password_reset(self.ctx, self.call, token)

    def complete_password_reset(self, token, reset_key, password) -> None:
        reset.complete_password_reset(self.ctx, self.call, token, reset_key, password)

    def check_password_reset_link(self, token) -> str:
        return reset.check_link(self.ctx, token)

    def reset_password_from_link(self, token, password) -> str:
        return reset.reset_password_from_link(self.ctx, self.call, token, password)

    def check_email_change_link(self, token) -> tuple[str, str]:
        return email_change.check_link(self.ctx, token)

    def confirm_email_change(self, token) -> email_change.EmailChanged:
        return email_change.confirm_email_change(self.ctx, self.call, token)

    # --- passkeys (SPEC §18) ---
    def passkey_register_options(self, password, *, reauth=None) -> passkeys.Ceremony:
        return passkeys.register_options(self.ctx, self.call, password, reauth)

    def passkey_reauth_options(self) -> passkeys.Ceremony:
        return passkeys.reauth_options(self.ctx, self.call)

    def passkey_register_verify(self, challenge_id, credential, name) -> passkeys.PasskeyData:
        return passkeys.register_verify(self.ctx, self.call, challenge_id, credential, name)

    def list_passkeys(self, user_id) -> list[passkeys.PasskeyData]:
        return passkeys.list_passkeys(self.ctx, self.call, user_id)

    def rename_passkey(self, passkey_id, name) -> passkeys.PasskeyData:
        return passkeys.rename_passkey(self.ctx, self.call, passkey_id, name)

    def remove_passkey(self, passkey_id, *, user_id=None, password=None, reauth=None) -> None:
        passkeys.remove_passkey(self.ctx, self.call, passkey_id, user_id=user_id, password=password, reauth=reauth)

    def sign_in_is_recent(self) -> bool:
        return passkeys.sign_in_is_recent(self.ctx, self.call)

    # --- Zato attributes ---
    def user_attr(self, op, user_id, inputs) -> dict[str, Any]:
        return attributes.user_attr(self.ctx, self.call, op, user_id, inputs)

    def session_attr(self, op, target_ust, inputs, *, user_id=None) -> dict[str, Any]:
        return attributes.session_attr(self.ctx, self.call, op, target_ust, inputs, user_id=user_id)

    def list_attributes(self, user_id) -> list[dict[str, Any]]:
        return attributes.list_attributes(self.ctx, self.call, user_id)

    # --- roles (SPEC §17) ---
    def list_roles(self) -> list[dict[str, Any]]:
        return roles.list_roles(self.ctx, self.call)

    def get_role(self, name) -> dict[str, Any]:
        return roles.get_role(self.ctx, self.call, name)

    def create_role(self, data) -> dict[str, Any]:
        return roles.create_role(self.ctx, self.call, data)

    def update_role(self, name, data) -> dict[str, Any]:
        return roles.update_role(self.ctx, self.call, name, data)

    def delete_role(self, name) -> None:
        roles.delete_role(self.ctx, self.call, name)

    def list_user_roles(self, user_id) -> list[str]:
        return roles.user_roles_of(self.ctx, self.call, user_id)

    def grant_role(self, user_id, role) -> list[str]:
        return roles.grant_role(self.ctx, self.call, user_id, role)

    def revoke_role(self, user_id, role) -> list[str]:
        return roles.revoke_role(self.ctx, self.call, user_id, role)


class Operator:
    """The command line's operations: acting as nobody's account, with the operator's rights."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def create_local(
        self, username: str, password: str | None, *, super_user: bool, email: str | None = None
    ) -> UserData:
        return create.create_local(self.ctx, username, password, super_user=super_user, email=email)

    def user_id_of(self, username: str) -> str:
        return lifecycle.user_id_of(self.ctx, username)

    def unlock_local(self, username: str) -> UserData:
        return lifecycle.unlock_local(self.ctx, username)

    def list_local(self) -> list[dict[str, Any]]:
        return lifecycle.list_local(self.ctx)

    def set_password_local(self, username: str, password: str) -> None:
        passwords.set_password_local(self.ctx, lifecycle.user_id_of(self.ctx, username), password)

    def reset_totp_key_local(self, username: str, key: str | None = None) -> tuple[UserData, str]:
        return two_factor.reset_totp_key_local(self.ctx, username, key)

    def run_policies(self) -> policy_run.RunReport:
        return policy_run.run_policies(self.ctx)

    def policy_dry_run(self) -> policy_run.DryRun:
        return policy_run.dry_run(self.ctx, None)

    def delete_due(self) -> list[tuple[str, str]]:
        return deletion.delete_due(self.ctx)

    def end_sessions_local(self, username: str) -> int:
        return session_calls.end_sessions_local(self.ctx, username)

    def export_profile_schema(self) -> list[dict[str, Any]]:
        return profile_schema.export_schema(self.ctx, profile_schema.OPERATOR_CALL)

    def import_profile_schema(self, definitions: Any, *, dry_run: bool = False) -> list[str]:
        return profile_schema.import_schema(self.ctx, profile_schema.OPERATOR_CALL, definitions, dry_run_only=dry_run)

    def create_api_client(self, name: str, secret: str | None = None) -> str:
        return api_clients.create_api_client(self.ctx, local(), name, secret)

    def revoke_api_client(self, name: str) -> None:
        api_clients.revoke_api_client(self.ctx, local(), name)

    def list_api_clients(self) -> list[dict[str, Any]]:
        return api_clients.list_api_clients(self.ctx)

    def create_scim_client(self, name: str, role: str) -> str:
        return scim_clients.create_scim_client(self.ctx, local(), name, role)

    def revoke_scim_client(self, name: str) -> None:
        scim_clients.revoke_scim_client(self.ctx, local(), name)

    def list_scim_clients(self) -> list[dict[str, Any]]:
        return scim_clients.list_scim_clients(self.ctx)

    def grant_role_local(self, username: str, role: str) -> list[str]:
        return roles.grant_local(self.ctx, lifecycle.user_id_of(self.ctx, username), role, grant=True)

    def revoke_role_local(self, username: str, role: str) -> list[str]:
        return roles.grant_local(self.ctx, lifecycle.user_id_of(self.ctx, username), role, grant=False)

    def import_zato(self, source_url: str, *, zato_secret_key: str | None = None, dry_run: bool = False):
        return importer.import_zato(self.ctx, source_url, zato_secret_key=zato_secret_key, dry_run=dry_run)

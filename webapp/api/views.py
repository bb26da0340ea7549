"""The JSON API's endpoints: each parses the request, makes one service call and answers the envelope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, request, stream_with_context

from ..sso.kernel.errors import Code, Kind, SSOError
from ..sso.kernel.presentation import UserData, wire_datetime
from ..sso.service import Service
from ..sso.sessions.login_metadata import METADATA_KEYS
from . import openapi, responses
from .operations import (
    ACCEPT_TERMS,
    ACCESS_RESET,
    APPROVE_USER,
    ATTR_OPERATIONS,
    CANCEL_DELETION,
    CHANGE_PASSWORD,
    COMPLETE_RESET,
    CONFIRM_EMAIL_VERIFICATION,
    CONFIRM_SIGNUP,
    CREATE_ROLE,
    CREATE_USER,
    CURRENT_UST,
    DELETE_ROLE,
    DELETE_USER,
    END_SESSIONS,
    EXPORT_USER,
    GET_ROLES,
    GET_SESSION,
    GET_TERMS,
    GET_USER,
    GET_USER_ROLES,
    GRANT_ROLE,
    LINK,
    LINKS,
    LIST_PASSKEYS,
    LIST_SESSIONS,
    LOCK_USER,
    LOGIN,
    LOGOUT,
    OPENAPI_PATH,
    PASSKEY_LOGIN_OPTIONS,
    PASSKEY_LOGIN_VERIFY,
    PASSKEY_REAUTH_OPTIONS,
    PASSKEY_REGISTER_OPTIONS,
    PASSKEY_REGISTER_VERIFY,
    PREFIX,
    PUBLISH_TERMS,
    REJECT_USER,
    REMOVE_PASSKEY,
    RENEW_SESSION,
    REQUEST_RESET,
    RESTORE_VALUE,
    REVOKE_ROLE,
    SCHEDULE_DELETION,
    SEARCH,
    SEND_ADMIN_EMAIL,
    SEND_EMAIL_VERIFICATION,
    SET_TOTP,
    SIGNUP,
    TARGET_UST,
    UNLINK,
    UNLOCK_USER,
    UPDATE_ROLE,
    UPDATE_USER,
    USER_ID,
    USER_TERMS,
    VERIFY_SESSION,
    Operation,
    methods_by_path,
)
from .responses import envelope, error
from .wire import ApiCall, etag, expected_version, parse_call

bp = Blueprint("api", __name__)
responses.register(bp)


def served(call: ApiCall, *, ust: Any = None) -> Service:
    """The service on behalf of this API call's caller (`ust`: a UST the envelope names another way)."""
    made = call.as_call()
    return current_app.extensions["sso"].serve(made if ust is None else made.with_ust(ust))


def endpoint(op: Operation) -> Callable[[Callable[[ApiCall], Any]], Callable[[ApiCall], Any]]:
    """Route `op` to a function that takes the parsed call (the handler itself is returned unchanged)."""

    def decorate(handler: Callable[[ApiCall], Any]) -> Callable[[ApiCall], Any]:
        def view() -> Any:
            call = parse_call(op, responses.cid())
            linked_ust = _linked_ust(op, call)
            response = handler(call)
            if linked_ust is not None:
                response.headers["X-Zato-SSO-UST"] = linked_ust
            return response

        view.__name__ = op.name
        view.__doc__ = handler.__doc__
        bp.add_url_rule(op.url, op.name, view, methods=[op.method], provide_automatic_options=False)
        return handler

    return decorate


def _linked_ust(op: Operation, call: ApiCall) -> str | None:
    """With no UST but an HTTP Basic credential, act as the user it is linked to (SPEC §13)."""
    auth = request.authorization
    if not op.uses_ust or call.ust is not None or auth is None or auth.type != "basic":
        return None
    call.ust = served(call).basic_session(auth.username, auth.password)
    return call.ust


@endpoint(LINK)
def link(call: ApiCall):
    """POST user/linked: link an API client to `user_id`."""
    served(call).link(call.user_id, call.data)
    return envelope()


@endpoint(LINKS)
def links(call: ApiCall):
    """GET user/linked: the credentials linked to `user_id`."""
    return envelope({"result": served(call).links(call.user_id)})


@endpoint(UNLINK)
def unlink(call: ApiCall):
    """DELETE user/linked: remove a link."""
    served(call).unlink(call.user_id, call.data)
    return envelope()


def user_response(user: UserData):
    """A user at the top level of the envelope, with the ETag of its version."""
    return envelope(user, headers={"ETag": etag(user["user_id"], user.version)})


@endpoint(LOGIN)
def login(call: ApiCall):
    """POST user/login: the UST, its expiration time, and a warning when the password expires soon."""
    claimed = {key: call.data[key] for key in METADATA_KEYS if key in call.data}
    result = served(call).login(
        call.data["username"],
        call.data["password"],
        call.data.get("new_password"),
        call.data.get("totp_code"),
        claimed_metadata=claimed,
        passkey=call.data.get("passkey"),
    )
    payload: dict[str, Any] = {"ust": result.ust, "expiration_time": result.expiration_time}
    if result.sub_status:
        payload["sub_status"] = result.sub_status
    if result.required_actions:
        payload["required_actions"] = result.required_actions
    return envelope(payload, status=result.status)


@endpoint(LOGOUT)
def logout(call: ApiCall):
    """POST user/logout: always ok, so USTs cannot be probed."""
    served(call).logout()
    return envelope()


@endpoint(GET_USER)
def get_user(call: ApiCall):
    """GET user: the caller, or `user_id` (super-users)."""
    return user_response(served(call).get_user_by_id(call.user_id))


def _if_match_target(call: ApiCall) -> Any:
    """The user an If-Match must name: `user_id`, or the caller (asked of the service)."""
    if call.user_id is not None:
        return call.user_id
    try:
        return served(call).get_current_user()["user_id"]
    except SSOError:
        # The update below reports this refusal in SPEC §4 order (and would answer E011001, never write).
        return None


@endpoint(UPDATE_USER)
def update_user(call: ApiCall):
    """PATCH user: a partial update of the caller or `user_id`; answers the updated user."""
    version = None if call.if_match is None else expected_version(call.if_match, _if_match_target(call))
    return user_response(served(call).update_user(call.user_id, call.data, expected_version=version))


@endpoint(RESTORE_VALUE)
def restore_value(call: ApiCall):
    """POST user/restore (extension): put back the old value of one audited change; answers the updated user."""
    data = call.data
    user = served(call).restore_value(
        data["record_id"], data["attribute"], user_id=call.user_id, force=data.get("force", False)
    )
    return user_response(user)


@endpoint(EXPORT_USER)
def export_user(call: ApiCall):
    """GET user/export (extension): the person's data as a JSON file, streamed (checked and audited first)."""
    chunks = served(call).export_user(call.user_id, password=call.data.get("password"), reauth=call.data.get("passkey"))
    response = current_app.response_class(stream_with_context(chunks), mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="my-data.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@endpoint(SCHEDULE_DELETION)
def schedule_deletion(call: ApiCall):
    """POST user/deletion (extension): schedule the deletion of one's own account; answers when it is due."""
    due = served(call).schedule_deletion(call.data["password"])
    return envelope({"deletion_time": wire_datetime(due)})


@endpoint(CANCEL_DELETION)
def cancel_deletion(call: ApiCall):
    """DELETE user/deletion (extension): an administrator's cancel (`user_id`), or the owner's emailed link
    (`token` and `password`, no UST)."""
    if call.ust is None and "token" in call.data:
        served(call).keep_account(call.data["token"], call.data.get("password"))
    else:
        served(call).cancel_deletion(call.user_id)
    return envelope()


@endpoint(CREATE_USER)
def create_user(call: ApiCall):
    """POST user: create a user (super-users); answers the new user with its `user_id`."""
    created = served(call).create_user(call.data)
    assert created is not None, "create_user answers None only when asked to check_only"
    return user_response(created)


@endpoint(CHANGE_PASSWORD)
def change_password(call: ApiCall):
    """PATCH user/password: one's own with the old password, anyone's as a super-user."""
    served(call).change_password(call.data)
    return envelope()


@endpoint(SET_TOTP)
def set_totp(call: ApiCall):
    """PATCH user/totp: set the TOTP key and label; a key generated here (empty or null sent) is answered once."""
    sent = call.data["totp_key"]
    key = served(call).reset_totp_key(call.user_id, sent, call.data["totp_label"])
    return envelope({"totp_key": key} if sent is None or sent == "" else {})


@endpoint(SEARCH)
def search(call: ApiCall):
    """GET user/search: Zato's criteria and result shape."""
    return envelope(served(call).search(call.data))


@endpoint(SIGNUP)
def signup(call: ApiCall):
    """POST user/signup: a new account waiting for confirmation; the calling app delivers `confirm_token`."""
    result = served(call).signup(call.data)
    assert result is not None, "signup answers None only when asked to check_only"
    return envelope({"confirm_token": result.confirm_token})


@endpoint(CONFIRM_SIGNUP)
def confirm_signup(call: ApiCall):
    """PATCH user/signup: confirm a sign-up with its token."""
    served(call).confirm_signup(call.data["confirm_token"])
    return envelope()


@endpoint(REQUEST_RESET)
def request_password_reset(call: ApiCall):
    """POST password/reset: email a reset link; ok whether or not the credential names an account."""
    served(call).request_password_reset(call.data["credential"])
    return envelope()


@endpoint(SEND_ADMIN_EMAIL)
def send_admin_email(call: ApiCall):
    """POST user/email/send (extension): an administrator's email to `user_id`, queued in the outbox."""
    served(call).send_admin_email(call.user_id, call.data["kind"])
    return envelope()


@endpoint(ACCESS_RESET)
def access_password_reset(call: ApiCall):
    """PATCH password/reset: the reset key for an emailed token."""
    reset_key = served(call).access_password_reset(call.data["token"])
    return envelope({"reset_key": reset_key})


@endpoint(COMPLETE_RESET)
def complete_password_reset(call: ApiCall):
    """DELETE password/reset: the new password, with the token and its reset key."""
    served(call).complete_password_reset(call.data["token"], call.data["reset_key"], call.data["password"])
    return envelope()


def _lifecycle_call(name: str, call: ApiCall):
    return getattr(served(call), name)(call.user_id)


@endpoint(APPROVE_USER)
def approve_user(call: ApiCall):
    """POST user/approve: approve `user_id` (super-users)."""
    return user_response(_lifecycle_call("approve_user", call))


@endpoint(REJECT_USER)
def reject_user(call: ApiCall):
    """POST user/reject: reject `user_id` (super-users; never oneself)."""
    return user_response(_lifecycle_call("reject_user", call))


@endpoint(LOCK_USER)
def lock_user(call: ApiCall):
    """POST user/lock: lock `user_id` (super-users; never oneself); their sessions end."""
    return user_response(_lifecycle_call("lock_user", call))


@endpoint(UNLOCK_USER)
def unlock_user(call: ApiCall):
    """DELETE user/lock: unlock `user_id` (super-users)."""
    return user_response(_lifecycle_call("unlock_user", call))


@endpoint(DELETE_USER)
def delete_user(call: ApiCall):
    """DELETE user: delete `user_id` and everything of theirs (super-users; never oneself)."""
    _lifecycle_call("delete_user", call)
    return envelope()


@endpoint(VERIFY_SESSION)
def verify_session(call: ApiCall):
    """POST user/session: `is_valid` of `target_ust`; never renews it."""
    valid = served(call).verify_session(call.data[TARGET_UST])
    return envelope({"is_valid": valid})


@endpoint(GET_SESSION)
def get_session(call: ApiCall):
    """GET user/session: the details of the session behind `target_ust`."""
    return envelope(served(call).get_session(call.data[TARGET_UST]))


@endpoint(RENEW_SESSION)
def renew_session(call: ApiCall):
    """PATCH user/session: the caller's session expires a session lifetime from now."""
    return envelope({"expiration_time": served(call).renew()})


@endpoint(LIST_SESSIONS)
def list_sessions(call: ApiCall):
    """GET user/session/list: `{ust}`, `{ust, user_id}` or Zato's `{current_ust, target_ust}`."""
    ust = call.ust
    current_ust = call.data.get(CURRENT_UST)
    if current_ust is not None:
        if ust is not None and ust != current_ust:
            raise SSOError(
                Kind.invalid,
                [Code.invalid_input],
                {"ust": "send either ust or current_ust", CURRENT_UST: "send either ust or current_ust"},
            )
        ust = current_ust
    result = served(call, ust=ust).list_sessions(call.user_id, target_ust=call.data.get(TARGET_UST))
    return envelope({"result": result})


@endpoint(END_SESSIONS)
def end_sessions(call: ApiCall):
    """DELETE user/session: `{session_id}` ends one session; `{user_id?, all: true}` ends all (own: but this one)."""
    session_id, every = call.data.get("session_id"), call.data.get("all", False)
    if type(every) is not bool:
        raise SSOError.single(Kind.invalid, Code.invalid_input, "all", "must be true or false")
    if session_id is None and not every:
        raise SSOError.single(Kind.malformed, Code.invalid_input, "session_id", "is required (or all: true)")
    if session_id is not None and (every or call.user_id is not None):
        both = "send either session_id, or all: true with an optional user_id"
        raise SSOError(
            Kind.invalid, [Code.invalid_input], {"session_id": both, **({"all": both} if every else {USER_ID: both})}
        )
    if session_id is not None:
        served(call).end_session(session_id)
        return envelope({"ended": 1})
    return envelope({"ended": served(call).end_sessions(call.user_id)})


# --- passkeys (SPEC §18) ---------------------------------------------------------------------------------------


@endpoint(LIST_PASSKEYS)
def list_passkeys(call: ApiCall):
    """GET user/passkey: the passkeys of the caller or (super-users) of user_id."""
    return envelope({"result": [passkey.to_dict() for passkey in served(call).list_passkeys(call.user_id)]})


@endpoint(REMOVE_PASSKEY)
def remove_passkey(call: ApiCall):
    """DELETE user/passkey: remove one passkey."""
    served(call).remove_passkey(
        call.data["passkey_id"],
        user_id=call.user_id,
        password=call.data.get("password"),
        reauth=call.data.get("passkey"),
    )
    return envelope()


@endpoint(PASSKEY_REGISTER_OPTIONS)
def passkey_register_options(call: ApiCall):
    """POST user/passkey/register/options: a challenge and the creation options."""
    ceremony = served(call).passkey_register_options(call.data.get("password"), reauth=call.data.get("passkey"))
    return envelope({"challenge_id": ceremony.challenge_id, "options": ceremony.options})


@endpoint(PASSKEY_REAUTH_OPTIONS)
def passkey_reauth_options(call: ApiCall):
    """POST user/passkey/reauth/options: a challenge for one's own passkeys, to confirm it is you."""
    ceremony = served(call).passkey_reauth_options()
    return envelope({"challenge_id": ceremony.challenge_id, "options": ceremony.options})


@endpoint(PASSKEY_REGISTER_VERIFY)
def passkey_register_verify(call: ApiCall):
    """POST user/passkey/register/verify: the new passkey."""
    data = call.data
    return envelope(
        served(call).passkey_register_verify(data["challenge_id"], data["credential"], data["name"]).to_dict()
    )


@endpoint(PASSKEY_LOGIN_OPTIONS)
def passkey_login_options(call: ApiCall):
    """POST user/passkey/login/options: a challenge and the request options."""
    second_factor = call.data.get("second_factor", False)
    if type(second_factor) is not bool:
        raise SSOError.single(Kind.invalid, Code.invalid_input, "second_factor", "must be true or false")
    ceremony = served(call).passkey_login_options(second_factor=second_factor)
    return envelope({"challenge_id": ceremony.challenge_id, "options": ceremony.options})


@endpoint(PASSKEY_LOGIN_VERIFY)
def passkey_login_verify(call: ApiCall):
    """POST user/passkey/login/verify: the UST of a sign-in with a passkey alone."""
    claimed = {key: call.data[key] for key in METADATA_KEYS if key in call.data}
    result = served(call).login_with_passkey(
        call.data["challenge_id"], call.data["credential"], claimed_metadata=claimed
    )
    payload: dict[str, Any] = {"ust": result.ust, "expiration_time": result.expiration_time}
    if result.required_actions:
        payload.update(sub_status=result.sub_status, required_actions=result.required_actions)
    return envelope(payload, status=result.status)


def _attr_handler(op: Operation) -> None:
    """Route one attribute operation (SPEC §12): the owner from the envelope, the rest to the service."""
    action = op.name.split("_attr_", 1)[1]

    def handle(call: ApiCall):
        if op.name.startswith("user_"):
            result = served(call).user_attr(action, call.user_id, call.data)
        else:
            data = dict(call.data)
            current_ust, target_ust, user_id = (data.pop(key, None) for key in ("current_ust", "target_ust", "user_id"))
            result = served(call, ust=current_ust).session_attr(action, target_ust, data, user_id=user_id)
        return envelope(result)

    handle.__doc__ = op.summary
    endpoint(op)(handle)


for _op in ATTR_OPERATIONS:
    _attr_handler(_op)


# --- roles (SPEC §17) ---


@endpoint(GET_ROLES)
def get_roles(call: ApiCall):
    """GET role: every role in `result`; with `name`, that role (with its holders) at the top level."""
    if "name" in call.data:
        return envelope(served(call).get_role(call.data["name"]))
    return envelope({"result": served(call).list_roles()})


@endpoint(CREATE_ROLE)
def create_role(call: ApiCall):
    """POST role: create a role; answers it."""
    return envelope(served(call).create_role(call.data))


@endpoint(UPDATE_ROLE)
def update_role(call: ApiCall):
    """PATCH role: change a role's description and/or permissions; answers it."""
    data = dict(call.data)
    name = data.pop("name")
    return envelope(served(call).update_role(name, data))


@endpoint(DELETE_ROLE)
def delete_role(call: ApiCall):
    """DELETE role: delete a role nobody holds."""
    served(call).delete_role(call.data["name"])
    return envelope()


@endpoint(GET_USER_ROLES)
def get_user_roles(call: ApiCall):
    """GET user/role: the roles of the caller or `user_id`, in `result`."""
    return envelope({"result": served(call).list_user_roles(call.user_id)})


@endpoint(GRANT_ROLE)
def grant_role(call: ApiCall):
    """POST user/role: give `user_id` the role; their roles in `result`."""
    return envelope({"result": served(call).grant_role(call.user_id, call.data["role"])})


@endpoint(REVOKE_ROLE)
def revoke_role(call: ApiCall):
    """DELETE user/role: take the role from `user_id`; their roles in `result`."""
    return envelope({"result": served(call).revoke_role(call.user_id, call.data["role"])})


@bp.get(PREFIX + OPENAPI_PATH, provide_automatic_options=False)
def openapi_document():
    """The OpenAPI 3.1 document, generated from the operation and attribute tables."""
    # The one answer that is not an envelope: it is a document about the others.
    fields = current_app.extensions["sso"].profile_fields()
    response = current_app.response_class(openapi.dumps(openapi.document_for(fields)), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def fallback(rest: str = ""):
    """Anything else under the prefix: 405 (with Allow) on a known path, else 404, in the envelope."""
    allowed = methods_by_path().get(f"{PREFIX}/{rest}")
    if allowed:
        return error(405, [], {"method": "must be one of " + ", ".join(allowed)}, headers={"Allow": ", ".join(allowed)})
    return error(404, [], {"path": "no such endpoint"})


# --- terms (SPEC §19) ---


def _terms(version) -> dict[str, Any]:
    if version is None:
        return {"version": None}
    return {
        "version": version.version,
        "text": version.text,
        "html": version.html,
        "published_time": version.published_time,
        "requires_acceptance": version.requires_acceptance,
    }


@endpoint(GET_TERMS)
def get_terms(call: ApiCall):
    """GET terms: the current version (also while its acceptance is required)."""
    return envelope(_terms(served(call).current_terms(call.data.get("version"))))


@endpoint(PUBLISH_TERMS)
def publish_terms(call: ApiCall):
    """POST terms: publish a new version; answers it and how many users were asked to accept it."""
    version = served(call).publish_terms(call.data["text"], call.data.get("require_acceptance", False))
    return envelope({**_terms(version), "users_asked": version.users_asked})


@endpoint(ACCEPT_TERMS)
def accept_terms(call: ApiCall):
    """POST terms/accept: accept the current version; `accepted` false when it was accepted already."""
    return envelope({"accepted": served(call).accept_terms(call.data["version"])})


@endpoint(USER_TERMS)
def user_terms(call: ApiCall):
    """GET user/terms: the versions the caller or `user_id` accepted."""
    found = served(call).terms_acceptances(call.user_id)
    return envelope({"result": [{"version": a.version, "time": a.time, "remote_addr": a.remote_addr} for a in found]})


@endpoint(SEND_EMAIL_VERIFICATION)
def send_email_verification(call: ApiCall):
    """POST user/email/verify: a link to the caller's address that confirms it."""
    return envelope({"email": served(call).send_email_verification()})


@endpoint(CONFIRM_EMAIL_VERIFICATION)
def confirm_email_verification(call: ApiCall):
    """PATCH user/email/verify: confirm the address with the link's token."""
    served(call).confirm_email_verification(call.data["token"])
    return envelope()

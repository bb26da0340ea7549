"""The JSON API's endpoints: each parses the request, makes one service call and answers the envelope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict

from flask import Blueprint, current_app, request

from ..sso.facade import Users
from ..sso.kernel.errors import Code, Kind, SSOError
from ..sso.kernel.presentation import UserData
from ..sso.sessions.login_metadata import METADATA_KEYS
from . import openapi, responses
from .operations import (
    ACCESS_RESET,
    APPROVE_USER,
    ATTR_OPERATIONS,
    CHANGE_PASSWORD,
    COMPLETE_RESET,
    CONFIRM_SIGNUP,
    CREATE_USER,
    CURRENT_UST,
    DELETE_USER,
    END_SESSIONS,
    GET_SESSION,
    GET_USER,
    LINK,
    LINKS,
    LIST_SESSIONS,
    LOCK_USER,
    LOGIN,
    LOGOUT,
    OPENAPI_PATH,
    PREFIX,
    REJECT_USER,
    RENEW_SESSION,
    REQUEST_RESET,
    SEARCH,
    SET_TOTP,
    SIGNUP,
    TARGET_UST,
    UNLINK,
    UNLOCK_USER,
    UPDATE_USER,
    USER_ID,
    VERIFY_SESSION,
    Operation,
    methods_by_path,
)
from .responses import envelope, error
from .wire import Call, etag, expected_version, parse_call

CHANNEL = "api"


class CallOptions(TypedDict):
    """The keyword arguments (after `*`) that a service call from this API passes as `**options`."""

    channel: str
    user_agent: str | None


class UpdateOptions(CallOptions):
    """An update's options: the version the caller read (from If-Match), besides the usual ones."""

    expected_version: int | None


bp = Blueprint("api", __name__)
responses.register(bp)


def users() -> Users:
    return current_app.extensions["sso"].user


def endpoint(op: Operation) -> Callable[[Callable[[Call], Any]], Callable[[Call], Any]]:
    """Route `op` to a function that takes the parsed call (the handler itself is returned unchanged)."""

    def decorate(handler: Callable[[Call], Any]) -> Callable[[Call], Any]:
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


def _linked_ust(op: Operation, call: Call) -> str | None:
    """With no UST but an HTTP Basic credential, act as the user it is linked to (SPEC §13)."""
    auth = request.authorization
    if not op.uses_ust or call.ust is not None or auth is None or auth.type != "basic":
        return None
    call.ust = users().basic_session(
        call.cid, auth.username, auth.password, call.current_app, call.remote_addr, user_agent=call.user_agent
    )
    return call.ust


@endpoint(LINK)
def link(call: Call):
    """POST user/linked: link an API client to `user_id`."""
    users().link(
        call.cid,
        call.user_id,
        call.data,
        call.ust,
        call.current_app,
        call.remote_addr,
        channel=CHANNEL,
        user_agent=call.user_agent,
    )
    return envelope()


@endpoint(LINKS)
def links(call: Call):
    """GET user/linked: the credentials linked to `user_id`."""
    return envelope({"result": users().links(call.cid, call.user_id, call.ust, call.current_app, call.remote_addr)})


@endpoint(UNLINK)
def unlink(call: Call):
    """DELETE user/linked: remove a link."""
    users().unlink(
        call.cid,
        call.user_id,
        call.data,
        call.ust,
        call.current_app,
        call.remote_addr,
        channel=CHANNEL,
        user_agent=call.user_agent,
    )
    return envelope()


def user_response(user: UserData):
    """A user at the top level of the envelope, with the ETag of its version."""
    return envelope(user, headers={"ETag": etag(user["user_id"], user.version)})


@endpoint(LOGIN)
def login(call: Call):
    """POST user/login: the UST, its expiration time, and a warning when the password expires soon."""
    claimed = {key: call.data[key] for key in METADATA_KEYS if key in call.data}
    result = users().login(
        call.cid,
        call.data["username"],
        call.data["password"],
        call.current_app,
        call.remote_addr,
        call.user_agent,
        call.data.get("new_password"),
        call.data.get("totp_code"),
        channel=CHANNEL,
        claimed_metadata=claimed,
    )
    payload: dict[str, Any] = {"ust": result.ust, "expiration_time": result.expiration_time}
    if result.sub_status:
        payload["sub_status"] = result.sub_status
    return envelope(payload, status=result.status)


@endpoint(LOGOUT)
def logout(call: Call):
    """POST user/logout: always ok, so USTs cannot be probed."""
    users().logout(call.cid, call.ust, call.current_app, call.remote_addr)
    return envelope()


@endpoint(GET_USER)
def get_user(call: Call):
    """GET user: the caller, or `user_id` (super-users)."""
    return user_response(users().get_user_by_id(call.cid, call.user_id, call.ust, call.current_app, call.remote_addr))


def _if_match_target(call: Call) -> Any:
    """The user an If-Match must name: `user_id`, or the caller (asked of the service)."""
    if call.user_id is not None:
        return call.user_id
    try:
        return users().get_current_user(call.cid, call.ust, call.current_app, call.remote_addr)["user_id"]
    except SSOError:
        # The update below reports this refusal in SPEC §4 order (and would answer E011001, never write).
        return None


@endpoint(UPDATE_USER)
def update_user(call: Call):
    """PATCH user: a partial update of the caller or `user_id`; answers the updated user."""
    version = None if call.if_match is None else expected_version(call.if_match, _if_match_target(call))
    options: UpdateOptions = {"expected_version": version, "channel": CHANNEL, "user_agent": call.user_agent}
    if call.user_id is None:
        user = users().update_current_user(call.cid, call.data, call.ust, call.current_app, call.remote_addr, **options)
    else:
        user = users().update_user_by_id(
            call.cid, call.user_id, call.data, call.ust, call.current_app, call.remote_addr, **options
        )
    return user_response(user)


@endpoint(CREATE_USER)
def create_user(call: Call):
    """POST user: create a user (super-users); answers the new user with its `user_id`."""
    created = users().create_user(
        call.cid, call.data, call.ust, call.current_app, call.remote_addr, channel=CHANNEL, user_agent=call.user_agent
    )
    assert created is not None, "create_user answers None only when asked to check_only"
    return user_response(created)


@endpoint(CHANGE_PASSWORD)
def change_password(call: Call):
    """PATCH user/password: one's own with the old password, anyone's as a super-user."""
    users().change_password(
        call.cid, call.data, call.ust, call.current_app, call.remote_addr, channel=CHANNEL, user_agent=call.user_agent
    )
    return envelope()


@endpoint(SET_TOTP)
def set_totp(call: Call):
    """PATCH user/totp: set the TOTP key and label; a key generated here (empty or null sent) is answered once."""
    sent = call.data["totp_key"]
    key = users().reset_totp_key(
        call.cid,
        call.user_id,
        sent,
        call.data["totp_label"],
        call.ust,
        call.current_app,
        call.remote_addr,
        channel=CHANNEL,
        user_agent=call.user_agent,
    )
    return envelope({"totp_key": key} if sent is None or sent == "" else {})


@endpoint(SEARCH)
def search(call: Call):
    """GET user/search: Zato's criteria and result shape."""
    return envelope(users().search(call.cid, call.data, call.ust, call.current_app, call.remote_addr))


@endpoint(SIGNUP)
def signup(call: Call):
    """POST user/signup: a new account waiting for confirmation; the calling app delivers `confirm_token`."""
    result = users().signup(
        call.cid, call.data, call.current_app, call.remote_addr, channel=CHANNEL, user_agent=call.user_agent
    )
    return envelope({"confirm_token": result.confirm_token})


@endpoint(CONFIRM_SIGNUP)
def confirm_signup(call: Call):
    """PATCH user/signup: confirm a sign-up with its token."""
    users().confirm_signup(
        call.cid,
        call.data["confirm_token"],
        call.current_app,
        call.remote_addr,
        channel=CHANNEL,
        user_agent=call.user_agent,
    )
    return envelope()


@endpoint(REQUEST_RESET)
def request_password_reset(call: Call):
    """POST password/reset: email a reset link; ok whether or not the credential names an account."""
    users().request_password_reset(
        call.cid,
        call.data["credential"],
        call.current_app,
        call.remote_addr,
        channel=CHANNEL,
        user_agent=call.user_agent,
    )
    return envelope()


@endpoint(ACCESS_RESET)
def access_password_reset(call: Call):
    """PATCH password/reset: the reset key for an emailed token."""
    reset_key = users().access_password_reset(
        call.cid, call.data["token"], call.current_app, call.remote_addr, channel=CHANNEL, user_agent=call.user_agent
    )
    return envelope({"reset_key": reset_key})


@endpoint(COMPLETE_RESET)
def complete_password_reset(call: Call):
    """DELETE password/reset: the new password, with the token and its reset key."""
    users().complete_password_reset(
        call.cid,
        call.data["token"],
        call.data["reset_key"],
        call.data["password"],
        call.current_app,
        call.remote_addr,
        channel=CHANNEL,
        user_agent=call.user_agent,
    )
    return envelope()


def _lifecycle_call(name: str, call: Call):
    return getattr(users(), name)(
        call.cid,
        call.user_id,
        call.ust,
        call.current_app,
        call.remote_addr,
        channel=CHANNEL,
        user_agent=call.user_agent,
    )


@endpoint(APPROVE_USER)
def approve_user(call: Call):
    """POST user/approve: approve `user_id` (super-users)."""
    return user_response(_lifecycle_call("approve_user", call))


@endpoint(REJECT_USER)
def reject_user(call: Call):
    """POST user/reject: reject `user_id` (super-users; never oneself)."""
    return user_response(_lifecycle_call("reject_user", call))


@endpoint(LOCK_USER)
def lock_user(call: Call):
    """POST user/lock: lock `user_id` (super-users; never oneself); their sessions end."""
    return user_response(_lifecycle_call("lock_user", call))


@endpoint(UNLOCK_USER)
def unlock_user(call: Call):
    """DELETE user/lock: unlock `user_id` (super-users)."""
    return user_response(_lifecycle_call("unlock_user", call))


@endpoint(DELETE_USER)
def delete_user(call: Call):
    """DELETE user: delete `user_id` and everything of theirs (super-users; never oneself)."""
    _lifecycle_call("delete_user", call)
    return envelope()


@endpoint(VERIFY_SESSION)
def verify_session(call: Call):
    """POST user/session: `is_valid` of `target_ust`; never renews it."""
    valid = users().verify_session(call.cid, call.data[TARGET_UST], call.ust, call.current_app, call.remote_addr)
    return envelope({"is_valid": valid})


@endpoint(GET_SESSION)
def get_session(call: Call):
    """GET user/session: the details of the session behind `target_ust`."""
    return envelope(users().get_session(call.cid, call.data[TARGET_UST], call.ust, call.current_app, call.remote_addr))


@endpoint(RENEW_SESSION)
def renew_session(call: Call):
    """PATCH user/session: the caller's session expires a session lifetime from now."""
    return envelope({"expiration_time": users().renew(call.cid, call.ust, call.current_app, call.remote_addr)})


@endpoint(LIST_SESSIONS)
def list_sessions(call: Call):
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
    result = users().list_sessions(
        call.cid, call.user_id, ust, call.current_app, call.remote_addr, target_ust=call.data.get(TARGET_UST)
    )
    return envelope({"result": result})


@endpoint(END_SESSIONS)
def end_sessions(call: Call):
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
    options: CallOptions = {"channel": CHANNEL, "user_agent": call.user_agent}
    if session_id is not None:
        users().end_session(call.cid, session_id, call.ust, call.current_app, call.remote_addr, **options)
        return envelope({"ended": 1})
    return envelope(
        {"ended": users().end_sessions(call.cid, call.user_id, call.ust, call.current_app, call.remote_addr, **options)}
    )


def _attr_handler(op: Operation) -> None:
    """Route one attribute operation (SPEC §12): the owner from the envelope, the rest to the service."""
    action = op.name.split("_attr_", 1)[1]

    def handle(call: Call):
        options: CallOptions = {"channel": CHANNEL, "user_agent": call.user_agent}
        if op.name.startswith("user_"):
            result = users().user_attr(
                call.cid, action, call.user_id, call.data, call.ust, call.current_app, call.remote_addr, **options
            )
        else:
            data = dict(call.data)
            current_ust, target_ust, user_id = (data.pop(key, None) for key in ("current_ust", "target_ust", "user_id"))
            result = users().session_attr(
                call.cid,
                action,
                target_ust,
                data,
                current_ust,
                call.current_app,
                call.remote_addr,
                user_id=user_id,
                **options,
            )
        return envelope(result)

    handle.__doc__ = op.summary
    endpoint(op)(handle)


for _op in ATTR_OPERATIONS:
    _attr_handler(_op)


@bp.get(PREFIX + OPENAPI_PATH, provide_automatic_options=False)
def openapi_document():
    """The OpenAPI 3.1 document, generated from the operation and attribute tables."""
    # The one answer that is not an envelope: it is a document about the others.
    response = current_app.response_class(openapi.dumps(openapi.document()), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def fallback(rest: str = ""):
    """Anything else under the prefix: 405 (with Allow) on a known path, else 404, in the envelope."""
    allowed = methods_by_path().get(f"{PREFIX}/{rest}")
    if allowed:
        return error(405, [], {"method": "must be one of " + ", ".join(allowed)}, headers={"Allow": ", ".join(allowed)})
    return error(404, [], {"path": "no such endpoint"})

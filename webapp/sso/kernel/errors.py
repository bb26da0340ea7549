"""Status codes (Zato's, plus our E011001) and the one exception family the services raise."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .texts import _nt, _t


class Code:
    """Zato SSO status codes used by this product."""

    username_invalid = "E001001"
    username_exists = "E001002"
    username_too_long = "E001003"
    username_has_whitespace = "E001004"
    user_id_unknown = "E001100"
    email_invalid = "E002001"
    email_exists = "E002002"
    email_too_long = "E002003"
    email_has_whitespace = "E002004"
    email_missing = "E002005"
    password_rejected_word = "E003001"
    password_too_short = "E003002"
    password_too_long = "E003003"
    password_expired = "E003004"
    password_expiring = "W003005"
    password_must_change = "E003007"
    password_not_complex = "E003008"
    app_not_allowed = "E004001"
    no_signup = "E004002"
    auth_invalid = "E005001"
    user_locked = "E005002"
    metadata_not_allowed = "E006001"
    sign_up_not_final = "E005003"
    no_such_signup_token = "E005006"
    signup_confirmed = "E005007"
    totp_missing = "E005008"
    session_invalid = "E007001"
    invalid_operation = "E008001"
    invalid_input = "E008002"
    no_data = "E008003"
    internal_error = "E008004"
    password_reset_refused = "E010001"
    attr_exists = "E009001"
    attr_missing = "E009002"
    version_conflict = "E011001"
    actions_pending = "W012001"  # ours: the login succeeded, but required actions wait (SPEC §19)
    actions_required = "E012001"  # ours: a call refused until the required actions are done (SPEC §19)


class Kind:
    """What sort of failure an error is; each face maps a kind to its own status (HTTP, form)."""

    malformed = "malformed"  # 400: not an object, a value of the wrong shape
    missing = "missing"  # 400: a required input is absent (Zato's "Bad request")
    invalid = "invalid"  # 422: the data itself is wrong
    unauthenticated = "unauthenticated"  # 401: no usable session
    forbidden = "forbidden"  # 403: the caller may not do this
    not_found = "not_found"  # 404
    conflict = "conflict"  # 409: unique value taken
    precondition = "precondition"  # 412: expected version has moved on
    throttled = "throttled"  # 429: too many failed attempts; retry_after says when to try again
    rate_limited = "rate_limited"  # 429: the user's rate limit is used up (Zato's E005001)
    unavailable = "unavailable"  # 503: a service we depend on failed or did not answer in time
    # (the SMTP server; the database: DatabaseUnavailable); try later


class SSOError(Exception):
    """A refused SSO call: its Zato codes (`sub_status`) and a message per offending field."""

    def __init__(
        self,
        kind: str,
        sub_status: Iterable[str],
        errors: Mapping[str, str] | None = None,
        retry_after: int | None = None,
        extra: Mapping[str, object] | None = None,
    ):
        self.kind = kind
        self.extra = dict(extra or {})  # keys the JSON answer carries beside `errors` (E012001's `required_actions`)
        self.retry_after = retry_after  # seconds, for `throttled` and `unavailable` (Retry-After)
        self.sub_status = list(dict.fromkeys(sub_status))
        self.errors = dict(errors or {})
        super().__init__(f"{kind}: {', '.join(self.sub_status)} {self.errors or ''}".strip())

    @classmethod
    def single(cls, kind: str, code: str, field: str | None = None, message: str | None = None) -> SSOError:
        """An error with one code and, if given, one field message."""
        return cls(kind, [code], {field: message or ""} if field else None)


class RateLimited(SSOError):
    """E005001 with HTTP 429: the caller's rate limit is used up for `retry_after` more seconds."""

    def __init__(self, retry_after: int):
        super().__init__(
            Kind.rate_limited, [Code.auth_invalid], {"rate_limit": _t("too many requests; try again later")}
        )
        self.retry_after = max(1, int(retry_after))


class FieldErrors:
    """Collects every problem of one check step, so they are all reported at once."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.errors: dict[str, str] = {}

    def add(self, field: str, message: str, code: str = Code.invalid_input) -> None:
        """Record one field's problem (the first message per field wins)."""
        self.codes.append(code)
        self.errors.setdefault(field, message)

    def raise_if_any(self, kind: str) -> None:
        """Raise an SSOError of `kind` carrying everything collected, if anything was."""
        if self.errors:
            raise SSOError(kind, self.codes, self.errors)


def no_such_user() -> SSOError:
    """E001100: the `user_id` names nobody."""
    return SSOError.single(Kind.not_found, Code.user_id_unknown, "user_id", _t("no such user"))


def own_access(field: str, message: str) -> SSOError:
    """E008001: the call would take away the caller's own access, or leave no super-user who can log in."""
    return SSOError.single(Kind.forbidden, Code.invalid_operation, field, message)


def no_such_session(field: str) -> SSOError:
    """E007001 as a 404: the session named by `field` is not a live session the caller may see."""
    return SSOError.single(Kind.not_found, Code.session_invalid, field, _t("no such session"))


def username_taken() -> SSOError:
    """E001002: another user has this username (case-insensitively)."""
    return SSOError.single(Kind.conflict, Code.username_exists, "username", _t("is already taken"))


def version_conflict() -> SSOError:
    """E011001: the caller's expected version has moved on."""
    return SSOError.single(
        Kind.precondition, Code.version_conflict, "version", _t("this user was changed by someone else in the meantime")
    )


def paused_message(seconds: int) -> str:
    """ "sign-in paused, try again in N minutes" (seconds under a minute)."""
    if seconds < 60:
        return _nt(
            "sign-in paused, try again in %(num)d second", "sign-in paused, try again in %(num)d seconds", seconds
        )
    minutes = -(-seconds // 60)
    return _nt("sign-in paused, try again in %(num)d minute", "sign-in paused, try again in %(num)d minutes", minutes)


def sign_in_paused(seconds: float, field: str = "password") -> SSOError:
    """E005001 with HTTP 429: too many failed attempts for this name or address; says when to retry.
    The same for a name that exists and one that does not."""
    wait = max(1, int(-(-seconds // 1)))
    return SSOError(Kind.throttled, [Code.auth_invalid], {field: paused_message(wait)}, retry_after=wait)

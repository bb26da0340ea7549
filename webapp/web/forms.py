"""The WTForms forms (login, passwords, a new user's access): they coerce and carry the CSRF token.

Every rule lives in webapp/sso. HTML limits (`maxlength`, `minlength`, `required`) and the help that
states them come from the service's constants, so the page and the server cannot disagree. The
attribute form is not here: see `attribute_form/`.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, PasswordField, StringField
from wtforms.validators import EqualTo, Optional
from wtforms.widgets import PasswordInput

from ..i18n import lazy_gettext
from ..sso.kernel.attributes import ATTRIBUTES, EMAIL_MAX, PASSWORD_MAX, PASSWORD_MIN, USERNAME_MAX

_PASSWORD_KW = {"maxlength": PASSWORD_MAX, "minlength": PASSWORD_MIN, "autocomplete": "new-password"}
PASSWORD_HELP = lazy_gettext("At least %(num)d characters; avoid common words.", num=PASSWORD_MIN)
MISMATCH = lazy_gettext("does not match the new password")


def _confirmation(field_id: str) -> PasswordField:
    """The "new password again" box: it must equal `new_password` (checked by `form.validate()`)."""
    return PasswordField(
        lazy_gettext("New password again"),
        id=field_id,
        validators=[EqualTo("new_password", MISMATCH)],
        render_kw={**_PASSWORD_KW, "required": True},
    )


def _new_password(field_id: str, description: str = "") -> PasswordField:
    return PasswordField(
        lazy_gettext("New password"), id=field_id, description=description, render_kw={**_PASSWORD_KW, "required": True}
    )


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField(
        lazy_gettext("Username"),
        id="login-username",
        render_kw={
            "maxlength": USERNAME_MAX,
            "required": True,
            "autocomplete": "username",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )
    password = PasswordField(
        lazy_gettext("Password"),
        id="login-password",
        render_kw={"maxlength": PASSWORD_MAX, "required": True, "autocomplete": "current-password"},
    )
    next = HiddenField(id="login-next")


class NewPasswordAtLoginForm(FlaskForm):
    """The forced password change at login: the sealed first step plus the new password."""

    pending = HiddenField(id="new-password-pending")
    next = HiddenField(id="new-password-next")
    new_password = _new_password("new-password", PASSWORD_HELP)
    confirm_password = _confirmation("new-password-confirm")


class ChangePasswordForm(FlaskForm):
    """Changing one's own password."""

    old_password = PasswordField(
        lazy_gettext("Current password"),
        id="old-password",
        render_kw={"maxlength": PASSWORD_MAX, "required": True, "autocomplete": "current-password"},
    )
    new_password = _new_password("new-password", PASSWORD_HELP)
    confirm_password = _confirmation("confirm-password")


class SetPasswordForm(FlaskForm):
    """A super-user setting another user's password."""

    new_password = _new_password("set-password")
    confirm_password = _confirmation("set-password-confirm")
    expiry_days = IntegerField(
        lazy_gettext("Expires after (days)"),
        id="set-password-expiry-days",
        validators=[Optional()],
        render_kw={"min": 1, "inputmode": "numeric"},
    )
    must_change = BooleanField(lazy_gettext("Must choose a new password at next login"), id="set-password-must-change")


class CreateUserForm(FlaskForm):
    """The inputs of a new user that are not attribute fields (those come from `_field.html`)."""

    # A refused create shows the boxes again as they were typed (the page is never cached: no-store).
    password = PasswordField(
        lazy_gettext("Password"), id="f-password", widget=PasswordInput(hide_value=False), render_kw=_PASSWORD_KW
    )
    password_confirm = PasswordField(
        lazy_gettext("Password again"),
        id="f-password_confirm",
        widget=PasswordInput(hide_value=False),
        validators=[EqualTo("password", lazy_gettext("does not match the password"))],
        render_kw=_PASSWORD_KW,
    )
    password_must_change = BooleanField(
        lazy_gettext("Must choose a new password at first login"), id="f-password_must_change"
    )
    is_locked = BooleanField(lazy_gettext("Locked"), id="f-is_locked")
    auto_approve = BooleanField(lazy_gettext("Approved (can log in at once)"), id="f-auto_approve", default=True)


class SignupForm(FlaskForm):
    """What a person gives to open an account (SPEC §11); every rule is the service's."""

    username = StringField(
        lazy_gettext("Username"),
        id="signup-username",
        description=lazy_gettext("No spaces. You log in with it."),
        render_kw={
            "maxlength": USERNAME_MAX,
            "required": True,
            "autocomplete": "username",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )
    email = EmailField(
        lazy_gettext("Email"),
        id="signup-email",
        description=lazy_gettext("We send a link there to confirm the account."),
        render_kw={"maxlength": EMAIL_MAX, "required": True, "autocomplete": "email"},
    )
    display_name = StringField(
        lazy_gettext("Display name (optional)"),
        id="signup-display-name",
        render_kw={"maxlength": ATTRIBUTES["display_name"].max_length, "autocomplete": "name"},
    )
    password = PasswordField(
        lazy_gettext("Password"),
        id="signup-password",
        description=PASSWORD_HELP,
        render_kw={**_PASSWORD_KW, "required": True},
    )
    confirm_password = PasswordField(
        lazy_gettext("Password again"),
        id="signup-password-confirm",
        validators=[EqualTo("password", lazy_gettext("does not match the password"))],
        render_kw={**_PASSWORD_KW, "required": True},
    )


class ForgotPasswordForm(FlaskForm):
    """The credential a reset link is asked for with (its label follows SSO_PASSWORD_RESET_BY)."""

    credential = StringField(
        lazy_gettext("Username"),
        id="forgot-credential",
        render_kw={
            "maxlength": EMAIL_MAX,
            "required": True,
            "autocomplete": "username",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


class ResetPasswordForm(FlaskForm):
    """The new password chosen from an emailed link."""

    new_password = _new_password("reset-password", PASSWORD_HELP)
    confirm_password = _confirmation("reset-password-confirm")


def confirmation_errors(form: FlaskForm) -> dict[str, str]:
    """{"confirm_password": why} when the two new-password boxes differ (the `EqualTo` check), else {}."""
    if form.confirm_password.validate(form):
        return {}
    return {"confirm_password": form.confirm_password.errors[0]}


# --- two-factor sign-in ------------------------------------------------------------------------------------

_CODE_KW = {
    "autocomplete": "one-time-code",
    "autocapitalize": "none",
    "spellcheck": "false",
    "maxlength": 32,
    "required": True,
}
_CURRENT_PASSWORD_KW = {"maxlength": PASSWORD_MAX, "required": True, "autocomplete": "current-password"}


class CodeAtLoginForm(FlaskForm):
    """The second step of a login with two-factor sign-in: the sealed first step and the code."""

    pending = HiddenField(id="code-pending")
    next = HiddenField(id="code-next")
    code = StringField(lazy_gettext("Code"), id="login-code", render_kw=_CODE_KW)


class EnableTotpForm(FlaskForm):
    """Turning two-factor sign-in on: the sealed new key, a code of it, the current password and a label."""

    sealed_key = HiddenField(id="totp-sealed-key")
    totp_code = StringField(
        lazy_gettext("Code from the app"),
        id="totp-code",
        render_kw={**_CODE_KW, "inputmode": "numeric", "maxlength": 8},
    )
    password = PasswordField(lazy_gettext("Current password"), id="totp-password", render_kw=_CURRENT_PASSWORD_KW)
    totp_label = StringField(
        lazy_gettext("Name of this key (optional)"),
        id="totp-label",
        render_kw={"maxlength": ATTRIBUTES["totp_label"].max_length, "autocomplete": "off"},
    )


class CurrentPasswordForm(FlaskForm):
    """An action on one's own two-factor sign-in that the current password confirms (use a prefix)."""

    password = PasswordField(lazy_gettext("Current password"), render_kw=_CURRENT_PASSWORD_KW)

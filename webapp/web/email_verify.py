"""The page a verify-email link opens (issue 27: an administrator sent it): GET only reads (mail scanners fetch
links), the button confirms that the person reads this mailbox; no sign-in needed (the link is the proof)."""

from __future__ import annotations

from flask import request, url_for

from ..sso import SSOError
from .auth import service
from .blueprint import bp
from .responses import ViewResponse, page
from .signup import no_referrer


def _invalid() -> ViewResponse:
    return no_referrer(page("auth/link_invalid.html", 404, what="verify-email", again=None))


@bp.route("/account/email/verify/<token>", methods=["GET", "POST"])
def email_verify(token: str) -> ViewResponse:
    """Show whose address the link confirms (GET) and confirm it (POST)."""
    try:
        username, email = service().check_verify_link(token)
    except SSOError:
        return _invalid()
    if request.method == "GET":
        return no_referrer(page("account/email_verify.html", 200, username=username, email=email, done=False))
    try:
        username, email = service().verify_email(token)
    except SSOError:
        return _invalid()
    return no_referrer(
        page("account/email_verify.html", 200, username=username, email=email, done=True, login=url_for("web.login"))
    )

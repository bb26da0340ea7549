"""The SSO service layer: `app.extensions["sso"]`, whose `.user` mirrors Zato's `self.sso.user`."""
from __future__ import annotations

from .context import Context
from .errors import Code, Kind, SSOError
from .users import Users


class SSO:
    """The facade one app holds: `sso.user.update_current_user(...)` and friends."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.user = Users(ctx)


__all__ = ["SSO", "Code", "Context", "Kind", "SSOError"]

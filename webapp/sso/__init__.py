"""The SSO service layer: `app.extensions["sso"]`, whose `.user` mirrors Zato's `self.sso.user`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from .accounts import export, profile_schema
from .facade import Users
from .kernel import prune
from .kernel.call import Call
from .kernel.context import Context
from .kernel.errors import Code, Kind, SSOError
from .kernel.profile_fields import ProfileField
from .service import Operator, Service


class SSO:
    """The facade one app holds: `sso.user.update_current_user(...)` and friends."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.user = Users(ctx)
        self.operator = Operator(ctx)

    def serve(self, call: Call) -> Service:
        """Every operation on behalf of `call`'s caller: what a face uses for one request."""
        return Service(self.ctx, call)

    def export_audit(self, *, since: datetime | None = None, fmt: str = "jsonl") -> Iterator[str]:
        """The whole audit trail as text chunks, for the operator (`flask sso export-audit`)."""
        return export.export_all(self.ctx, since=since, fmt=fmt)

    def profile_fields(self) -> tuple[ProfileField, ...]:
        """The active profile fields' definitions (what the OpenAPI document describes; no caller needed)."""
        return profile_schema.active_fields(self.ctx)

    def retired_profile_fields(self) -> tuple[ProfileField, ...]:
        """The retired profile fields' definitions (no caller needed: what a stale form may carry)."""
        return profile_schema.retired_fields(self.ctx)

    def prune(self) -> dict[str, int]:
        """Delete expired rows by the retention rules (`flask sso prune`); counts per rule."""
        return prune.prune(self.ctx)


__all__ = ["SSO", "Call", "Code", "Context", "Kind", "Operator", "SSOError", "Service"]

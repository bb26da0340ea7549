"""Login metadata (SPEC §14): a trusted backend may pass its end user's address and user agent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..kernel.context import Context
from ..kernel.errors import Code, FieldErrors, Kind, SSOError
from ..kernel.texts import _t

METADATA_KEYS = ("remote_addr", "user_agent")


def resolve(
    ctx: Context, current_app: Any, remote_addr: Any, user_agent: Any, claimed: Mapping[str, Any] | None
) -> tuple[Any, Any, Any]:
    """(address, user agent) for the session, and the address the audit keeps.

    Without claimed metadata these are the connecting client's. With it (only from an app in
    SSO_LOGIN_METADATA_APPS, else E006001) the session gets the claimed values and the audit
    keeps both addresses: `claimed (via connecting)`."""
    claimed = {key: value for key, value in (claimed or {}).items() if key in METADATA_KEYS}
    if not claimed:
        return remote_addr, user_agent, remote_addr
    if current_app not in ctx.settings.get("SSO_LOGIN_METADATA_APPS", ()):
        raise SSOError(
            Kind.forbidden,
            [Code.metadata_not_allowed],
            dict.fromkeys(claimed, "may be sent only by an application trusted with login metadata"),
        )
    errors = FieldErrors()
    for key, value in claimed.items():
        if not isinstance(value, str) or not value:
            errors.add(key, _t("must be a non-empty string"))
    errors.raise_if_any(Kind.invalid)
    address = claimed.get("remote_addr", remote_addr)
    audit_addr = address if address == remote_addr else f"{address} (via {remote_addr})"
    return address, claimed.get("user_agent", user_agent), audit_addr

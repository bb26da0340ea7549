"""What every call carries: who is asking, from where, through which face (`Call`).

Each face builds one per request (the JSON API from the envelope, the console from its cookie and the
browser, the command line as the operator, the Python facade from its positional arguments) and the use
cases take `(ctx, call, ...)`: the audit record's cid, channel, application, address and user agent come
from here, never from arguments threaded by hand."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Call:
    """The caller's side of one service call."""

    cid: Any
    ust: Any = None  # the caller's session token; None where there is none yet (login, emailed links)
    current_app: Any = None
    remote_addr: Any = None
    channel: str = "python"
    user_agent: Any = None
    bearer: Any = None  # a SCIM client's bearer token (SPEC §21), verified by `caller.authenticate` like a UST
    # SPEC §19: the required actions this call works on (the console's page of one action): while one of
    # them is pending, the call passes the gate that refuses everything else with E012001.
    completes: frozenset[str] = frozenset()

    def with_ust(self, ust: Any) -> Call:
        """The same call made with another session (a login's new UST, an API client's session)."""
        return replace(self, ust=ust)

    def audit(self) -> dict[str, Any]:
        """The audit record's fields that describe the call (`audit.record(conn, **call.audit(), ...)`)."""
        return {
            "cid": self.cid,
            "channel": self.channel,
            "current_app": self.current_app,
            "remote_addr": self.remote_addr,
            "user_agent": self.user_agent,
        }


def local(cid: str = "cli") -> Call:
    """The command line's call: the operator, no session, no address."""
    return Call(cid=cid, channel="cli")

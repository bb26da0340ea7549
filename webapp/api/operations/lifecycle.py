"""An account's lifecycle (SPEC §8): approve, reject, lock, unlock, delete; each names its target."""

from __future__ import annotations

from ...sso.kernel.errors import Code
from .table import STEP_3, WIRE_ERRORS, Operation, codes

_TARGET_NEEDED = {404: (Code.user_id_unknown,), 422: (Code.invalid_input,)}


def _lifecycle(name: str, method: str, path: str, summary: str, result: str) -> Operation:
    # E008001: removing one's own access, or (SPEC §17) acting on a stronger administrator
    own_access = {403: (Code.invalid_operation,)}
    return Operation(
        name,
        method,
        path,
        summary,
        inputs=(),
        targets_user=True,
        target_required=True,
        api_checks_keys=True,
        result=result,
        errors=codes(WIRE_ERRORS, STEP_3, own_access, _TARGET_NEEDED),
    )


APPROVE_USER = _lifecycle(
    "approve_user", "POST", "/user/approve", "Approve a user (users.approve); answers the user", "user"
)
REJECT_USER = _lifecycle(
    "reject_user", "POST", "/user/reject", "Reject a user (users.approve; never oneself); answers the user", "user"
)
LOCK_USER = _lifecycle(
    "lock_user",
    "POST",
    "/user/lock",
    "Lock a user (users.lock; never oneself): their sessions end; answers the user",
    "user",
)
UNLOCK_USER = _lifecycle(
    "unlock_user",
    "DELETE",
    "/user/lock",
    "Unlock a user (users.lock); sessions the lock ended stay ended; answers the user",
    "user",
)
DELETE_USER = _lifecycle(
    "delete_user",
    "DELETE",
    "/user",
    "Delete a user and their sessions (users.delete; never oneself); the audit keeps the record",
    "ok",
)

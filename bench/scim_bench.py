"""The SCIM PATCH target of `make bench` (issue 28: a SCIM PATCH of two attributes at >= 0.8 of the JSON
update's throughput, in the same run). Kept apart from run.py, which calls these functions:

  scim        PATCH /scim/v2/Users/<id>        a SCIM client (role: every users.* permission) replacing
                                               displayName and name.givenName, new values each request

`scim_client` makes the role and the client; `scim_target` probes it over HTTP and gives wrk's target;
`scim_call` is the same request in-process (statements, CPU ms, pyinstrument); `add_scim_ratios` sets each
SCIM run's req/s over the JSON update's of the same database and connections, and `scim_lines` says whether
the issue's target is met (wrk's ratio, and the in-process CPU per request's)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import requests

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ROLE = "bench-provisioner"
PERMISSIONS = [
    "users.view",
    "users.create",
    "users.edit",
    "users.lock",
    "users.approve",
    "users.credentials",
    "users.sessions",
    "users.delete",
    "users.attributes",
]
FLOOR = 0.8


def scim_client(app, seed: dict, api_app: str) -> str:
    """A role with every users.* permission, and a SCIM client acting with it: its bearer token."""
    sso = app.extensions["sso"]
    sso.user.create_role(
        "bench", {"name": ROLE, "description": "bench", "permissions": PERMISSIONS}, seed["ust"], api_app, "127.0.0.1"
    )
    return sso.operator.create_scim_client("bench", ROLE)


def patch_body(value: str) -> dict[str, Any]:
    return {
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "Replace", "path": "displayName", "value": value},
            {"op": "Replace", "path": "name.givenName", "value": f"g{value}"},
        ],
    }


def scim_target(url: str, token: str, seed: dict, display_name_of: Callable[[str], Any], target_class, notes):
    """wrk's target for the SCIM PATCH, after one probe over HTTP that must write; None (noted) if it does not."""
    answer = requests.patch(
        f"{url}/scim/v2/Users/{seed['target_id']}",
        json=patch_body("scim-probe"),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"},
        timeout=10,
    )
    if answer.status_code != 200 or display_name_of(seed["target_id"]) != "scim-probe":
        notes.append(f"SCIM PATCH: probe answered {answer.status_code}: {answer.text[:200]}")
        return None
    return target_class("scim", "scim_patch.lua", [token, ",".join(seed["target_ids"])], 200, True)


def scim_call(app, seed: dict, token: str) -> Callable[[int], Any]:
    """The SCIM PATCH in-process (app.test_client()), checked."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
    path = f"/scim/v2/Users/{seed['target_id']}"

    def call(i: int):
        answer = client.patch(path, json=patch_body(f"ip-{uuid.uuid4().hex[:6]}-{i}"), headers=headers)
        if answer.status_code != 200:
            raise RuntimeError(f"SCIM PATCH in-process answered {answer.status_code}: {answer.get_data()[:200]!r}")
        return answer

    return call


def add_scim_ratios(runs: list[dict[str, Any]]) -> None:
    """Each SCIM run's req/s over the JSON update's (same database, connections, run), and the JSON update's
    CPU per request over the SCIM PATCH's (the same ratio, as the CPU a request costs the workers)."""
    api = {(r["db"], r["connections"]): r for r in runs if r["target"] == "api"}
    for r in runs:
        if r["target"] != "scim":
            continue
        base = api.get((r["db"], r["connections"]))
        r["ratio_to_api"] = round(r["rps"] / base["rps"], 3) if base and base["rps"] else None
        cpu, base_cpu = r.get("cpu_ms_per_request"), (base or {}).get("cpu_ms_per_request")
        r["cpu_ratio_to_api"] = round(base_cpu / cpu, 3) if cpu and base_cpu else None


def scim_lines(report: dict[str, Any]) -> list[str]:
    """The issue's target against this run: wrk's req/s ratio, the workers' CPU ratio, the in-process one."""
    lines = []
    for r in (r for r in report["runs"] if r["target"] == "scim" and r.get("ratio_to_api") is not None):
        ratio = r["ratio_to_api"]
        lines.append(
            f"SCIM PATCH of two attributes >= {FLOOR} of the JSON update: {r['db']} c={r['connections']}: "
            f"{ratio:.2f} "
            + ("met" if ratio >= FLOOR else f"NOT met (short by {FLOOR - ratio:.2f})")
            + f" (workers' CPU per request: {r.get('cpu_ratio_to_api')})"
        )
    cpu = {(p["db"], p["target"]): p["cpu_ms"] for p in report["profiles"]}
    for db in sorted({p["db"] for p in report["profiles"]}):
        api, scim = cpu.get((db, "api")), cpu.get((db, "scim"))
        if api and scim:
            lines.append(
                f"SCIM PATCH in-process CPU per request, {db}: {scim} ms against the JSON update's {api} ms "
                f"({api / scim:.2f} of its throughput)"
            )
    return lines

"""Where the JSON update's time goes: pyinstrument over an in-process PATCH loop, and round trips per request."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
API_APP = "CRM"


def _where(path: str) -> tuple[str, str]:
    """(package, module path) of a source file, for grouping profile samples."""
    parts = Path(path).parts
    if "site-packages" in parts:
        rest = parts[parts.index("site-packages") + 1:]
        return rest[0].split(".")[0], "/".join(rest)
    if "webapp" in parts:
        rest = parts[parts.index("webapp"):]
        return "webapp", "/".join(rest)
    if "/lib/python3" in path:
        return "stdlib", Path(path).name
    return (Path(path).name or "<built-in>"), (Path(path).name or "<built-in>")


def count_round_trips(app, call, n: int = 100) -> dict[str, float]:
    """Per request: pool checkouts (each a SELECT 1 ping with pool_pre_ping), statements, commits, rollbacks."""
    from sqlalchemy import event

    engine = app.extensions["sso_engine"]
    counts = dict.fromkeys(("checkouts", "statements", "commits", "rollbacks"), 0)

    def counter(key):
        def bump(*_args, **_kwargs):
            counts[key] += 1
        return bump

    hooks = [(engine.pool, "checkout", counter("checkouts")), (engine, "before_cursor_execute", counter("statements")),
             (engine, "commit", counter("commits")), (engine, "rollback", counter("rollbacks"))]
    for target, name, hook in hooks:
        event.listen(target, name, hook)
    try:
        for i in range(n):
            call(i)
    finally:
        for target, name, hook in hooks:
            event.remove(target, name, hook)
    return {key: round(value / n, 2) for key, value in counts.items()}


def profile_update(app, seed: dict, db_name: str, requests_count: int = 2000) -> dict[str, Any]:
    """pyinstrument over a loop of PATCH /zato/sso/user through app.test_client(): where the time goes."""
    from pyinstrument import Profiler

    client = app.test_client()
    body = {"ust": seed["ust"], "current_app": API_APP, "user_id": seed["target_id"]}
    sso = app.extensions["sso"]

    def per_call_ms(call, n: int = 300) -> float:
        started = time.perf_counter()
        for i in range(n):
            call(i)
        return round((time.perf_counter() - started) * 1000 / n, 3)

    per_call_ms(lambda i: client.patch("/zato/sso/user", json={**body, "display_name": f"warm-{i}"}), 50)
    request_ms = per_call_ms(lambda i: client.patch("/zato/sso/user", json={**body, "display_name": f"req-{i}"}))
    service_ms = per_call_ms(lambda i: sso.user.update_user_by_id(
        "bench", seed["target_id"], {"display_name": f"svc-{i}"}, seed["ust"], API_APP, "127.0.0.1"))
    round_trips = count_round_trips(app, lambda i: client.patch(
        "/zato/sso/user", json={**body, "display_name": f"count-{i}"}))
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for i in range(requests_count):
        answer = client.patch("/zato/sso/user", json={**body, "display_name": f"prof-{i}"})
    profiler.stop()
    if answer.status_code != 200:
        raise RuntimeError(f"PATCH answered {answer.status_code}: {answer.get_data(as_text=True)[:300]}")
    (RESULTS / f"profile-{db_name}.html").write_text(profiler.output_html())
    (RESULTS / f"profile-{db_name}.txt").write_text(profiler.output_text(unicode=True, color=False))

    by_package: dict[str, float] = {}
    by_function: dict[str, float] = {}
    inclusive: dict[str, float] = {}

    def walk(frame, open_keys: frozenset) -> None:
        children = [child for child in frame.children if not child.is_synthetic]
        package, module = _where(frame.file_path or "")
        key = f"{module}:{frame.function}"
        own = frame.time - sum(child.time for child in children)
        if own > 0:
            by_package[package] = by_package.get(package, 0.0) + own
            by_function[key] = by_function.get(key, 0.0) + own
        if package == "webapp" and key not in open_keys:   # count a recursive call once
            inclusive[key] = inclusive.get(key, 0.0) + frame.time
            open_keys = open_keys | {key}
        for child in children:
            walk(child, open_keys)

    root = profiler.last_session.root_frame()
    total = root.time if root else 1.0
    if root:
        walk(root, frozenset())

    def top(table: dict[str, float], n: int) -> list[tuple[str, float]]:
        return [(k, round(100 * v / total, 1)) for k, v in sorted(table.items(), key=lambda kv: -kv[1])[:n]]

    return {"db": db_name, "requests": requests_count, "request_ms": request_ms, "service_call_ms": service_ms,
            "per_request": round_trips,
            "self_time_by_package_pct": top(by_package, 10), "self_time_by_function_pct": top(by_function, 20),
            "inclusive_webapp_pct": top(inclusive, 20), "tree": str(RESULTS / f"profile-{db_name}.txt")}


def print_profile(profile: dict[str, Any]) -> None:
    print(f"\nProfile of PATCH /zato/sso/user in-process ({profile['db']}, app.test_client(), {profile['requests']} "
          f"requests): {profile['request_ms']} ms a request unprofiled, of which the service call "
          f"(update_user_by_id) {profile['service_call_ms']} ms")
    trips = profile["per_request"]
    print(f"  per request: {trips['checkouts']} pool checkouts, {trips['statements']} statements, "
          f"{trips['commits']} commits, {trips['rollbacks']} rollbacks (the reference: 1 checkout, 1 UPDATE "
          "(+ BEGIN IMMEDIATE on SQLite), 1 commit; on PostgreSQL each checkout also pings (pool_pre_ping) and "
          "psycopg sends BEGIN before each transaction's first statement)")
    print("  self time by package:  " + ", ".join(f"{k} {v}%" for k, v in profile["self_time_by_package_pct"]))
    print("  inclusive time in webapp functions:")
    for name, pct in profile["inclusive_webapp_pct"]:
        print(f"    {pct:5.1f}%  {name}")
    print("  self time by function:")
    for name, pct in profile["self_time_by_function_pct"]:
        print(f"    {pct:5.1f}%  {name}")
    print(f"  call tree: {profile['tree']} (and .html)")

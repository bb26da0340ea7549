"""Where each kind of request's time goes: pyinstrument over in-process loops, and round trips per request."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
API_APP = "CRM"


def _where(path: str) -> tuple[str, str]:
    """(package, module path) of a source file, for grouping profile samples."""
    parts = Path(path).parts
    if "site-packages" in parts:
        rest = parts[parts.index("site-packages") + 1 :]
        return rest[0].split(".")[0], "/".join(rest)
    if "webapp" in parts:
        rest = parts[parts.index("webapp") :]
        return "webapp", "/".join(rest)
    if "/lib/python3" in path:
        return "stdlib", Path(path).name
    return (Path(path).name or "<built-in>"), (Path(path).name or "<built-in>")


def count_round_trips(app, call, n: int = 50, engine=None) -> dict[str, float | None]:
    """Per request: pool checkouts (a PostgreSQL connection idle for 10 s is pinged first), statements,
    transactions (commits + rollbacks), the transactions begun as reads and as writes (webapp.db's
    `reading` / `writing`: a write is begun with the sso_write option), and the service layer's
    authentications. With another app's `engine` (the bare reference), reads and writes are not told apart."""
    from sqlalchemy import event

    from webapp.db import WRITE_OPTION
    from webapp.sso.kernel import caller as authn

    own = engine is None
    engine = app.extensions["sso_engine"] if own else engine
    counts = dict.fromkeys(("checkouts", "statements", "commits", "rollbacks", "reads", "writes", "authentications"), 0)

    def counter(key):
        def bump(*_args, **_kwargs):
            counts[key] += 1

        return bump

    def begun(conn):
        counts["writes" if conn.get_execution_options().get(WRITE_OPTION) else "reads"] += 1

    hooks = [
        (engine.pool, "checkout", counter("checkouts")),
        (engine, "before_cursor_execute", counter("statements")),
        (engine, "commit", counter("commits")),
        (engine, "rollback", counter("rollbacks")),
        (engine, "begin", begun),
    ]
    for target, name, hook in hooks:
        event.listen(target, name, hook)
    # A session lookup: authn._authenticate where the request-scoped cache exists, else every authenticate().
    name = "_authenticate" if hasattr(authn, "_authenticate") else "authenticate"
    original = getattr(authn, name)

    def counted(*args, **kwargs):
        counts["authentications"] += 1
        return original(*args, **kwargs)

    patched = [
        module
        for module in list(sys.modules.values())
        if getattr(module, "__name__", "").startswith("webapp.") and getattr(module, name, None) is original
    ]
    for module in patched:
        setattr(module, name, counted)
    try:
        for i in range(n):
            call(i)
    finally:
        for target, name, hook in hooks:
            event.remove(target, name, hook)
        for module in patched:
            setattr(module, name, original)
    per: dict[str, float | None] = {key: round(value / n, 2) for key, value in counts.items()}
    per["transactions"] = round(counts["commits"] / n + counts["rollbacks"] / n, 2)
    if not own:
        per["reads"] = per["writes"] = None
    return per


def profile_requests(
    calls: dict[str, Callable[[int], Any]],
    app,
    db_name: str,
    seconds: float = 3.0,
    profiled: Collection[str] | None = None,
    engines: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """For each named in-process request: ms per request, round trips, and (pyinstrument, for the names in
    `profiled`, or all when None) where the time goes. `engines`: a call's own engine (the bare reference)."""
    from pyinstrument import Profiler

    out = []
    for name, call in calls.items():
        call(0)  # warm (and check)
        started, cpu_started, n = time.perf_counter(), time.process_time(), 0
        while time.perf_counter() - started < min(1.0, seconds / 3) or n < 5:
            call(n + 1)
            n += 1
        request_ms = round((time.perf_counter() - started) * 1000 / n, 3)
        entry: dict[str, Any] = {
            "db": db_name,
            "target": name,
            "request_ms": request_ms,
            # This process's CPU per request: what other work on a busy machine moves least (wall time
            # includes waiting for a core; the database server's CPU is not in it on PostgreSQL).
            "cpu_ms": round((time.process_time() - cpu_started) * 1000 / n, 3),
            "per_request": count_round_trips(
                app, call, n=20 if name == "login" else 50, engine=(engines or {}).get(name)
            ),
        }
        if profiled is None or name in profiled:
            profiler = Profiler(interval=0.0005)
            profiler.start()
            started, n = time.perf_counter(), 0
            while time.perf_counter() - started < seconds:
                call(10_000 + n)
                n += 1
            profiler.stop()
            entry.update(summarise(profiler, f"{db_name}-{name}"))
            entry["requests"] = n
        out.append(entry)
    return out


def summarise(profiler, label: str) -> dict[str, Any]:
    (RESULTS / f"profile-{label}.html").write_text(profiler.output_html())
    (RESULTS / f"profile-{label}.txt").write_text(profiler.output_text(unicode=True, color=False))
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
        if package == "webapp" and key not in open_keys:  # count a recursive call once
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

    return {
        "self_time_by_package_pct": top(by_package, 8),
        "self_time_by_function_pct": top(by_function, 12),
        "inclusive_webapp_pct": top(inclusive, 12),
        "tree": str(RESULTS / f"profile-{label}.txt"),
    }


def print_profile(profile: dict[str, Any]) -> None:
    trips = profile["per_request"]
    print(
        f"\n{profile['target']} ({profile['db']}, in-process): {profile['request_ms']} ms a request "
        f"({profile.get('cpu_ms')} ms CPU); per request "
        f"{trips['statements']} statements, {trips['transactions']} transactions ({trips['reads']} read, "
        f"{trips['writes']} write), {trips['checkouts']} pool checkouts, "
        f"{trips['authentications']} authentications"
    )
    if "self_time_by_package_pct" not in profile:
        return
    print("  self time by package:  " + ", ".join(f"{k} {v}%" for k, v in profile["self_time_by_package_pct"]))
    print(
        "  inclusive, webapp:     "
        + ", ".join(f"{k.split('/')[-1]} {v}%" for k, v in profile["inclusive_webapp_pct"][:8])
    )
    print(
        "  self, top functions:   "
        + ", ".join(f"{k.split('/')[-1]} {v}%" for k, v in profile["self_time_by_function_pct"][:8])
    )
    print(f"  call tree: {profile['tree']} (and .html)")

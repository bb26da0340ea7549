"""Part III's new parts in `make bench` (issue 30), each beside a baseline measured in the same run.

    role check      the JSON update by a help-desk caller (a role's permissions, checked on every call)
                    against the same update by a super-user: >= 0.95x
    profile fields  the JSON update writing two profile fields against one writing two built-ins: >= 0.9x
    passkey         a passkey sign-in's server time (options + verification of a real assertion, signed by a
                    software authenticator's P-256 key: tests/passkey_authenticator.py) against a password
                    sign-in's (scrypt at the app's SSO_SCRYPT_N)
    outbox          the outbox worker (`flask --app webapp sso worker`) delivering to a loopback SMTP sink
                    (tests/mailbox.py, counting only) against smtplib sending the same messages to the same sink
                    over one connection (what the sink takes at most)
    data export     "download my data" of a user with 100,000 audit records (bench/export_memory.py, in a
                    fresh process): seconds and peak RSS against that process's peak before the export

The first three run in-process (`app.test_client()` or the Python facade), interleaved in rounds, keeping each
one's best round; what they compare is this process's CPU per request (`time.process_time`), which other work
on a busy machine moves least; the wall-clock ratio is printed beside it. Each part is one function taking
(app, db_url, seed, options) and returning a dict (with "ratio", "baseline" and "target" when it has one);
`run_parts` runs those named in `options.targets`. Run one alone: `bench/run.py --only roles`.
"""

from __future__ import annotations

import smtplib
import time
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

PARTS = ("roles", "profile-fields", "passkey", "outbox", "data-export")
API_APP = "CRM"
ADDR = "127.0.0.1"
DESK_ROLE = "bench-helpdesk"
DESK_PERMISSIONS = ["users.view", "users.lock", "users.credentials", "users.sessions", "users.edit"]


def interleaved(calls: dict[str, Callable[[int], Any]], rounds: int, per_round: int) -> dict[str, dict[str, float]]:
    """Each call `per_round` times per round, the calls taking turns round after round (so a busy moment hits
    each alike); per call its best round's CPU ms and wall ms per request."""
    best: dict[str, dict[str, float]] = {name: {"cpu_ms": float("inf"), "wall_ms": float("inf")} for name in calls}
    n = 0
    for call in calls.values():  # warm-up (and check)
        for _ in range(3):
            call(n)
            n += 1
    for _ in range(rounds):
        for name, call in calls.items():
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(per_round):
                call(n)
                n += 1
            best[name]["cpu_ms"] = min(best[name]["cpu_ms"], (time.process_time() - cpu) * 1000 / per_round)
            best[name]["wall_ms"] = min(best[name]["wall_ms"], (time.perf_counter() - wall) * 1000 / per_round)
    return {name: {k: round(v, 3) for k, v in figures.items()} for name, figures in best.items()}


def _compared(figures: dict[str, dict[str, float]], baseline: str, measured: str, target: float | None) -> dict:
    """Throughput of `measured` over `baseline` (= the baseline's cost over the measured one's), by CPU and wall."""
    base, own = figures[baseline], figures[measured]
    return {
        "baseline": baseline,
        "measured": measured,
        "figures": figures,
        "ratio": round(base["cpu_ms"] / own["cpu_ms"], 3) if own["cpu_ms"] else None,
        "ratio_wall": round(base["wall_ms"] / own["wall_ms"], 3) if own["wall_ms"] else None,
        "target": target,
    }


def _updater(client, ust: str, target_ids: list[str], make: Callable[[int], dict[str, Any]]):
    def call(i: int):
        body = {"ust": ust, "current_app": API_APP, "user_id": target_ids[i % len(target_ids)], **make(i)}
        answer = client.patch("/zato/sso/user", json=body)
        if answer.status_code != 200:
            raise RuntimeError(f"JSON update answered {answer.status_code}: {answer.get_data(as_text=True)[:300]}")
        return answer

    return call


def _super(app, seed: dict):
    from webapp.sso import Call

    return app.extensions["sso"].serve(Call("bench", seed["ust"], API_APP, ADDR))


def roles(app, db_url: str, seed: dict, options) -> dict[str, Any]:
    """A help-desk caller's JSON update (a custom role: the shipped help desk's permissions plus users.edit,
    which the update of a display name needs) against the super-user's, same targets, same body."""
    sso = app.extensions["sso"]
    service = _super(app, seed)
    service.create_role(
        {"name": DESK_ROLE, "description": "bench: help desk that edits", "permissions": DESK_PERMISSIONS}
    )
    username = f"benchdesk{uuid.uuid4().hex[:6]}"
    desk = sso.operator.create_local(username, options.password, super_user=False)
    service.grant_role(desk["user_id"], DESK_ROLE)
    desk_ust = sso.user.login("bench", username, options.password, API_APP, ADDR).ust
    client = app.test_client()
    targets = seed["target_ids"]
    calls = {
        "super-user": _updater(client, seed["ust"], targets, lambda i: {"display_name": f"su-{i}"}),
        "help-desk": _updater(client, desk_ust, targets, lambda i: {"display_name": f"hd-{i}"}),
    }
    return _compared(interleaved(calls, options.rounds, options.per_round), "super-user", "help-desk", 0.95)


def profile_fields(app, db_url: str, seed: dict, options) -> dict[str, Any]:
    """The JSON update writing two profile fields (a text and an integer) against two built-ins."""
    service = _super(app, seed)
    service.define_profile_field({"name": "bench_department", "label": "Department", "type": "text"})
    service.define_profile_field({"name": "bench_desk", "label": "Desk", "type": "integer"})
    client = app.test_client()
    targets = seed["target_ids"]
    calls = {
        "two built-ins": _updater(
            client, seed["ust"], targets, lambda i: {"display_name": f"d{i}", "first_name": f"f{i}"}
        ),
        "two profile fields": _updater(
            client, seed["ust"], targets, lambda i: {"bench_department": f"dep{i}", "bench_desk": i % 400 + 1}
        ),
    }
    return _compared(interleaved(calls, options.rounds, options.per_round), "two built-ins", "two profile fields", 0.9)


def passkey(app, db_url: str, seed: dict, options) -> dict[str, Any]:
    """A passkey sign-in's server time (the options call + the verification; the authenticator's signing, the
    browser's part, is not timed) against a password sign-in's, both through the Python facade."""
    from tests.passkey_authenticator import SoftAuthenticator
    from webapp.sso.credentials.passkeys import relying_party

    sso = app.extensions["sso"]
    username = f"benchpasskey{uuid.uuid4().hex[:6]}"
    sso.operator.create_local(username, options.password, super_user=False)
    ust = sso.user.login("bench", username, options.password, API_APP, ADDR).ust
    _rp_id, origin = relying_party(app.config)
    key = SoftAuthenticator(origin)
    ceremony = sso.user.passkey_register_options("bench", None, ust, API_APP, ADDR)
    sso.user.passkey_register_verify(
        "bench", ceremony.challenge_id, key.create(ceremony.options), "bench key", ust, API_APP, ADDR
    )
    timed = {"password": {"cpu": [], "wall": []}, "passkey": {"cpu": [], "wall": []}}

    def password_login() -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        sso.user.login("bench", username, options.password, API_APP, ADDR)
        timed["password"]["cpu"].append(time.process_time() - cpu)
        timed["password"]["wall"].append(time.perf_counter() - wall)

    def passkey_login() -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        begun = sso.user.passkey_login_options("bench", API_APP, ADDR)
        spent_cpu, spent_wall = time.process_time() - cpu, time.perf_counter() - wall
        assertion = key.get(begun.options)  # the authenticator's part: not the server's time
        wall, cpu = time.perf_counter(), time.process_time()
        result = sso.user.login_with_passkey("bench", begun.challenge_id, assertion, API_APP, ADDR)
        timed["passkey"]["cpu"].append(spent_cpu + time.process_time() - cpu)
        timed["passkey"]["wall"].append(spent_wall + time.perf_counter() - wall)
        if not result.ust:
            raise RuntimeError("passkey sign-in gave no session")

    for _ in range(2):  # warm-up
        password_login()
        passkey_login()
    for values in timed.values():
        values["cpu"].clear()
        values["wall"].clear()
    for _ in range(options.sign_ins):
        password_login()
        for _ in range(5):  # a passkey sign-in is far cheaper: more of them for a steady figure
            passkey_login()
    figures = {
        name: {"cpu_ms": round(1000 * min(v["cpu"]), 3), "wall_ms": round(1000 * min(v["wall"]), 3)}
        for name, v in timed.items()
    }
    result = _compared(figures, "password", "passkey", None)
    result["scrypt_n"] = app.config["SSO_SCRYPT_N"]
    result["note"] = "best of each; ratio = how many passkey sign-ins a password sign-in's CPU pays for"
    return result


def outbox(app, db_url: str, seed: dict, options) -> dict[str, Any]:
    """The outbox worker's messages/s to a loopback sink (bench/outbox.py's worker_rate: `options.messages`
    queued, one worker process, timed from the first message received to the last) against smtplib sending
    as many messages of the same size to the same sink over one connection."""
    from outbox import worker_rate  # bench/ is sys.path[0]

    from tests.mailbox import Mailbox

    with Mailbox(parse=False) as box:
        rate = worker_rate(db_url, options.fernet_key, box, options.messages)
        before = len(box.messages)
        message = EmailMessage()
        message["From"], message["Subject"] = "sso@example.com", "Message"
        message.set_content("text " * 40)
        message.add_alternative("<p>html</p>" * 20, subtype="html")
        with smtplib.SMTP("127.0.0.1", box.port) as smtp:
            started = time.perf_counter()
            for n in range(options.messages):
                del message["To"]
                message["To"] = f"r{n}@example.com"
                smtp.send_message(message)
            while len(box.messages) - before < options.messages:
                time.sleep(0.001)
            raw = options.messages / (time.perf_counter() - started)
    figures = {
        "smtplib, one connection": {"messages_per_s": round(raw)},
        "outbox worker": {"messages_per_s": round(rate)},
    }
    return {
        "baseline": "smtplib, one connection",
        "measured": "outbox worker",
        "figures": figures,
        "ratio": round(rate / raw, 3) if raw else None,
        "messages": options.messages,
        "target": None,
    }


def data_export(app, db_url: str, seed: dict, options) -> dict[str, Any]:
    """SPEC §20's export of a user with `options.export_records` audit records (bench/export_memory.py)."""
    from export_memory import measure  # bench/ is sys.path[0]

    figures = measure(db_url, options.export_records, username=f"benchexport{uuid.uuid4().hex[:6]}")
    figures["records_per_s"] = round(figures["records"] / figures["seconds"]) if figures["seconds"] else None
    figures["peak_rss_added_mib"] = round(figures["peak_rss_mib"] - figures["peak_rss_before_mib"], 1)
    return {
        "baseline": "the export process's peak RSS before the export",
        "measured": "the export",
        "figures": figures,
        "ratio": None,
        "target": None,
    }


RUNNERS: dict[str, Callable[..., dict[str, Any]]] = {
    "roles": roles,
    "profile-fields": profile_fields,
    "passkey": passkey,
    "outbox": outbox,
    "data-export": data_export,
}


def run_parts(app, db_name: str, db_url: str, seed: dict, options, notes: list[str]) -> list[dict[str, Any]]:
    """Every part named in `options.targets`, on one database: a list of result dicts (a failing part is noted,
    the others still run)."""
    out = []
    for name in (n for n in PARTS if n in options.targets):
        started = time.perf_counter()
        try:
            result = RUNNERS[name](app, db_url, seed, options)
        except Exception as e:  # the run's other figures stand without this one
            notes.append(f"{db_name}: {name} failed: {e!r}")
            print(f"  {name}: failed: {e!r}", flush=True)
            continue
        result = {"part": name, "db": db_name, "seconds": round(time.perf_counter() - started, 1), **result}
        out.append(result)
        print("  " + describe(result), flush=True)
    return out


def describe(result: dict[str, Any]) -> str:
    """One line: the part, its figures, its ratio to the baseline and the target."""
    figures = result["figures"]
    name, db = result["part"], result["db"]
    if name == "data-export":
        f = figures
        return (
            f"{name:<15} {db:<10} {f['records']:,} audit records: {f['seconds']} s ({f['records_per_s']:,} records/s, "
            f"{f['mib']} MiB of JSON), peak RSS {f['peak_rss_mib']} MiB (+{f['peak_rss_added_mib']} over the process "
            "before the export)"
        )
    if name == "outbox":
        return (
            f"{name:<15} {db:<10} worker {figures['outbox worker']['messages_per_s']:,} messages/s, smtplib on one "
            f"connection {figures['smtplib, one connection']['messages_per_s']:,}: {result['ratio']:.2f}x "
            f"({result['messages']} messages)"
        )
    shown = ", ".join(f"{k} {v['cpu_ms']} ms CPU ({v['wall_ms']} wall)" for k, v in figures.items())
    verdict = ""
    if result.get("target") is not None and result["ratio"] is not None:
        short = result["target"] - result["ratio"]
        verdict = f" (target >= {result['target']}: " + ("met)" if short <= 0 else f"NOT met, short by {short:.2f})")
    return (
        f"{name:<15} {db:<10} {shown}: {result['measured']} {result['ratio']}x of {result['baseline']} by CPU, "
        f"{result['ratio_wall']}x by wall{verdict}"
    )

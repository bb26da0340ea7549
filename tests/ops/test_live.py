"""The service under gunicorn (2 workers): metrics summed over workers, the request log, the request id,
and two app nodes behind a proxy on one PostgreSQL."""

from __future__ import annotations

import json
import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from webapp import create_app

from ..conftest import FERNET_KEY, PASSWORD, fresh_database
from ..conftest import app_config as config_for
from ..core.helpers import audit_of
from ..server import LiveServer, server_env

APP = "CRM"
TOKEN = "scrape-token-5b1c"


@pytest.fixture(scope="module")
def node(request, tmp_path_factory):
    """One gunicorn node on SQLite behind a (simulated) trusted proxy, with a metrics token; and its sso."""
    url = fresh_database("sqlite", request, tmp_path_factory)
    app = create_app(config_for(url))
    sso = app.extensions["sso"]
    sso.operator.create_local("operator", PASSWORD, super_user=True)
    sso.operator.create_local("jane", PASSWORD, super_user=False)
    sso.operator.create_local("june", PASSWORD, super_user=False)
    metrics_dir = tmp_path_factory.mktemp("metrics")
    env = server_env(
        url,
        FERNET_KEY,
        SSO_TRUSTED_PROXIES="1",
        SSO_LOGIN_MAX_FAILURES="3",
        SSO_METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    with LiveServer(env) as server:
        server.sso = sso  # type: ignore[attr-defined]
        server.metrics_dir = metrics_dir  # type: ignore[attr-defined]
        yield server
    app.extensions["sso_engine"].dispose()


def call(server, method: str, path: str, body: dict | None = None, /, **headers: str) -> requests.Response:
    data = None if body is None else json.dumps(body)
    return requests.request(method, server.url + path, data=data, headers=headers, timeout=30)


def scrape(server) -> dict[tuple[str, tuple], float]:
    response = call(server, "GET", "/metrics", Authorization=f"Bearer {TOKEN}")
    assert response.status_code == 200
    values = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_counted_across_both_workers_and_need_the_token(node):
    assert call(node, "GET", "/metrics").status_code == 401
    assert call(node, "GET", "/metrics", Authorization="Bearer wrong").status_code == 401
    before = scrape(node)

    for _attempt in range(5):  # 3 wrong passwords, then throttled (per username and address)
        answer = call(
            node,
            "POST",
            "/zato/sso/user/login",
            {"username": "jane", "password": "Wrong-Guess-1", "current_app": APP},
            **{"X-Forwarded-For": "198.51.100.1"},
        )
        assert answer.status_code in (403, 429)  # wrong, then paused
    operator = call(
        node, "POST", "/zato/sso/user/login", {"username": "operator", "password": PASSWORD, "current_app": APP}
    ).json()
    ust = operator["ust"]
    for _ in range(3):
        call(node, "POST", "/zato/sso/user/login", {"username": "operator", "password": PASSWORD, "current_app": APP})
    me = call(node, "GET", "/zato/sso/user", {"ust": ust, "current_app": APP})
    updated = call(node, "PATCH", "/zato/sso/user", {"ust": ust, "current_app": APP, "display_name": "Op"})
    assert updated.status_code == 200
    stale = call(
        node,
        "PATCH",
        "/zato/sso/user",
        {"ust": ust, "current_app": APP, "display_name": "Op 2"},
        **{"If-Match": me.headers["ETag"]},
    )
    assert stale.status_code == 412
    # One worker is kept busy reading a request that arrives slowly (a sync worker serves one at a time),
    # so the 30 probes meanwhile go to the other; then the slow request ends and the first counts it too.
    slow = socket.create_connection(("127.0.0.1", node.port), timeout=30)
    slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
    time.sleep(0.3)
    with ThreadPoolExecutor(max_workers=5) as pool:
        probes = list(pool.map(lambda _: call(node, "GET", "/healthz").status_code, range(29)))
    slow.sendall(b"Connection: close\r\n\r\n")
    assert slow.recv(64).startswith(b"HTTP/1.1 200")
    slow.close()
    assert probes == [200] * 29

    pids = {path.name.split("_")[-1] for path in node.metrics_dir.glob("counter_*.db")}
    assert len(pids) >= 2, f"only one worker counted anything: {pids}"
    for _ in range(6):  # whichever worker answers the scrape, it reports the sum of both
        after = scrape(node)

        assert delta(after, before, "sso_logins_total", result="failed") == 3
        assert delta(after, before, "sso_logins_total", result="throttled") == 2
        assert delta(after, before, "sso_logins_total", result="ok") == 4
        assert delta(after, before, "sso_changes_total", action="update", channel="api") == 1
        assert delta(after, before, "sso_conflicts_total", status="412") == 1
        assert delta(after, before, "sso_http_requests_total", route="/healthz", method="GET", status="200") == 30
        assert (
            delta(after, before, "sso_http_requests_total", route="/zato/sso/user/login", method="POST", status="403")
            == 3
        )
        assert (
            delta(after, before, "sso_http_requests_total", route="/zato/sso/user/login", method="POST", status="429")
            == 2
        )
        assert (
            delta(after, before, "sso_http_request_duration_seconds_count", route="/zato/sso/user", method="PATCH") == 2
        )
        assert value(after, "sso_http_request_duration_seconds_bucket", route="/healthz", method="GET", le="+Inf") >= 30


def delta(after, before, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def log_lines(server) -> list[dict]:
    return [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]


def test_a_request_id_from_the_trusted_proxy_is_the_envelope_cid_the_audit_cid_and_in_the_log_line(node):
    ust = call(
        node,
        "POST",
        "/zato/sso/user/login",
        {"username": "june", "password": PASSWORD, "current_app": APP},
        **{"X-Forwarded-For": "203.0.113.9"},
    ).json()["ust"]
    answer = call(
        node,
        "PATCH",
        "/zato/sso/user",
        {"ust": ust, "current_app": APP, "first_name": "Jane"},
        **{"X-Request-Id": "edge-7f3a.42", "X-Forwarded-For": "203.0.113.9"},
    )
    assert answer.status_code == 200
    assert answer.headers["X-Request-Id"] == "edge-7f3a.42" == answer.json()["cid"]
    user_id = answer.json()["user_id"]
    record = [r for r in audit_of(node.sso, user_id, "update") if r["changes"].get("first_name")][-1]
    assert (record["cid"], record["remote_addr"]) == ("edge-7f3a.42", "203.0.113.9")

    [line] = [line for line in log_lines(node) if line.get("cid") == "edge-7f3a.42"]
    assert line["message"] == "request" and line["level"] == "INFO" and line["logger"] == "webapp.request"
    assert (line["method"], line["route"], line["status"], line["user_id"], line["remote_addr"]) == (
        "PATCH",
        "/zato/sso/user",
        200,
        user_id,
        "203.0.113.9",
    )
    assert isinstance(line["duration_ms"], float) and 0 < line["duration_ms"] < 10_000
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])


def test_an_unusable_incoming_request_id_is_replaced(node):
    answer = call(node, "GET", "/healthz", **{"X-Request-Id": "two words; and more"})
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-Id"])


def test_the_log_never_holds_a_secret_and_probes_stay_out_of_it_at_info(node):
    login = call(
        node, "POST", "/zato/sso/user/login", {"username": "operator", "password": PASSWORD, "current_app": APP}
    ).json()
    ust = login["ust"]
    # A UST in the query string (refused, but it reached the server) and in a header.
    assert (
        requests.get(f"{node.url}/zato/sso/user", params={"ust": ust, "current_app": APP}, timeout=30).status_code
        == 400
    )
    assert call(node, "GET", "/zato/sso/user", {"current_app": APP}, Authorization=f"Bearer {ust}").status_code == 200
    call(
        node,
        "PATCH",
        "/zato/sso/user/password",
        {"ust": ust, "current_app": APP, "old_password": PASSWORD, "new_password": "Brand-New-Secret-77"},
    )
    call(node, "GET", "/readyz")
    text = node.log.read_text()
    for secret in (PASSWORD, "Brand-New-Secret-77", ust, FERNET_KEY, "live-test-secret", TOKEN):
        assert secret not in text, "a secret reached the log"
    lines = log_lines(node)
    assert any(line.get("route") == "/zato/sso/user/password" for line in lines)
    assert not [line for line in lines if line.get("route") in ("/healthz", "/readyz", "/metrics")]
    assert "/healthz" not in text and "/readyz" not in text  # nor in gunicorn's access log


@pytest.fixture(scope="module")
def two_nodes(request, tmp_path_factory):
    """Two gunicorn nodes (2 workers each) on one PostgreSQL database, each behind one trusted proxy."""
    url = fresh_database("postgresql", request, tmp_path_factory)
    app = create_app(config_for(url))
    sso = app.extensions["sso"]
    sso.operator.create_local("operator", PASSWORD, super_user=True)
    env = server_env(url, FERNET_KEY, SSO_TRUSTED_PROXIES="1", SSO_LOGIN_MAX_FAILURES="0")
    with LiveServer(env) as first, LiveServer(env) as second:
        yield sso, first, second
    app.extensions["sso_engine"].dispose()


def test_two_nodes_on_one_postgresql_share_sessions_and_see_each_others_writes(two_nodes):
    sso, first, second = two_nodes
    assert call(first, "GET", "/readyz").status_code == call(second, "GET", "/readyz").status_code == 200
    proxy = {"X-Forwarded-For": "192.0.2.44", "X-Forwarded-Proto": "https"}
    login = call(
        first,
        "POST",
        "/zato/sso/user/login",
        {"username": "operator", "password": PASSWORD, "current_app": APP},
        **proxy,
    )
    ust = login.json()["ust"]
    changed = call(second, "PATCH", "/zato/sso/user", {"ust": ust, "current_app": APP, "display_name": "Both"}, **proxy)
    assert changed.status_code == 200
    seen = call(first, "GET", "/zato/sso/user", {"ust": ust, "current_app": APP})
    assert seen.json()["display_name"] == "Both"
    record = audit_of(sso, changed.json()["user_id"], "update")[-1]
    assert record["remote_addr"] == "192.0.2.44" and record["cid"] == changed.headers["X-Request-Id"]

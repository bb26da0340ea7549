"""Concurrent writers over HTTP against gunicorn (2 workers), on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import APP, Api, start_site
from .helpers import ok, refused

ATTRIBUTES = ("display_name", "first_name", "middle_name", "last_name", "email")
WRITES_PER_THREAD = 6


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory):
    """Concurrency is about the database: a live server on each kind."""
    yield from start_site(request.param, request, tmp_path_factory)


def _value(name: str, round_: int) -> str:
    return f"r{round_}@example.com" if name == "email" else f"{name}-{round_}"


def test_many_clients_updating_different_attributes_of_one_user_lose_no_acknowledged_write(site):
    user, ust = site.new_user()
    barrier = threading.Barrier(len(ATTRIBUTES))

    def writer(name: str) -> list[str]:
        api = Api(site.api.base_url)
        acknowledged = []
        barrier.wait()
        for round_ in range(WRITES_PER_THREAD):
            response = api.call("PATCH", "user", {"ust": ust, "current_app": APP, name: _value(name, round_)})
            # Without If-Match a busy row costs a wait, never a refusal: every write is acknowledged.
            assert response.status_code == 200, response.text
            assert response.json()[name] == _value(name, round_)
            acknowledged.append(_value(name, round_))
        return acknowledged

    with ThreadPoolExecutor(len(ATTRIBUTES)) as pool:
        acknowledged = dict(zip(ATTRIBUTES, pool.map(writer, ATTRIBUTES), strict=True))

    final = ok(site.api.call("GET", "user", {"ust": site.admin_ust, "current_app": APP, "user_id": user["user_id"]}))
    for name, values in acknowledged.items():
        assert len(values) == WRITES_PER_THREAD
        assert final[name] == values[-1]
    assert final["version"] == 1 + sum(map(len, acknowledged.values()))
    audited = [
        r for r in site.sso.user.history("t", user["user_id"], site.admin_ust, APP, "x") if r["action"] == "update"
    ]
    written = {(name, change["new"]) for r in audited for name, change in r["changes"].items()}
    assert written == {(name, value) for name, values in acknowledged.items() for value in values}


def test_two_clients_racing_with_the_same_if_match_get_exactly_one_200_and_one_412(site):
    for _attempt in range(5):
        user, ust = site.new_user()
        tag = site.api.call("GET", "user", {"ust": ust, "current_app": APP}).headers["ETag"]
        barrier = threading.Barrier(2)

        def racer(value: str, barrier=barrier, ust=ust, tag=tag):
            api = Api(site.api.base_url)
            barrier.wait()
            return api.call(
                "PATCH", "user", {"ust": ust, "current_app": APP, "display_name": value}, headers={"If-Match": tag}
            )

        with ThreadPoolExecutor(2) as pool:
            responses = list(pool.map(racer, ("left", "right")))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 412], [r.text for r in responses]
        (winner,) = [r for r in responses if r.status_code == 200]
        (loser,) = [r for r in responses if r.status_code == 412]
        refused(loser, 412, "E011001")
        stored = site.get(user["user_id"])
        assert stored["display_name"] == winner.json()["display_name"] and stored["version"] == 2

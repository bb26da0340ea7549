"""The service support of the console pages (issue 11), on both databases: history paging and filters,
addresses in one's own activity, search sorting and the new criteria, a create that reports every
mistake."""

from __future__ import annotations

import pytest

from webapp.sso import Call, Kind, SSOError

from .helpers import ADDR, APP, CID, refused


def test_history_pages_by_record_id_and_filters(sso, admin, alice, login):
    _, admin_ust = admin
    alice_user, _ = alice
    for n in range(4):
        sso.user.update_user_by_id(CID, alice_user["user_id"], {"display_name": f"N{n}"}, admin_ust, APP, ADDR)
    for _ in range(3):
        login("alice")
    # alice's record: create, 1 login (the fixture), 4 updates, 3 logins = 9 records.
    first = sso.serve(Call(cid=CID, ust=admin_ust, current_app=APP, remote_addr=ADDR)).history_page(
        alice_user["user_id"], limit=4
    )
    assert [r["action"] for r in first["records"]] == ["login"] * 3 + ["update"]
    assert first["has_older"] and not first["has_newer"]
    second = sso.serve(Call(cid=CID, ust=admin_ust, current_app=APP, remote_addr=ADDR)).history_page(
        alice_user["user_id"], limit=4, before=first["older_before"]
    )
    third = sso.serve(Call(cid=CID, ust=admin_ust, current_app=APP, remote_addr=ADDR)).history_page(
        alice_user["user_id"], limit=4, before=second["older_before"]
    )
    assert [r["action"] for r in third["records"]] == ["create"]
    assert not third["has_older"] and third["has_newer"]
    ids = [r["id"] for page in (first, second, third) for r in page["records"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 9
    back = sso.serve(Call(cid=CID, ust=admin_ust, current_app=APP, remote_addr=ADDR)).history_page(
        alice_user["user_id"], limit=4, after=third["newer_after"]
    )
    assert [r["id"] for r in back["records"]] == [r["id"] for r in second["records"]]
    changes = sso.serve(Call(cid=CID, ust=admin_ust, current_app=APP, remote_addr=ADDR)).history_page(
        alice_user["user_id"], changes_only=True
    )
    assert [r["action"] for r in changes["records"]] == ["update"] * 4 + ["create"]
    logins = sso.serve(Call(cid=CID, ust=admin_ust, current_app=APP, remote_addr=ADDR)).history_page(
        alice_user["user_id"], kind="login"
    )
    assert len(logins["records"]) == 4 and {r["action"] for r in logins["records"]} == {"login"}


def test_own_activity_filters_too(sso, alice, login):
    _, alice_ust = alice
    login("alice")
    mine = sso.serve(Call(cid=CID, ust=alice_ust, current_app=APP, remote_addr=ADDR)).history_page(
        None, changes_only=True
    )
    assert [r["action"] for r in mine["records"]] == ["create"]
    paged = sso.serve(Call(cid=CID, ust=alice_ust, current_app=APP, remote_addr=ADDR)).history_page(None, limit=1)
    older = sso.serve(Call(cid=CID, ust=alice_ust, current_app=APP, remote_addr=ADDR)).history_page(
        None, limit=1, before=paged["older_before"]
    )
    assert paged["has_older"] and older["records"][0]["id"] < paged["records"][0]["id"]


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": 5},
        {"kind": "x" * 65},
        {"before": "1"},
        {"before": 0},
        {"after": -1},
        {"before": 3, "after": 2},
        {"changes_only": "yes"},
        {"limit": 0},
    ],
)
def test_history_paging_input_is_checked(sso, alice, bad):
    _, alice_ust = alice
    with pytest.raises(Exception) as info:
        sso.serve(Call(cid=CID, ust=alice_ust, current_app=APP, remote_addr=ADDR)).history_page(None, **bad)
    assert getattr(info.value, "kind", None) == Kind.invalid


def test_own_activity_hides_where_someone_else_worked_from(sso, admin, alice):
    admin_user, admin_ust = admin
    alice_user, alice_ust = alice
    sso.user.update_user_by_id(CID, alice_user["user_id"], {"display_name": "By admin"}, admin_ust, APP, "203.0.113.5")
    sso.user.update_current_user(CID, {"first_name": "Alice"}, alice_ust, APP, "198.51.100.7")
    own = sso.user.history(CID, None, alice_ust, APP, ADDR)
    by_admin = next(r for r in own if r["actor_id"] == admin_user["user_id"])
    by_me = next(r for r in own if r["actor_id"] == alice_user["user_id"] and r["action"] == "update")
    assert by_admin["remote_addr"] is None and by_admin["user_agent"] is None
    assert by_me["remote_addr"] == "198.51.100.7"
    # A super-user reading the record still sees where the change came from.
    record = sso.user.history(CID, alice_user["user_id"], admin_ust, APP, ADDR)
    assert any(r["remote_addr"] == "203.0.113.5" for r in record)


def test_search_sorts_stably_and_filters_by_super_user(sso, admin, make_user, login):
    _, admin_ust = admin
    made = [make_user(f"srt-{n}") for n in ("c", "a", "b")]
    for user, name in zip(made, ("Same", "Same", "Alpha"), strict=True):
        sso.user.update_user_by_id(CID, user["user_id"], {"display_name": name}, admin_ust, APP, ADDR)
    login("srt-b")

    def names(**criteria):
        found = sso.user.search(CID, {"q": "srt-", **criteria}, admin_ust, APP, ADDR)["result"]
        return [u["username"] for u in found]

    assert names() == ["srt-a", "srt-b", "srt-c"]
    tie = sorted(["srt-c", "srt-a"], key=lambda n: next(u["user_id"] for u in made if u["username"] == n))
    assert names(order_by="display_name") == ["srt-b", *tie]
    assert names(order_by="display_name", order="desc") == [*tie, "srt-b"]
    assert names(order_by="last_sign_in", order="desc")[0] == "srt-b"
    assert names(order_by="last_sign_in")[0] == "srt-b"  # never signed in sorts last either way
    assert names(is_super_user=True) == []
    assert names(is_totp_enabled=False) == ["srt-a", "srt-b", "srt-c"] and names(is_totp_enabled=True) == []
    rows = sso.user.search(CID, {"q": "srt-", "with_last_sign_in": True}, admin_ust, APP, ADDR)["result"]
    assert [u["last_sign_in"] is not None for u in rows] == [False, True, False]
    assert "last_sign_in" not in sso.user.search(CID, {"q": "srt-"}, admin_ust, APP, ADDR)["result"][0]


@pytest.mark.parametrize(
    "bad",
    [
        {"order_by": "password_hash"},
        {"order_by": ["username"]},
        {"order": "up"},
        {"order": {}},
        {"is_super_user": "yes"},
        {"with_last_sign_in": 1},
        {"is_totp_enabled": "on"},
    ],
)
def test_search_sort_criteria_are_checked(sso, admin, bad):
    _, admin_ust = admin
    with refused(Kind.invalid, "E008002") as info:
        sso.user.search(CID, bad, admin_ust, APP, ADDR)
    assert set(info.value.errors) == set(bad)


def test_create_reports_the_weak_password_with_the_other_mistakes(sso, admin):
    _, admin_ust = admin
    data = {"username": "has space", "email": "nope", "password": "my-password-1"}
    with pytest.raises(SSOError) as info:
        sso.user.create_user(CID, data, admin_ust, APP, ADDR)
    assert set(info.value.errors) == {"username", "email", "password"}


def test_create_check_only_writes_nothing_and_names_a_taken_username(sso, admin, make_user):
    _, admin_ust = admin
    make_user("taken")
    assert (
        sso.user.create_user(
            CID, {"username": "fresh", "password": "Brand-New-Pass-7"}, admin_ust, APP, ADDR, check_only=True
        )
        is None
    )
    assert sso.user.search(CID, {"username": "fresh"}, admin_ust, APP, ADDR)["total"] == 0
    with pytest.raises(SSOError) as info:
        sso.user.create_user(CID, {"username": "Taken"}, admin_ust, APP, ADDR, check_only=True)
    assert info.value.errors == {"username": "is already taken"}

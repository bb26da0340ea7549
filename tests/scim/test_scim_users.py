"""SCIM Users over the Flask test client on both databases (SPEC §21): the mapping, filters, paging,
PATCH/PUT semantics, ETags and SCIM's error shape. tests/scim/test_scim_live.py replays real clients."""

from __future__ import annotations

import json

import pytest

from .conftest import ENTERPRISE, SCIM_USER, patch_body, user_body


def create(scim, username="bjensen", **extra):
    answer = scim.post("/Users", json=user_body(username, **extra))
    assert answer.status_code == 201, answer.json
    return answer.json


def full_user(scim, username="bjensen"):
    return create(
        scim,
        username,
        externalId=f"ext-{username}",
        name={"givenName": "Barbara", "middleName": "Jane", "familyName": "Jensen"},
        displayName="Babs",
        emails=[{"value": f"{username}@example.com", "type": "work", "primary": True}],
        active=True,
    )


def scim_error(answer, status: int, scim_type: str | None = None) -> dict:
    assert answer.status_code == status, answer.data
    body = answer.json
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == str(status)
    assert body.get("scimType") == scim_type
    assert answer.content_type.startswith("application/scim+json")
    return body


def test_create_maps_every_attribute_and_get_reads_it_back(scim, sso, admin):
    created = full_user(scim)
    user = sso.user.get_user_by_id("cid", created["id"], admin[1], "CRM", "127.0.0.1")
    assert (user["username"], user["email"], user["display_name"]) == ("bjensen", "bjensen@example.com", "Babs")
    assert (user["first_name"], user["middle_name"], user["last_name"]) == ("Barbara", "Jane", "Jensen")
    assert user["is_locked"] is False and user["approval_status"] == "approved"
    answer = scim.get(f"/Users/{created['id']}")
    assert answer.status_code == 200
    assert answer.headers["ETag"] == 'W/"1"' == answer.json["meta"]["version"]
    assert answer.json["externalId"] == "ext-bjensen"
    assert answer.json["emails"] == [{"value": "bjensen@example.com"}]


def test_a_taken_username_is_uniqueness_409(scim):
    create(scim, "bjensen")
    scim_error(scim.post("/Users", json=user_body("BJensen")), 409, "uniqueness")


def test_patch_remove_is_null_and_touches_nothing_else(scim, sso, admin):
    created = full_user(scim)
    answer = scim.patch(f"/Users/{created['id']}", json=patch_body({"op": "remove", "path": "name.middleName"}))
    assert answer.status_code == 200, answer.json
    user = sso.user.get_user_by_id("cid", created["id"], admin[1], "CRM", "127.0.0.1")
    assert user["middle_name"] is None
    assert (user["first_name"], user["last_name"], user["display_name"]) == ("Barbara", "Jensen", "Babs")
    history = sso.user.history("cid", created["id"], admin[1], "CRM", "127.0.0.1")
    update = next(r for r in history if r["action"] == "update")
    assert update["channel"] == "scim" and update["actor_id"] == "scim:directory"
    assert set(update["changes"]) == {"middle_name"}


def test_several_operations_are_one_update_and_a_bad_one_writes_nothing(scim, sso, admin):
    created = full_user(scim)
    bad = patch_body(
        {"op": "replace", "path": "displayName", "value": "New"},
        {"op": "replace", "path": "name.givenName", "value": "Barb"},
        {"op": "replace", "path": "userName", "value": "has space"},
    )
    scim_error(scim.patch(f"/Users/{created['id']}", json=bad), 400, "invalidValue")
    user = sso.user.get_user_by_id("cid", created["id"], admin[1], "CRM", "127.0.0.1")
    assert (user["display_name"], user["first_name"], user["username"]) == ("Babs", "Barbara", "bjensen")
    assert user.version == 1
    good = patch_body(
        {"op": "replace", "path": "displayName", "value": "New"},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "new@example.com"},
        {"op": "Add", "value": {"externalId": "ext-2"}},
    )
    answer = scim.patch(f"/Users/{created['id']}", json=good)
    assert answer.status_code == 200 and answer.headers["ETag"] == 'W/"2"'
    user = sso.user.get_user_by_id("cid", created["id"], admin[1], "CRM", "127.0.0.1")
    assert (user["display_name"], user["email"], user.external_id) == ("New", "new@example.com", "ext-2")


def test_active_false_locks_and_ends_sessions_and_true_unlocks(scim, sso, admin, make_user, login):
    make_user("carol")
    ust = login("carol")
    carol = sso.operator.user_id_of("carol")
    answer = scim.patch(f"/Users/{carol}", json=patch_body({"op": "Replace", "path": "active", "value": "False"}))
    assert answer.status_code == 200 and answer.json["active"] is False
    assert sso.user.get_user_by_id("cid", carol, admin[1], "CRM", "127.0.0.1")["is_locked"] is True
    assert sso.user.verify_session("cid", ust, admin[1], "CRM", "127.0.0.1") is False
    scim.patch(f"/Users/{carol}", json=patch_body({"op": "replace", "value": {"active": True}}))
    assert sso.user.get_user_by_id("cid", carol, admin[1], "CRM", "127.0.0.1")["is_locked"] is False


def test_put_replaces_and_clears_what_it_omits(scim, sso, admin):
    created = full_user(scim)
    answer = scim.put(f"/Users/{created['id']}", json=user_body("bjensen", displayName="Only"))
    assert answer.status_code == 200, answer.json
    user = sso.user.get_user_by_id("cid", created["id"], admin[1], "CRM", "127.0.0.1")
    assert user["display_name"] == "Only"
    assert (user["email"], user["first_name"], user["middle_name"], user["last_name"]) == (None,) * 4
    assert user.external_id is None and user["is_locked"] is False


def test_if_match_guards_put_patch_and_delete(scim):
    created = full_user(scim)
    path = f"/Users/{created['id']}"
    stale = {"If-Match": 'W/"7"'}
    scim_error(scim.put(path, json=user_body("bjensen"), headers=stale), 412)
    scim_error(scim.patch(path, json=patch_body({"op": "remove", "path": "displayName"}), headers=stale), 412)
    scim_error(scim.delete(path, headers=stale), 412)
    answer = scim.patch(path, json=patch_body({"op": "remove", "path": "displayName"}), headers={"If-Match": 'W/"1"'})
    assert answer.status_code == 200 and answer.headers["ETag"] == 'W/"2"'
    assert scim.delete(path, headers={"If-Match": 'W/"2"'}).status_code == 204
    scim_error(scim.get(path), 404)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('userName eq "ALICE"', ["alice"]),
        ('userName ne "alice"', ["bob", "carol"]),
        ('name.familyName co "ONE"', ["alice", "bob"]),
        ('userName sw "b"', ["bob"]),
        ('emails.value ew "@b.example"', ["bob"]),
        ('emails[type eq "work" and value sw "carol"]', ["carol"]),
        ("displayName pr", ["alice"]),
        ('externalId eq "x-bob"', ["bob"]),
        ("active eq false", ["carol"]),
        ('not (active eq false) and (userName eq "alice" or userName eq "bob")', ["alice", "bob"]),
        ('meta.lastModified gt "2000-01-01T00:00:00Z"', ["alice", "bob", "carol"]),
        ('meta.lastModified lt "2000-01-01T00:00:00Z"', []),
        ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob"', ["bob"]),
    ],
)
def test_filters(scim, expression, expected):
    create(scim, "alice", name={"familyName": "Stone"}, displayName="Al")
    create(scim, "bob", name={"familyName": "Jones"}, externalId="x-bob", emails=[{"value": "bob@b.example"}])
    create(scim, "carol", active=False, emails=[{"value": "carol@c.example", "type": "work"}])
    # the super-user who made the SCIM client's role is a user too: left out
    answer = scim.get(
        "/Users", query_string={"filter": f'({expression}) and userName ne "admin"', "sortBy": "userName"}
    )
    assert answer.status_code == 200, answer.json
    assert [r["userName"] for r in answer.json["Resources"]] == expected
    assert answer.json["totalResults"] == len(expected)


def test_paging_caps_count_and_selects_attributes(scim):
    for name in ("u1", "u2", "u3"):
        create(scim, name)
    users_u = {"filter": 'userName sw "u"'}
    page = scim.get("/Users", query_string={**users_u, "startIndex": 2, "count": 1, "sortBy": "userName"}).json
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (3, 2, 1)
    assert [r["userName"] for r in page["Resources"]] == ["u2"]
    capped = scim.get("/Users", query_string={**users_u, "count": 1_000_000})
    assert capped.status_code == 200 and capped.json["itemsPerPage"] == 3
    assert scim.get("/Users", query_string={"count": 0}).json["Resources"] == []
    only = scim.get("/Users", query_string={"attributes": "userName", "count": 1}).json["Resources"][0]
    assert set(only) == {"schemas", "id", "userName"}
    without = scim.get("/Users", query_string={"excludedAttributes": "meta,active", "count": 1}).json["Resources"][0]
    assert "meta" not in without and "active" not in without and "userName" in without


@pytest.mark.parametrize(
    ("expression", "scim_type"),
    [
        ("nosuch eq 1", "invalidFilter"),
        ('userName eq "a" and', "invalidFilter"),
        ('userName gt "a" and active gt true', "invalidFilter"),
        ('meta.lastModified gt "not a date"', "invalidFilter"),
        ("userName eq 5", "invalidFilter"),
        ('active eq "yes"', "invalidFilter"),
        (" or ".join(['userName eq "a"'] * 80), "tooMany"),
        ('userName eq "' + "a" * 5000 + '"', "tooMany"),
        ("not (" * 30 + 'userName eq "a"' + ")" * 30, "tooMany"),
    ],
)
def test_bad_filters_are_scim_errors(scim, expression, scim_type):
    scim_error(scim.get("/Users", query_string={"filter": expression}), 400, scim_type)


def test_bad_input_is_a_scim_error_never_a_5xx(scim):
    created = full_user(scim)
    path = f"/Users/{created['id']}"
    scim_error(scim.post("/Users", data="{not json"), 400, "invalidSyntax")
    scim_error(scim.post("/Users", data=json.dumps([1])), 400, "invalidSyntax")
    scim_error(scim.post("/Users", json={"schemas": ["urn:example:nope"], "userName": "x"}), 400, "invalidValue")
    scim_error(scim.patch(path, json=patch_body({"op": "replace", "path": "nosuch", "value": 1})), 400, "invalidPath")
    scim_error(scim.patch(path, json=patch_body({"op": "explode", "path": "userName"})), 400, "invalidValue")
    scim_error(scim.patch(path, json=patch_body({"op": "remove", "path": "userName"})), 400, "mutability")
    scim_error(scim.patch(path, json=patch_body({"op": "replace", "path": "id", "value": "x"})), 400, "mutability")
    scim_error(scim.get("/Users", query_string={"count": "many"}), 400, "invalidValue")
    too_far = scim_error(scim.get("/Users", query_string={"startIndex": 10**20}), 400, "invalidValue")
    assert too_far["detail"].startswith("startIndex: ")
    scim_error(scim.get("/Users", query_string={"excludedAttributes": "a..b"}), 400, "invalidPath")
    scim_error(scim.post("/Users", json=user_body("ctl\u0000")), 400, "invalidValue")
    scim_error(scim.post("/Users", json=user_body("long", displayName="d" * 300)), 400, "invalidValue")
    scim_error(
        scim.patch(path, json=patch_body({"op": "replace", "path": "meta.lastModified", "value": "x"})),
        400,
        "mutability",
    )
    scim_error(scim.patch("/Users/zusrnosuch", json=patch_body({"op": "remove", "path": "displayName"})), 404)
    scim_error(scim.get("/Users/scim:directory"), 404)
    scim_error(scim.get("/Groups"), 404)
    scim_error(scim.get("/Users", headers={"Authorization": "Bearer wrong"}), 401)
    scim_error(scim.get("/Users", headers={"Authorization": ""}), 401)


def test_enterprise_extension_is_accepted(scim):
    answer = scim.post(
        "/Users",
        json={
            "schemas": [user_body("x")["schemas"][0], ENTERPRISE],
            "userName": "ent",
            ENTERPRISE: {"department": "R&D"},
        },
    )
    assert answer.status_code == 201, answer.json


def test_discovery_documents(scim):
    config = scim.get("/ServiceProviderConfig").json
    assert config["patch"]["supported"] is True and config["etag"]["supported"] is True
    assert config["filter"] == {"supported": True, "maxResults": 100}
    types = scim.get("/ResourceTypes").json["Resources"]
    assert [t["id"] for t in types] == ["User"] and types[0]["endpoint"] == "/Users"
    schemas = scim.get("/Schemas").json["Resources"]
    assert [s["id"] for s in schemas] == [SCIM_USER]
    published = {a["name"]: sorted(sub["name"] for sub in a.get("subAttributes", [])) for a in schemas[0]["attributes"]}
    assert published == {
        "userName": [],
        "name": ["familyName", "givenName", "middleName"],
        "displayName": [],
        "active": [],
        "emails": ["value"],
    }
    assert scim.post("/Schemas", json={}).status_code == 405
    assert scim.get("/ResourceTypes/User").json["name"] == "User"
    assert scim.get(f"/Schemas/{SCIM_USER}").json["id"] == SCIM_USER
    assert scim.get("/ResourceTypes/Group").status_code == 404 and scim.get("/Schemas/urn:x").status_code == 404


def test_search_by_post(scim):
    create(scim, "alice")
    create(scim, "bob")
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": 'userName sw "al"',
        "attributes": ["userName"],
        "count": 5,
    }
    answer = scim.post("/Users/.search", json=body)
    assert answer.status_code == 200, answer.json
    assert answer.json["Resources"] == [
        {"schemas": [SCIM_USER], "id": answer.json["Resources"][0]["id"], "userName": "alice"}
    ]


def test_a_revoked_client_is_refused(scim, sso):
    assert scim.get("/Users").status_code == 200
    sso.operator.revoke_scim_client("directory")
    scim_error(scim.get("/Users"), 401)


def test_last_modified_moves_with_the_version_on_password_writes(scim, sso, admin):
    """meta.lastModified is the last write of the User (RFC 7643 §3.1), so it moves whenever meta.version does:
    a password set from the command line or changed by an administrator."""
    user = create(scim, "pwuser")
    seen = [(user["meta"]["version"], user["meta"]["lastModified"])]

    def moved() -> None:
        meta = scim.get(f"/Users/{user['id']}").json["meta"]
        assert meta["version"] != seen[-1][0] and meta["lastModified"] > seen[-1][1], (meta, seen)
        seen.append((meta["version"], meta["lastModified"]))

    sso.operator.set_password_local("pwuser", "Correct-Horse-Battery-1")
    moved()
    sso.user.change_password(
        "t", {"user_id": user["id"], "new_password": "Other-Horse-Battery-2"}, admin[1], "CRM", "::1"
    )
    moved()

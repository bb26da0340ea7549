"""SPEC §19 at the service layer, on both databases: required actions set through the update and audited, the
set-based bulk by filter, terms (publish, everyone asked, acceptance recorded) and the Markdown sanitiser."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs

from webapp.sso import Call, Kind
from webapp.sso.accounts.terms import render
from webapp.sso.kernel import required_actions as required_actions_module
from webapp.sso.kernel.errors import Code

from .helpers import ADDR, APP, CID, audit_of, refused

NOBODY = "zusr" + "a" * 24
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "export-schema-v1.json").read_text())
VALIDATOR = jsonschema_rs.Draft202012Validator(SCHEMA, validate_formats=True)


def served(sso, ust):
    return sso.serve(Call(CID, ust, APP, ADDR, "python", None))


def test_required_actions_are_set_cleared_and_audited_old_to_new(sso, admin, make_user, as_admin):
    bob = make_user("bob")
    view = as_admin(bob["user_id"], {"required_actions": ["accept_terms", "change_password", "set_up_two_factor"]})
    assert view["required_actions"] == ["change_password", "set_up_two_factor", "accept_terms"]  # always in order
    assert view["password_must_change"] is True
    record = audit_of(sso, bob["user_id"], "update")[-1]
    assert record["changes"]["required_actions"] == {
        "old": [],
        "new": ["change_password", "set_up_two_factor", "accept_terms"],
    }
    cleared = as_admin(bob["user_id"], {"required_actions": []})
    assert cleared["required_actions"] == [] and cleared["password_must_change"] is False
    assert audit_of(sso, bob["user_id"], "update")[-1]["changes"]["required_actions"]["new"] == []
    same = as_admin(bob["user_id"], {"required_actions": []})
    assert same.version == cleared.version  # nothing changed, nothing written


def test_unknown_actions_and_deleted_users_are_clear_errors(sso, admin, make_user, as_admin):
    bob = make_user("bob")
    with refused(Kind.invalid, Code.invalid_input) as info:
        as_admin(bob["user_id"], {"required_actions": ["accept_terms", "fly"]})
    assert "'fly'" in info.value.errors["required_actions"]
    with refused(Kind.invalid, Code.invalid_input) as info:
        as_admin(bob["user_id"], {"required_actions": None})
    assert "required_actions" in info.value.errors
    _, ust = admin
    sso.user.delete_user(CID, bob["user_id"], ust, APP, ADDR)
    with refused(Kind.not_found, Code.user_id_unknown):
        as_admin(bob["user_id"], {"required_actions": ["verify_email"]})
    outcomes = served(sso, ust).bulk_required_action("verify_email", [bob["user_id"]])
    assert [o.outcome for o in outcomes] == ["not_found"]
    with refused(Kind.invalid, Code.invalid_input) as info:
        served(sso, ust).bulk_required_action("fly", [NOBODY])
    assert "required_action" in info.value.errors


def test_bulk_by_filter_counts_first_then_sets_every_match_in_one_statement(sso, admin, make_user, login):
    _, ust = admin
    for name in ("team_a1", "team_a2", "team_a3", "other"):
        make_user(name)
    service = served(sso, ust)
    criteria = {"q": "team_a"}
    assert service.filter_count(criteria) == 3
    assert service.required_action_by_filter("set_up_two_factor", criteria) == 3
    assert service.required_action_by_filter("set_up_two_factor", criteria) == 0  # already theirs
    with refused(Kind.forbidden, Code.actions_required):
        sso.user.get_user_by_id(CID, None, login("team_a2"), APP, ADDR)
    assert sso.user.get_user_by_id(CID, None, login("other"), APP, ADDR)["required_actions"] == []
    record = audit_of(sso, "filter", "bulk_required_action")[-1]
    assert record["changes"]["required_actions"]["new"]["users"] == 0
    assert service.required_action_by_filter("change_password", criteria) == 3
    assert service.required_action_by_filter("set_up_two_factor", criteria, clear=True) == 3
    with refused(Kind.invalid, Code.invalid_input) as info:
        service.filter_count({"shoe_size": 3})
    assert "shoe_size" in info.value.errors


def test_publishing_terms_asks_every_active_user_and_an_acceptance_is_recorded(sso, admin, make_user, login):
    me, ust = admin
    bob = make_user("bob")
    service = served(sso, ust)
    with refused(Kind.invalid, Code.invalid_input) as info:
        service.publish_terms("  \n ", True)
    assert "text" in info.value.errors
    with refused(Kind.invalid, Code.invalid_input) as info:
        service.publish_terms("ok", "yes")
    assert "require_acceptance" in info.value.errors
    version = service.publish_terms("# Terms v1", require_acceptance=True)
    assert version.users_asked == 2 and version.html == "<h1>Terms v1</h1>\n"
    bob_ust = login("bob")
    bobs = served(sso, bob_ust)
    with refused(Kind.forbidden, Code.actions_required) as info:
        sso.user.get_user_by_id(CID, None, bob_ust, APP, ADDR)
    assert info.value.extra == {"required_actions": ["accept_terms"]}
    assert bobs.current_terms().version == version.version
    assert bobs.accept_terms(version.version) is True
    assert service.accept_terms(version.version) is True  # the administrator was asked too
    assert sso.user.get_user_by_id(CID, None, bob_ust, APP, ADDR)["required_actions"] == []
    [acceptance] = service.terms_acceptances(bob["user_id"])
    assert (acceptance.version, acceptance.remote_addr) == (version.version, ADDR)
    record = audit_of(sso, bob["user_id"], "terms_accept")[-1]
    assert record["changes"]["required_actions"] == {"old": ["accept_terms"], "new": []}
    carol = make_user("carol")  # created while version 1 asks everyone: asked too, and the audit says so
    assert service.get_user_by_id(carol["user_id"])["required_actions"] == ["accept_terms"]
    assert audit_of(sso, carol["user_id"], "create")[-1]["changes"]["required_actions"]["new"] == ["accept_terms"]
    second = service.publish_terms("# Terms v2", require_acceptance=False)
    assert second.users_asked == 0
    with refused(Kind.invalid, Code.invalid_input) as info:
        bobs.accept_terms(version.version)  # no longer the current one
    assert "version" in info.value.errors
    for bad in (2**63, 0, "1", True):  # never reaches the database (a 64-bit overflow would be a 5xx)
        with refused(Kind.invalid, Code.invalid_input) as info:
            bobs.accept_terms(bad)
        assert "version" in info.value.errors
        with refused(Kind.invalid, Code.invalid_input):
            bobs.current_terms(bad)
    with refused(Kind.not_found, Code.invalid_input):
        bobs.current_terms(99)
    assert bobs.current_terms(version.version).text == "# Terms v1"
    listed = service.list_terms()
    assert [(v.version, count) for v, count in listed] == [(second.version, 0), (version.version, 2)]
    assert make_user("dave")["required_actions"] == []  # the current version asks nobody
    assert me["user_id"]
    # the acceptance is in the person's data export, which still matches its schema
    document = json.loads("".join(sso.user.export_user(CID, bob_ust, APP, ADDR)))
    VALIDATOR.validate(document)
    assert document["terms"]["accepted"][0]["version"] == version.version
    assert document["terms"]["accepted"][0]["remote_addr"] == ADDR and document["terms"]["required_actions"] == []


def test_the_sanitiser_drops_scripts_event_handlers_and_javascript_links():
    html = render(
        "# Hi\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        '[click](javascript:alert(1)) [ok](https://example.com) <a href="javascript:alert(2)" onclick="x()">a</a>'
    )
    assert "<script" not in html and "onerror" not in html.replace("onerror=alert(1)&gt;", "")
    assert "<img" not in html and "onclick" not in html.replace('onclick="x()"&gt;', "")
    assert '<a href="javascript' not in html.lower() and "<a href='javascript" not in html.lower()
    assert "<a>click</a>" in html or "[click](javascript:alert(1))" in html  # the link is dropped, its text kept
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">ok</a>' in html
    # raw HTML is text, not markup: what a reader sees is the characters, escaped
    assert "&lt;script&gt;" in html


def test_set_based_runs_go_in_batches_and_miss_nobody(sso, admin, make_user, login, monkeypatch):
    """Batches of two users a transaction (the real size is 20,000): every user is asked exactly once and the
    filter's runs count across batches."""
    monkeypatch.setattr(required_actions_module, "BATCH", 2)
    _, ust = admin
    names = [f"batch_{n}" for n in range(5)]
    for name in names:
        make_user(name)
    service = served(sso, ust)
    assert service.required_action_by_filter("verify_email", {"q": "batch_"}) == 5
    assert service.required_action_by_filter("verify_email", {"q": "batch_"}, clear=True) == 5
    assert service.required_action_by_filter("change_password", {"q": "batch_"}) == 5
    assert service.required_action_by_filter("change_password", {"q": "batch_"}, clear=True) == 5
    version = service.publish_terms("# Batched", require_acceptance=True)
    assert version.users_asked == 6  # the five and the administrator
    for name in names:
        assert sso.user.login(CID, name, "Correct-Horse-9", APP, ADDR).required_actions == ["accept_terms"]
    assert [r["changes"]["users_asked"]["new"] for r in audit_of(sso, f"terms:{version.version}", "terms_asked")] == [6]

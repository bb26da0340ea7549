"""Restore a value from the history pages (SPEC §20), without JavaScript: who sees *Restore this value*,
the restore itself, and the conflict screen when the field changed since."""

from __future__ import annotations

from webapp.sso.kernel.tables import audit

from ..core.helpers import audit_of
from .html_forms import csrf_token, form, forms


def _update_ids(sso, user_id):
    return [r["id"] for r in audit_of(sso, user_id, "update")]


def test_a_super_user_restores_a_value_from_the_users_history(app, sso, admin_client, admin_ust, make_user):
    client, _ = admin_client
    bob = make_user("bob")
    sso.user.update_user_by_id("c", bob["user_id"], {"email": "bob@example.org"}, admin_ust, "CRM", "10.0.0.9")
    sso.user.update_user_by_id("c", bob["user_id"], {"email": "wrong@example.org"}, admin_ust, "CRM", "10.0.0.9")
    first, mistake = _update_ids(sso, bob["user_id"])
    history = f"/users/{bob['user_id']}/history"

    restore = form(client, history, f"restore-form-{mistake}-email")
    answer = restore.submit(client)
    assert answer.status_code == 303 and answer.headers["Location"] == history

    assert sso.user.get_user_by_id("c", bob["user_id"], admin_ust, "CRM", "x")["email"] == "bob@example.org"
    newest = audit_of(sso, bob["user_id"], "update")[-1]
    assert newest["restored_from"] == mistake
    page = client.get(history).get_data(as_text=True)
    assert "Restored Email to the value it had before record" in page
    assert f'href="#audit-{mistake}"' in page  # the new record names the one it restored

    # Someone changes the email again: the first record's change has been overwritten since, so restoring
    # its old value (not set) shows the conflict screen and writes nothing.
    sso.user.update_user_by_id("c", bob["user_id"], {"email": "third@example.org"}, admin_ust, "CRM", "10.0.0.9")
    newest = audit_of(sso, bob["user_id"], "update")[-1]
    conflict = form(client, history, f"restore-form-{first}-email").submit(client)
    body = conflict.get_data(as_text=True)
    assert conflict.status_code == 409 and 'id="restore-conflict"' in body
    assert "bob@example.org" in body and "not set" in body and "third@example.org" in body
    assert audit_of(sso, bob["user_id"], "update")[-1]["id"] == newest["id"]
    anyway = forms(body)["restore-anyway-form"].submit(client)
    assert anyway.status_code == 303
    assert sso.user.get_user_by_id("c", bob["user_id"], admin_ust, "CRM", "x")["email"] is None


def test_my_activity_offers_restore_only_for_fields_i_may_edit(app, sso, alice_client, admin_ust):
    client, alice = alice_client
    sso.user.update_user_by_id(
        "c", alice["user_id"], {"first_name": "Al", "password_expiry": "2099-01-01T00:00:00"}, admin_ust, "CRM", "x"
    )
    record = _update_ids(sso, alice["user_id"])[-1]
    shown = forms(client.get("/account/history").get_data(as_text=True))
    assert f"restore-form-{record}-first_name" in shown
    assert f"restore-form-{record}-password_expiry" not in shown

    answer = shown[f"restore-form-{record}-first_name"].submit(client)
    assert answer.status_code == 303
    assert sso.user.get_user_by_id("c", alice["user_id"], admin_ust, "CRM", "x")["first_name"] is None

    # A forged form: another attribute of the same record, which she may not edit.
    forged = shown[f"restore-form-{record}-first_name"]
    for control in forged.controls:
        if control.name == "attribute":
            control.value = "password_expiry"
    assert forged.submit(client).status_code == 403
    assert audit.name == "sso_audit"


def test_a_regular_user_cannot_post_to_manage_users_restore(app, sso, alice_client, make_user):
    client, _ = alice_client
    bob = make_user("bob")
    token = csrf_token(client.get("/account").get_data(as_text=True))
    answer = client.post(
        f"/users/{bob['user_id']}/restore", data={"csrf_token": token, "record_id": "1", "attribute": "email"}
    )
    assert answer.status_code == 403


def test_a_profile_field_is_restored_from_my_activity_with_its_conflict_screen(app, sso, alice_client, admin_ust):
    """A profile field (SPEC §16) has *Restore this value* where the person may edit it, labelled by its label;
    a sensitive one and one only administrators edit have none."""
    from webapp.sso import Call

    client, alice = alice_client
    admin = sso.serve(Call("c", admin_ust, "CRM", "x"))
    admin.define_profile_field({"name": "team", "label": "Team", "type": "choice", "options": ["red", "blue"]})
    admin.define_profile_field({"name": "pin", "label": "Door PIN", "type": "integer", "sensitive": True})
    admin.define_profile_field({"name": "badge", "label": "Badge", "type": "text", "edit": []})
    user_id = alice["user_id"]
    sso.user.update_user_by_id("c", user_id, {"team": "red", "pin": 1234, "badge": "B-1"}, admin_ust, "CRM", "x")
    sso.user.update_user_by_id("c", user_id, {"team": "blue", "pin": 4321, "badge": "B-2"}, admin_ust, "CRM", "x")
    first, mistake = _update_ids(sso, user_id)

    shown = forms(client.get("/account/history").get_data(as_text=True))
    assert f"restore-form-{mistake}-team" in shown
    assert f"restore-form-{mistake}-pin" not in shown and f"restore-form-{mistake}-badge" not in shown
    answer = shown[f"restore-form-{mistake}-team"].submit(client)
    assert answer.status_code == 303
    assert sso.user.get_user_by_id("c", user_id, admin_ust, "CRM", "x")["team"] == "red"
    assert audit_of(sso, user_id, "update")[-1]["restored_from"] == mistake
    assert "Restored Team to the value it had before record" in client.get("/account/history").get_data(as_text=True)

    # The first record set the team (not set → red); it is blue now: restoring it is a conflict.
    sso.user.update_user_by_id("c", user_id, {"team": "blue"}, admin_ust, "CRM", "x")
    conflict = forms(client.get("/account/history").get_data(as_text=True))[f"restore-form-{first}-team"]
    answer = conflict.submit(client)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 409 and 'id="restore-conflict"' in body and "Team has changed since" in body
    assert sso.user.get_user_by_id("c", user_id, admin_ust, "CRM", "x")["team"] == "blue"
    assert forms(body)["restore-anyway-form"].submit(client).status_code == 303
    assert sso.user.get_user_by_id("c", user_id, admin_ust, "CRM", "x")["team"] is None


def test_manage_users_history_pages_offer_restore_for_profile_fields_the_administrator_edits(
    app, sso, admin_client, admin_ust, make_user
):
    from webapp.sso import Call

    client, _ = admin_client
    bob = make_user("bob")
    admin = sso.serve(Call("c", admin_ust, "CRM", "x"))
    admin.define_profile_field({"name": "desk", "label": "Desk", "type": "integer", "minimum": 1})
    admin.define_profile_field({"name": "pin", "label": "Door PIN", "type": "integer", "sensitive": True})
    sso.user.update_user_by_id("c", bob["user_id"], {"desk": 7, "pin": 1}, admin_ust, "CRM", "x")
    sso.user.update_user_by_id("c", bob["user_id"], {"desk": 9, "pin": 2}, admin_ust, "CRM", "x")
    mistake = _update_ids(sso, bob["user_id"])[-1]
    for path in (f"/users/{bob['user_id']}/history", f"/users/{bob['user_id']}"):
        shown = forms(client.get(path).get_data(as_text=True))
        assert f"restore-form-{mistake}-desk" in shown and f"restore-form-{mistake}-pin" not in shown, path
    answer = shown[f"restore-form-{mistake}-desk"].submit(client)
    assert answer.status_code == 303
    assert sso.user.get_user_by_id("c", bob["user_id"], admin_ust, "CRM", "x")["desk"] == 7
    assert "Restored Desk to the value it had before record" in client.get(answer.headers["Location"]).get_data(
        as_text=True
    )

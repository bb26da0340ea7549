"""Required actions and terms in the console without JavaScript (SPEC §19): an administrator sets them on Manage
user and for every user a filter matches (counted and confirmed first); terms published for everyone, accepted
through the lead-through, shown on Manage user; a person confirms their email with the link it receives."""

from __future__ import annotations

import json
import re

from werkzeug.datastructures import MultiDict

from webapp.db import reading
from webapp.sso import Call
from webapp.sso.kernel.tables import email_tokens, outbox

from .conftest import web_login
from .html_forms import element, form, forms, text


def part(html: str, element_id: str) -> str:
    """The element with `element_id` up to the end of the first closing tag of its own kind (its section, its
    fieldset; these have no nested ones)."""
    start = html.index(f'id="{element_id}"')
    tag = html[html.rindex("<", 0, start) + 1 :].split(None, 1)[0]
    return html[start : html.index(f"</{tag}>", start)]


def bulk_post(client, list_path: str, **fields):
    """The list's bulk form sent with its required-action button (its `formaction`)."""
    page = form(client, list_path, "bulk-form")
    data = MultiDict([pair for pair in page.data() if pair[0] not in fields and pair[0] != "user_id"])
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            data.add(name, one)
    return client.post("/users/bulk/required-action", data=data)


def test_every_user_matching_a_filter_after_the_count_and_a_confirmation(
    admin_client, make_user, sso, login, admin_ust
):
    client, _ = admin_client
    for name in ("sales_a", "sales_b", "sales_c", "support_d"):
        make_user(name)
    bar = part(text(client.get("/users?q=sales")), "required-action-bar")
    assert "every user matching this filter (3)" in bar
    confirm = bulk_post(client, "/users?q=sales", required_action="accept_terms", op="set", scope="filter")
    html = text(confirm)
    assert confirm.status_code == 200
    assert "Require “Accept the current terms” of 3 users matching this filter?" in html
    assert "3 users match the list's filter now." in element(html, "filter-count")
    assert login("sales_a")  # nothing was set yet: the login is plain
    assert sso.user.login("c", "sales_a", "Correct-Horse-9", "CRM", "::1").status == "ok"
    done = forms(html)["bulk-confirm-form"].submit(client, follow_redirects=True)
    assert "Done: 3 users changed." in text(done) and "the others" not in text(done)  # there were no others
    assert re.search(r"/users\?q=sales", done.request.path + "?" + done.request.query_string.decode())
    for name in ("sales_a", "sales_b", "sales_c"):
        assert sso.user.login("c", name, "Correct-Horse-9", "CRM", "::1").required_actions == ["accept_terms"]
    assert sso.user.login("c", "support_d", "Correct-Horse-9", "CRM", "::1").required_actions == []
    cleared = bulk_post(
        client, "/users?q=sales", required_action="accept_terms", op="clear", scope="filter", confirmed="1"
    )
    assert cleared.status_code == 303
    assert sso.user.login("c", "sales_b", "Correct-Horse-9", "CRM", "::1").required_actions == []
    sales_e = make_user("sales_e")["user_id"]
    sso.user.update_user_by_id("c", sales_e, {"required_actions": ["accept_terms"]}, admin_ust, "CRM", "::1")
    again = bulk_post(client, "/users?q=sales", required_action="accept_terms", op="set", scope="filter", confirmed="1")
    shown = text(client.get(again.headers["Location"]))
    assert "Done: 3 users changed (the others had it so already)." in shown  # sales_e had it


def test_selected_users_bad_input_and_manage_user_card(admin_client, make_user, sso):
    client, _ = admin_client
    bob, carol = make_user("bob"), make_user("carol")
    result = bulk_post(
        client,
        "/users",
        required_action="verify_email",
        op="set",
        scope="selected",
        user_id=[bob["user_id"], carol["user_id"]],
    )
    html = text(result)
    assert result.status_code == 200 and "2 of 2 changed." in element(html, "bulk-summary")
    unknown = bulk_post(client, "/users", required_action="fly", op="set", scope="selected", user_id=[bob["user_id"]])
    assert unknown.status_code == 303
    assert "Choose an action" in text(client.get(unknown.headers["Location"]))
    card = part(text(client.get(f"/users/{bob['user_id']}")), "required-actions-card")
    assert 'id="ra-verify_email" name="required_action" value="verify_email" checked' in card
    edit = forms(text(client.get(f"/users/{bob['user_id']}")))["required-actions-form"]
    edit.check("required_action", "verify_email", on=False).check("required_action", "set_up_two_factor")
    saved = edit.submit(client, follow_redirects=True)
    assert "Set up two-factor sign-in (an app or a passkey)" in text(saved)
    refused = client.post(
        f"/users/{bob['user_id']}/required-actions",
        data={"csrf_token": edit.value("csrf_token"), "required_action": "teleport"},
        follow_redirects=True,
    )
    assert refused.status_code == 200 and "teleport" in text(refused)
    gone = client.post(
        "/users/zusrnobodyxxxxxxxxxxxxxxxxxxx/required-actions",
        data={"csrf_token": edit.value("csrf_token"), "required_action": "verify_email"},
    )
    assert gone.status_code == 404


def test_terms_published_for_everyone_are_accepted_in_the_lead_through_and_shown_on_manage_user(
    app, admin_client, make_user
):
    client, _ = admin_client
    bob = make_user("bob")
    bobs = app.test_client()
    assert web_login(bobs, "bob").status_code == 303
    publish = form(client, "/terms/manage", "terms-publish-form")
    refused = publish.fill("text", "  ").submit(client)
    assert refused.status_code == 422 and "may not be empty" in element(text(refused), "f-text-error")
    publish.fill("text", "# House rules\n\nBe *kind*.\n\n<script>alert(1)</script> [x](javascript:alert(1))")
    publish.check("require_acceptance", "1")
    published = publish.submit(client, follow_redirects=True)
    assert "Version 1 of the terms is published. 2 users are asked" in text(published)
    # bob, already signed in, is led to the terms before anything else
    sent = bobs.get("/account")
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/terms")
    page = text(bobs.get("/terms"))
    shown = part(page, "terms-text")
    assert "<h1>House rules</h1>" in shown and "<em>kind</em>" in shown
    assert "<script" not in shown and 'href="javascript' not in shown
    assert "Accept the terms" in part(page, "required-steps")
    accepted = forms(page)["terms-accept-form"].submit(bobs)
    assert accepted.status_code == 303 and bobs.get("/account").status_code == 200
    assert client.get(f"/users/{bob['user_id']}").status_code == 303  # the publisher was asked too
    forms(text(client.get("/terms")))["terms-accept-form"].submit(client)
    card = part(text(client.get(f"/users/{bob['user_id']}")), "required-actions-card")
    assert "Version 1" in part(card, "terms-accepted-1") and "127.0.0.1" in part(card, "terms-accepted-1")


def test_confirming_an_email_with_the_link_clears_the_action(app, make_user, sso, admin_ust):
    bob = make_user("bob")
    sso.user.update_user_by_id(
        "c", bob["user_id"], {"email": "bob@example.com", "required_actions": ["verify_email"]}, admin_ust, "CRM", "::1"
    )
    bobs = app.test_client()
    web_login(bobs, "bob")
    assert bobs.get("/account").headers["Location"].endswith("/account/verify-email")
    page = text(bobs.get("/account/verify-email"))
    assert "bob@example.com" in part(page, "verify-address")
    sent = forms(page)["verify-form"].submit(bobs, follow_redirects=True)
    assert "We sent a link to bob@example.com" in text(sent)
    again = forms(text(sent))["verify-form"].submit(bobs)
    assert again.status_code == 422 and "less than a minute ago" in text(again)
    # the emailed link: its token is stored hashed, so the test takes it from the outbox's (sealed) message
    with reading(sso.ctx.engine) as conn:
        body = conn.execute(outbox.select().where(outbox.c.kind == "verify_email")).mappings().one()["body"]
        assert conn.execute(email_tokens.select().where(email_tokens.c.purpose == "verify_email")).first() is not None
    found = re.search(r"/account/verify-email/([A-Za-z0-9_-]+)", json.loads(sso.ctx.codec.unseal(body))["text"])
    assert found is not None, "the message holds the link"
    link = found.group(1)
    landing = text(bobs.get(f"/account/verify-email/{link}"))
    confirmed = forms(landing)["verify-link-form"].submit(bobs, follow_redirects=True)
    assert "Your email address is confirmed." in text(confirmed)
    assert sso.user.get_user_by_id("c", bob["user_id"], admin_ust, "CRM", "::1")["required_actions"] == []
    used = forms(landing)["verify-link-form"].submit(bobs)
    assert used.status_code == 400 and "email confirmation link is not valid" in text(used)


def test_complete_profile_leads_to_my_account_until_the_required_field_is_filled(app, make_user, sso, admin_ust):
    bob = make_user("bob")
    admin = sso.serve(Call("c", admin_ust, "CRM", "::1"))
    admin.define_profile_field({"name": "badge", "label": "Badge", "type": "integer", "required": True})
    sso.user.update_user_by_id("c", bob["user_id"], {"required_actions": ["complete_profile"]}, admin_ust, "CRM", "::1")
    bobs = app.test_client()
    web_login(bobs, "bob")
    assert bobs.get("/account/two-factor").headers["Location"].endswith("/account")
    page = text(bobs.get("/account"))
    assert "Complete your profile" in part(page, "required-steps")
    saved = forms(page)["account-form"].fill("badge", "7").submit(bobs)
    assert saved.status_code == 303
    assert "required-steps" not in text(bobs.get("/account"))
    assert bobs.get("/account/password").status_code == 200
